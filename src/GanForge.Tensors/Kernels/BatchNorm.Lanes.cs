using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

// A channel of (N, C, inner) values is n rows of `inner` floats, c·inner apart: at dcgan28's 7 x 7 maps, rows of 49 floats
// 25 kB apart. Two things here for such channels:
// - each sum's pass over a channel fetches the rows a few ahead of the one it adds (the processor's prefetchers do not
//   follow rows that far apart, and the maps come to batch norm from a convolution, out of this core's caches);
// - the pass that writes (the normalisation, the input gradient) runs on sixteen lanes with a masked load and store at each
//   row's end, where a span call a row ran eight lanes and a scalar tail (49 = 6 x 8 + 1), and fetches the rows it will
//   write ahead too. Its arithmetic is the span calls', so the values are the same to the bit.
// Alone on two threads, the maps flushed from the caches first, a 128 x 128 x 7 x 7 forward took 0.51 ms against 0.62 and
// its backward 0.62 against 0.91; dcgan28's batch norms in its step 7.1-9.0 ms an iteration against 9.5-10.2 (docs/
// performance.md, fifty-third pass).
public static partial class BatchNorm
{
    const int W = 16;

    /// <summary>Whether channels of more than one value a row write on sixteen lanes (AVX-512; the default there) or a span call a row (the bench's switch bn-lanes).</summary>
    internal static bool OnLanes { get; set; } = true;

    static bool RunsOnLanes(int inner) => OnLanes && inner > 1 && Avx512F.IsSupported;

    /// <summary>Rows ahead a channel's passes fetch (4; 0: none, the bench's switch bn-prefetch).</summary>
    internal static int RowsAhead { get; set; } = 4;

    // Rows this long or longer are left to the processor's prefetchers, which follow a row once it is a few lines long.
    // Alone on two threads, fetching rows of 256 floats ahead (dcgan64's 16 x 16 maps) made a 64 x 128 forward 1.31 ->
    // 1.11 ms flushed and its backward 2.04 -> 1.57; at 512 floats it was mixed, at 1,024 slower (docs/performance.md,
    // fifty-third pass).
    const int LongRow = 512;

    // Rows ahead a pass over rows of `inner` floats fetches: 0 for long rows, or where there is no SSE.
    static int RowsAheadOf(int inner) => inner < LongRow && Sse.IsSupported ? RowsAhead : 0;

    // Fetches into L1 row b + RowsAhead of channel ch of x, (N, C, inner), where there is one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void FetchAhead(float[] x, int b, int ch, int n, int c, int inner)
    {
        int ahead = RowsAheadOf(inner);
        if (ahead == 0 || b + ahead >= n) return;
        // A hint only: nothing is read through the address, which may go stale if the collector moves x.
        Fetch((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(x)) + ((long)(b + ahead) * c + ch) * inner, inner);
    }

    // Each line of the row of `inner` floats at p.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Fetch(float* p, int inner)
    {
        for (int i = 0; i < inner; i += W) Sse.Prefetch0(p + i);
        Sse.Prefetch0(p + inner - 1);
    }

    // Each buffer holds (N, C, inner) floats: checked once a call, before the channels' passes, which read and write through
    // pointers.
    static void CheckHold(int n, int c, int inner, params (string Name, float[] Buffer)[] buffers)
    {
        foreach (var (name, buffer) in buffers)
            if (buffer.Length < (long)n * c * inner)
                throw new ArgumentException($"BatchNorm: {name} holds {buffer.Length} floats, ({n}, {c}, {inner}) needs {(long)n * c * inner}");
    }

    // Channel ch of y = v·(v > 0 ? 1 : slope) with v = x·scale + shift (ScaleShiftLeakyRelu's arithmetic; a slope of 1
    // leaves v as ScaleShift makes it); y may be x. x and y hold (N, C, inner) floats (CheckHold).
    static unsafe void NormaliseOnLanes(float[] x, float[] y, int n, int c, int inner, int ch, float scale, float shift, float slope)
    {
        var (end, a, b, s) = (FloatLanes.FirstLanes(inner % W), Vector512.Create(scale), Vector512.Create(shift), Vector512.Create(slope));
        int stride = c * inner, ahead = x == y ? 0 : RowsAheadOf(inner);
        fixed (float* px = x, py = y)
        {
            float* xr = px + ch * inner, yr = py + ch * inner;
            for (int r = 0; r < n; r++, xr += stride, yr += stride)
            {
                if (ahead > 0 && r + ahead < n) Fetch(yr + ahead * stride, inner);
                int i = 0;
                for (; i + W <= inner; i += W)
                {
                    var v = Vector512.Load(xr + i) * a + b;
                    (v * FloatLanes.LeakyDerivative(v, s)).Store(yr + i);
                }
                if (i < inner)
                {
                    var v = Avx512F.MaskLoad(xr + i, end, Vector512<float>.Zero) * a + b;
                    Avx512F.MaskStore(yr + i, end, v * FloatLanes.LeakyDerivative(v, s));
                }
            }
        }
    }

    // Channel ch of dx = g'·a + x·b + c, g' = g·(v > 0 ? 1 : slope) with v = x·scale + shift (AxpbyMasked's arithmetic; a
    // slope of 1 leaves g as Axpby takes it). g, x and dx hold (N, C, inner) floats (CheckHold).
    static unsafe void InputGradientOnLanes(float[] g, float[] x, float[] dx, int n, int c, int inner, int ch,
        (float Scale, float Shift, float Slope) normalised, float a, float b, float cc)
    {
        var (end, va, vb, vc) = (FloatLanes.FirstLanes(inner % W), Vector512.Create(a), Vector512.Create(b), Vector512.Create(cc));
        var (scale, shift, slope) = (Vector512.Create(normalised.Scale), Vector512.Create(normalised.Shift), Vector512.Create(normalised.Slope));
        int stride = c * inner, ahead = RowsAheadOf(inner);
        fixed (float* pg = g, px = x, pd = dx)
        {
            float* gr = pg + ch * inner, xr = px + ch * inner, dr = pd + ch * inner;
            for (int r = 0; r < n; r++, gr += stride, xr += stride, dr += stride)
            {
                if (ahead > 0 && r + ahead < n) Fetch(dr + ahead * stride, inner);
                int i = 0;
                for (; i + W <= inner; i += W)
                {
                    var xv = Vector512.Load(xr + i);
                    (Vector512.Load(gr + i) * FloatLanes.LeakyDerivative(xv * scale + shift, slope) * va + xv * vb + vc).Store(dr + i);
                }
                if (i < inner)
                {
                    var (xv, gv) = (Avx512F.MaskLoad(xr + i, end, Vector512<float>.Zero), Avx512F.MaskLoad(gr + i, end, Vector512<float>.Zero));
                    Avx512F.MaskStore(dr + i, end, gv * FloatLanes.LeakyDerivative(xv * scale + shift, slope) * va + xv * vb + vc);
                }
            }
        }
    }
}
