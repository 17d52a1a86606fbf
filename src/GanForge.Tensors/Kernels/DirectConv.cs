using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Direct kernels for the forward and weight gradient of convolutions with few channels on one side: at most four input
/// channels (a discriminator's first layer on grey or RGB images, a generator's last transposed layer seen from its
/// gradient) or at most four output channels (an image generator's last layer: CycleGAN's 64 -> 3 7 x 7, SRGAN's 9 x 9;
/// a PatchGAN's 1-channel head); any stride, no dilation, one group. Vectorised along the output rows, they write and
/// read NCHW as it lies. oneDNN's kernels block over 16 channels and reorder the maps to and from that layout: dcgan28's
/// 1 -> 64 layer took 0.65 ms a forward plus 0.67 for its output's reorder and 1.1 ms a weight gradient, cyclegan32's
/// 64 -> 3 7 x 7 layer ran at 34-40 GFLOP/s, im2col + GEMM at 7-8 (three channels fill three of a tile's rows).
/// <see cref="Conv"/> runs them for layers of at most four output channels (for few input channels they did not pay in
/// the step); the backward-data stays with the other backends.
/// </summary>
/// <remarks>
/// The input is first copied into a zero-padded scratch in which each padded row is split into its S column phases
/// (stride S: phase p holds columns p, p + S, p + 2S, ...), so that every tap reads 16 consecutive outputs' inputs with
/// one load, and the kernels read without bounds checks. Forward: each task computes four output rows by 16 columns for
/// four output channels in sixteen registers, over every (ci, kh, kw): four loads, four broadcasts, sixteen multiply-adds;
/// channels past Co have zero weights and are not stored. Weight gradient: for each (ci, kh), four taps kw and four
/// channels, sixteen accumulators run over the batch's rows (a thread's copy of the block's output gradient, zero past
/// the map), then are summed across their lanes; (channel block, input channel) pairs are shared out over the threads,
/// so each weight is written by one thread.
/// </remarks>
public static class DirectConv
{
    const int Lanes = 16, Rows = 4, Channels = 4, Taps = 4;

    /// <summary>
    /// True for the convolutions these kernels compute, on a processor with AVX-512: kernels wider than 1 x 1 (StyleGAN's
    /// toRGB is a GEMM on the maps as they lie, without the padded copy), maps of at least 4 rows of 8 (a tile's 16 lanes
    /// half used or more; a 1 x 1 output, such as DCGAN's last layer, is one GEMM), no dilation, one group. Any channel
    /// counts (in blocks of four output channels); which layers run them is <see cref="Conv"/>'s rule.
    /// </summary>
    public static bool Suits(in ConvGeometry g) =>
        g.KH * g.KW > 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1 && g.OH >= Rows && g.OW >= 8 && Avx512F.IsSupported;

    // The padded, phase-split input: per sample and channel Hp padded rows, each S phase rows of Wq floats; a tap (i, j)
    // of output (r, c) reads padded row S·r + i, phase j mod S, position c + j div S.
    readonly record struct Scratch(int Hp, int Wq, int RowStride, int Plane, int Vectors, int RowBlocks, int ChannelBlocks)
    {
        public static Scratch Of(in ConvGeometry g)
        {
            int vectors = (g.OW + Lanes - 1) / Lanes, rowBlocks = (g.OH + Rows - 1) / Rows;
            // Taps are taken four at a time in the weight gradient: the last block's spare taps read past a row (not used).
            int taps = (g.KW + Taps - 1) / Taps * Taps;
            int hp = g.SH * (rowBlocks * Rows - 1) + g.KH, wq = vectors * Lanes + (taps - 1) / g.SW;
            return new(hp, wq, g.SW * wq, hp * g.SW * wq, vectors, rowBlocks, (g.Co + Channels - 1) / Channels);
        }

        /// <summary>Where tap column j reads in a padded row, from the row's start, for j in [0, KW rounded up to 4).</summary>
        public int[] TapOffsets(in ConvGeometry g)
        {
            var offsets = new int[(g.KW + Taps - 1) / Taps * Taps];
            for (int j = 0; j < offsets.Length; j++) offsets[j] = j % g.SW * Wq + j / g.SW;
            return offsets;
        }
    }

