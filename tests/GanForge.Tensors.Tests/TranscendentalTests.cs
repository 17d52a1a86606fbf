using System.Runtime.Intrinsics;
using System.Numerics;
using GanForge.Kernels;

namespace GanForge.Tests;

/// <summary>
/// The vectorised tanh of <see cref="Transcendental"/> against double-precision Math.Tanh, and its
/// vector body, scalar tail and parallel split against one another.
/// </summary>
public class TranscendentalTests
{
    const double RelTol = 2e-6;

    /// <summary>A dense sweep of [-20, 20], tiny and special values, and both sides of the 0.3 branch switch.</summary>
    internal static float[] Inputs()
    {
        var xs = new List<float>();
        for (int i = -200_000; i <= 200_000; i++) xs.Add(i * 1e-4f);
        float[] special = [0f, -0f, 1e-30f, 1e-8f, 1e-4f, 1e-40f, float.Epsilon, 0.3f, 0.29999998f, 0.30000001f,
            0.2999f, 0.3001f, 9.01f, 9.02f, 20f, 40f, 100f, 1e30f, float.MaxValue, float.PositiveInfinity];
        foreach (var s in special) { xs.Add(s); xs.Add(-s); }
        xs.Add(float.NaN);
        // Every float in a small window around ±0.3, where the two branches meet.
        for (float v = 0.2995f; v <= 0.3005f; v = MathF.BitIncrement(v)) { xs.Add(v); xs.Add(-v); }
        return [.. xs];
    }

    static float[] Apply(float[] x)
    {
        var y = new float[x.Length];
        Transcendental.Tanh(x, y, x.Length);
        return y;
    }

    // The lane loop on the given lanes (those the processor does not pick run too, sixteen in software without AVX-512).
    static float[] Apply(float[] x, LaneKind lanes)
    {
        var y = new float[x.Length];
        Transcendental.TanhRange(x, y, lanes);
        return y;
    }

    /// <summary>How many floats one vector of the given lanes holds.</summary>
    internal static int Count(LaneKind lanes) => lanes switch { LaneKind.Eight => 8, LaneKind.SixteenTwice => 32, _ => 16 };

