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

    /// <summary>y[i] = x[i]·Φ(x[i]) for the first <paramref name="count"/> elements.</summary>
    public static void Forward(float[] x, float[] y, int count) => Run(x, y, count, derivative: false);

    /// <summary>y[i] = Φ(x[i]) + x[i]·φ(x[i]) (the GELU's derivative) for the first <paramref name="count"/> elements.</summary>
    public static void Derivative(float[] x, float[] y, int count) => Run(x, y, count, derivative: true);

    static void Run(float[] x, float[] y, int count, bool derivative)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { Range(x.AsSpan(0, count), y.AsSpan(0, count), derivative); return; }
        Threading.ForRanges(count, (_, s, e) => Range(x.AsSpan(s, e - s), y.AsSpan(s, e - s), derivative), ParallelThreshold / 2);
    }

    static void Range(ReadOnlySpan<float> x, Span<float> y, bool derivative)
    {
        int i = 0, w = Vector512<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (; i <= x.Length - w; i += w)
            Lanes(Vector512.LoadUnsafe(ref xr, (nuint)i), derivative).StoreUnsafe(ref yr, (nuint)i);
        for (; i < x.Length; i++)
        {
            double v = x[i];
            y[i] = (float)(derivative ? ActivationMath.Phi(v) + v * ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v) : v * ActivationMath.Phi(v));
        }
    }

    // ActivationMath.Phi and the derivative on sixteen float lanes: Φ(x) = erfc(u)/2 with u = -x/√2.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Lanes(Vector512<float> x, bool derivative)
    {
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
        if (!derivative) return x * phi;
        return Vector512.FusedMultiplyAdd(x * (float)ActivationMath.InvSqrt2Pi, Transcendental.ExpVector(x * x * -0.5f), phi);
    }
}
