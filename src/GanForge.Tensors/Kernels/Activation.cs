using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GanForge.Kernels;

/// <summary>
/// Piecewise-linear activations over flat buffers, vectorised and split across threads when large.
/// x, g, y, dx: (numel) of any shape.
/// </summary>
public static class Activation
{
    // Below this many elements a parallel split costs more than it saves.
    const int ParallelThreshold = 1 << 16;

    /// <summary>y = x > 0 ? gain·x : gain·slope·x (ReLU when slope = 0; StyleGAN's activation with gain sqrt 2).</summary>
    public static void LeakyRelu(float[] x, float[] y, int count, float slope, float gain = 1f) =>
        Split(count, (s, e) => LeakyReluRange(x.AsSpan(s, e - s), y.AsSpan(s, e - s), gain, slope * gain));

    /// <summary>dx = x > 0 ? gain·g : gain·slope·g, the LeakyReLU backward without a graph.</summary>
    public static void LeakyReluBackward(float[] x, float[] g, float[] dx, int count, float slope, float gain = 1f) =>
        Split(count, (s, e) => LeakyReluBackwardRange(x.AsSpan(s, e - s), g.AsSpan(s, e - s), dx.AsSpan(s, e - s), gain, slope * gain));

    static void Split(int count, Action<int, int> body)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { body(0, count); return; }
        Threading.ForRanges(count, (_, s, e) => body(s, e), ParallelThreshold / 2);
    }

    // y = x·(x > 0 ? pos : neg); with pos = 1 the positive side is x itself, bit for bit. y may be x.
    internal static void LeakyReluRange(ReadOnlySpan<float> x, Span<float> y, float pos, float neg)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = 0, w = Vector<float>.Count;
        Vector<float> vp = new(pos), vn = new(neg);
        for (; i <= x.Length - w; i += w)
        {
            var v = Vector.LoadUnsafe(ref xr, (nuint)i);
            (v * Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), vp, vn)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < x.Length; i++) { float v = Unsafe.Add(ref xr, i); Unsafe.Add(ref yr, i) = v * (v > 0f ? pos : neg); }
    }

    // dx = g·(x > 0 ? pos : neg); dx may be x.
    internal static void LeakyReluBackwardRange(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, float pos, float neg)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int i = 0, w = Vector<float>.Count;
        Vector<float> vp = new(pos), vn = new(neg);
        for (; i <= x.Length - w; i += w)
        {
            var m = Vector.GreaterThan(Vector.LoadUnsafe(ref xr, (nuint)i), Vector<float>.Zero);
            (Vector.LoadUnsafe(ref gr, (nuint)i) * Vector.ConditionalSelect(m, vp, vn)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < x.Length; i++) Unsafe.Add(ref dr, i) = Unsafe.Add(ref gr, i) * (Unsafe.Add(ref xr, i) > 0f ? pos : neg);
    }

    /// <summary>Scalar reference of <see cref="LeakyRelu"/>.</summary>
    public static void LeakyReluNaive(ReadOnlySpan<float> x, Span<float> y, float slope, float gain = 1f)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0f ? gain * x[i] : gain * slope * x[i];
    }

    /// <summary>Scalar reference of <see cref="LeakyReluBackward"/>.</summary>
    public static void LeakyReluBackwardNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, float slope, float gain = 1f)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0f ? gain * g[i] : gain * slope * g[i];
    }
}