    // x (N,Ci,H,W) -> the scratch (N,Ci,Hp,S,Wq), zero where the padded input lies outside x; samples and channels over the
    // threads. A spare row at the end covers the spare taps' reads.
    static float[] PadInput(float[] x, int n, in ConvGeometry g, in Scratch sc)
    {
        var xp = ArrayPool<float>.Shared.Rent(n * g.Ci * sc.Plane + sc.RowStride + Lanes);
        xp.AsSpan(n * g.Ci * sc.Plane).Clear();
        var (geometry, scratch) = (g, sc);
        Threading.ForRanges(n * g.Ci, (_, p0, p1) =>
        {
            var (h, w, ph, pw, s) = (geometry.H, geometry.W, geometry.PH, geometry.PW, geometry.SW);
            int wq = scratch.Wq;
            for (int p = p0; p < p1; p++)
            {
                var dst = xp.AsSpan(p * scratch.Plane, scratch.Plane);
                dst.Clear();
                for (int pr = 0; pr < scratch.Hp; pr++)
                {
                    int r = pr - ph;
                    if ((uint)r >= (uint)h) continue;
                    var src = x.AsSpan(p * h * w + r * w, w);
                    for (int phase = 0; phase < s; phase++)
                    {
                        var row = dst.Slice((pr * s + phase) * wq, wq);
                        // Position j reads column S·j + phase - PW.
                        int j0 = Math.Max(0, (pw - phase + s - 1) / s), j1 = Math.Min(wq, (w - 1 + pw - phase) / s + 1);
                        if (s == 1) { if (j1 > j0) src.Slice(j0 - pw, j1 - j0).CopyTo(row.Slice(j0)); }
                        else for (int j = j0; j < j1; j++) row[j] = src[s * j + phase - pw];
                    }
                }
            }
        });
        return xp;
    }

    // w (Co,Ci,KH,KW) -> (channel block, Ci, KH, KW, 4): each tap's four output channels side by side, zero past Co (pooled).
    static float[] InterleaveWeights(float[] w, in ConvGeometry g, int blocks)
    {
        int taps = g.Ci * g.KH * g.KW;
        var wi = ArrayPool<float>.Shared.Rent(blocks * taps * Channels);
        Array.Clear(wi, 0, blocks * taps * Channels);
        for (int co = 0; co < g.Co; co++)
            for (int t = 0; t < taps; t++) wi[(co / Channels * taps + t) * Channels + co % Channels] = w[co * taps + t];
        return wi;
    }

    /// <summary>y = conv(x, w). x: (N,Ci,H,W), w: (Co,Ci,KH,KW) -> y: (N,Co,OH,OW).</summary>
    public static unsafe void Forward(float[] x, float[] w, float[] y, int n, ConvGeometry g)
    {
        var sc = Scratch.Of(g);
        var xp = PadInput(x, n, g, sc);
        var wi = InterleaveWeights(w, g, sc.ChannelBlocks);
        var offsets = sc.TapOffsets(g);
        int taps = g.Ci * g.KH * g.KW, tasks = n * sc.RowBlocks * sc.ChannelBlocks;
        Threading.ForRanges(tasks, (_, t0, t1) =>
        {
            float* tile = stackalloc float[Channels * Rows * Lanes];
            fixed (float* px = xp, pw = wi, py = y)
            fixed (int* po = offsets)
                for (int task = t0; task < t1; task++)
                {
                    int cb = task % sc.ChannelBlocks, rb = task / sc.ChannelBlocks % sc.RowBlocks, s = task / sc.ChannelBlocks / sc.RowBlocks;
                    int oh = rb * Rows, channels = Math.Min(Channels, g.Co - cb * Channels), rows = Math.Min(Rows, g.OH - oh);
                    for (int v = 0; v < sc.Vectors; v++)
                    {
                        float* first = px + (long)s * g.Ci * sc.Plane + g.SH * oh * sc.RowStride + v * Lanes;
                        ForwardTile(first, pw + (long)cb * taps * Channels, po, tile, g.Ci, g.KH, g.KW, sc.Plane, sc.RowStride, g.SH * sc.RowStride);
                        int cols = Math.Min(Lanes, g.OW - v * Lanes);
                        for (int c = 0; c < channels; c++)
                            for (int r = 0; r < rows; r++)
                                new ReadOnlySpan<float>(tile + (c * Rows + r) * Lanes, cols).CopyTo(
                                    new Span<float>(py + (((long)s * g.Co + cb * Channels + c) * g.OH + oh + r) * g.OW + v * Lanes, cols));
                    }
                }
        });
        ArrayPool<float>.Shared.Return(wi);
        ArrayPool<float>.Shared.Return(xp);
    }

