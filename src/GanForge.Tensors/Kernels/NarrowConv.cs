using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Direct kernels for convolutions with one to four output channels (an image generator's last layer: CycleGAN's 64 -> 3
/// 7 x 7, SRGAN's 9 x 9; a PatchGAN's 1-channel head), stride 1, no dilation, one group: the forward and the weight
/// gradient, vectorised along the output rows. oneDNN's kernels block over output channels and ran cyclegan32's 64 -> 3
/// 7 x 7 layer at 34-40 GFLOP/s, im2col + GEMM at 7-8 (three channels fill three of a tile's rows, and the im2col is 12.8
/// MB a sample). The backward-data writes many channels and stays with oneDNN.
/// </summary>
/// <remarks>
/// The input is first copied into a zero-padded scratch (Ci, OH + KH - 1 + 3, a row width covering whole 16-lane
/// vectors of output): the kernels then read without bounds checks. Forward: each task computes four output rows by 16
/// columns for all (up to four) channels in sixteen registers, over every (ci, kh, kw): four loads, four broadcasts,
/// sixteen multiply-adds. Weight gradient: for each (ci, kh) and four taps kw, sixteen accumulators (tap by channel) run
/// over the batch's rows, the output gradient zero beyond the map, then are summed across their lanes; the input
/// channels are shared out over the threads, so each weight is written by one thread.
/// </remarks>
public static class NarrowConv
{
    const int Lanes = 16, Rows = 4, Channels = 4, Taps = 4;

    /// <summary>
    /// True for the convolutions these kernels compute, on a processor with AVX-512: maps of at least 4 rows of 8 (a
    /// tile's four rows of 16 lanes half used or more; a 1 x 1 output, such as DCGAN's last layer, is one GEMM) and
    /// kernels wider than 1 x 1 (StyleGAN's toRGB is a GEMM on the maps as they lie, without the padded copy).
    /// </summary>
    public static bool Suits(in ConvGeometry g) =>
        g.Co <= Channels && g.KH * g.KW > 1 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1 && g.OH >= Rows && g.OW >= 8
        && Avx512F.IsSupported;

    // The padded input's geometry: Hp rows (three spare for the last row block), Wp columns (whole vectors of output
    // plus the kernel's reach).
    static (int Hp, int Wp, int Vectors) Padded(in ConvGeometry g)
    {
        int vectors = (g.OW + Lanes - 1) / Lanes;
        return (g.OH + g.KH - 1 + Rows - 1, vectors * Lanes + g.KW - 1, vectors);
    }

    // x (N,Ci,H,W) -> the zero-padded scratch (N,Ci,Hp,Wp), samples and channels over the threads.
    static float[] PadInput(float[] x, int n, in ConvGeometry g)
    {
        var (hp, wp, _) = Padded(g);
        var xp = ArrayPool<float>.Shared.Rent(n * g.Ci * hp * wp);
        var geometry = g;
        Threading.ForRanges(n * g.Ci, (_, p0, p1) =>
        {
            var (h, w, ph, pw) = (geometry.H, geometry.W, geometry.PH, geometry.PW);
            for (int p = p0; p < p1; p++)
            {
                var dst = xp.AsSpan(p * hp * wp, hp * wp);
                dst.Clear();
                for (int r = 0; r < h; r++)
                {
                    int pr = r + ph;
                    if (pr >= hp) break;
                    // Columns from the left padding on, up to the scratch's width (a negative padding crops).
                    int c0 = Math.Max(0, -pw), c1 = Math.Min(w, wp - pw);
                    if (c1 > c0) x.AsSpan(p * h * w + r * w + c0, c1 - c0).CopyTo(dst.Slice(pr * wp + c0 + pw, c1 - c0));
                }
            }
        });
        return xp;
    }

    // w (Co,Ci,KH,KW) -> (Ci,KH,KW,4): each tap's four output channels side by side, zero past Co (a pooled array).
    static float[] InterleaveWeights(float[] w, in ConvGeometry g)
    {
        int taps = g.Ci * g.KH * g.KW;
        var wi = ArrayPool<float>.Shared.Rent(taps * Channels);
        Array.Clear(wi, 0, taps * Channels);
        for (int co = 0; co < g.Co; co++)
            for (int t = 0; t < taps; t++) wi[t * Channels + co] = w[co * taps + t];
        return wi;
    }

    /// <summary>y = conv(x, w). x: (N,Ci,H,W), w: (Co,Ci,KH,KW) -> y: (N,Co,OH,OW).</summary>
    public static unsafe void Forward(float[] x, float[] w, float[] y, int n, ConvGeometry g)
    {
        var (hp, wp, vectors) = Padded(g);
        var xp = PadInput(x, n, g);
        var wi = InterleaveWeights(w, g);
        int rowBlocks = (g.OH + Rows - 1) / Rows, tasks = n * rowBlocks;
        Threading.ForRanges(tasks, (_, t0, t1) =>
        {
            float* tile = stackalloc float[Channels * Rows * Lanes];
            fixed (float* px = xp, pw = wi, py = y)
                for (int task = t0; task < t1; task++)
                {
                    int s = task / rowBlocks, oh = task % rowBlocks * Rows;
                    for (int v = 0; v < vectors; v++)
                    {
                        ForwardTile(px + (long)s * g.Ci * hp * wp + oh * wp + v * Lanes, pw, tile, g.Ci, g.KH, g.KW, hp * wp, wp);
                        // The tile's rows and columns inside the map go to y.
                        int rows = Math.Min(Rows, g.OH - oh), cols = Math.Min(Lanes, g.OW - v * Lanes);
                        for (int co = 0; co < g.Co; co++)
                            for (int r = 0; r < rows; r++)
                                new ReadOnlySpan<float>(tile + (co * Rows + r) * Lanes, cols)
                                    .CopyTo(new Span<float>(py + (((long)s * g.Co + co) * g.OH + oh + r) * g.OW + v * Lanes, cols));
                    }
                }
        });
        ArrayPool<float>.Shared.Return(wi);
        ArrayPool<float>.Shared.Return(xp);
    }

    // Four rows by 16 columns of output for four channels: x points at the first input row and column of the tile in
    // channel 0 of the padded sample, w at the interleaved weights; the result goes to tile (channel, row, lane).
    static unsafe void ForwardTile(float* x, float* w, float* tile, int ci, int kh, int kw, int plane, int wp)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int c = 0; c < ci; c++, x += plane)
            for (int i = 0; i < kh; i++)
            {
                float* row = x + i * wp;
                for (int j = 0; j < kw; j++, w += Channels)
                {
                    var (w0, w1, w2, w3) = (Vector512.Create(w[0]), Vector512.Create(w[1]), Vector512.Create(w[2]), Vector512.Create(w[3]));
                    var x0 = Vector512.Load(row + j);
                    a00 = Avx512F.FusedMultiplyAdd(x0, w0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, w1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(x0, w2, a02); a03 = Avx512F.FusedMultiplyAdd(x0, w3, a03);
                    var x1 = Vector512.Load(row + wp + j);
                    a10 = Avx512F.FusedMultiplyAdd(x1, w0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, w1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(x1, w2, a12); a13 = Avx512F.FusedMultiplyAdd(x1, w3, a13);
                    var x2 = Vector512.Load(row + 2 * wp + j);
                    a20 = Avx512F.FusedMultiplyAdd(x2, w0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, w1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(x2, w2, a22); a23 = Avx512F.FusedMultiplyAdd(x2, w3, a23);
                    var x3 = Vector512.Load(row + 3 * wp + j);
                    a30 = Avx512F.FusedMultiplyAdd(x3, w0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, w1, a31);
                    a32 = Avx512F.FusedMultiplyAdd(x3, w2, a32); a33 = Avx512F.FusedMultiplyAdd(x3, w3, a33);
                }
            }
        a00.Store(tile); a10.Store(tile + Lanes); a20.Store(tile + 2 * Lanes); a30.Store(tile + 3 * Lanes);
        a01.Store(tile + 4 * Lanes); a11.Store(tile + 5 * Lanes); a21.Store(tile + 6 * Lanes); a31.Store(tile + 7 * Lanes);
        a02.Store(tile + 8 * Lanes); a12.Store(tile + 9 * Lanes); a22.Store(tile + 10 * Lanes); a32.Store(tile + 11 * Lanes);
        a03.Store(tile + 12 * Lanes); a13.Store(tile + 13 * Lanes); a23.Store(tile + 14 * Lanes); a33.Store(tile + 15 * Lanes);
    }

    /// <summary>dw = the weight gradient. x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci,KH,KW), overwritten.</summary>
    public static unsafe void WeightGrad(float[] x, float[] gy, float[] dw, int n, ConvGeometry g)
    {
        var (hp, wp, vectors) = Padded(g);
        var xp = PadInput(x, n, g);
        // The output gradient as (N, OH, 4 channels, whole vectors), zero past the map and past Co.
        int width = vectors * Lanes, rowStride = Channels * width;
        var gp = ArrayPool<float>.Shared.Rent(n * g.OH * rowStride);
        Array.Clear(gp, 0, n * g.OH * rowStride);
        for (int s = 0; s < n; s++)
            for (int co = 0; co < g.Co; co++)
                for (int r = 0; r < g.OH; r++)
                    gy.AsSpan(((s * g.Co + co) * g.OH + r) * g.OW, g.OW).CopyTo(gp.AsSpan((s * g.OH + r) * rowStride + co * width, g.OW));
        int kwBlocks = (g.KW + Taps - 1) / Taps;
        Threading.ForRanges(g.Ci, (_, c0, c1) =>
        {
            float* sums = stackalloc float[Taps * Channels];
            fixed (float* px = xp, pg = gp, pd = dw)
                for (int c = c0; c < c1; c++)
                    for (int i = 0; i < g.KH; i++)
                        for (int jb = 0; jb < kwBlocks; jb++)
                        {
                            WeightGradTaps(px + (long)c * hp * wp + i * wp + jb * Taps, pg, sums, n, g.OH, vectors, (long)g.Ci * hp * wp, wp, rowStride, width);
                            for (int j = jb * Taps; j < Math.Min(g.KW, (jb + 1) * Taps); j++)
                                for (int co = 0; co < g.Co; co++)
                                    pd[((co * g.Ci + c) * g.KH + i) * g.KW + j] = sums[(j - jb * Taps) * Channels + co];
                        }
        });
        ArrayPool<float>.Shared.Return(gp);
        ArrayPool<float>.Shared.Return(xp);
    }

    // Σ over samples, output rows and columns of gy[co]·x[row + i, col + j] for four taps j (from x's column) and four
    // channels: x points at (input channel c, row i, column j0) of sample 0's padded input; sums (tap, channel).
    static unsafe void WeightGradTaps(float* x, float* gp, float* sums, int n, int oh, int vectors, long sample, int wp, int rowStride, int width)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int s = 0; s < n; s++)
            for (int r = 0; r < oh; r++)
            {
                float* xr = x + s * sample + r * wp, gr = gp + ((long)s * oh + r) * rowStride;
                for (int v = 0; v < vectors; v++, xr += Lanes, gr += Lanes)
                {
                    var (g0, g1, g2, g3) = (Vector512.Load(gr), Vector512.Load(gr + width), Vector512.Load(gr + 2 * width), Vector512.Load(gr + 3 * width));
                    var x0 = Vector512.Load(xr);
                    a00 = Avx512F.FusedMultiplyAdd(x0, g0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, g1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(x0, g2, a02); a03 = Avx512F.FusedMultiplyAdd(x0, g3, a03);
                    var x1 = Vector512.Load(xr + 1);
                    a10 = Avx512F.FusedMultiplyAdd(x1, g0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, g1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(x1, g2, a12); a13 = Avx512F.FusedMultiplyAdd(x1, g3, a13);
                    var x2 = Vector512.Load(xr + 2);
                    a20 = Avx512F.FusedMultiplyAdd(x2, g0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, g1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(x2, g2, a22); a23 = Avx512F.FusedMultiplyAdd(x2, g3, a23);
                    var x3 = Vector512.Load(xr + 3);
                    a30 = Avx512F.FusedMultiplyAdd(x3, g0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, g1, a31);
                    a32 = Avx512F.FusedMultiplyAdd(x3, g2, a32); a33 = Avx512F.FusedMultiplyAdd(x3, g3, a33);
                }
            }
        sums[0] = Vector512.Sum(a00); sums[1] = Vector512.Sum(a01); sums[2] = Vector512.Sum(a02); sums[3] = Vector512.Sum(a03);
        sums[4] = Vector512.Sum(a10); sums[5] = Vector512.Sum(a11); sums[6] = Vector512.Sum(a12); sums[7] = Vector512.Sum(a13);
        sums[8] = Vector512.Sum(a20); sums[9] = Vector512.Sum(a21); sums[10] = Vector512.Sum(a22); sums[11] = Vector512.Sum(a23);
        sums[12] = Vector512.Sum(a30); sums[13] = Vector512.Sum(a31); sums[14] = Vector512.Sum(a32); sums[15] = Vector512.Sum(a33);
    }
}
