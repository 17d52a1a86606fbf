using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GanForge.Functions;

namespace GanForge.Kernels;

/// <summary>
/// The exact GELU over flat buffers: y = x·Φ(x) and its derivative Φ(x) + x·φ(x), with Φ from the erfc fit of
/// <see cref="ActivationMath.Erfc"/> evaluated in float, a vector of lanes at a time with our own e^x
/// (<see cref="Transcendental.ExpVector"/>), and split over threads for large buffers.
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
    /// y[i] = f(x[i]), times g[i] when <paramref name="g"/> is given (a backward's chain rule in the same pass):
    /// f the GELU, its derivative or its second derivative.
    /// </summary>
    public static void Run(Of f, float[] x, float[]? g, float[] y, int count)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { Range(f, x, g, y, 0, count); return; }
        Threading.ForRanges(count, (_, s, e) => Range(f, x, g, y, s, e), ParallelThreshold / 2);
    }

    static void Range(Of f, float[] x, float[]? g, float[] y, int start, int end)
    {
        int i = start, w = Vector512<float>.Count;
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        for (; i <= end - w; i += w)
        {
            var v = Lanes(Vector512.LoadUnsafe(ref xr, (nuint)i), f);
            if (g != null) v *= Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(g), (nuint)i);
            v.StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < end; i++)
        {
            double v = x[i], pdf = ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v);
            double fx = f switch { Of.Value => v * ActivationMath.Phi(v), Of.Derivative => ActivationMath.Phi(v) + v * pdf, _ => pdf * (2 - v * v) };
            y[i] = (float)(g != null ? fx * g[i] : fx);
        }
    }

    // ActivationMath.Phi, the derivative and the curvature on sixteen float lanes: Φ(x) = erfc(u)/2 with u = -x/√2.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Lanes(Vector512<float> x, Of f)
    {
        if (f == Of.Curvature) return Pdf(x) * (Vector512.Create(2f) - x * x);
        var u = x * (float)-ActivationMath.InvSqrt2;
        var z = Vector512.Abs(u);
        var t = Vector512<float>.One / (Vector512<float>.One + z * 0.5f);
        var p = Vector512.FusedMultiplyAdd(t, Vector512.Create(0.17087277f), Vector512.Create(-0.82215223f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(1.48851587f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(-1.13520398f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(0.27886807f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(-0.18628806f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(0.09678418f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(0.37409196f));
        p = Vector512.FusedMultiplyAdd(t, p, Vector512.Create(1.00002368f));
        var r = t * Transcendental.ExpVector(Vector512.FusedMultiplyAdd(t, p, -z * z - Vector512.Create(1.26551223f)));
        var erfc = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(u, Vector512<float>.Zero), r, Vector512.Create(2f) - r);
        var phi = erfc * 0.5f;
        return f == Of.Value ? x * phi : Vector512.FusedMultiplyAdd(x, Pdf(x), phi);
    }

    // φ(x) = e^(−x²/2)/√(2π)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Pdf(Vector512<float> x) => Transcendental.ExpVector(x * x * -0.5f) * (float)ActivationMath.InvSqrt2Pi;
}
