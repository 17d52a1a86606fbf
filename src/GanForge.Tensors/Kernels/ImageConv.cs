using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static GanForge.Kernels.CacheLines;

namespace GanForge.Kernels;

/// <summary>
/// The three kernels of a convolution on an image (at most four input channels) into many output channels, with
/// AVX-512: a discriminator's first layer and a generator's last (DCGAN's and WGAN-GP's 1 -> 64 4 x 4 stride 2,
/// CycleGAN's 3 -> 64 7 x 7). Each output row is one or more 16-lane vectors. Per sample, every input row a kernel reads
/// is first gathered once per column tap, <c>rows[ci][r][kw][ow] = x[ci][r - PH][ow·SW + kw - PW]</c> (zero off the
/// image and past the row): a few kilobytes that stay in L1. Then, four output vectors by four channels or taps at a
/// time in sixteen registers:
/// <list type="bullet">
/// <item>forward: an output vector is its channel's bias plus Σ over (ci, kh, kw) of w[co][ci][kh][kw] times the rows'
/// vector at oh·SH + kh. Four channels' whole planes are made in a block in L1, then written out through non-temporal
/// stores;</item>
/// <item>weight gradient: dw[co][t] is the sum over the batch of gy's vectors times tap t's rows;</item>
/// <item>backward-data: the columns Σ over co of w[co][t] times gy's vectors, then added back to the positions the
/// gather read them from;</item>
/// <item>with the LeakyReLU after the layer (a discriminator's first): the forward applies it to each tile before the
/// store, and the backward makes each sample's masked gradient in cache and takes that sample's terms of all three
/// gradients from it (<see cref="BackwardActivated"/>).</item>
/// </list>
/// In dcgan28's step, oneDNN's forward of the 1 -> 64 layer took 1.1-1.2 ms a call, against 0.27 for its own kernel
/// alone: it writes a blocked output and reorders it to NCHW, and the step's output buffer is out of cache. The forward
/// here takes 0.27 ms alone with its output in cache, 0.42-0.52 with it out, and 0.5-0.6 in the step's profile; its first
/// version, which stored a tile's four channels into four planes at a time, ran 0.24 ms in cache and 0.62-0.71 out.
/// </summary>
internal static class ImageConv
{
    const int Lanes = 16, Units = 4, Channels = 4, TapBlock = 4;

    /// <summary>
    /// True for the layers these kernels compute: at most four input channels, at least four output channels and four
    /// taps, one group, no dilation, at least four output vectors a sample, and AVX-512.
    /// </summary>
    public static bool Suits(in ConvGeometry g) =>
        g.Ci <= 4 && g.Co >= Channels && g.K >= TapBlock && g.Groups == 1 && g.DH == 1 && g.DW == 1
        && g.OH * VectorsPerRow(g) >= Units && Avx512F.IsSupported;

    static int VectorsPerRow(in ConvGeometry g) => (g.OW + Lanes - 1) / Lanes;

    // Where things lie for one geometry: the gathered rows of a sample, [ci][r][kw][v·16] over the padded rows
    // r = ih + PH (Stride floats a row); where each tap starts in them; and for each output vector u (row u / vectors,
    // vector u % vectors) where it reads in the rows, where it lies in an output plane, and how many of its lanes are
    // on the row; and the floats of a chunk's work buffers: the backward-data's columns, the weight gradient's staged
    // vectors and its sums (16 lanes a weight).
    sealed class Layout
    {
        public readonly int Padded, Vectors, Stride, Units, Length, Columns, Staged, Sums;
        public readonly int[] Taps, Reads, Writes, Cols;

        public Layout(in ConvGeometry g)
        {
            Vectors = VectorsPerRow(g);
            Stride = Vectors * Lanes;
            Padded = (g.OH - 1) * g.SH + g.KH;
            Units = g.OH * Vectors;
            Length = g.Ci * Padded * g.KW * Stride;
            (Columns, Staged, Sums) = (g.K * Units * Lanes, Units * Channels * Lanes, g.Co * g.K * Lanes);
            Taps = new int[g.K];
            for (int t = 0; t < g.K; t++)
            {
                var (ci, kh, kw) = Tap(g, t);
                Taps[t] = ((ci * Padded + kh) * g.KW + kw) * Stride;
            }
            (Reads, Writes, Cols) = (new int[Units], new int[Units], new int[Units]);
            for (int u = 0; u < Units; u++)
            {
                int oh = u / Vectors, v = u % Vectors;
                Reads[u] = oh * g.SH * g.KW * Stride + v * Lanes;
                Writes[u] = oh * g.OW + v * Lanes;
                Cols[u] = Math.Min(Lanes, g.OW - v * Lanes);
            }
        }
    }

