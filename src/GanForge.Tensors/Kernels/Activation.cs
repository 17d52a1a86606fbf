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

    /// <summary>
    /// PReLU: y = x &gt; 0 ? x : a·x, x laid out (N, C, inner) with <paramref name="channels"/> slopes (one a channel), or one
    /// slope for all (<paramref name="channels"/> 1). The values of <see cref="LeakyRelu"/> with that slope, bit for bit; y may be x.
    /// </summary>
    public static void PRelu(float[] x, float[] slopes, float[] y, int count, int channels, int inner) =>
        ForSegments(count, channels, inner, slopes, (_, start, length, a) => LeakyReluRange(x.AsSpan(start, length), y.AsSpan(start, length), 1f, a));

    /// <summary>
    /// PReLU's backward without a graph: dx = g·(x &gt; 0 ? 1 : a) (<see cref="LeakyReluBackward"/>'s values with that slope),
    /// and the slopes' gradient da[c] = Σ g·x over channel c's x ≤ 0, its partial sums added in an order fixed by the shape.
    /// </summary>
    public static void PReluBackward(float[] x, float[] g, float[] slopes, float[] dx, float[] dSlopes, int count, int channels, int inner)
    {
        var partial = new float[SegmentCount(count, channels, inner)];
        ForSegments(count, channels, inner, slopes, (seg, start, length, a) =>
            partial[seg] = PReluBackwardRange(x.AsSpan(start, length), g.AsSpan(start, length), dx.AsSpan(start, length), a));
        var sums = new double[channels];
        for (int seg = 0; seg < partial.Length; seg++) sums[channels == 1 ? 0 : seg % channels] += partial[seg];
        for (int c = 0; c < channels; c++) dSlopes[c] = (float)sums[c];
    }

    // Elements a segment holds where one slope covers them all: the unit of the split and of the slope's partial sums.
    const int SlopeSegment = 1 << 14;

    // Segments of PReLU's elements: rows of `inner` (one channel each) with a slope a channel, else blocks of SlopeSegment.
    static int SegmentCount(int count, int channels, int inner) =>
        channels == 1 ? (count + SlopeSegment - 1) / SlopeSegment : count / inner;

    // body(segment, start, length, slope) for every segment, split over the threads when the elements are many.
    static void ForSegments(int count, int channels, int inner, float[] slopes, Action<int, int, int, float> body)
    {
        int segments = SegmentCount(count, channels, inner), length = channels == 1 ? SlopeSegment : inner;
        void Run(int seg) => body(seg, seg * length, Math.Min(length, count - seg * length), slopes[channels == 1 ? 0 : seg % channels]);
        if (count < ParallelThreshold || Threading.Threads == 1 || segments == 1) { for (int seg = 0; seg < segments; seg++) Run(seg); return; }
        Threading.ForRanges(segments, (_, s, e) => { for (int seg = s; seg < e; seg++) Run(seg); });
    }

    // dx = g·(x > 0 ? 1 : a); returns Σ g·x over x ≤ 0. dx may be g.
    static float PReluBackwardRange(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, float a)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int i = 0, w = Vector<float>.Count;
        Vector<float> one = Vector<float>.One, va = new(a), sum = Vector<float>.Zero;
        for (; i <= x.Length - w; i += w)
        {
            var xv = Vector.LoadUnsafe(ref xr, (nuint)i);
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            var positive = Vector.GreaterThan(xv, Vector<float>.Zero);
            sum += Vector.ConditionalSelect(positive, Vector<float>.Zero, xv * gv);
            (gv * Vector.ConditionalSelect(positive, one, va)).StoreUnsafe(ref dr, (nuint)i);
        }
        float total = Vector.Sum(sum);
        for (; i < x.Length; i++)
        {
            float xv = Unsafe.Add(ref xr, i), gv = Unsafe.Add(ref gr, i);
            if (xv > 0f) Unsafe.Add(ref dr, i) = gv;
            else { total += xv * gv; Unsafe.Add(ref dr, i) = gv * a; }
        }
        return total;
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
