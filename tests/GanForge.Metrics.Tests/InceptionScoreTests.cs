using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class InceptionScoreTests
{
    [Fact]
    public void InceptionScore_UniformProbabilities_IsOne()
    {
        var p = new double[100 * 10];
        Array.Fill(p, 0.1);
        var (mean, std) = InceptionScore.Of(new FeatureMatrix(p, 100, 10));
        Assert.Equal(1.0, mean, 1e-12);
        Assert.Equal(0.0, std, 1e-12);
    }

    [Fact]
    public void InceptionScore_BalancedOneHot_IsClassCount()
    {
        const int n = 200, c = 10;
        var p = new double[n * c];
        for (int i = 0; i < n; i++) p[i * c + i % c] = 1;
        var (mean, _) = InceptionScore.Of(new FeatureMatrix(p, n, c));
        Assert.Equal(c, mean, 1e-10);
    }

    [Fact]
    public void InceptionScore_RandomSoftmax_MatchesReference()
    {
        var f = Fixtures.Load("metrics", "inception_score");
        var (mean, std) = InceptionScore.Of(FeatureMatrix.From(f["probs"]));
        Assert.True(Math.Abs(mean - f["is_mean"].Item()) < 1e-3 * f["is_mean"].Item(), $"IS {mean} vs {f["is_mean"].Item()}");
        Assert.True(Math.Abs(std - f["is_std"].Item()) < 1e-3 * f["is_std"].Item(), $"IS std {std} vs {f["is_std"].Item()}");
    }

    [Fact]
    public void InceptionScore_TooFewSamples_Throws()
    {
        Assert.Throws<ArgumentException>(() => InceptionScore.Of(new FeatureMatrix(new double[5 * 2], 5, 2), 10));
    }
}
