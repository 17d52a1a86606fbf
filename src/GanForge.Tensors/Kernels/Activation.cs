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

    /// <summary>y = x > 0 ? x : slope·x (ReLU when slope = 0).</summary>
    public static void LeakyRelu(float[] x, float[] y, int count, float slope) =>
        Split(count, (s, e) => LeakyReluRange(x.AsSpan(s, e - s), y.AsSpan(s, e - s), slope));

    /// <summary>dx = x > 0 ? g : slope·g, the LeakyReLU backward without a graph.</summary>
    public static void LeakyReluBackward(float[] x, float[] g, float[] dx, int count, float slope) =>
        Split(count, (s, e) => LeakyReluBackwardRange(x.AsSpan(s, e - s), g.AsSpan(s, e - s), dx.AsSpan(s, e - s), slope));

    static void Split(int count, Action<int, int> body)
    {
        if (count < ParallelThreshold || Threading.Threads == 1) { body(0, count); return; }
        Threading.ForRanges(count, (_, s, e) => body(s, e), ParallelThreshold / 2);
    }

    static void LeakyReluRange(ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = 0, w = Vector<float>.Count;
        var vs = new Vector<float>(slope);
        for (; i <= x.Length - w; i += w)
        {
            var v = Vector.LoadUnsafe(ref xr, (nuint)i);
            Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * vs).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < x.Length; i++) { float v = Unsafe.Add(ref xr, i); Unsafe.Add(ref yr, i) = v > 0f ? v : slope * v; }
    }

    static void LeakyReluBackwardRange(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, float slope)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int i = 0, w = Vector<float>.Count;
        var vs = new Vector<float>(slope);
        for (; i <= x.Length - w; i += w)
        {
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            var m = Vector.GreaterThan(Vector.LoadUnsafe(ref xr, (nuint)i), Vector<float>.Zero);
            Vector.ConditionalSelect(m, gv, gv * vs).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < x.Length; i++) Unsafe.Add(ref dr, i) = Unsafe.Add(ref xr, i) > 0f ? Unsafe.Add(ref gr, i) : slope * Unsafe.Add(ref gr, i);
    }

    /// <summary>Scalar reference of <see cref="LeakyRelu"/>.</summary>
    public static void LeakyReluNaive(ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0f ? x[i] : slope * x[i];
    }

    /// <summary>Scalar reference of <see cref="LeakyReluBackward"/>.</summary>
    public static void LeakyReluBackwardNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, float slope)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0f ? g[i] : slope * g[i];
    }
}