    // Tap t of a weight row (Ci, KH, KW) as its input channel, kernel row and kernel column.
    static (int Ci, int Kh, int Kw) Tap(in ConvGeometry g, int t) => (t / (g.KW * g.KH), t / g.KW % g.KH, t % g.KW);

    // rows[ci][r][kw][ow] = x[ci][r - PH][ow·SW + kw - PW], zero off the image and past the output row. Strides 1 and 2
    // read whole vectors (stride 2 two of them, then keeps the even lanes); others a float at a time.
    static unsafe void Gather(float* x, float* rows, in ConvGeometry g, Layout l)
    {
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        int rowFloats = g.KW * l.Stride;
        for (int ci = 0; ci < g.Ci; ci++)
        {
            float* image = x + (long)ci * g.H * g.W, plane = rows + ci * l.Padded * rowFloats;
            // The padding rows above and below the image.
            for (int pr = 0; pr < l.Padded; pr++)
                if (pr < g.PH || pr - g.PH >= g.H) new Span<float>(plane + pr * rowFloats, rowFloats).Clear();
            int first = Math.Min(g.PH, l.Padded), last = Math.Min(l.Padded, g.H + g.PH);
            for (int kw = 0; kw < g.KW; kw++)
                for (int v = 0; v < l.Vectors; v++)
                {
                    int ow0 = v * Lanes, iw0 = ow0 * g.SW + kw - g.PW;
                    float* src = image + (long)(first - g.PH) * g.W + iw0, dst = plane + first * rowFloats + kw * l.Stride + ow0;
                    var onRow = FloatLanes.FirstLanes(g.OW - ow0);
                    if (g.SW == 1)
                    {
                        var inside = Vector512.BitwiseAnd(onRow, InImage(iw0, g.W));
                        for (int pr = first; pr < last; pr++, src += g.W, dst += rowFloats)
                            Avx512F.MaskLoad(src, inside, Vector512<float>.Zero).Store(dst);
                    }
                    else if (g.SW == 2)
                    {
                        var inLo = InImage(iw0, g.W);
                        var inHi = InImage(iw0 + Lanes, g.W);
                        for (int pr = first; pr < last; pr++, src += g.W, dst += rowFloats)
                        {
                            var lo = Avx512F.MaskLoad(src, inLo, Vector512<float>.Zero);
                            var hi = Avx512F.MaskLoad(src + Lanes, inHi, Vector512<float>.Zero);
                            Vector512.BitwiseAnd(Avx512F.PermuteVar16x32x2(lo, evens, hi), onRow).Store(dst);
                        }
                    }
                    else
                        for (int pr = first; pr < last; pr++, src += g.W, dst += rowFloats)
                            for (int j = 0; j < Lanes; j++)
                            {
                                int iw = iw0 + j * g.SW;
                                dst[j] = ow0 + j < g.OW && iw >= 0 && iw < g.W ? src[j * g.SW] : 0f;
                            }
                }
        }
    }

    // The lanes j of a vector starting at column iw0 that lie on the image: 0 <= iw0 + j < w.
    static Vector512<float> InImage(int iw0, int w)
    {
        var iw = Vector512<int>.Indices + Vector512.Create(iw0);
        return Vector512.BitwiseAnd(Vector512.GreaterThanOrEqual(iw, Vector512<int>.Zero), Vector512.LessThan(iw, Vector512.Create(w))).AsSingle();
    }

    // A layer these kernels compute, and buffers that hold n images (N,Ci,H,W), the weights (Co,Ci,KH,KW) and n maps
    // (N,Co,OH,OW): the kernels read and write through pointers.
    static void CheckLayer(string op, in ConvGeometry g, int n, float[] images, float[] weights, float[] maps)
    {
        if (!Suits(g)) throw new ArgumentException($"{op}: computes layers of at most 4 input channels into 4 or more, one group, no dilation, on AVX-512, got {g}");
        long needImages = (long)n * g.Ci * g.H * g.W, needWeights = (long)g.Co * g.K, needMaps = (long)n * g.Co * g.OH * g.OW;
        if (n < 0 || images.Length < needImages || weights.Length < needWeights || maps.Length < needMaps)
            throw new ArgumentException($"{op}: buffers of {images.Length}, {weights.Length} and {maps.Length} floats for {n} samples of {g} " +
                $"(images {needImages}, weights {needWeights}, maps {needMaps})");
    }