    // Four output rows by 16 columns for four channels: x points at the tile's first padded row and column in channel 0,
    // w at the channel block's interleaved weights, offsets at each tap column's offset in a padded row; the result goes
    // to tile (channel, row, lane). rowStep: from one output row's inputs to the next's.
    static unsafe void ForwardTile(float* x, float* w, int* offsets, float* tile, int ci, int kh, int kw, int plane, int rowStride, int rowStep)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int c = 0; c < ci; c++, x += plane)
            for (int i = 0; i < kh; i++)
            {
                float* row = x + i * rowStride;
                for (int j = 0; j < kw; j++, w += Channels)
                {
                    var (w0, w1, w2, w3) = (Vector512.Create(w[0]), Vector512.Create(w[1]), Vector512.Create(w[2]), Vector512.Create(w[3]));
                    float* at = row + offsets[j];
                    var x0 = Vector512.Load(at);
                    a00 = Avx512F.FusedMultiplyAdd(x0, w0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, w1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(x0, w2, a02); a03 = Avx512F.FusedMultiplyAdd(x0, w3, a03);
                    var x1 = Vector512.Load(at + rowStep);
                    a10 = Avx512F.FusedMultiplyAdd(x1, w0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, w1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(x1, w2, a12); a13 = Avx512F.FusedMultiplyAdd(x1, w3, a13);
                    var x2 = Vector512.Load(at + 2 * rowStep);
                    a20 = Avx512F.FusedMultiplyAdd(x2, w0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, w1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(x2, w2, a22); a23 = Avx512F.FusedMultiplyAdd(x2, w3, a23);
                    var x3 = Vector512.Load(at + 3 * rowStep);
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
        var sc = Scratch.Of(g);
        var xp = PadInput(x, n, g, sc);
        var offsets = sc.TapOffsets(g);
        int kwBlocks = offsets.Length / Taps, width = sc.Vectors * Lanes, rowStride = Channels * width;
        // Tasks channel block by channel block, so that a thread copies a block's output gradient once for its input channels.
        Threading.ForRanges(sc.ChannelBlocks * g.Ci, (_, t0, t1) =>
        {
            float* sums = stackalloc float[Taps * Channels];
            var gp = ArrayPool<float>.Shared.Rent(n * g.OH * rowStride);
            int copied = -1;
            fixed (float* px = xp, pg = gp, pd = dw)
            fixed (int* po = offsets)
                for (int task = t0; task < t1; task++)
                {
                    int cb = task / g.Ci, c = task % g.Ci, channels = Math.Min(Channels, g.Co - cb * Channels);
                    if (cb != copied) { CopyGradient(gy, gp, cb, channels, n, g, width, rowStride); copied = cb; }
                    for (int i = 0; i < g.KH; i++)
                        for (int jb = 0; jb < kwBlocks; jb++)
                        {
                            WeightGradTaps(px + (long)c * sc.Plane + i * sc.RowStride, po + jb * Taps, pg, sums, n, g, sc, rowStride, width);
                            for (int j = jb * Taps; j < Math.Min(g.KW, (jb + 1) * Taps); j++)
                                for (int k = 0; k < channels; k++)
                                    pd[(((cb * Channels + k) * g.Ci + c) * g.KH + i) * g.KW + j] = sums[(j - jb * Taps) * Channels + k];
                        }
                }
            ArrayPool<float>.Shared.Return(gp);
        });
        ArrayPool<float>.Shared.Return(xp);
    }

    // Channel block cb of the output gradient as (N, OH, 4 channels, whole vectors), zero past the map and past Co.
    static void CopyGradient(float[] gy, float[] gp, int cb, int channels, int n, in ConvGeometry g, int width, int rowStride)
    {
        Array.Clear(gp, 0, n * g.OH * rowStride);
        for (int s = 0; s < n; s++)
            for (int k = 0; k < channels; k++)
                for (int r = 0; r < g.OH; r++)
                    gy.AsSpan(((s * g.Co + cb * Channels + k) * g.OH + r) * g.OW, g.OW).CopyTo(gp.AsSpan((s * g.OH + r) * rowStride + k * width, g.OW));
    }

    // Σ over samples, output rows and columns of gy[co]·x[S·row + i, S·col + j] for four tap columns j (offsets) and the
    // four channels of the copied block gp: x points at (input channel c, padded row i) of sample 0's scratch; sums (tap,
    // channel).
    static unsafe void WeightGradTaps(float* x, int* offsets, float* gp, float* sums, int n, in ConvGeometry g, in Scratch sc, int rowStride, int width)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        var (o0, o1, o2, o3) = (offsets[0], offsets[1], offsets[2], offsets[3]);
        long sampleIn = (long)g.Ci * sc.Plane;
        int rowStep = g.SH * sc.RowStride;
        for (int s = 0; s < n; s++)
            for (int r = 0; r < g.OH; r++)
            {
                float* xr = x + s * sampleIn + r * rowStep, gr = gp + ((long)s * g.OH + r) * rowStride;
                for (int v = 0; v < sc.Vectors; v++, xr += Lanes, gr += Lanes)
                {
                    var (g0, g1, g2, g3) = (Vector512.Load(gr), Vector512.Load(gr + width), Vector512.Load(gr + 2 * width), Vector512.Load(gr + 3 * width));
                    var x0 = Vector512.Load(xr + o0);
                    a00 = Avx512F.FusedMultiplyAdd(x0, g0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, g1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(x0, g2, a02); a03 = Avx512F.FusedMultiplyAdd(x0, g3, a03);
                    var x1 = Vector512.Load(xr + o1);
                    a10 = Avx512F.FusedMultiplyAdd(x1, g0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, g1, a11);
                    a12 = Avx512F.FusedMultiplyAdd(x1, g2, a12); a13 = Avx512F.FusedMultiplyAdd(x1, g3, a13);
                    var x2 = Vector512.Load(xr + o2);
                    a20 = Avx512F.FusedMultiplyAdd(x2, g0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, g1, a21);
                    a22 = Avx512F.FusedMultiplyAdd(x2, g2, a22); a23 = Avx512F.FusedMultiplyAdd(x2, g3, a23);
                    var x3 = Vector512.Load(xr + o3);
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
