using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GanForge.Functions;

namespace GanForge.Kernels;

/// <summary>
/// The exact GELU over flat buffers: y = x·Φ(x) and its derivative Φ(x) + x·φ(x), with Φ from the erfc fit of
/// <see cref="ActivationMath.Erfc"/> evaluated in float, a vector of lanes at a time (<see cref="IFloatLanes{V}"/>: sixteen on
/// AVX-512, eight on AVX2) with our own e^x
/// (<see cref="Transcendental.Exp{V}(V)"/>), and split over threads for large buffers.
/// </summary>
/// <remarks>
/// The element-by-element version (a scalar double exp per element) was 34% of a TransGAN training step; eight doubles
/// a lane with .NET's vector exp made it 2.4x faster, and float lanes with our exp 5x more. Values agree with the
/// double-precision formula within 1e-6 relative where |x| ≤ 5 and a few 1e-6 in the far left tail, where Φ's
/// exponent -x²/2 is large (PyTorch's float GELU rounds there too).
/// </remarks>
public static class GeluKernel
{
    const int ParallelThreshold = 1 << 15;

    /// <summary>Which function of x a pass computes.</summary>
    public enum Of
    {
        /// <summary>The GELU, x·Φ(x).</summary>
        Value,
        /// <summary>Its derivative Φ(x) + x·φ(x).</summary>
        Derivative,
        /// <summary>Its second derivative φ(x)·(2 − x²).</summary>
        Curvature,
    }

    /// <summary>y[i] = x[i]·Φ(x[i]) for the first <paramref name="count"/> elements.</summary>
    public static void Forward(float[] x, float[] y, int count) => Run(Of.Value, x, null, y, count);

    /// <summary>y[i] = Φ(x[i]) + x[i]·φ(x[i]) (the GELU's derivative) for the first <paramref name="count"/> elements.</summary>
    public static void Derivative(float[] x, float[] y, int count) => Run(Of.Derivative, x, null, y, count);

    /// <summary>
    /// dx[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])), the GELU's backward outside the graph, with Φ(x) read from the forward's
    /// output y = x·Φ(x) as y/x: one e^x (for φ) and a division, where the derivative from x alone takes Φ's erfc fit and
    /// two e^x (3.2x as long on one thread with AVX-512). Where |x| &lt; 1e-20 Φ is 1/2, as it is to 1e-20.
    /// </summary>
    public static void BackwardFromOutput(float[] x, float[] y, float[] g, float[] dx, int count) =>
        BackwardFromOutput(x, y, g, dx, count, FloatLanes.ForChains);

