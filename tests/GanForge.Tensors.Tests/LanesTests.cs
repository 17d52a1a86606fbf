using System.Runtime.Intrinsics;
using GanForge.Kernels;

namespace GanForge.Tests;

/// <summary>The lane sums the kernels reduce with (their own shuffles, not the vector types' Sum).</summary>
public class LanesTests
{
    // Lane i holds 2^i: every lane counted once and no other gives 2^count − 1 exactly, whatever the order of the adds
    // (a lane added twice or dropped gives another integer).
    [Fact]
    public void Sum_CountsEveryLaneOnce()
    {
        var powers = Enumerable.Range(0, 16).Select(i => (float)(1 << i)).ToArray();
        Assert.Equal(65535, (int)Lanes512.Sum(Lanes512.Load(ref powers[0], 0)));
        Assert.Equal(255, (int)Lanes256.Sum(Lanes256.Load(ref powers[0], 0)));
        Assert.Equal(255 << 8, (int)Lanes256.Sum(Lanes256.Load(ref powers[0], 8)));
        Assert.Equal(15, (int)Lanes256.SumOfFour(Vector128.Create(1f, 2f, 4f, 8f)));
    }

    [Fact]
    public void Sum_OfRandomLanes_MatchesTheSumInDouble()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        double expected = x.Sum(v => (double)v);
        Assert.InRange(Lanes512.Sum(Lanes512.Load(ref x[0], 0)), expected - 1e-5, expected + 1e-5);
        double half = x.Take(8).Sum(v => (double)v);
        Assert.InRange(Lanes256.Sum(Lanes256.Load(ref x[0], 0)), half - 1e-5, half + 1e-5);
    }
}