    static void AssertCloseToDouble(float[] x, float[] y, string path)
    {
        double worst = 0; int worstAt = -1;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i])) { if (!float.IsNaN(y[i])) Assert.Fail($"{path}: tanh(NaN) = {y[i]}"); continue; }
            double r = Math.Tanh(x[i]);
            if (r == 0) { if (y[i] != 0) Assert.Fail($"{path}: tanh({x[i]:R}) = {y[i]:R}, expected 0"); continue; }
            double rel = Math.Abs(y[i] - r) / Math.Abs(r);
            if (rel > worst) { worst = rel; worstAt = i; }
        }
        if (worst > RelTol) Assert.Fail($"{path}: worst relative error {worst:G3} at x = {x[worstAt]:R}: got {y[worstAt]:R}, expected {Math.Tanh(x[worstAt]):R}");
    }

    // e^x over its whole float range: a dense sweep of [-110, 95], the ends and the special values, vector body and
    // scalar tail (37 elements), relative to double Math.Exp; denormal results within 1e-45 absolute.
    [Theory]
    [InlineData((int)LaneKind.SixteenTwice)]
    [InlineData((int)LaneKind.Sixteen)]
    [InlineData((int)LaneKind.EightTwice)]
    [InlineData((int)LaneKind.Eight)]
    public void Exp_WholeRange_MatchesDoubleWithin3e7Relative(int kind)
    {
        var width = (LaneKind)kind;
        var xs = new List<float>();
        for (int i = -1_100_000; i <= 950_000; i++) xs.Add(i * 1e-4f);
        xs.AddRange([88.72283f, 88.7229f, -87.33654f, -103.97f, -103.98f, 1e-30f, -1e-30f, 0f, -0f, 200f, -200f,
            float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue]);
        var x = xs.ToArray();
        foreach (int length in new[] { x.Length, 37 })
        {
            var y = new float[length];
            Transcendental.Exp(x.AsSpan(0, length), y, width);
            for (int i = 0; i < length; i++)
            {
                double e = Math.Exp(x[i]);
                if (e > float.MaxValue) { Assert.True(float.IsPositiveInfinity(y[i]), $"exp({x[i]:R}) = {y[i]:R}, expected +Inf"); continue; }
                double tol = Math.Max(3e-7 * e, 1.5e-45);
                Assert.True(Math.Abs(y[i] - e) <= tol, $"exp({x[i]:R}) = {y[i]:R}, expected {e:R}");
            }
        }
        // Both ends come from the clamp to [-104, 89] alone: below it 0 (e^x there is under half the smallest denormal, so
        // the result may be no larger than e^x itself: 0, not the 1.4e-45 the old clamp gave), above it +Inf, in the
        // vector body too (twice over: one vector of 32 lanes).
        float[] ends16 = [-103.99f, -104f, -104.5f, -150f, float.NegativeInfinity, float.MinValue, 88.8f, 89f, 89.5f, 1000f, float.PositiveInfinity,
            float.MaxValue, -104f, -1000f, 88.73f, 89f];
        float[] ends = [.. ends16, .. ends16];
        var endsOut = new float[ends.Length];
        Transcendental.Exp(ends, endsOut, width);
        for (int i = 0; i < ends.Length; i++)
            Assert.True(ends[i] < 0 ? endsOut[i] >= 0f && endsOut[i] <= Math.Exp(ends[i]) : float.IsPositiveInfinity(endsOut[i]),
                $"exp({ends[i]:R}) = {endsOut[i]:R}, expected {Math.Exp(ends[i]):R}");
        var nan = new float[1];
        Transcendental.Exp([float.NaN], nan, width);
        Assert.True(float.IsNaN(nan[0]));
        var lanes = new float[Count(width)];
        lanes[0] = lanes[^1] = float.NaN;
        Transcendental.Exp(lanes, lanes, width);
        Assert.True(float.IsNaN(lanes[0]) && float.IsNaN(lanes[^1]), "NaN through the vector body, first and last lane");
    }

    [Fact]
    public void Exp2_OnSixteenLanesAndTheirPairs_MatchesDoubleWithin1e7Relative()
    {
        // 2^x for attention's base-2 exponents: every x from -149 to 127 in steps of 1/64 and 20,000 random ones (n + r
        // split exactly, the polynomial on |r| ≤ 1/2), on sixteen lanes and on two vectors interleaved, within 1e-7
        // relative (or a denormal's step); then both ends (0 below -150, +Inf from 128) and NaN.
        var rng = new Random(11);
        var x = Enumerable.Range(0, 276 * 64 + 1).Select(i => -149f + i / 64f).Concat(Enumerable.Range(0, 20_000).Select(_ => (float)(rng.NextDouble() * 276 - 149))).ToArray();
        x = [.. x, .. new float[32 - x.Length % 32]];
        for (int i = 0; i < x.Length; i += 32)
        {
            var (a, b) = (Vector512.LoadUnsafe(ref x[i]), Vector512.LoadUnsafe(ref x[i + 16]));
            var (pa, pb) = Transcendental.Exp2Vectors(a, b);
            var single = Transcendental.Exp2Vector(a);
            for (int k = 0; k < 32; k++)
            {
                double expected = Math.Pow(2, x[i + k]);
                float actual = k < 16 ? pa.GetElement(k) : pb.GetElement(k - 16);
                // relative below 2^-126 too, but for the one denormal step (2^-149) those results are rounded to
                Assert.True(Math.Abs(actual - expected) <= Math.Max(1e-7 * expected, 1.5e-45), $"2^{x[i + k]:R} = {actual:R}, expected {expected:R}");
                if (k < 16) Assert.Equal(actual, single.GetElement(k));   // the same operations on one vector
            }
        }
        var ends = Transcendental.Exp2Vector(Vector512.Create([-150.5f, -1000f, float.NegativeInfinity, float.MinValue, 128f, 1000f,
            float.PositiveInfinity, float.MaxValue, float.NaN, 0f, 1f, -1f, 10f, -10f, 127.5f, -149f]));
        for (int k = 0; k < 4; k++) Assert.Equal(0f, ends.GetElement(k));
        for (int k = 4; k < 8; k++) Assert.True(float.IsPositiveInfinity(ends.GetElement(k)), $"lane {k}: {ends.GetElement(k)}");
        Assert.True(float.IsNaN(ends.GetElement(8)));
        Assert.Equal([1f, 2f, 0.5f, 1024f, 1f / 1024f], Enumerable.Range(9, 5).Select(k => ends.GetElement(k)).ToArray());
    }

    [Theory]
    [InlineData((int)LaneKind.SixteenTwice)]
    [InlineData((int)LaneKind.Sixteen)]
    [InlineData((int)LaneKind.EightTwice)]
    [InlineData((int)LaneKind.Eight)]
    public void Tanh_VectorPath_MatchesDoubleWithin2e6Relative(int kind) =>
        AssertCloseToDouble(Inputs(), Apply(Inputs(), (LaneKind)kind), $"{(LaneKind)kind} lanes");

    [Fact]
    public void TanhScalar_MatchesDoubleWithin2e6Relative()
    {
        var x = Inputs();
        AssertCloseToDouble(x, x.Select(Transcendental.TanhScalar).ToArray(), "scalar");
    }

    [Fact]
    public void Tanh_SpecialValues_AreExact()
    {
        float[] x = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-30f, 1e-40f, 20f, -20f, float.MaxValue];
        var y = Apply(x);
        Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(y[0]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(y[1]));
        Assert.Equal([1f, -1f, 1e-30f, -1e-30f, 1e-40f, 1f, -1f, 1f], y[2..]);
        Assert.True(float.IsNaN(Apply([float.NaN])[0]));
        Assert.True(float.IsNaN(Transcendental.TanhScalar(float.NaN)));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(Transcendental.TanhScalar(-0f)));
        Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(Transcendental.TanhScalar(0f)));
    }

    [Fact]
    public void Tanh_IsOddExactly()
    {
        var x = Inputs().Where(v => !float.IsNaN(v) && v > 0).ToArray();
        var pos = Apply(x);
        var neg = Apply(x.Select(v => -v).ToArray());
        for (int i = 0; i < x.Length; i++)
        {
            if (neg[i] != -pos[i]) Assert.Fail($"tanh(-{x[i]:R}) = {neg[i]:R}, tanh({x[i]:R}) = {pos[i]:R}");
            Assert.Equal(-Transcendental.TanhScalar(x[i]), Transcendental.TanhScalar(-x[i]));
        }
    }

    [Fact]
    public void Tanh_StaysInUnitIntervalAndIsMonotone()
    {
        // The sweep is sorted in its first 400001 entries.
        var x = Inputs()[..400_001];
        var y = Apply(x);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.InRange(y[i], -1f, 1f);
            if (i > 0 && y[i] < y[i - 1]) Assert.Fail($"tanh({x[i]:R}) = {y[i]:R} < tanh({x[i - 1]:R}) = {y[i - 1]:R}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(70_000)]
    [InlineData(200_003)]
    public void Tanh_AnyLength_EqualsScalarElementwise(int length)
    {
        // Lengths not a multiple of the vector width put elements in the scalar tail; 70000 and up
        // pass the parallel threshold (whether the split happens depends on Threads; see TanhParallelTests).
        var x = Tensor.Randn([length], new Generator(5)).Data.ToArray();
        for (int i = 0; i < x.Length; i += 3) x[i] *= 4f;
        var y = Apply(x);
        for (int i = 0; i < length; i++)
        {
            float s = Transcendental.TanhScalar(x[i]);
            if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(s)) Assert.Fail($"length {length}, element {i}: x = {x[i]:R}, vector {y[i]:R}, scalar {s:R}");
        }
    }

    [Fact]
    public void Tanh_CountShorterThanBuffer_LeavesRestUntouched()
    {
        var x = Enumerable.Range(0, 40).Select(i => i * 0.1f - 2f).ToArray();
        var y = Enumerable.Repeat(7f, 40).ToArray();
        Transcendental.Tanh(x, y, 21);
        for (int i = 0; i < 21; i++) Assert.Equal(Transcendental.TanhScalar(x[i]), y[i]);
        Assert.All(y[21..], v => Assert.Equal(7f, v));
    }

    [Theory]
    [InlineData(37)]
    [InlineData(70_000)]
    public void TanhBackward_MatchesDoubleFormula(int length)
    {
        var gen = new Generator(9);
        var y = Tensor.Randn([length], gen).Tanh().Data.ToArray();
        var g = Tensor.Randn([length], gen).Data.ToArray();
        y[0] = 1f; y[1] = -1f; y[2] = 0f; if (length > 3) y[3] = 0.9999f;
        var dx = new float[length];
        Transcendental.TanhBackward(y, g, dx, length);
        for (int i = 0; i < length; i++)
        {
            // Bit for bit the float formula (vector body and scalar tail alike).
            float f = g[i] * (1f - y[i] * y[i]);
            if (BitConverter.SingleToInt32Bits(f) != BitConverter.SingleToInt32Bits(dx[i])) Assert.Fail($"element {i}: {dx[i]:R} vs {f:R}");
            // Against double: 1e-6 relative, plus the rounding of y·y in float (1 - y² cancels as |y| → 1,
            // so a relative bound alone cannot hold for any float implementation).
            double r = g[i] * (1.0 - (double)y[i] * y[i]);
            double tol = 1e-6 * Math.Abs(r) + 1.2e-7 * Math.Abs(g[i]) * y[i] * y[i];
            if (Math.Abs(dx[i] - r) > tol) Assert.Fail($"element {i}: y = {y[i]:R}, g = {g[i]:R}: {dx[i]:R} vs {r:R}");
        }
    }

    [Fact]
    public void VectorWidth_TestLengthsHitTheTail()
    {
        // Guards the intent of the length theories above: the lane loops run 8 or 16 lanes, TanhBackward Vector<float>'s.
        foreach (int width in new[] { 8, 16, Vector<float>.Count })
        {
            Assert.NotEqual(0, 37 % width);
            Assert.NotEqual(0, 200_003 % width);
        }
    }

    [Fact]
    public void TensorTanh_InputsAroundBranchSwitch_GradCheckFirstAndSecond()
    {
        // The op table checks tanh on normal inputs; this puts elements on both sides of |x| = 0.3
        // and in the saturated range, so the derivative is checked across the kernel's branches.
        float[] v = [0.28f, 0.299f, 0.301f, 0.32f, -0.28f, -0.299f, -0.301f, -0.32f, 1.5f, -2.5f, 4f, 0.01f];
        GradCheck.First("tanh (branches)", t => t[0].Tanh(), [Tensor.FromArray(v, 3, 4)]);
        GradCheck.Second("tanh (branches)", t => t[0].Tanh(), [Tensor.FromArray(v, 3, 4)]);
    }

    [Fact]
    public void TensorTanh_Large_ForwardAndBothBackwardPathsAgree()
    {
        // 70000 elements: the parallel forward, the raw-kernel backward (no graph) and the graph
        // backward (createGraph) must give the same values.
        var x = (Tensor.Randn([70, 1000], new Generator(2)) * 3f).RequiresGrad_();
        var g = Tensor.Randn([70, 1000], new Generator(4));
        var y = x.Tanh();
        var xs = x.Data.ToArray(); var ys = y.Data.ToArray(); var gs = g.Data.ToArray();
        for (int i = 0; i < xs.Length; i++) Assert.Equal(Transcendental.TanhScalar(xs[i]), ys[i]);

        var plain = Autograd.Grad([y], [x], [g], retainGraph: true)[0]!;
        var graph = Autograd.Grad([y], [x], [g], createGraph: true)[0]!;
        Assert.NotNull(graph.GradFn);
        var p = plain.Data.ToArray(); var q = graph.Data.ToArray();
        for (int i = 0; i < p.Length; i++)
        {
            float expected = gs[i] * (1f - ys[i] * ys[i]);
            Assert.Equal(expected, p[i]);
            Assert.Equal(expected, q[i]);
        }
    }
}

/// <summary>Tanh with the thread count pinned, so the parallel split is certain to run.</summary>
[Collection("Threading")]
public class TanhParallelTests
{
    [Theory]
    [InlineData(2, 70_000)]
    [InlineData(2, 131_073)]
    [InlineData(3, 200_003)]
    public void Tanh_ParallelSplit_EqualsScalarElementwise(int threads, int length)
    {
        var x = Tensor.Randn([length], new Generator(6)).Data.ToArray();
        for (int i = 0; i < x.Length; i += 2) x[i] *= 5f;
        var y = new float[length];
        ThreadingTests.WithThreads(threads, () => Transcendental.Tanh(x, y, length));
        for (int i = 0; i < length; i++)
        {
            float s = Transcendental.TanhScalar(x[i]);
            if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(s))
                Assert.Fail($"threads {threads}, length {length}, element {i}: x = {x[i]:R}, got {y[i]:R}, scalar {s:R}");
        }
    }
}
