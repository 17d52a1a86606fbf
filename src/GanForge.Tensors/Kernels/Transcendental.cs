using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GanForge.Kernels;

/// <summary>
/// Vectorised tanh over flat buffers (the generator's output activation). TensorPrimitives.Tanh
/// measured ~20 ns an element here (scalar), a third of an mlpgan iteration's non-GEMM time.
/// </summary>
/// <remarks>
/// For |x| ≥ 0.3: tanh|x| = 1 - 2 / (e^{2|x|} + 1), with e^t from a Cody-Waite reduction t = n·ln2 + r,
/// |r| ≤ ln2/2, a degree-7 Taylor polynomial for e^r and 2^n put into the exponent bits; the sign is
/// copied back. For |x| &lt; 0.3, where 1 - 2/(e+1) would cancel, the odd Taylor series of tanh up to
/// x^11 (truncation below 1e-9). Relative error is a few 1e-7 over the whole range; NaN stays NaN.
/// </remarks>
public static class Transcendental
{
    const int ParallelThreshold = 1 << 16;
    const float SmallLimit = 0.3f;

    /// <summary>y = tanh(x) for the first <paramref name="count"/> elements.</summary>
    public static void Tanh(float[] x, float[] y, int count)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { TanhRange(x.AsSpan(0, count), y.AsSpan(0, count)); return; }
        Threading.ForRanges(count, (_, s, e) => TanhRange(x.AsSpan(s, e - s), y.AsSpan(s, e - s)), ParallelThreshold / 2);
    }

    /// <summary>dx = g·(1 - y²), the tanh backward from its output, without a graph.</summary>
    public static void TanhBackward(float[] y, float[] g, float[] dx, int count)
    {
        var ys = y.AsSpan(0, count); var gs = g.AsSpan(0, count); var ds = dx.AsSpan(0, count);
        ref float yr = ref MemoryMarshal.GetReference(ys);
        ref float gr = ref MemoryMarshal.GetReference(gs);
        ref float dr = ref MemoryMarshal.GetReference(ds);
        int i = 0, w = Vector<float>.Count;
        for (; i <= count - w; i += w)
        {
            var v = Vector.LoadUnsafe(ref yr, (nuint)i);
            (Vector.LoadUnsafe(ref gr, (nuint)i) * (Vector<float>.One - v * v)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < count; i++) { float v = Unsafe.Add(ref yr, i); Unsafe.Add(ref dr, i) = Unsafe.Add(ref gr, i) * (1f - v * v); }
    }

    static void TanhRange(ReadOnlySpan<float> x, Span<float> y) => TanhRange(x, y, FloatLanes.ForChains);

    /// <summary>The same on the given lanes: tests run the kinds the processor does not pick.</summary>
    internal static void TanhRange(ReadOnlySpan<float> x, Span<float> y, LaneKind lanes)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = lanes switch
        {
            LaneKind.Sixteen => TanhLanes<Lanes512>(ref xr, ref yr, x.Length),
            LaneKind.EightTwice => TanhLanes<Lanes256x2>(ref xr, ref yr, x.Length),
            LaneKind.SixteenTwice => TanhLanes<Lanes512x2>(ref xr, ref yr, x.Length),
            _ => TanhLanes<Lanes256>(ref xr, ref yr, x.Length),
        };
        for (; i < x.Length; i++) Unsafe.Add(ref yr, i) = TanhScalar(Unsafe.Add(ref xr, i));
    }

    // Whole vectors of the first count elements; returns where the tail begins. A method of its own, so that its lane
    // operations are inlined into it whatever its callers inline (see GeluKernel.Lanes).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int TanhLanes<V>(ref float xr, ref float yr, int count) where V : struct, IFloatLanes<V>
    {
        int i = 0;
        for (; i <= count - V.Count; i += V.Count) Tanh(V.Load(ref xr, (nuint)i)).Store(ref yr, (nuint)i);
        return i;
    }

    // Taylor coefficients of tanh: x - x³/3 + 2x⁵/15 - 17x⁷/315 + 62x⁹/2835 - 1382x¹¹/155925.
    const float T3 = -1f / 3f, T5 = 2f / 15f, T7 = -17f / 315f, T9 = 62f / 2835f, T11 = -1382f / 155925f;
    internal const float Log2E = 1.44269504088896341f;
    const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f; // ln 2 split so n·Ln2Hi is exact
    const float MaxTwiceAbs = 40f; // tanh is 1 in float beyond |x| = 9.01; e^40 is finite

    // x is clamped to [ExpLow, ExpHigh] before the reduction: e^-104 rounds to 0 (n = -150, 2^-150 times a p below 1) and
    // e^89 to +Inf (n = 128, p above 1), as does every x beyond, so the clamp alone takes care of both ends.
    const float ExpLow = -104f, ExpHigh = 89f;

    /// <summary>
    /// e^x in every lane, relative error about 1e-7 (denormal results included): x = n·ln2 + r, |r| ≤ ln2/2, a
    /// degree-7 Taylor polynomial for e^r, and 2^n applied by <see cref="IFloatLanes{V}.ScaleByPowerOf2"/>, so that n from
    /// -150 to 128 stays exact. Beyond the range 0 or +Inf; NaN stays NaN.
    /// </summary>
    /// <remarks>
    /// The kernels that call it (GELU, softmax) are bound by the latency of one vector's chain of operations, not by the
    /// arithmetic units: the reorder buffer holds a few vectors' worth of instructions, so a vector of eight lanes took
    /// as many cycles as one of sixteen (the GELU on AVX2 ran at half its AVX-512 speed). Hence the polynomial's terms from r² on in Estrin's form (r², r⁴ and
    /// three independent pairs), with Horner's last two steps kept for their accuracy (the whole polynomial in Estrin's
    /// form doubled the largest error, to 1.7e-7), five multiply-adds deep where it was seven, and no selects at all.
    /// Without AVX-512 the callers run it on <see cref="Lanes256x2"/>: two vectors' chains interleaved.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static V Exp<V>(V x) where V : struct, IFloatLanes<V>
    {
        // The native min and max (plain vminps, vmaxps), with x as their second operand: where either operand is NaN they
        // return the second, so NaN comes through the clamp and every step after it (a select putting it back at the end
        // cost three instructions of about twenty-five: e^x 7-10% slower, the GELU 9%). The clamped n is far inside int
        // range, so the IEEE forms' extra fix-ups buy nothing here.
        var t = V.Min(V.Of(ExpHigh), V.Max(V.Of(ExpLow), x));
        var n = V.Round(t * V.Of(Log2E));
        var r = t - n * V.Of(Ln2Hi) - n * V.Of(Ln2Lo);
        var r2 = r * r;
        var q = V.Fma(r2 * r2, V.Fma(r, V.Of(1f / 5040f), V.Of(1f / 720f)),
            V.Fma(r2, V.Fma(r, V.Of(1f / 120f), V.Of(1f / 24f)), V.Fma(r, V.Of(1f / 6f), V.Of(0.5f))));
        var e = V.ScaleByPowerOf2(V.Fma(r, V.Fma(r, q, V.Of(1f)), V.Of(1f)), n);
        return e;
    }

    /// <summary>
    /// 2^x in every lane, relative error about 1e-7: x = n + r, |r| ≤ 1/2, exactly (no split constant: n is whole), the
    /// degree-7 Taylor polynomial of 2^r = e^(r ln 2) (the terms (r ln 2)^k/k!, as accurate on this range as
    /// <see cref="Exp{V}(V)"/>'s on its), and 2^n by <see cref="IFloatLanes{V}.ScaleByPowerOf2"/>. For a caller that can
    /// fold the multiply by log2(e) into an operation it does anyway (attention: 2^(log2(e)·s − m) is one multiply-add,
    /// where e^(s − max) was one subtraction): the reduction's multiply and its two-constant subtraction go, four
    /// instructions fewer than e^x (e^x beyond its range is 2^x beyond [-150, 128]: 0 or +Inf; NaN stays NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static V Exp2<V>(V x) where V : struct, IFloatLanes<V>
    {
        // NaN comes through the clamp as in Exp.
        var t = V.Min(V.Of(Exp2High), V.Max(V.Of(Exp2Low), x));
        var n = V.Round(t);
        var r = t - n;
        var r2 = r * r;
        var q = V.Fma(r2 * r2, V.Fma(r, V.Of(Ln2Pow7 / 5040f), V.Of(Ln2Pow6 / 720f)),
            V.Fma(r2, V.Fma(r, V.Of(Ln2Pow5 / 120f), V.Of(Ln2Pow4 / 24f)), V.Fma(r, V.Of(Ln2Pow3 / 6f), V.Of(Ln2Pow2 / 2f))));
        return V.ScaleByPowerOf2(V.Fma(r, V.Fma(r, q, V.Of(Ln2)), V.Of(1f)), n);
    }

    // 2^x's clamp (e^x's in base 2) and the powers of ln 2 in its polynomial.
    const float Exp2Low = -150f, Exp2High = 128f;
    const float Ln2 = 0.693147180559945309f;
    const float Ln2Pow2 = 0.480453013918201400f, Ln2Pow3 = 0.333024651988929440f, Ln2Pow4 = 0.230835098583083430f;
    const float Ln2Pow5 = 0.160002697757141300f, Ln2Pow6 = 0.110905418832347570f, Ln2Pow7 = 0.076873778372461580f;

    /// <summary>2^x of two vectors of sixteen lanes, their operations interleaved (<see cref="Lanes512x2"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector512<float> A, Vector512<float> B) Exp2Vectors(Vector512<float> a, Vector512<float> b)
    {
        var e = Exp2(new Lanes512x2(a, b));
        return (e.Lower, e.Upper);
    }

    /// <summary>2^x on sixteen lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp2Vector(Vector512<float> x) => Exp2(new Lanes512(x)).Vector;

    /// <summary>y = e^x element by element over x's length; x and y may be the same span (see <see cref="Exp{V}(V)"/>).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => Exp(x, y, FloatLanes.ForChains);

    /// <summary>The same on the given lanes: tests run the kinds the processor does not pick.</summary>
    internal static void Exp(ReadOnlySpan<float> x, Span<float> y, LaneKind lanes)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = lanes switch
        {
            LaneKind.Sixteen => ExpLanes<Lanes512>(ref xr, ref yr, x.Length),
            LaneKind.EightTwice => ExpLanes<Lanes256x2>(ref xr, ref yr, x.Length),
            LaneKind.SixteenTwice => ExpLanes<Lanes512x2>(ref xr, ref yr, x.Length),
            _ => ExpLanes<Lanes256>(ref xr, ref yr, x.Length),
        };
        for (; i < x.Length; i++) Unsafe.Add(ref yr, i) = MathF.Exp(Unsafe.Add(ref xr, i));
    }

    // Whole vectors of the first count elements; returns where the tail begins. A method of its own, so that its lane
    // operations are inlined into it whatever its callers inline (see GeluKernel.Lanes).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int ExpLanes<V>(ref float xr, ref float yr, int count) where V : struct, IFloatLanes<V>
    {
        int i = 0;
        for (; i <= count - V.Count; i += V.Count) Exp(V.Load(ref xr, (nuint)i)).Store(ref yr, (nuint)i);
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V Tanh<V>(V x) where V : struct, IFloatLanes<V>
    {
        var a = V.Abs(x);
        // Large branch: 1 - 2 / (e^{2a} + 1).
        var e = Exp(V.Min(a + a, V.Of(MaxTwiceAbs)));
        var big = V.Of(1f) - V.Of(2f) / (e + V.Of(1f));
        big = V.Select(V.LessThan(x, V.Zero), -big, big);
        // Small branch: odd Taylor series.
        var z = x * x;
        var q = V.Fma(z, V.Of(T11), V.Of(T9));
        q = V.Fma(z, q, V.Of(T7));
        q = V.Fma(z, q, V.Of(T5));
        q = V.Fma(z, q, V.Of(T3));
        // x + x³q rounds to +0 for x = -0 (the x³q term is +0); tanh(-0) is -0, so the sign of x is put back.
        var small = V.Fma(x * z, q, x) | (x & V.Of(-0f));
        var result = V.Select(V.LessThan(a, V.Of(SmallLimit)), small, big);
        // NaN in, NaN out (the comparisons above are false for NaN, and Min may drop it).
        return V.Select(V.Equals(x, x), result, x);
    }

    /// <summary>The same approximation for one element (the tail of a buffer, and the tests' reference).</summary>
    public static float TanhScalar(float x)
    {
        if (float.IsNaN(x)) return x;
        float a = MathF.Abs(x);
        if (a < SmallLimit)
        {
            if (x == 0f) return x; // keeps the sign of -0, as the vector path does
            float z = x * x;
            float q = MathF.FusedMultiplyAdd(z, T11, T9);
            q = MathF.FusedMultiplyAdd(z, q, T7);
            q = MathF.FusedMultiplyAdd(z, q, T5);
            q = MathF.FusedMultiplyAdd(z, q, T3);
            return MathF.FusedMultiplyAdd(x * z, q, x);
        }
        float t = MathF.Min(a + a, MaxTwiceAbs);
        float n = MathF.Round(t * Log2E);
        float r = t - n * Ln2Hi - n * Ln2Lo;
        // e^r as Exp evaluates it, operation for operation, so that the tail agrees with the vector body bit for bit
        float r2 = r * r;
        float high = MathF.FusedMultiplyAdd(r2 * r2, MathF.FusedMultiplyAdd(r, 1f / 5040f, 1f / 720f),
            MathF.FusedMultiplyAdd(r2, MathF.FusedMultiplyAdd(r, 1f / 120f, 1f / 24f), MathF.FusedMultiplyAdd(r, 1f / 6f, 0.5f)));
        float p = MathF.FusedMultiplyAdd(r, MathF.FusedMultiplyAdd(r, high, 1f), 1f);
        float e = p * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        float big = 1f - 2f / (e + 1f);
        return x < 0f ? -big : big;
    }
}
