using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static GanForge.Kernels.CacheLines;

namespace GanForge.Kernels;

/// <summary>
/// The three kernels of a 3 x 3 convolution of stride 1 padded by 1 with the batch in the vector lanes: sixteen samples
/// a vector, for batches of 16 (or a multiple), with AVX-512. SRGAN's residual blocks (64 -> 64 at 8 x 8, batch 16) are
/// the layers they were written for: oneDNN's Winograd and direct kernels ran them at 200-270 GFLOP/s on two threads,
/// copying NCHW into their blocked layout and back, and an NCHW kernel vectorised along the padded rows wastes a fifth of
/// its lanes on an 8-wide map (ten padded columns a row). These ran them 1.38-1.63x as fast; <see cref="Conv"/> takes
/// them where they were measured faster (its BatchLaneShape).
/// </summary>
/// <remarks>
/// Each thread copies the input into its own scratch, 64-byte aligned, <c>xs[c][r][q][s] = x[s][c][r - 1][q - 1]</c>
/// (zero on the padding ring), sixteen samples by sixteen positions transposed in registers at a time; every vector it
/// then loads is one position of one channel for the sixteen samples, whole and aligned. The forward runs four output
/// channels by four positions of a row in sixteen registers: for each input channel and kernel row it loads the six
/// vectors the row's three taps read, broadcasts the four channels' three weights, and makes 48 multiply-adds. The
/// backward-data is that forward over the output's gradient with each kernel turned half a circle and its channels
/// swapped (read from w in place: no repacked copy). The weight gradient keeps two output channels by nine taps of one
/// input channel in eighteen registers over the batch's positions, then sums each register's lanes. The outputs are
/// shared out over the threads by channel, so each thread reads only what it wrote itself (the whole input's lanes,
/// duplicated on each thread, cost less than moving half of them between the cores) and each output is written by one
/// thread, its sums in an order fixed by the shape.
/// </remarks>
internal static unsafe class BatchLaneConv
{
    const int Lanes = 16, Channels = 4, Positions = 4, Taps = 9, Pair = 2;

    /// <summary>
    /// True for the layers these kernels compute: 3 x 3, stride 1, padding 1, no dilation, one group; a batch of a multiple
    /// of 16; channels in fours on both sides; rows of a multiple of four positions and maps of a multiple of sixteen;
    /// AVX-512.
    /// </summary>
    public static bool Suits(int n, in ConvGeometry g) =>
        n > 0 && n % Lanes == 0 && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.PH == 1 && g.PW == 1
        && g.DH == 1 && g.DW == 1 && g.Groups == 1 && g.Ci % Channels == 0 && g.Co % Channels == 0
        && g.W % Positions == 0 && g.H * g.W % Lanes == 0 && Avx512F.IsSupported;

    /// <summary>x: (N,Ci,H,W), w: (Co,Ci,3,3) -> y: (N,Co,H,W) (no bias).</summary>
    public static void Forward(float[] x, float[] w, float[] y, int n, in ConvGeometry g) =>
        Run(x, g.Ci, w, 0, g.Ci * Taps, Taps, 1, y, g.Co, n, g.H, g.W);

    /// <summary>
    /// gy: (N,Co,H,W), w: (Co,Ci,3,3) -> dx: (N,Ci,H,W), the adjoint of <see cref="Forward"/> in x: the forward of gy with
    /// weights w'[i][o][t] = w[o][i][8 - t].
    /// </summary>
    public static void BackwardData(float[] gy, float[] w, float[] dx, int n, in ConvGeometry g) =>
        Run(gy, g.Co, w, Taps - 1, Taps, g.Ci * Taps, -1, dx, g.Ci, n, g.H, g.W);

    /// <summary>
    /// x: (N,Ci,H,W), gy: (N,Co,H,W) -> dw: (Co,Ci,3,3), the adjoint of <see cref="Forward"/> in w:
    /// dw[o][i][t] = Σ over samples and positions p of gy[o][p]·x[i][p + t] (zero off the map).
    /// </summary>
    public static void WeightGrad(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g)
    {
        var geometry = g;
        Threading.ForRanges(g.Co / Pair, (_, p0, p1) => WeightGradPairs(x, gy, dw, n, geometry, p0 * Pair, (p1 - p0) * Pair));
    }

