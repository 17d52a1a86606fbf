using System.Runtime.Intrinsics;
using GanForge.Kernels;

namespace GanForge.Tests;

/// <summary>
/// The lane sums and maxima the kernels reduce with (their own shuffles, not the vector types' Sum), and every operation of the
/// paired vectors (of eight and of sixteen lanes) against the same on sixteen lanes.
/// </summary>
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

    // The largest value in each lane in turn, the others below it and distinct: a lane left out of the swaps, or a min
    // taken for a max, gives another value.
    [Fact]
    public void Largest_FindsTheLargestLaneWhereverItIs()
    {
        AssertLargest<Lanes512>("sixteen");
        AssertLargest<Lanes256>("eight");
        AssertLargest<Lanes256x2>("paired eights");
        AssertLargest<Lanes512x2>("paired sixteens");
    }

    static void AssertLargest<V>(string name) where V : struct, IFloatLanes<V>
    {
        for (int at = 0; at < V.Count; at++)
        {
            var x = Enumerable.Range(0, V.Count).Select(i => -1f - i * 0.25f).ToArray();
            x[at] = 3.5f;
            Assert.True(V.Largest(V.Load(ref x[0], 0)) == 3.5f, $"{name}: the largest in lane {at} not found");
        }
    }

    // Every member of the lanes on a.Length floats (16: a vector of sixteen, or two of eight; 32: two vectors of sixteen,
    // or two pairs of sixteen): the results in order, as floats, each lane sum added into the last element.
    static List<float[]> EveryOperation<V>(float[] a, float[] b, float[] c) where V : struct, IFloatLanes<V>
    {
        int length = a.Length;
        var results = new List<float[]>();
        for (int at = 0; at < length; at += V.Count)
        {
            V x = V.Load(ref a[at], 0), y = V.Load(ref b[at], 0), z = V.Load(ref c[at], 0);
            V n = V.Round(z * V.Of(40f));
            V[] outs = [x + y, x - y, x * y, x / y, -x, x & y, x | y, V.Fma(x, y, z), V.Abs(x), V.Min(x, y), V.Max(x, y),
                V.Round(x * V.Of(10f)), V.ScaleByPowerOf2(x, n), V.LessThan(x, y), V.GreaterThan(x, y), V.Equals(x, x),
                V.Select(V.LessThan(x, y), x, y), V.WhereNonNegative(x, y, z), V.Zero, V.Of(0.75f), V.Indices + V.Of(at)];
            for (int i = 0; i < outs.Length; i++)
            {
                if (results.Count <= i) results.Add(new float[length + 1]);
                outs[i].Store(ref results[i][at], 0);
            }
            var sums = results.Count > outs.Length ? results[outs.Length] : new float[length + 1];
            if (results.Count == outs.Length) results.Add(sums);
            sums[length] += V.Sum(y);
        }
        return results;
    }

    [Fact]
    public void PairedEights_EveryOperation_MatchesSixteenLanes() => AssertSameOperations<Lanes256x2>(16, "paired eights");

    [Fact]
    public void PairedSixteens_EveryOperation_MatchesSixteenLanes() => AssertSameOperations<Lanes512x2>(32, "paired sixteens");

    // Every operation of the paired lanes V against the same on vectors of sixteen, over `length` random floats with equal
    // lanes in both halves of a vector (for the comparisons) and a NaN in an upper half (Equals(x, x) false there only).
    static void AssertSameOperations<V>(int length, string name) where V : struct, IFloatLanes<V>
    {
        var rng = new Random(5);
        float[] Random() => Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var (a, b, c) = (Random(), Random(), Random());
        a[3] = b[3]; a[length - 4] = b[length - 4];
        a[length - 3] = float.NaN;
        var paired = EveryOperation<V>(a, b, c);
        var sixteen = EveryOperation<Lanes512>(a, b, c);
        Assert.Equal(sixteen.Count, paired.Count);
        for (int op = 0; op < sixteen.Count; op++)
            for (int i = 0; i <= length; i++)
            {
                float want = sixteen[op][i], got = paired[op][i];
                bool close = float.IsNaN(want) ? float.IsNaN(got) : Math.Abs(got - want) <= 1e-6f * Math.Max(1f, Math.Abs(want));
                Assert.True(close, $"operation {op}, lane {i}: {name} {got:R}, sixteen lanes {want:R}");
            }
    }
}
