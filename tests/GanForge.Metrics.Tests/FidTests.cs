using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class FidTests
{
    const string Area = "metrics";

    static double Rel(double expected, double actual) => Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-12);

    [Theory]
    [InlineData("fid_kid_small")]
    [InlineData("fid_kid_large")]
    public void Fid_RandomFeatures_MatchesScipySqrtmReference(string name)
    {
        var f = Fixtures.Load(Area, name);
        double fid = Fid.Between(FeatureMatrix.From(f["real"]), FeatureMatrix.From(f["fake"]));
        double expected = f["fid"].Item();
        Assert.True(Rel(expected, fid) < 1e-3, $"FID {fid}, pytorch-fid formula gives {expected}");
    }

    [Fact]
    public void Fid_SameFeatures_IsZero()
    {
        var real = FeatureMatrix.From(Fixtures.Load(Area, "fid_kid_large")["real"]);
        double fid = Fid.Between(real, real);
        Assert.True(Math.Abs(fid) < 1e-8, $"FID(x, x) = {fid}");
    }

    [Fact]
    public void Fid_MeanShift_GrowsBySquaredShiftNorm()
    {
        var real = FeatureMatrix.From(Fixtures.Load(Area, "fid_kid_small")["real"]);
        var shift = new double[real.Cols];
        for (int j = 0; j < shift.Length; j++) shift[j] = 0.1 * (j % 3) - 0.05;
        double norm2 = shift.Sum(v => v * v);
        foreach (double scale in new[] { 1.0, 3.0 })
        {
            var data = (double[])real.Data.Clone();
            for (int i = 0; i < real.Rows; i++)
                for (int j = 0; j < real.Cols; j++) data[i * real.Cols + j] += scale * shift[j];
            double fid = Fid.Between(real, new FeatureMatrix(data, real.Rows, real.Cols));
            Assert.True(Math.Abs(fid - scale * scale * norm2) < 1e-7, $"shift x{scale}: FID {fid}, ||dmu||^2 = {scale * scale * norm2}");
        }
    }

    [Fact]
    public void FrechetDistance_DiagonalGaussians_MatchesClosedForm()
    {
        // For commuting (here diagonal) covariances: sum_i (sqrt(a_i) - sqrt(b_i))^2 + ||mu1 - mu2||^2.
        double[] a = [1, 4, 0.25], b = [9, 1, 0.25];
        double[] mu1 = [0, 1, 2], mu2 = [1, 1, 0];
        var s1 = new double[9]; var s2 = new double[9];
        for (int i = 0; i < 3; i++) { s1[i * 4] = a[i]; s2[i * 4] = b[i]; }
        double expected = 1 + 4 + (1 - 3) * (1 - 3) + (2 - 1) * (2 - 1) + 0;
        Assert.Equal(expected, Fid.FrechetDistance(mu1, s1, mu2, s2), 1e-10);
    }

    [Fact]
    public void FeatureStatistics_Covariance_IsUnbiasedLikeNumpyCov()
    {
        var x = FeatureMatrix.From(new double[,] { { 1, 2 }, { 3, 0 }, { 5, 7 } });
        var s = FeatureStatistics.Compute(x);
        Assert.Equal([3.0, 3.0], s.Mean);
        // numpy.cov([[1,3,5],[2,0,7]]) = [[4, 5], [5, 13]]
        Assert.Equal(new[] { 4.0, 5.0, 5.0, 13.0 }, s.Covariance.Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void FeatureStatistics_SaveLoad_RoundTripsExactlyAndGivesSameFid()
    {
        var f = Fixtures.Load(Area, "fid_kid_small");
        var stats = FeatureStatistics.Compute(FeatureMatrix.From(f["real"]));
        var path = Path.Combine(Path.GetTempPath(), $"ganforge-stats-{Guid.NewGuid():N}.safetensors");
        try
        {
            stats.Save(path, new Dictionary<string, string> { ["evaluator"] = "test" });
            var back = FeatureStatistics.Load(path);
            Assert.Equal(stats.Mean, back.Mean);
            Assert.Equal(stats.Covariance, back.Covariance);
            Assert.Equal(300, back.Count);
            var cached = new Fid { RealStatistics = back }.Compute(new MetricInputs
            {
                FakeFeatures = FeatureMatrix.From(f["fake"]),
                Protocol = new Protocol("e", "l", "test", 300, 300, 1),
            });
            Assert.True(Rel(f["fid"].Item(), cached.Value) < 1e-3, $"FID from cached statistics {cached.Value}");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FeatureStatistics_Load_TruncatedFile_SaysWhat()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ganforge-stats-{Guid.NewGuid():N}.safetensors");
        try
        {
            FeatureStatistics.Compute(FeatureMatrix.From(new double[,] { { 1, 2 }, { 3, 0 }, { 5, 7 } })).Save(path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^8]);
            var e = Assert.Throws<InvalidDataException>(() => FeatureStatistics.Load(path));
            Assert.Contains("sigma", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Fid_DimensionMismatch_Throws()
    {
        var a = FeatureMatrix.From(new double[3, 2]);
        var b = FeatureMatrix.From(new double[3, 4]);
        var e = Assert.Throws<ArgumentException>(() => Fid.Between(a, b));
        Assert.Contains("(3,2)", e.Message);
    }
}