    static readonly ConcurrentDictionary<ConvGeometry, Layout> Layouts = new();

    /// <summary>
    /// y = conv(x, w) + bias (bias may be null), then LeakyReLU(<paramref name="slope"/>) where a slope is given (0:
    /// ReLU), applied as each tile is stored: <see cref="Activation.LeakyRelu"/>'s values bit for bit, without a pass of
    /// its own. x: (N,Ci,H,W), w: (Co,Ci,KH,KW), bias: (Co) -> y: (N,Co,OH,OW).
    /// </summary>
    public static unsafe void Forward(float[] x, float[] w, float[]? bias, float[] y, int n, ConvGeometry g, float? slope = null)
    {
        CheckLayer("ImageConv.Forward", g, n, x, w, y);
        if (bias != null && bias.Length < g.Co) throw new ArgumentException($"ImageConv.Forward: bias of {bias.Length} floats for {g.Co} channels ({g})");
        bool activate = slope.HasValue;
        var neg = Vector512.Create(slope ?? 0f);
        var l = Layouts.GetOrAdd(g, static g => new Layout(g));
        int image = g.Ci * g.H * g.W, maps = g.Co * g.OH * g.OW;
        var wt = Interleave(w, g.Co, g.K);
        var b = bias ?? new float[g.Co];
        int block = Channels * g.OH * g.OW;
        Threading.ForRanges(n, (_, s0, s1) =>
        {
            var rows = ArrayPool<float>.Shared.Rent(l.Length + Lanes);
            var stage = ArrayPool<float>.Shared.Rent(block + Lanes);
            fixed (float* px = x, py = y, pw = wt, pb = b, pr0 = rows, ps0 = stage)
            fixed (int* taps = l.Taps)
            {
                float* pr = Aligned(pr0), ps = Aligned(ps0);
                for (int s = s0; s < s1; s++)
                {
                    Gather(px + (long)s * image, pr, g, l);
                    for (int cb = 0; cb * Channels < g.Co; cb++)
                    {
                        int c = Math.Min(cb * Channels, g.Co - Channels);
                        for (int u0 = 0; u0 < l.Units; u0 += Units)
                            ForwardUnits(pr, pw + (long)cb * Channels * g.K, pb + c, taps, ps, Math.Min(u0, l.Units - Units), g, l, activate, neg);
                        Stream(ps, py + (long)s * maps + (long)c * g.OH * g.OW, block);
                    }
                }
            }
            Sse.StoreFence();
            ArrayPool<float>.Shared.Return(stage);
            ArrayPool<float>.Shared.Return(rows);
        });
        ArrayPool<float>.Shared.Return(wt);
    }

    // dst[0..count) = src[0..count) through non-temporal stores on dst's whole cache lines: the output goes to memory
    // without first being read into cache (callers fence before another thread reads it).
    static unsafe void Stream(float* src, float* dst, int count)
    {
        int head = (int)(((64 - ((nint)dst & 63)) & 63) / sizeof(float));
        if (head > count) head = count;
        if (head > 0) Avx512F.MaskStore(dst, FloatLanes.FirstLanes(head), Avx512F.MaskLoad(src, FloatLanes.FirstLanes(head), Vector512<float>.Zero));
        int i = head;
        for (; i + Lanes <= count; i += Lanes) Avx512F.StoreAlignedNonTemporal(dst + i, Vector512.Load(src + i));
        if (i < count) Avx512F.MaskStore(dst + i, FloatLanes.FirstLanes(count - i), Avx512F.MaskLoad(src + i, FloatLanes.FirstLanes(count - i), Vector512<float>.Zero));
    }

    // w (Co, taps) -> (blocks of 4 channels, taps, 4): a tap's four channels side by side. The last block is the last
    // four channels, overlapping the one before where Co is not a multiple of 4. Pooled.
    static float[] Interleave(float[] w, int co, int taps)
    {
        int blocks = (co + Channels - 1) / Channels;
        var wt = ArrayPool<float>.Shared.Rent(blocks * Channels * taps);
        for (int b = 0; b < blocks; b++)
        {
            int c = Math.Min(b * Channels, co - Channels);
            for (int t = 0; t < taps; t++)
                for (int j = 0; j < Channels; j++) wt[(b * taps + t) * Channels + j] = w[(c + j) * taps + t];
        }
        return wt;
    }