    /// <summary>The same on the given lanes: tests run the kinds the processor does not pick.</summary>
    internal static void BackwardFromOutput(float[] x, float[] y, float[] g, float[] dx, int count, LaneKind lanes)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { FromOutputRange(x, y, g, dx, 0, count, lanes); return; }
        Threading.ForRanges(count, (_, s, e) => FromOutputRange(x, y, g, dx, s, e, lanes), ParallelThreshold / 2);
    }

    static void FromOutputRange(float[] x, float[] y, float[] g, float[] dx, int start, int end, LaneKind lanes)
    {
        int i = lanes switch
        {
            LaneKind.Sixteen => FromOutputLanes<Lanes512>(x, y, g, dx, start, end),
            LaneKind.EightTwice => FromOutputLanes<Lanes256x2>(x, y, g, dx, start, end),
            LaneKind.SixteenTwice => FromOutputLanes<Lanes512x2>(x, y, g, dx, start, end),
            _ => FromOutputLanes<Lanes256>(x, y, g, dx, start, end),
        };
        for (; i < end; i++)
        {
            double v = x[i], phi = Math.Abs(v) < TinyInput ? 0.5 : y[i] / v;
            dx[i] = (float)(g[i] * (phi + v * ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v)));
        }
    }

    /// <summary>Whether the GELU's backward outside a graph reads Φ from the forward's output (the default) or computes it from x (the bench's switch gelu-from-output).</summary>
    internal static bool BackwardReadsOutput { get; set; } = true;

    // Below this |x|, Φ(x) = 1/2 + x/√(2π) + ... is 1/2 in float, and y/x would lose y to underflow.
    const float TinyInput = 1e-20f;

    // Whole vectors from start on; returns where the scalar tail begins. A method of its own (see Lanes).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int FromOutputLanes<V>(float[] x, float[] y, float[] g, float[] dx, int start, int end) where V : struct, IFloatLanes<V>
    {
        int i = start, w = V.Count;
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float gr = ref MemoryMarshal.GetArrayDataReference(g);
        ref float dr = ref MemoryMarshal.GetArrayDataReference(dx);
        for (; i <= end - w; i += w)
        {
            var v = V.Load(ref xr, (nuint)i);
            var phi = V.Select(V.LessThan(V.Abs(v), V.Of(TinyInput)), V.Of(0.5f), V.Load(ref yr, (nuint)i) / v);
            (V.Fma(v, Pdf(v), phi) * V.Load(ref gr, (nuint)i)).Store(ref dr, (nuint)i);
        }
        return i;
    }

    /// <summary>
    /// y[i] = f(x[i]), times g[i] when <paramref name="g"/> is given (a backward's chain rule in the same pass):
    /// f the GELU, its derivative or its second derivative.
    /// </summary>
    public static void Run(Of f, float[] x, float[]? g, float[] y, int count) =>
        Run(f, x, g, y, count, FloatLanes.ForChains);

    /// <summary>The same on the given lanes: tests run the kinds the processor does not pick.</summary>
    internal static void Run(Of f, float[] x, float[]? g, float[] y, int count, LaneKind lanes)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { Range(f, x, g, y, 0, count, lanes); return; }
        Threading.ForRanges(count, (_, s, e) => Range(f, x, g, y, s, e, lanes), ParallelThreshold / 2);
    }

    static void Range(Of f, float[] x, float[]? g, float[] y, int start, int end, LaneKind lanes)
    {
        int i = lanes switch
        {
            LaneKind.Sixteen => Lanes<Lanes512>(f, x, g, y, start, end),
            LaneKind.EightTwice => Lanes<Lanes256x2>(f, x, g, y, start, end),
            LaneKind.SixteenTwice => Lanes<Lanes512x2>(f, x, g, y, start, end),
            _ => Lanes<Lanes256>(f, x, g, y, start, end),
        };
        for (; i < end; i++)
        {
            double v = x[i], pdf = ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v);
            double fx = f switch { Of.Value => v * ActivationMath.Phi(v), Of.Derivative => ActivationMath.Phi(v) + v * pdf, _ => pdf * (2 - v * v) };
            y[i] = (float)(g != null ? fx * g[i] : fx);
        }
    }

    // Whole vectors from start on; returns where the scalar tail begins. Never inlined: compiled as a method of its own,
    // it inlines every lane operation of Function; inlined into a caller (the parallel loop's lambda), the JIT's inlining
    // budget ran out part-way and left Fma, * and e^x as calls (GELU 4-5x slower on two threads than on one).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int Lanes<V>(Of f, float[] x, float[]? g, float[] y, int start, int end) where V : struct, IFloatLanes<V>
    {
        int i = start, w = V.Count;
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        for (; i <= end - w; i += w)
        {
            var v = Function(V.Load(ref xr, (nuint)i), f);
            if (g != null) v *= V.Load(ref MemoryMarshal.GetArrayDataReference(g), (nuint)i);
            v.Store(ref yr, (nuint)i);
        }
        return i;
    }

    // ActivationMath.Phi, the derivative and the curvature on a vector of float lanes: Φ(x) = erfc(u)/2 with u = -x/√2.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V Function<V>(V x, Of f) where V : struct, IFloatLanes<V>
    {
        if (f == Of.Curvature) return Pdf(x) * (V.Of(2f) - x * x);
        var u = x * V.Of((float)-ActivationMath.InvSqrt2);
        var z = V.Abs(u);
        var t = V.Of(1f) / (V.Of(1f) + z * V.Of(0.5f));
        // The fit's polynomial: the terms from t² on in Estrin's form (pairs, then t², t⁴), the last two steps Horner's for
        // their accuracy, for the reason given at Transcendental.Exp: five multiply-adds deep instead of eight.
        var t2 = t * t;
        var t4 = t2 * t2;
        var q = V.Fma(t4, V.Fma(t2, V.Of(0.17087277f), V.Fma(t, V.Of(-0.82215223f), V.Of(1.48851587f))),
            V.Fma(t2, V.Fma(t, V.Of(-1.13520398f), V.Of(0.27886807f)), V.Fma(t, V.Of(-0.18628806f), V.Of(0.09678418f))));
        var p = V.Fma(t, V.Fma(t, q, V.Of(0.37409196f)), V.Of(1.00002368f));
        var r = t * Transcendental.Exp(V.Fma(t, p, -z * z - V.Of(1.26551223f)));
        var erfc = V.WhereNonNegative(u, r, V.Of(2f) - r);
        var phi = erfc * V.Of(0.5f);
        return f == Of.Value ? x * phi : V.Fma(x, Pdf(x), phi);
    }

    // φ(x) = e^(−x²/2)/√(2π)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V Pdf<V>(V x) where V : struct, IFloatLanes<V> => Transcendental.Exp(x * x * V.Of(-0.5f)) * V.Of((float)ActivationMath.InvSqrt2Pi);
}