    // One thread's share of the weight gradient: output channels o0 .. o0 + outs, in pairs. The input's lanes whole and
    // the output gradient's lanes of those channels, then each pair's sums for each input channel.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightGradPairs(float[] x, float[] gy, float[] dw, int n, ConvGeometry g, int o0, int outs)
    {
        int ci = g.Ci, co = g.Co, h = g.H, wd = g.W, hw = h * wd, groups = n / Lanes;
        int plane = (h + 2) * (wd + 2) * Lanes;
        var xs = ArrayPool<float>.Shared.Rent(groups * ci * plane + Lanes);
        var gs = ArrayPool<float>.Shared.Rent(groups * outs * hw * Lanes + Lanes);
        float* sums = stackalloc float[Pair * Taps * Lanes];
        fixed (float* px0 = xs, pg0 = gs, px = x, pgy = gy, pdw = dw)
        {
            float* xl = Aligned(px0), gl = Aligned(pg0);
            for (int k = 0; k < groups; k++)
            {
                ToLanes(px, k * Lanes, 0, ci, ci, h, wd, 1, xl + (long)k * ci * plane);
                ToLanes(pgy, k * Lanes, o0, outs, co, h, wd, 0, gl + (long)k * outs * hw * Lanes);
            }
            for (int o = o0; o < o0 + outs; o += Pair)
                for (int i = 0; i < ci; i++)
                {
                    PairTaps(xl + (long)i * plane, (nint)ci * plane, gl + (long)(o - o0) * hw * Lanes, (nint)outs * hw * Lanes,
                        hw * Lanes, groups, h, wd, sums);
                    // Rows 0-15 (the first channel's nine taps, the second's first seven) in one transposed sum, 16-17 alone.
                    var first = Transpose.RowSums(ref *sums);
                    float* d0 = pdw + ((long)o * ci + i) * Taps, d1 = d0 + (long)ci * Taps;
                    for (int t = 0; t < Taps; t++) d0[t] = first.GetElement(t);
                    for (int t = 0; t < Lanes - Taps; t++) d1[t] = first.GetElement(Taps + t);
                    d1[Lanes - Taps] = Vector512.Sum(Vector512.Load(sums + Lanes * Lanes));
                    d1[Lanes - Taps + 1] = Vector512.Sum(Vector512.Load(sums + (Lanes + 1) * Lanes));
                }
        }
        ArrayPool<float>.Shared.Return(gs);
        ArrayPool<float>.Shared.Return(xs);
    }

    // dst = conv(src, w') over `cin` input and `cout` output channels, where output channel o's weight for input channel
    // c and tap t is w[first + o·outStride + c·inStride + t·tapStep]. Output channels in blocks of four, shared out over
    // the threads; each thread puts the whole input into lanes, computes its blocks and writes them back as NCHW.
    static void Run(float[] src, int cin, float[] w, int first, int outStride, int inStride, int tapStep,
        float[] dst, int cout, int n, int h, int wd)
    {
        Threading.ForRanges(cout / Channels, (_, b0, b1) =>
            RunBlocks(src, cin, w, first, outStride, inStride, tapStep, dst, cout, n, h, wd, b0, b1));
    }

