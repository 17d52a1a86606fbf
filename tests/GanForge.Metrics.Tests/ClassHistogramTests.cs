using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class ClassHistogramTests
{
    [Fact]
    public void ClassHistogram_HandMadePredictions_CountsCoverageAndKl()
    {
        // 4 classes, 20 samples: class 3 never produced, class 2 only once (share 0.05 >= 0.1 * 0.25).
        int[] y = [.. Enumerable.Repeat(0, 10), .. Enumerable.Repeat(1, 9), 2];
        var s = ClassHistogram.Of(y, 4);
        Assert.Equal([10, 9, 1, 0], s.Counts);
        Assert.Equal(3, s.ClassesCovered);
        // p_fake = (count + 1) / 24; KL(uniform || p_fake) = sum 0.25 log(0.25 / p_fake)
        double expected = 0.25 * (Math.Log(0.25 * 24 / 11) + Math.Log(0.25 * 24 / 10) + Math.Log(0.25 * 24 / 2) + Math.Log(0.25 * 24 / 1));
        Assert.Equal(expected, s.KlDataFake, 1e-12);
    }

    [Fact]
    public void ClassHistogram_BelowMinimalShare_IsNotCovered()
    {
        // 100 samples, 4 classes: expected 25 each; 2 samples = 0.02 < 0.1 * 0.25 -> not covered.
        int[] y = [.. Enumerable.Repeat(0, 49), .. Enumerable.Repeat(1, 49), 2, 2];
        Assert.Equal(2, ClassHistogram.Of(y, 4).ClassesCovered);
        Assert.Equal(3, ClassHistogram.Of(y, 4, minShareOfExpected: 0.01).ClassesCovered);
    }

    [Fact]
    public void ClassHistogram_Metric_UsesArgmaxAndRealLabelDistribution()
    {
        var probs = FeatureMatrix.From(new double[,] { { 0.7, 0.2, 0.1 }, { 0.1, 0.8, 0.1 }, { 0.6, 0.3, 0.1 }, { 0.2, 0.1, 0.7 } });
        var r = new ClassHistogram().Compute(new MetricInputs
        {
            FakeProbabilities = probs,
            RealLabels = [0, 0, 1, 1], // p_data = (0.5, 0.5, 0): class 2 is not expected
            Protocol = new Protocol("cnn", "softmax", "test", 4, 4, 0),
        });
        Assert.Equal(2, r.Value);
        Assert.Equal(2, r.Extras["count_0"]);
        Assert.Equal(1, r.Extras["count_1"]);
        Assert.Equal(1, r.Extras["count_2"]);
        double expected = 0.5 * Math.Log(0.5 / (3.0 / 7)) + 0.5 * Math.Log(0.5 / (2.0 / 7));
        Assert.Equal(expected, r.Extras["kl_data_fake"], 1e-12);
    }

    [Fact]
    public void ClassHistogram_MatchingDistribution_HasSmallKl()
    {
        int[] y = [.. Enumerable.Range(0, 1000).Select(i => i % 10)];
        var s = ClassHistogram.Of(y, 10);
        Assert.Equal(10, s.ClassesCovered);
        Assert.True(s.KlDataFake < 1e-9, $"KL {s.KlDataFake}");
    }
}
