using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Bilinear upsampling by exactly 2 with half-pixel centres (PyTorch's align_corners=False) and its adjoint, the
/// general <see cref="Separable"/> map written out for the one case the style networks run on large maps.
/// x: (planes,H,W) -> y: (planes,2H,2W).
/// </summary>
/// <remarks>
/// Along each axis, output 2i = ¼·x[i-1] + ¾·x[i] and 2i+1 = ¾·x[i] + ¼·x[i+1], a neighbour past an edge read as the
/// edge itself (PyTorch clamps the source index there, which comes to the same weights): so each output row is ¼/¾ of
/// two rows of horizontally doubled input, and each input value reaches four outputs along an axis with weights
/// ¼, ¾, ¾, ¼ (the adjoint). A row is copied into a short buffer with its edge values repeated on both sides, so every
/// neighbour is one unaligned load. Widths a multiple of 8 (16 on AVX-512); <see cref="Suits"/> says where it runs.
/// The general map took 17 ms on one thread to double stylegan32's 256 x 128 maps of 16 x 16, writing 134 MB that a
/// copy writes in 6.
/// </remarks>
public static class Bilinear2x
{
    /// <summary>True where these kernels run: an input width a multiple of 8 with AVX2 (16 with AVX-512 is faster).</summary>
    public static bool Suits(int width) => width > 0 && width % 8 == 0 && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>y = the 2x bilinear upsampling of x, plane by plane. x: (planes,h,w) -> y: (planes,2h,2w), y overwritten.</summary>
    public static unsafe void Forward(float[] x, float[] y, int planes, int h, int w)
    {
        if (!Suits(w)) throw new ArgumentException($"Bilinear2x.Forward: width {w} is not a positive multiple of 8 (or AVX2 is missing)");
        int width = 2 * w;
        Threading.ForRanges(planes, (_, from, to) =>
        {
            // the plane's rows doubled along x, then a row with its edges repeated
            var doubled = new float[h * width];
            var row = new float[w + 2];
            fixed (float* px = x, py = y, pd = doubled, pr = row)
                for (int p = from; p < to; p++)
                {
                    for (int r = 0; r < h; r++)
                    {
                        PadRow(px + ((long)p * h + r) * w, pr, w);
                        DoubleRow(pr, pd + r * width, w);
                    }
                    float* plane = py + (long)p * 2 * h * width;
                    for (int i = 0; i < h; i++)
                    {
                        float* here = pd + i * width;
                        Blend(pd + Math.Max(i - 1, 0) * width, here, plane + 2 * i * width, width);            // row 2i:   ¼ above + ¾ here
                        Blend(pd + Math.Min(i + 1, h - 1) * width, here, plane + (2 * i + 1) * width, width);  // row 2i+1: ¾ here + ¼ below
                    }
                }
        });
    }

    /// <summary>dx = the adjoint of <see cref="Forward"/> applied to g. g: (planes,2h,2w) -> dx: (planes,h,w), dx overwritten.</summary>
    public static unsafe void Adjoint(float[] g, float[] dx, int planes, int h, int w)
    {
        if (!Suits(w)) throw new ArgumentException($"Bilinear2x.Adjoint: width {w} is not a positive multiple of 8 (or AVX2 is missing)");
        int width = 2 * w;
        Threading.ForRanges(planes, (_, from, to) =>
        {
            // one row of the plane's rows gathered along y (2w wide), with its edges repeated
            var row = new float[width + 2];
            fixed (float* pg = g, pdx = dx, pr = row)
                for (int p = from; p < to; p++)
                {
                    float* plane = pg + (long)p * 2 * h * width;
                    for (int i = 0; i < h; i++)
                    {
                        // rows 2i-1 .. 2i+2 of g, clamped, with weights ¼ ¾ ¾ ¼; then the same along x
                        GatherRows(plane + Math.Max(2 * i - 1, 0) * width, plane + 2 * i * width, plane + (2 * i + 1) * width,
                            plane + Math.Min(2 * i + 2, 2 * h - 1) * width, pr + 1, width);
                        RepeatEdges(pr, width);
                        HalveRow(pr, pdx + ((long)p * h + i) * w, w);
                    }
                }
        });
    }

    // row = [x0, x0 .. x(w-1), x(w-1)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void PadRow(float* x, float* row, int w)
    {
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= w; j += 16) Vector512.Load(x + j).Store(row + 1 + j);
        for (; j + 8 <= w; j += 8) Vector256.Load(x + j).Store(row + 1 + j);
        RepeatEdges(row, w);
    }

    // row[0] = row[1], row[n + 1] = row[n]: the n values in row[1 .. n] with their edges repeated on both sides
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void RepeatEdges(float* row, int n)
    {
        row[0] = row[1];
        row[n + 1] = row[n];
    }

    static readonly Vector256<float> Quarter256 = Vector256.Create(0.25f), ThreeQuarters256 = Vector256.Create(0.75f);
    static readonly Vector512<float> Quarter512 = Vector512.Create(0.25f), ThreeQuarters512 = Vector512.Create(0.75f);

    // out[2j] = ¼ row[j] + ¾ row[j+1], out[2j+1] = ¾ row[j+1] + ¼ row[j+2] (row: the padded input row, w + 2 long).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void DoubleRow(float* r, float* o, int w)
    {
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= w; j += 16)
            {
                var (before, here, after) = (Vector512.Load(r + j), Vector512.Load(r + j + 1), Vector512.Load(r + j + 2));
                var even = Avx512F.FusedMultiplyAdd(ThreeQuarters512, here, Quarter512 * before);
                var odd = Avx512F.FusedMultiplyAdd(ThreeQuarters512, here, Quarter512 * after);
                Avx512F.PermuteVar16x32x2(even, Interleave.Low, odd).Store(o + 2 * j);
                Avx512F.PermuteVar16x32x2(even, Interleave.High, odd).Store(o + 2 * j + 16);
            }
        for (; j + 8 <= w; j += 8)
        {
            var (before, here, after) = (Vector256.Load(r + j), Vector256.Load(r + j + 1), Vector256.Load(r + j + 2));
            var even = Fma.MultiplyAdd(ThreeQuarters256, here, Quarter256 * before);
            var odd = Fma.MultiplyAdd(ThreeQuarters256, here, Quarter256 * after);
            // unpack pairs lanes within each 128-bit half; the two halves' permute puts them in order
            var (low, high) = (Avx.UnpackLow(even, odd), Avx.UnpackHigh(even, odd));
            Avx.Permute2x128(low, high, 0x20).Store(o + 2 * j);
            Avx.Permute2x128(low, high, 0x31).Store(o + 2 * j + 8);
        }
    }

    // dx[j] = ¼ row[2j] + ¾ row[2j+1] + ¾ row[2j+2] + ¼ row[2j+3] (row: the gathered row, 2w + 2 long, edges repeated).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void HalveRow(float* r, float* d, int w)
    {
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= w; j += 16)
            {
                var (a, b) = Deinterleave(Vector512.Load(r + 2 * j), Vector512.Load(r + 2 * j + 16));          // row[2j], row[2j+1]
                var (c, e) = Deinterleave(Vector512.Load(r + 2 * j + 2), Vector512.Load(r + 2 * j + 18));      // row[2j+2], row[2j+3]
                Avx512F.FusedMultiplyAdd(ThreeQuarters512, b + c, Quarter512 * (a + e)).Store(d + j);
            }
        for (; j + 8 <= w; j += 8)
        {
            var (a, b) = Deinterleave(Vector256.Load(r + 2 * j), Vector256.Load(r + 2 * j + 8));
            var (c, e) = Deinterleave(Vector256.Load(r + 2 * j + 2), Vector256.Load(r + 2 * j + 10));
            Fma.MultiplyAdd(ThreeQuarters256, b + c, Quarter256 * (a + e)).Store(d + j);
        }
    }

    // output = ¼ near + ¾ here, a row of a multiple of 8 floats
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Blend(float* n, float* h, float* o, int length)
    {
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= length; j += 16)
                Avx512F.FusedMultiplyAdd(ThreeQuarters512, Vector512.Load(h + j), Quarter512 * Vector512.Load(n + j)).Store(o + j);
        for (; j + 8 <= length; j += 8)
            Fma.MultiplyAdd(ThreeQuarters256, Vector256.Load(h + j), Quarter256 * Vector256.Load(n + j)).Store(o + j);
    }

    // output = ¼ (first + last) + ¾ (second + third), a row of a multiple of 8 floats
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void GatherRows(float* a, float* b, float* c, float* e, float* o, int length)
    {
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= length; j += 16)
                Avx512F.FusedMultiplyAdd(ThreeQuarters512, Vector512.Load(b + j) + Vector512.Load(c + j),
                    Quarter512 * (Vector512.Load(a + j) + Vector512.Load(e + j))).Store(o + j);
        for (; j + 8 <= length; j += 8)
            Fma.MultiplyAdd(ThreeQuarters256, Vector256.Load(b + j) + Vector256.Load(c + j),
                Quarter256 * (Vector256.Load(a + j) + Vector256.Load(e + j))).Store(o + j);
    }

    // (even lanes, odd lanes) of the 32 floats in lo, hi
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float> Even, Vector512<float> Odd) Deinterleave(Vector512<float> lo, Vector512<float> hi) =>
        (Avx512F.PermuteVar16x32x2(lo, Interleave.Evens, hi), Avx512F.PermuteVar16x32x2(lo, Interleave.Odds, hi));

    // (even lanes, odd lanes) of the 16 floats in lo, hi: shuffles within 128-bit halves, then the 64-bit pairs in order
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> lo, Vector256<float> hi) =>
        (Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle(),
         Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle());

    // Lane tables for the two-register permutes: lane k of the pair (a, b) is a[k], of b is 16 + k.
    static class Interleave
    {
        public static readonly Vector512<int> Low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        public static readonly Vector512<int> High = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        public static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        public static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    }
}