    // One thread's share of Run: output channel blocks b0 .. b1, for each group of 16 samples.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RunBlocks(float[] src, int cin, float[] w, int first, int outStride, int inStride, int tapStep,
        float[] dst, int cout, int n, int h, int wd, int b0, int b1)
    {
        int hw = h * wd, wp = wd + 2, plane = (h + 2) * wp * Lanes, outs = (b1 - b0) * Channels;
        var xs = ArrayPool<float>.Shared.Rent(cin * plane + Lanes);
        var ys = ArrayPool<float>.Shared.Rent(outs * hw * Lanes + Lanes);
        fixed (float* px0 = xs, py0 = ys, pw = w, ps = src, pd = dst)
        {
            float* xl = Aligned(px0), yl = Aligned(py0);
            for (int n0 = 0; n0 < n; n0 += Lanes)
            {
                ToLanes(ps, n0, 0, cin, cin, h, wd, 1, xl);
                for (int b = b0; b < b1; b++)
                {
                    float* wb = pw + first + (long)b * Channels * outStride;
                    float* yb = yl + (long)(b - b0) * Channels * hw * Lanes;
                    for (int r = 0; r < h; r++)
                        for (int q = 0; q < wd; q += Positions)
                            Tile(xl + (r * wp + q) * Lanes, plane, wp * Lanes, wb, outStride, inStride, tapStep, cin,
                                yb + (r * wd + q) * Lanes, hw * Lanes);
                }
                FromLanes(yl, pd, n0, b0 * Channels, outs, cout, hw);
            }
        }
        ArrayPool<float>.Shared.Return(ys);
        ArrayPool<float>.Shared.Return(xs);
    }

    // Four output channels (weights at w + j·outStride) by four positions of a row, 16 samples each:
    // y[j][p] = Σ over c, kernel rows kh and columns kw of w_j[c][3·kh + kw]·x[c][row kh][p + kw].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile(float* x, int plane, int row, float* w, nint outStride, nint inStride, nint tapStep, int cin,
        float* y, nint channelStride)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int c = 0; c < cin; c++, x += plane, w += inStride)
        {
            float* xr = x, wr = w;
            for (int kh = 0; kh < 3; kh++, xr += row, wr += 3 * tapStep)
            {
                var x0 = Vector512.LoadAligned(xr); var x1 = Vector512.LoadAligned(xr + Lanes);
                var x2 = Vector512.LoadAligned(xr + 2 * Lanes); var x3 = Vector512.LoadAligned(xr + 3 * Lanes);
                var x4 = Vector512.LoadAligned(xr + 4 * Lanes); var x5 = Vector512.LoadAligned(xr + 5 * Lanes);
                // column tap 0: positions 0..3 of the padded row
                var k0 = Vector512.Create(wr[0]); var k1 = Vector512.Create(wr[outStride]);
                var k2 = Vector512.Create(wr[2 * outStride]); var k3 = Vector512.Create(wr[3 * outStride]);
                a00 = Avx512F.FusedMultiplyAdd(k0, x0, a00); a10 = Avx512F.FusedMultiplyAdd(k1, x0, a10);
                a20 = Avx512F.FusedMultiplyAdd(k2, x0, a20); a30 = Avx512F.FusedMultiplyAdd(k3, x0, a30);
                a01 = Avx512F.FusedMultiplyAdd(k0, x1, a01); a11 = Avx512F.FusedMultiplyAdd(k1, x1, a11);
                a21 = Avx512F.FusedMultiplyAdd(k2, x1, a21); a31 = Avx512F.FusedMultiplyAdd(k3, x1, a31);
                a02 = Avx512F.FusedMultiplyAdd(k0, x2, a02); a12 = Avx512F.FusedMultiplyAdd(k1, x2, a12);
                a22 = Avx512F.FusedMultiplyAdd(k2, x2, a22); a32 = Avx512F.FusedMultiplyAdd(k3, x2, a32);
                a03 = Avx512F.FusedMultiplyAdd(k0, x3, a03); a13 = Avx512F.FusedMultiplyAdd(k1, x3, a13);
                a23 = Avx512F.FusedMultiplyAdd(k2, x3, a23); a33 = Avx512F.FusedMultiplyAdd(k3, x3, a33);
                // column tap 1: positions 1..4 of the padded row
                k0 = Vector512.Create(wr[tapStep]); k1 = Vector512.Create(wr[tapStep + outStride]);
                k2 = Vector512.Create(wr[tapStep + 2 * outStride]); k3 = Vector512.Create(wr[tapStep + 3 * outStride]);
                a00 = Avx512F.FusedMultiplyAdd(k0, x1, a00); a10 = Avx512F.FusedMultiplyAdd(k1, x1, a10);
                a20 = Avx512F.FusedMultiplyAdd(k2, x1, a20); a30 = Avx512F.FusedMultiplyAdd(k3, x1, a30);
                a01 = Avx512F.FusedMultiplyAdd(k0, x2, a01); a11 = Avx512F.FusedMultiplyAdd(k1, x2, a11);
                a21 = Avx512F.FusedMultiplyAdd(k2, x2, a21); a31 = Avx512F.FusedMultiplyAdd(k3, x2, a31);
                a02 = Avx512F.FusedMultiplyAdd(k0, x3, a02); a12 = Avx512F.FusedMultiplyAdd(k1, x3, a12);
                a22 = Avx512F.FusedMultiplyAdd(k2, x3, a22); a32 = Avx512F.FusedMultiplyAdd(k3, x3, a32);
                a03 = Avx512F.FusedMultiplyAdd(k0, x4, a03); a13 = Avx512F.FusedMultiplyAdd(k1, x4, a13);
                a23 = Avx512F.FusedMultiplyAdd(k2, x4, a23); a33 = Avx512F.FusedMultiplyAdd(k3, x4, a33);
                // column tap 2: positions 2..5 of the padded row
                k0 = Vector512.Create(wr[2 * tapStep]); k1 = Vector512.Create(wr[2 * tapStep + outStride]);
                k2 = Vector512.Create(wr[2 * tapStep + 2 * outStride]); k3 = Vector512.Create(wr[2 * tapStep + 3 * outStride]);
                a00 = Avx512F.FusedMultiplyAdd(k0, x2, a00); a10 = Avx512F.FusedMultiplyAdd(k1, x2, a10);
                a20 = Avx512F.FusedMultiplyAdd(k2, x2, a20); a30 = Avx512F.FusedMultiplyAdd(k3, x2, a30);
                a01 = Avx512F.FusedMultiplyAdd(k0, x3, a01); a11 = Avx512F.FusedMultiplyAdd(k1, x3, a11);
                a21 = Avx512F.FusedMultiplyAdd(k2, x3, a21); a31 = Avx512F.FusedMultiplyAdd(k3, x3, a31);
                a02 = Avx512F.FusedMultiplyAdd(k0, x4, a02); a12 = Avx512F.FusedMultiplyAdd(k1, x4, a12);
                a22 = Avx512F.FusedMultiplyAdd(k2, x4, a22); a32 = Avx512F.FusedMultiplyAdd(k3, x4, a32);
                a03 = Avx512F.FusedMultiplyAdd(k0, x5, a03); a13 = Avx512F.FusedMultiplyAdd(k1, x5, a13);
                a23 = Avx512F.FusedMultiplyAdd(k2, x5, a23); a33 = Avx512F.FusedMultiplyAdd(k3, x5, a33);
            }
        }
        a00.StoreAligned(y); a01.StoreAligned(y + Lanes); a02.StoreAligned(y + 2 * Lanes); a03.StoreAligned(y + 3 * Lanes);
        y += channelStride;
        a10.StoreAligned(y); a11.StoreAligned(y + Lanes); a12.StoreAligned(y + 2 * Lanes); a13.StoreAligned(y + 3 * Lanes);
        y += channelStride;
        a20.StoreAligned(y); a21.StoreAligned(y + Lanes); a22.StoreAligned(y + 2 * Lanes); a23.StoreAligned(y + 3 * Lanes);
        y += channelStride;
        a30.StoreAligned(y); a31.StoreAligned(y + Lanes); a32.StoreAligned(y + 2 * Lanes); a33.StoreAligned(y + 3 * Lanes);
    }

    // For one input channel (its padded lanes at x, a group's at x + k·xGroup) and two output channels (gy's lanes at
    // gy and gy + gyChannel, a group's at + k·gyGroup): sums[j·9 + t] holds, lane by lane, Σ over the positions p of
    // gy_j[p]·x[p + t], the groups in order, each's rows and columns in order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PairTaps(float* x, nint xGroup, float* gy, nint gyGroup, nint gyChannel, int groups, int h, int wd, float* sums)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default, b8 = default;
        nint row = (wd + 2) * Lanes;
        for (int k = 0; k < groups; k++)
        {
            float* g = gy + k * gyGroup;
            for (int r = 0; r < h; r++)
            {
                float* p = x + k * xGroup + r * row;
                for (int q = 0; q < wd; q++, p += Lanes, g += Lanes)
                {
                    var u = Vector512.LoadAligned(g); var v = Vector512.LoadAligned(g + gyChannel);
                    var e = Vector512.LoadAligned(p);
                    a0 = Avx512F.FusedMultiplyAdd(u, e, a0); b0 = Avx512F.FusedMultiplyAdd(v, e, b0);
                    e = Vector512.LoadAligned(p + Lanes);
                    a1 = Avx512F.FusedMultiplyAdd(u, e, a1); b1 = Avx512F.FusedMultiplyAdd(v, e, b1);
                    e = Vector512.LoadAligned(p + 2 * Lanes);
                    a2 = Avx512F.FusedMultiplyAdd(u, e, a2); b2 = Avx512F.FusedMultiplyAdd(v, e, b2);
                    e = Vector512.LoadAligned(p + row);
                    a3 = Avx512F.FusedMultiplyAdd(u, e, a3); b3 = Avx512F.FusedMultiplyAdd(v, e, b3);
                    e = Vector512.LoadAligned(p + row + Lanes);
                    a4 = Avx512F.FusedMultiplyAdd(u, e, a4); b4 = Avx512F.FusedMultiplyAdd(v, e, b4);
                    e = Vector512.LoadAligned(p + row + 2 * Lanes);
                    a5 = Avx512F.FusedMultiplyAdd(u, e, a5); b5 = Avx512F.FusedMultiplyAdd(v, e, b5);
                    e = Vector512.LoadAligned(p + 2 * row);
                    a6 = Avx512F.FusedMultiplyAdd(u, e, a6); b6 = Avx512F.FusedMultiplyAdd(v, e, b6);
                    e = Vector512.LoadAligned(p + 2 * row + Lanes);
                    a7 = Avx512F.FusedMultiplyAdd(u, e, a7); b7 = Avx512F.FusedMultiplyAdd(v, e, b7);
                    e = Vector512.LoadAligned(p + 2 * row + 2 * Lanes);
                    a8 = Avx512F.FusedMultiplyAdd(u, e, a8); b8 = Avx512F.FusedMultiplyAdd(v, e, b8);
                }
            }
        }
        a0.Store(sums); a1.Store(sums + Lanes); a2.Store(sums + 2 * Lanes); a3.Store(sums + 3 * Lanes); a4.Store(sums + 4 * Lanes);
        a5.Store(sums + 5 * Lanes); a6.Store(sums + 6 * Lanes); a7.Store(sums + 7 * Lanes); a8.Store(sums + 8 * Lanes);
        sums += Taps * Lanes;
        b0.Store(sums); b1.Store(sums + Lanes); b2.Store(sums + 2 * Lanes); b3.Store(sums + 3 * Lanes); b4.Store(sums + 4 * Lanes);
        b5.Store(sums + 5 * Lanes); b6.Store(sums + 6 * Lanes); b7.Store(sums + 7 * Lanes); b8.Store(sums + 8 * Lanes);
    }

    // dst[c][r][q][s] = src[n0 + s][c0 + c][r - pad][q - pad] for `count` channels of `channels`, zero on the padding ring
    // (pad 0 or 1): sixteen samples by sixteen positions transposed in registers, then each position's vector put in place.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ToLanes(float* src, int n0, int c0, int count, int channels, int h, int wd, int pad, float* dst)
    {
        int hw = h * wd, wp = wd + 2 * pad, hp = h + 2 * pad, plane = hp * wp * Lanes;
        float* block = stackalloc float[Lanes * Lanes + Lanes];
        float* tmp = Aligned(block);
        for (int c = 0; c < count; c++)
        {
            float* d = dst + (long)c * plane;
            if (pad > 0)
            {
                for (int q = 0; q < wp; q++)
                {
                    Vector512<float>.Zero.StoreAligned(d + q * Lanes);
                    Vector512<float>.Zero.StoreAligned(d + ((hp - 1) * wp + q) * Lanes);
                }
                for (int r = 1; r < hp - 1; r++)
                {
                    Vector512<float>.Zero.StoreAligned(d + r * wp * Lanes);
                    Vector512<float>.Zero.StoreAligned(d + (r * wp + wp - 1) * Lanes);
                }
            }
            float* s = src + ((long)n0 * channels + c0 + c) * hw;
            int rr = 0, qq = 0;
            for (int p0 = 0; p0 < hw; p0 += Lanes)
            {
                Transpose.Sixteen(ref Unsafe.AsRef<float>(s + p0), (nint)channels * hw, ref Unsafe.AsRef<float>(tmp), Lanes);
                for (int j = 0; j < Lanes; j++)
                {
                    Vector512.LoadAligned(tmp + j * Lanes).StoreAligned(d + ((rr + pad) * wp + qq + pad) * Lanes);
                    if (++qq == wd) (rr, qq) = (rr + 1, 0);
                }
            }
        }
    }

    // dst[n0 + s][c0 + c][p] = ys[c][p][s] for `count` channels of `channels`.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void FromLanes(float* ys, float* dst, int n0, int c0, int count, int channels, int hw)
    {
        for (int c = 0; c < count; c++)
            for (int p0 = 0; p0 < hw; p0 += Lanes)
                Transpose.Sixteen(ref Unsafe.AsRef<float>(ys + ((long)c * hw + p0) * Lanes), Lanes,
                    ref Unsafe.AsRef<float>(dst + ((long)n0 * channels + c0 + c) * hw + p0), (nint)channels * hw);
    }
}
