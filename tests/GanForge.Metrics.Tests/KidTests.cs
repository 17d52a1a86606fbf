using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class KidTests
{
    const string Area = "metrics";

    static int[][] Indices(Tensor t)
    {
        int s = t.Size(0), m = t.Size(1);
        var d = t.ToArray();
        return Enumerable.Range(0, s).Select(i => Enumerable.Range(0, m).Select(j => (int)d[i * m + j]).ToArray()).ToArray();
    }

    static void AssertRel(double expected, double actual, double rtol, string what) =>
        Assert.True(Math.Abs(actual - expected) <= rtol * Math.Abs(expected), $"{what}: {actual}, expected {expected}");

    [Theory]
    [InlineData("fid_kid_small")]
    [InlineData("fid_kid_large")]
    public void Kid_SameSubsetsAsReference_MatchesTorchFidelityFormula(string name)
    {
        var f = Fixtures.Load(Area, name);
        var (mean, std, per) = Kid.WithSubsets(FeatureMatrix.From(f["real"]), FeatureMatrix.From(f["fake"]),
            Indices(f["kid_real_idx"]), Indices(f["kid_fake_idx"]));
        Assert.Equal(5, per.Length);
        AssertRel(f["kid_mean"].Item(), mean, 1e-3, "KID mean");
        AssertRel(f["kid_std"].Item(), std, 1e-3, "KID std");
    }

    [Theory]
    [InlineData("fid_kid_small")]
    [InlineData("fid_kid_large")]
    public void Mmd2Unbiased_AllRows_MatchesReference(string name)
    {
        var f = Fixtures.Load(Area, name);
        double mmd = Kid.Mmd2Unbiased(FeatureMatrix.From(f["real"]), FeatureMatrix.From(f["fake"]));
        AssertRel(f["mmd2_all"].Item(), mmd, 1e-3, "MMD^2 over all rows");
    }

    [Fact]
    public void Kid_SameSeed_IsReproducibleAndProtocolIsCopied()
    {
        var f = Fixtures.Load(Area, "fid_kid_small");
        var inputs = new MetricInputs
        {
            RealFeatures = FeatureMatrix.From(f["real"]), FakeFeatures = FeatureMatrix.From(f["fake"]),
            Protocol = new Protocol("cnn", "fc1", "test", 300, 300, 42),
        };
        var a = new Kid(10, 50).Compute(inputs);
        var b = new Kid(10, 50).Compute(inputs);
        Assert.Equal(a.Value, b.Value);
        Assert.Equal(a.Std, b.Std);
        Assert.Equal(inputs.Protocol, a.Protocol);
        Assert.Equal(50, a.Extras["subset_size"]);
        // The subset mean estimates the same MMD^2 as the full sets.
        AssertRel(f["mmd2_all"].Item(), a.Value, 0.25, "KID over 10 subsets of 50");
    }

    [Fact]
    public void Kid_SameDistribution_IsNearZeroUnlikeShiftedOne()
    {
        var f = Fixtures.Load(Area, "fid_kid_large");
        var real = FeatureMatrix.From(f["real"]);
        var halfA = real.SelectRows(Enumerable.Range(0, 250).ToArray());
        var halfB = real.SelectRows(Enumerable.Range(250, 250).ToArray());
        var (same, sameStd, _) = Kid.Between(halfA, halfB, 20, 100, 3);
        var (shifted, _, _) = Kid.Between(halfA, FeatureMatrix.From(f["fake"]), 20, 100, 3);
        Assert.True(Math.Abs(same) < 3 * sameStd + 1e-3, $"KID between halves of one set {same} ± {sameStd}");
        Assert.True(shifted > 10 * Math.Abs(same), $"KID to shifted set {shifted} vs {same}");
    }

    [Fact]
    public void Kid_SubsetLargerThanData_UsesSmallerSet()
    {
        var f = Fixtures.Load(Area, "fid_kid_large");
        var r = new Kid(2, 1000).Compute(new MetricInputs
        {
            RealFeatures = FeatureMatrix.From(f["real"]), FakeFeatures = FeatureMatrix.From(f["fake"]),
            Protocol = new Protocol("e", "l", "s", 500, 400, 0),
        });
        Assert.Equal(400, r.Extras["subset_size"]);
    }
}