    // Output vectors u..u+3 of four channels, each sum starting from its channel's bias, into their planes at y; where
    // activate, through LeakyReLU with the negative side's factor neg.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void ForwardUnits(float* rows, float* w, float* bias, int* tapOffsets, float* y, int u, in ConvGeometry g, Layout l,
        bool activate, Vector512<float> neg)
    {
        float* r0 = rows + l.Reads[u], r1 = rows + l.Reads[u + 1], r2 = rows + l.Reads[u + 2], r3 = rows + l.Reads[u + 3];
        int plane = g.OH * g.OW, taps = g.K;
        var a = Tile.Of(Vector512.Create(bias[0]), Vector512.Create(bias[1]), Vector512.Create(bias[2]), Vector512.Create(bias[3]));
        for (int t = 0; t < taps; t++, w += Channels)
        {
            int o = tapOffsets[t];
            a.Add(Vector512.Load(r0 + o), Vector512.Load(r1 + o), Vector512.Load(r2 + o), Vector512.Load(r3 + o), w);
        }
        if (activate) a.Activate(neg);
        Store(y + l.Writes[u], plane, l.Cols[u], a.A00, a.A01, a.A02, a.A03);
        Store(y + l.Writes[u + 1], plane, l.Cols[u + 1], a.A10, a.A11, a.A12, a.A13);
        Store(y + l.Writes[u + 2], plane, l.Cols[u + 2], a.A20, a.A21, a.A22, a.A23);
        Store(y + l.Writes[u + 3], plane, l.Cols[u + 3], a.A30, a.A31, a.A32, a.A33);
    }

    // One output vector of four consecutive channel planes, masked to its row's width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Store(float* d, int plane, int cols, Vector512<float> c0, Vector512<float> c1, Vector512<float> c2,
        Vector512<float> c3)
    {
        if (cols == Lanes)
        {
            c0.Store(d); c1.Store(d + plane); c2.Store(d + 2 * plane); c3.Store(d + 3 * plane);
            return;
        }
        var mask = FloatLanes.FirstLanes(cols);
        Avx512F.MaskStore(d, mask, c0); Avx512F.MaskStore(d + plane, mask, c1);
        Avx512F.MaskStore(d + 2 * plane, mask, c2); Avx512F.MaskStore(d + 3 * plane, mask, c3);
    }

    /// <summary>dx = convT(gy, w), the adjoint of the forward in x. gy: (N,Co,OH,OW), w: (Co,Ci,KH,KW) -> dx: (N,Ci,H,W).</summary>
    public static unsafe void BackwardData(float[] gy, float[] w, float[] dx, int n, ConvGeometry g)
    {
        CheckLayer("ImageConv.BackwardData", g, n, dx, w, gy);
        var l = Layouts.GetOrAdd(g, static g => new Layout(g));
        int image = g.Ci * g.H * g.W, maps = g.Co * g.OH * g.OW;
        Threading.ForRanges(n, (_, s0, s1) =>
        {
            var cols = ArrayPool<float>.Shared.Rent(l.Columns + Lanes);
            fixed (float* pgy = gy, pw = w, pdx = dx, pc0 = cols)
            {
                float* pc = Aligned(pc0), end = pgy + gy.Length;
                for (int s = s0; s < s1; s++) DataOfSample(pgy + (long)s * maps, end, pw, pc, pdx + (long)s * image, g, l);
            }
            ArrayPool<float>.Shared.Return(cols);
        });
    }

    // One sample's dx from its gy (lanes past a row may read on, up to end): the columns, then added back.
    static unsafe void DataOfSample(float* gy, float* end, float* w, float* cols, float* dx, in ConvGeometry g, Layout l)
    {
        for (int u0 = 0; u0 < l.Units; u0 += Units)
            for (int t0 = 0; t0 < g.K; t0 += TapBlock)
                ColumnBlock(gy, end, w, cols, Math.Min(u0, l.Units - Units), Math.Min(t0, g.K - TapBlock), g, l);
        Scatter(cols, dx, g, l);
    }

    // cols[t][u] = Σ over the channels of w[c][t] · gy[c]'s output vector u, for taps t..t+3 and vectors u..u+3. A
    // vector's lanes past its row read the next row (or nothing, at the end of gy); the scatter leaves them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void ColumnBlock(float* gy, float* end, float* w, float* cols, int u, int t, in ConvGeometry g, Layout l)
    {
        int plane = g.OH * g.OW, taps = g.K;
        float* y0 = gy + l.Writes[u], y1 = gy + l.Writes[u + 1], y2 = gy + l.Writes[u + 2], y3 = gy + l.Writes[u + 3];
        var a = default(Tile);
        float* wc = w + t;
        for (int c = 0; c < g.Co; c++, y0 += plane, y1 += plane, y2 += plane, y3 += plane, wc += taps)
            a.Add(Load(y0, end), Load(y1, end), Load(y2, end), Load(y3, end), wc);
        int row = l.Units * Lanes;
        float* d = cols + (long)t * row + u * Lanes;
        a.A00.Store(d); a.A10.Store(d + Lanes); a.A20.Store(d + 2 * Lanes); a.A30.Store(d + 3 * Lanes); d += row;
        a.A01.Store(d); a.A11.Store(d + Lanes); a.A21.Store(d + 2 * Lanes); a.A31.Store(d + 3 * Lanes); d += row;
        a.A02.Store(d); a.A12.Store(d + Lanes); a.A22.Store(d + 2 * Lanes); a.A32.Store(d + 3 * Lanes); d += row;
        a.A03.Store(d); a.A13.Store(d + Lanes); a.A23.Store(d + 2 * Lanes); a.A33.Store(d + 3 * Lanes);
    }

    // Sixteen sums in registers: the forward's four output vectors by four channels, the backward-data's four vectors by
    // four taps, the weight gradient's four channels by four taps.
    struct Tile
    {
        public Vector512<float> A00, A01, A02, A03, A10, A11, A12, A13, A20, A21, A22, A23, A30, A31, A32, A33;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Tile Of(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3) => new()
        {
            A00 = c0, A01 = c1, A02 = c2, A03 = c3, A10 = c0, A11 = c1, A12 = c2, A13 = c3,
            A20 = c0, A21 = c1, A22 = c2, A23 = c3, A30 = c0, A31 = c1, A32 = c2, A33 = c3,
        };

        // Aij += yi · xj: four vectors by four vectors, lane by lane.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AddLanes(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3,
            Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
        {
            A00 = Vector512.FusedMultiplyAdd(y0, x0, A00); A01 = Vector512.FusedMultiplyAdd(y0, x1, A01);
            A02 = Vector512.FusedMultiplyAdd(y0, x2, A02); A03 = Vector512.FusedMultiplyAdd(y0, x3, A03);
            A10 = Vector512.FusedMultiplyAdd(y1, x0, A10); A11 = Vector512.FusedMultiplyAdd(y1, x1, A11);
            A12 = Vector512.FusedMultiplyAdd(y1, x2, A12); A13 = Vector512.FusedMultiplyAdd(y1, x3, A13);
            A20 = Vector512.FusedMultiplyAdd(y2, x0, A20); A21 = Vector512.FusedMultiplyAdd(y2, x1, A21);
            A22 = Vector512.FusedMultiplyAdd(y2, x2, A22); A23 = Vector512.FusedMultiplyAdd(y2, x3, A23);
            A30 = Vector512.FusedMultiplyAdd(y3, x0, A30); A31 = Vector512.FusedMultiplyAdd(y3, x1, A31);
            A32 = Vector512.FusedMultiplyAdd(y3, x2, A32); A33 = Vector512.FusedMultiplyAdd(y3, x3, A33);
        }

        // Aij = LeakyReLU(Aij) = Aij · (Aij > 0 ? 1 : neg), as Activation.LeakyRelu computes it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Activate(Vector512<float> neg)
        {
            A00 = Leaky(A00, neg); A01 = Leaky(A01, neg); A02 = Leaky(A02, neg); A03 = Leaky(A03, neg);
            A10 = Leaky(A10, neg); A11 = Leaky(A11, neg); A12 = Leaky(A12, neg); A13 = Leaky(A13, neg);
            A20 = Leaky(A20, neg); A21 = Leaky(A21, neg); A22 = Leaky(A22, neg); A23 = Leaky(A23, neg);
            A30 = Leaky(A30, neg); A31 = Leaky(A31, neg); A32 = Leaky(A32, neg); A33 = Leaky(A33, neg);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Leaky(Vector512<float> v, Vector512<float> neg) => v * FloatLanes.LeakyDerivative(v, neg);

        // Aij += xi · k[j]: four vectors by four scalars.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Add(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3, float* k)
        {
            var s = Vector512.Create(k[0]);
            A00 = Vector512.FusedMultiplyAdd(x0, s, A00); A10 = Vector512.FusedMultiplyAdd(x1, s, A10);
            A20 = Vector512.FusedMultiplyAdd(x2, s, A20); A30 = Vector512.FusedMultiplyAdd(x3, s, A30);
            s = Vector512.Create(k[1]);
            A01 = Vector512.FusedMultiplyAdd(x0, s, A01); A11 = Vector512.FusedMultiplyAdd(x1, s, A11);
            A21 = Vector512.FusedMultiplyAdd(x2, s, A21); A31 = Vector512.FusedMultiplyAdd(x3, s, A31);
            s = Vector512.Create(k[2]);
            A02 = Vector512.FusedMultiplyAdd(x0, s, A02); A12 = Vector512.FusedMultiplyAdd(x1, s, A12);
            A22 = Vector512.FusedMultiplyAdd(x2, s, A22); A32 = Vector512.FusedMultiplyAdd(x3, s, A32);
            s = Vector512.Create(k[3]);
            A03 = Vector512.FusedMultiplyAdd(x0, s, A03); A13 = Vector512.FusedMultiplyAdd(x1, s, A13);
            A23 = Vector512.FusedMultiplyAdd(x2, s, A23); A33 = Vector512.FusedMultiplyAdd(x3, s, A33);
        }
    }

    // 16 floats from p, those past the end of the array zero.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector512<float> Load(float* p, float* end) =>
        p + Lanes <= end ? Vector512.Load(p) : Avx512F.MaskLoad(p, FloatLanes.FirstLanes((int)(end - p)), Vector512<float>.Zero);

    // dx = the adjoint of the gather: each column's lanes on the output row added to the input position they read.
    static unsafe void Scatter(float* cols, float* dx, in ConvGeometry g, Layout l)
    {
        new Span<float>(dx, g.Ci * g.H * g.W).Clear();
        int row = l.Units * Lanes;
        for (int t = 0; t < g.K; t++)
        {
            var (ci, kh, kw) = Tap(g, t);
            float* plane = dx + (long)ci * g.H * g.W;
            for (int oh = 0; oh < g.OH; oh++)
            {
                int ih = oh * g.SH + kh - g.PH;
                if (ih < 0 || ih >= g.H) continue;
                float* src = cols + (long)t * row + oh * l.Vectors * Lanes, dst = plane + (long)ih * g.W;
                int last = g.W - 1 + g.PW - kw;   // the last column's ow · SW
                if (last < 0) continue;
                int ow0 = Math.Max(0, (g.PW - kw + g.SW - 1) / g.SW), ow1 = Math.Min(g.OW, last / g.SW + 1);
                for (int ow = ow0, iw = ow0 * g.SW + kw - g.PW; ow < ow1; ow++, iw += g.SW) dst[iw] += src[ow];
            }
        }
    }

    /// <summary>dw = convW(x, gy). x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci,KH,KW).</summary>
    public static unsafe void WeightGrad(float[] x, float[] gy, float[] dw, int n, ConvGeometry g)
    {
        CheckLayer("ImageConv.WeightGrad", g, n, x, dw, gy);
        var l = Layouts.GetOrAdd(g, static g => new Layout(g));
        int image = g.Ci * g.H * g.W, maps = g.Co * g.OH * g.OW;
        // Each chunk of samples sums into its own vectors, one of 16 lanes a weight; lanes and chunks are added at the end.
        var partial = new float[Threading.ChunkCount(n)][];
        Threading.ForRanges(n, (part, s0, s1) =>
        {
            var acc = partial[part] = RentSums(l);
            var rows = ArrayPool<float>.Shared.Rent(l.Length + Lanes);
            var staged = ArrayPool<float>.Shared.Rent(l.Staged + Lanes);
            fixed (float* px = x, pgy = gy, pr0 = rows, ps0 = staged, pa = acc)
            fixed (int* pt = l.Taps)
            {
                float* pr = Aligned(pr0), ps = Aligned(ps0);
                for (int s = s0; s < s1; s++) WeightsOfSample(px + (long)s * image, pgy + (long)s * maps, pr, ps, pt, pa, g, l);
            }
            ArrayPool<float>.Shared.Return(staged);
            ArrayPool<float>.Shared.Return(rows);
        });
        AddParts(partial, dw, g.Co * g.K);
    }

    // A chunk's sums of the weight gradient, from zero. Pooled: AddParts gives them back.
    static float[] RentSums(Layout l)
    {
        var acc = ArrayPool<float>.Shared.Rent(l.Sums);
        Array.Clear(acc, 0, l.Sums);
        return acc;
    }

    // One sample's terms of the weight gradient from its image x and its gy, added to acc (16 lanes a weight).
    static unsafe void WeightsOfSample(float* x, float* gy, float* rows, float* staged, int* tapOffsets, float* acc, in ConvGeometry g, Layout l)
    {
        int taps = g.K;
        Gather(x, rows, g, l);
        for (int c0 = 0; c0 < g.Co; c0 += Channels)
        {
            int c = Math.Min(c0, g.Co - Channels);
            Stage(gy + (long)c * g.OH * g.OW, staged, g, l);
            for (int t0 = 0; t0 < taps; t0 += TapBlock)
            {
                int t = Math.Min(t0, taps - TapBlock);
                // An overlapping last block adds only the taps and channels the blocks before it left.
                WeightBlock(rows, tapOffsets + t, staged, acc + ((long)c * taps + t) * Lanes, taps, c0 - c, t0 - t, l);
            }
        }
    }

    // dw[i] = the sum of each chunk's 16 lanes for weight i, the chunks in order; the chunks' buffers go back to the pool.
    static void AddParts(float[][] partial, float[] dw, int weights)
    {
        for (int i = 0; i < weights; i++)
        {
            float sum = 0f;
            for (int p = 0; p < partial.Length; p++) sum += Vector512.Sum(Vector512.Create(partial[p], i * Lanes));
            dw[i] = sum;
        }
        foreach (var p in partial) ArrayPool<float>.Shared.Return(p);
    }

    /// <summary>
    /// The backward of <c>y = LeakyReLU(conv(x, w) + b)</c> (<see cref="Forward"/> with a slope of 0 or more) from the
    /// gradient gy of y, without the pre-activation gradient gz = gy · (y &gt; 0 ? 1 : slope) ever written out: each
    /// sample's gz is made in a buffer that stays in the core's cache, and the sample's terms of dx, dw and db are taken
    /// from it there. Each of dx (N,Ci,H,W), dw (Co,Ci,KH,KW) and db (Co) is made where it is not null, with the values
    /// of <see cref="Activation.LeakyReluBackward"/> then <see cref="BackwardData"/>, <see cref="WeightGrad"/> and a sum
    /// over N, H and W (sample by sample, each plane summed by TensorPrimitives.Sum), bit for bit. y &gt; 0 exactly
    /// where conv(x, w) + b &gt; 0 when the slope is not negative, so the mask read from y is the activation's.
    /// </summary>
    public static unsafe void BackwardActivated(float[] x, float[] w, float[] gy, float[] y, float slope,
        float[]? dx, float[]? dw, float[]? db, int n, ConvGeometry g)
    {
        const string op = "ImageConv.BackwardActivated";
        CheckLayer(op, g, n, x, w, gy);
        if (!(slope >= 0f)) throw new ArgumentException($"{op}: slope {slope} must be 0 or more (a negative one flips the sign the mask is read from)");
        foreach (var (name, buffer, need) in new (string, float[]?, long)[]
            { ("y", y, (long)n * g.Co * g.OH * g.OW), ("dx", dx, (long)n * g.Ci * g.H * g.W), ("dw", dw, (long)g.Co * g.K), ("db", db, g.Co) })
            if (buffer != null && buffer.Length < need)
                throw new ArgumentException($"{op}: {name} holds {buffer.Length} floats, {n} samples of {g} need {need}");
        var l = Layouts.GetOrAdd(g, static g => new Layout(g));
        int image = g.Ci * g.H * g.W, maps = g.Co * g.OH * g.OW, plane = g.OH * g.OW;
        var partial = dw != null ? new float[Threading.ChunkCount(n)][] : null;
        var planeSums = db != null ? ArrayPool<float>.Shared.Rent(n * g.Co) : null;
        Threading.ForRanges(n, (part, s0, s1) =>
        {
            var gz = ArrayPool<float>.Shared.Rent(maps + Lanes);
            float[]? acc = null, rows = null, staged = null, cols = null;
            if (partial != null)
            {
                acc = partial[part] = RentSums(l);
                rows = ArrayPool<float>.Shared.Rent(l.Length + Lanes);
                staged = ArrayPool<float>.Shared.Rent(l.Staged + Lanes);
            }
            if (dx != null) cols = ArrayPool<float>.Shared.Rent(l.Columns + Lanes);
            fixed (float* px = x, pw = w, pz0 = gz, pa = acc, pr0 = rows, ps0 = staged, pc0 = cols, pdx = dx)
            fixed (int* pt = l.Taps)
            {
                float* pz = Aligned(pz0), pr = Aligned(pr0), ps = Aligned(ps0), pc = Aligned(pc0);
                for (int s = s0; s < s1; s++)
                {
                    var sample = new Span<float>(pz, maps);
                    Activation.LeakyReluBackwardRange(y.AsSpan(s * maps, maps), gy.AsSpan(s * maps, maps), sample, 1f, slope);
                    if (planeSums != null)
                        for (int c = 0; c < g.Co; c++) planeSums[s * g.Co + c] = System.Numerics.Tensors.TensorPrimitives.Sum(sample.Slice(c * plane, plane));
                    if (pa != null) WeightsOfSample(px + (long)s * image, pz, pr, ps, pt, pa, g, l);
                    if (pdx != null) DataOfSample(pz, pz + maps, pw, pc, pdx + (long)s * image, g, l);
                }
            }
            foreach (var buffer in (ReadOnlySpan<float[]?>)[gz, rows, staged, cols])
                if (buffer != null) ArrayPool<float>.Shared.Return(buffer);
        });
        if (partial != null) AddParts(partial, dw!, g.Co * g.K);
        if (planeSums != null)
        {
            // As Reduce.Sum adds a bias gradient's planes: each channel from zero, the samples in order.
            for (int c = 0; c < g.Co; c++)
            {
                float sum = 0f;
                for (int s = 0; s < n; s++) sum += planeSums[s * g.Co + c];
                db![c] = sum;
            }
            ArrayPool<float>.Shared.Return(planeSums);
        }
    }

    // gy's output vectors of four channels side by side, [u][channel][16], zero past the row: aligned whole vectors
    // for the four blocks of taps that read them.
    static unsafe void Stage(float* gy, float* staged, in ConvGeometry g, Layout l)
    {
        int plane = g.OH * g.OW;
        for (int u = 0; u < l.Units; u++, staged += Channels * Lanes)
        {
            float* d = gy + l.Writes[u];
            var mask = FloatLanes.FirstLanes(l.Cols[u]);
            Avx512F.MaskLoad(d, mask, Vector512<float>.Zero).Store(staged);
            Avx512F.MaskLoad(d + plane, mask, Vector512<float>.Zero).Store(staged + Lanes);
            Avx512F.MaskLoad(d + 2 * plane, mask, Vector512<float>.Zero).Store(staged + 2 * Lanes);
            Avx512F.MaskLoad(d + 3 * plane, mask, Vector512<float>.Zero).Store(staged + 3 * Lanes);
        }
    }

    // Four channels by four taps: Σ over the sample's output vectors of gy's vector (staged) times the tap's rows, added
    // to acc (16 floats a weight, a channel's taps consecutive). skipC and skipT leave out the first channels and taps
    // of an overlapping block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void WeightBlock(float* rows, int* tapOffsets, float* staged, float* acc, int taps, int skipC, int skipT, Layout l)
    {
        int o0 = tapOffsets[0], o1 = tapOffsets[1], o2 = tapOffsets[2], o3 = tapOffsets[3];
        var a = default(Tile);
        fixed (int* reads = l.Reads)
            for (int u = 0; u < l.Units; u++, staged += Channels * Lanes)
            {
                float* ru = rows + reads[u];
                a.AddLanes(Vector512.Load(staged), Vector512.Load(staged + Lanes), Vector512.Load(staged + 2 * Lanes), Vector512.Load(staged + 3 * Lanes),
                    Vector512.Load(ru + o0), Vector512.Load(ru + o1), Vector512.Load(ru + o2), Vector512.Load(ru + o3));
            }
        Add(acc, 0, skipC, skipT, a.A00, a.A01, a.A02, a.A03);
        Add(acc + taps * Lanes, 1, skipC, skipT, a.A10, a.A11, a.A12, a.A13);
        Add(acc + 2 * taps * Lanes, 2, skipC, skipT, a.A20, a.A21, a.A22, a.A23);
        Add(acc + 3 * taps * Lanes, 3, skipC, skipT, a.A30, a.A31, a.A32, a.A33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Add(float* acc, int channel, int skipC, int skipT, Vector512<float> t0, Vector512<float> t1,
        Vector512<float> t2, Vector512<float> t3)
    {
        if (channel < skipC) return;
        if (skipT <= 0) (Vector512.Load(acc) + t0).Store(acc);
        if (skipT <= 1) (Vector512.Load(acc + Lanes) + t1).Store(acc + Lanes);
        if (skipT <= 2) (Vector512.Load(acc + 2 * Lanes) + t2).Store(acc + 2 * Lanes);
        (Vector512.Load(acc + 3 * Lanes) + t3).Store(acc + 3 * Lanes);
    }
}
