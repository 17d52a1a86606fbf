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
/// the step); the backward-data stays with the other backends, and the weight gradient of a layer into one or two
/// channels, or of more than eight taps a row, takes <see cref="ImageConv"/>'s the other way round (Conv's
/// IsFlippedImageLayer).
/// </summary>
/// <remarks>
/// The input is first copied into a zero-padded scratch in which each padded row is split into its S column phases
/// (stride S: phase p holds columns p, p + S, p + 2S, ...), so that every tap reads 16 consecutive outputs' inputs with
/// one load, and the kernels read without bounds checks: the whole batch's, or in the forward over four samples a thread or
/// more, each thread's one sample at a time; padded by reflection instead of zeros where a reflection padding layer
/// comes first (<see cref="ForwardReflected"/>). Forward: each task computes four output rows by 16 columns for
/// four output channels in sixteen registers, over every (ci, kh, kw): four loads, four broadcasts, sixteen multiply-adds;
/// channels past Co have zero weights and are not stored. Up to three channels take two vectors of columns at a time
/// where two are left (eight loads, up to three broadcasts, up to 24 multiply-adds, every lane used): the RGB layer's
/// forward 1.16-1.17x at batches of 4-12, 1.28x at 256, a one-channel layer 1.36x, the same bits. Weight gradient: for each (ci, kh), up to eight taps kw by up to
/// three channels (four channels as two passes of two, or one pass of four taps), up to 24 accumulators run over the
/// output rows (a thread's copy of the block's output gradient, zero past the map), each tap's load feeding every
/// channel; a sample at a time (a few where the maps are small), the accumulators' lanes carried between samples, so
/// that a sample's gradient and input rows stay in L1 across the taps; then they are summed across their lanes, each
/// lane in the order of the samples, rows and columns. (channel block, input channel) pairs are shared out over the
/// threads, so each weight is written by one thread. cyclegan32's 64 -> 3 7 x 7 layer: four taps by four channels (three
/// used) over the whole batch's rows per tap block ran at 128-135 GFLOP/s on two threads; this at 184-192 (1.43-1.44x in
/// alternation, the sixty-first pass).
/// </remarks>
public static class DirectConv
{
    const int Lanes = 16, Rows = 4, Channels = 4;

    /// <summary>
    /// True for the convolutions these kernels compute, on a processor with AVX-512: kernels wider than 1 x 1 (StyleGAN's
    /// toRGB is a GEMM on the maps as they lie, without the padded copy), maps of at least 4 rows of 8 (a tile's 16 lanes
    /// half used or more; a 1 x 1 output, such as DCGAN's last layer, is one GEMM), no dilation, one group. Any channel
    /// counts (in blocks of four output channels); which layers run them is <see cref="Conv"/>'s rule.
    /// </summary>
    public static bool Suits(in ConvGeometry g) =>
        g.KH * g.KW > 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1 && g.OH >= Rows && g.OW >= 8 && Avx512F.IsSupported;

    // KW tap columns in the weight gradient's blocks: eight at a time, the last four where four or fewer are left.
    static int SpareTaps(int kw) => kw / WideTaps * WideTaps + (kw % WideTaps == 0 ? 0 : kw % WideTaps <= 4 ? 4 : WideTaps);

    // The padded, phase-split input: per sample and channel Hp padded rows, each S phase rows of Wq floats; a tap (i, j)
    // of output (r, c) reads padded row S·r + i, phase j mod S, position c + j div S.
    readonly record struct Scratch(int Hp, int Wq, int RowStride, int Plane, int Vectors, int RowBlocks, int ChannelBlocks)
    {
        public static Scratch Of(in ConvGeometry g)
        {
            int vectors = (g.OW + Lanes - 1) / Lanes, rowBlocks = (g.OH + Rows - 1) / Rows;
            // The weight gradient takes taps eight or four at a time: the last block's spare taps read past a row (not used).
            int taps = SpareTaps(g.KW);
            int hp = g.SH * (rowBlocks * Rows - 1) + g.KH, wq = vectors * Lanes + (taps - 1) / g.SW;
            return new(hp, wq, g.SW * wq, hp * g.SW * wq, vectors, rowBlocks, (g.Co + Channels - 1) / Channels);
        }

        /// <summary>Where tap column j reads in a padded row, from the row's start, for j up to the weight gradient's last block.</summary>
        public int[] TapOffsets(in ConvGeometry g)
        {
            var offsets = new int[SpareTaps(g.KW)];
            for (int j = 0; j < offsets.Length; j++) offsets[j] = j % g.SW * Wq + j / g.SW;
            return offsets;
        }
    }

    // x (N,Ci,H,W) -> the scratch (N,Ci,Hp,S,Wq), zero where the padded input lies outside x; samples and channels over the
    // threads. A spare row at the end covers the spare taps' reads.
    static float[] PadInput(float[] x, int n, in ConvGeometry g, in Scratch sc, bool reflect = false)
    {
        var xp = ArrayPool<float>.Shared.Rent(n * g.Ci * sc.Plane + sc.RowStride + Lanes);
        xp.AsSpan(n * g.Ci * sc.Plane).Clear();
        var (geometry, scratch) = (g, sc);
        Threading.ForRanges(n * g.Ci, (_, p0, p1) =>
        {
            for (int p = p0; p < p1; p++) PadPlane(x, p, xp.AsSpan(p * scratch.Plane, scratch.Plane), geometry, scratch, reflect);
        });
        return xp;
    }

    // Plane p of x (sample · Ci + channel) into its padded, phase-split rows in dst: zero padding, or with `reflect` the
    // input mirrored about its edges (PyTorch's "reflect": -1 reads 1, H reads H - 2) over the padding, zero past it.
    static void PadPlane(float[] x, int p, Span<float> dst, in ConvGeometry g, in Scratch sc, bool reflect = false)
    {
        var (h, w, ph, pw, s) = (g.H, g.W, g.PH, g.PW, g.SW);
        int wq = sc.Wq;
        dst.Clear();
        for (int pr = 0; pr < sc.Hp; pr++)
        {
            int r = pr - ph;
            if (reflect && r >= -ph && r < h + ph) r = Mirror(r, h);
            if ((uint)r >= (uint)h) continue;
            var src = x.AsSpan(p * h * w + r * w, w);
            for (int phase = 0; phase < s; phase++)
            {
                var row = dst.Slice((pr * s + phase) * wq, wq);
                // Position j reads column S·j + phase - PW.
                int j0 = Math.Max(0, (pw - phase + s - 1) / s), j1 = Math.Min(wq, (w - 1 + pw - phase) / s + 1);
                if (s == 1) { if (j1 > j0) src.Slice(j0 - pw, j1 - j0).CopyTo(row.Slice(j0)); }
                else for (int j = j0; j < j1; j++) row[j] = src[s * j + phase - pw];
                if (!reflect) continue;
                // The mirrored columns either side, within the padding: column c sits at position (c + PW - phase) / S
                // where that divides (at c + PW with stride 1, without a division).
                if (s == 1)
                    for (int k = 0; k < pw; k++)
                    {
                        row[k] = src[pw - k];
                        if (w + pw + k < wq) row[w + pw + k] = src[w - 2 - k];
                    }
                else
                    for (int k = 0; k < 2 * pw; k++)
                    {
                        int c = k < pw ? k - pw : w + k - pw, at = c + pw - phase;
                        if (at >= 0 && at % s == 0 && at / s < wq) row[at / s] = src[Mirror(c, w)];
                    }
            }
        }
    }

    // Index i in [-size + 1, 2·size - 2] mirrored into [0, size) without repeating the edge.
    static int Mirror(int i, int size) => i < 0 ? -i : i >= size ? 2 * size - 2 - i : i;

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

    /// <summary>
    /// Whether a batch this large runs the forward a sample at a time, each thread padding its own samples into a scratch of
    /// one sample (the bench's `--alternate sample-scratch`). The whole batch's scratch was 97 MB for CycleGAN's 64 -> 3 7 x 7
    /// layer at generation's 256 images, written out of cache and read back; a sample's is 380 KB, read back from L2.
    /// </summary>
    internal static bool SampleScratch { get; set; } = true;

    // Samples a thread in the sample-at-a-time forward: from four a thread the halves differ by at most a fifth.
    static bool BySample(int n) => SampleScratch && n >= 4 * Threading.Threads;

    /// <summary>
    /// y = conv(x, w). x: (N,Ci,H,W), w: (Co,Ci,KH,KW) -> y: (N,Co,OH,OW). A batch of four samples a thread or more runs a
    /// sample at a time, each thread through a one-sample scratch (<see cref="SampleScratch"/>); a smaller one pads
    /// the whole batch first and shares its tiles out over the threads. Each output is the same sum either way.
    /// </summary>
    public static unsafe void Forward(float[] x, float[] w, float[] y, int n, ConvGeometry g) => Forward(x, w, y, n, g, reflect: false);

    /// <summary>
    /// y = conv(pad(x), w) with x padded by reflection (PyTorch's "reflect") by g's PH and PW, which the convolution itself
    /// then does not pad: the scratch holds what x padded first would put there, so the outputs are the bits of
    /// <c>Forward(pad(x), ...)</c> with no padding, without the padded copy (97 MB for CycleGAN's RGB layer at 256 images).
    /// x: (N,Ci,H,W) with PH &lt; H and PW &lt; W.
    /// </summary>
    public static void ForwardReflected(float[] x, float[] w, float[] y, int n, ConvGeometry g)
    {
        if (g.PH >= g.H || g.PW >= g.W)
            throw new ArgumentException($"DirectConv.ForwardReflected: reflection padding ({g.PH}, {g.PW}) must be under the input's {g.H} x {g.W}");
        Forward(x, w, y, n, g, reflect: true);
    }

    static unsafe void Forward(float[] x, float[] w, float[] y, int n, ConvGeometry g, bool reflect)
    {
        var sc = Scratch.Of(g);
        var wi = InterleaveWeights(w, g, sc.ChannelBlocks);
        var offsets = sc.TapOffsets(g);
        int tilesPerSample = sc.RowBlocks * sc.ChannelBlocks;
        if (BySample(n))
            Threading.ForRanges(n, (_, s0, s1) =>
            {
                int floats = g.Ci * sc.Plane;
                var xp = ArrayPool<float>.Shared.Rent(floats + sc.RowStride + Lanes);
                xp.AsSpan(floats).Clear();
                for (int s = s0; s < s1; s++)
                {
                    for (int c = 0; c < g.Ci; c++) PadPlane(x, s * g.Ci + c, xp.AsSpan(c * sc.Plane, sc.Plane), g, sc, reflect);
                    ForwardTiles(xp, wi, y, offsets, s, 0, 0, tilesPerSample, g, sc);
                }
                ArrayPool<float>.Shared.Return(xp);
            });
        else
        {
            var xp = PadInput(x, n, g, sc, reflect);
            Threading.ForRanges(n * tilesPerSample, (_, t0, t1) =>
            {
                for (int t = t0; t < t1; )
                {
                    int s = t / tilesPerSample, end = Math.Min(t1, (s + 1) * tilesPerSample);
                    ForwardTiles(xp, wi, y, offsets, s, s, t - s * tilesPerSample, end - s * tilesPerSample, g, sc);
                    t = end;
                }
            });
            ArrayPool<float>.Shared.Return(xp);
        }
        ArrayPool<float>.Shared.Return(wi);
    }

    // Tiles t0 to t1 of sample s (row block by channel block), its padded input at sample `at` of xp.
    static unsafe void ForwardTiles(float[] xp, float[] wi, float[] y, int[] offsets, int s, int at, int t0, int t1, in ConvGeometry g, in Scratch sc)
    {
        float* tile = stackalloc float[Channels * Rows * 2 * Lanes];
        int taps = g.Ci * g.KH * g.KW;
        fixed (float* px = xp, pw = wi, py = y)
        fixed (int* po = offsets)
            for (int task = t0; task < t1; task++)
            {
                int cb = task % sc.ChannelBlocks, rb = task / sc.ChannelBlocks;
                int oh = rb * Rows, channels = Math.Min(Channels, g.Co - cb * Channels), rows = Math.Min(Rows, g.OH - oh);
                float* weights = pw + (long)cb * taps * Channels;
                for (int v = 0; v < sc.Vectors; )
                {
                    float* first = px + (long)at * g.Ci * sc.Plane + g.SH * oh * sc.RowStride + v * Lanes;
                    // Up to three channels take two vectors of columns at a time, where two are left: every lane of 24 sums used.
                    int vectors = channels < Channels && v + 1 < sc.Vectors ? 2 : 1;
                    if (vectors == 1) ForwardTile(first, weights, po, tile, g.Ci, g.KH, g.KW, sc.Plane, sc.RowStride, g.SH * sc.RowStride);
                    else if (channels == 1) ForwardPair<One>(first, weights, po, tile, g.Ci, g.KH, g.KW, sc.Plane, sc.RowStride, g.SH * sc.RowStride);
                    else if (channels == 2) ForwardPair<Two>(first, weights, po, tile, g.Ci, g.KH, g.KW, sc.Plane, sc.RowStride, g.SH * sc.RowStride);
                    else ForwardPair<Three>(first, weights, po, tile, g.Ci, g.KH, g.KW, sc.Plane, sc.RowStride, g.SH * sc.RowStride);
                    int cols = Math.Min(vectors * Lanes, g.OW - v * Lanes);
                    for (int c = 0; c < channels; c++)
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<float>(tile + (c * Rows + r) * vectors * Lanes, cols).CopyTo(
                                new Span<float>(py + (((long)s * g.Co + cb * Channels + c) * g.OH + oh + r) * g.OW + v * Lanes, cols));
                    v += vectors;
                }
            }
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

    // Four output rows by two vectors of 16 columns for TC (one to three) channels, as ForwardTile for one: per tap eight
    // loads and TC broadcasts feed 8·TC multiply-adds into up to 24 sums (ForwardTile's four loads and four broadcasts
    // feed 16, a quarter of them idle for three channels), each in ForwardTile's order; tile (channel, row, 32 lanes).
    static unsafe void ForwardPair<TC>(float* x, float* w, int* offsets, float* tile, int ci, int kh, int kw, int plane, int rowStride, int rowStep)
        where TC : struct, ICount
    {
        Vector512<float> a000 = default, a001 = default, a002 = default, a010 = default, a011 = default, a012 = default;
        Vector512<float> a100 = default, a101 = default, a102 = default, a110 = default, a111 = default, a112 = default;
        Vector512<float> a200 = default, a201 = default, a202 = default, a210 = default, a211 = default, a212 = default;
        Vector512<float> a300 = default, a301 = default, a302 = default, a310 = default, a311 = default, a312 = default;
        for (int c = 0; c < ci; c++, x += plane)
            for (int i = 0; i < kh; i++)
            {
                float* row = x + i * rowStride;
                for (int j = 0; j < kw; j++, w += Channels)
                {
                    var w0 = Vector512.Create(w[0]);
                    var w1 = TC.Value > 1 ? Vector512.Create(w[1]) : default;
                    var w2 = TC.Value > 2 ? Vector512.Create(w[2]) : default;
                    float* at = row + offsets[j];
                    Channels3(Vector512.Load(at), w0, w1, w2, ref a000, ref a001, ref a002);
                    Channels3(Vector512.Load(at + Lanes), w0, w1, w2, ref a010, ref a011, ref a012);
                    Channels3(Vector512.Load(at + rowStep), w0, w1, w2, ref a100, ref a101, ref a102);
                    Channels3(Vector512.Load(at + rowStep + Lanes), w0, w1, w2, ref a110, ref a111, ref a112);
                    Channels3(Vector512.Load(at + 2 * rowStep), w0, w1, w2, ref a200, ref a201, ref a202);
                    Channels3(Vector512.Load(at + 2 * rowStep + Lanes), w0, w1, w2, ref a210, ref a211, ref a212);
                    Channels3(Vector512.Load(at + 3 * rowStep), w0, w1, w2, ref a300, ref a301, ref a302);
                    Channels3(Vector512.Load(at + 3 * rowStep + Lanes), w0, w1, w2, ref a310, ref a311, ref a312);
                }
            }
        Store(tile, a000, a010, a100, a110, a200, a210, a300, a310);
        if (TC.Value > 1) Store(tile + Rows * 2 * Lanes, a001, a011, a101, a111, a201, a211, a301, a311);
        if (TC.Value > 2) Store(tile + 2 * Rows * 2 * Lanes, a002, a012, a102, a112, a202, a212, a302, a312);

        // one load against each channel's weight
        static void Channels3(Vector512<float> xv, Vector512<float> w0, Vector512<float> w1, Vector512<float> w2,
            ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2)
        {
            c0 = Avx512F.FusedMultiplyAdd(xv, w0, c0);
            if (TC.Value > 1) c1 = Avx512F.FusedMultiplyAdd(xv, w1, c1);
            if (TC.Value > 2) c2 = Avx512F.FusedMultiplyAdd(xv, w2, c2);
        }

        // a channel's four rows of two vectors
        static void Store(float* to, params ReadOnlySpan<Vector512<float>> rowsByVector)
        {
            for (int k = 0; k < rowsByVector.Length; k++) rowsByVector[k].Store(to + k * Lanes);
        }
    }

    /// <summary>dw = the weight gradient. x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci,KH,KW), overwritten.</summary>
    public static unsafe void WeightGrad(float[] x, float[] gy, float[] dw, int n, ConvGeometry g)
    {
        var sc = Scratch.Of(g);
        var xp = PadInput(x, n, g, sc);
        var offsets = sc.TapOffsets(g);
        int width = sc.Vectors * Lanes, rowStride = Channels * width;
        int tapBlocks = (g.KW + WideTaps - 1) / WideTaps, blockFloats = Channels * WideTaps * Lanes;
        int samples = Math.Max(1, 64 / (g.OH * sc.Vectors));   // at least 64 vectors of outputs a run
        // Tasks channel block by channel block, so that a thread copies a block's output gradient once for its input channels.
        Threading.ForRanges(sc.ChannelBlocks * g.Ci, (_, t0, t1) =>
        {
            var gp = ArrayPool<float>.Shared.Rent(n * g.OH * rowStride);
            // Per (row i, tap block, pass of channels) its sums' lanes, carried from sample to sample.
            var lanes = ArrayPool<float>.Shared.Rent(g.KH * tapBlocks * 2 * blockFloats);
            int copied = -1;
            fixed (float* px = xp, pg = gp, pd = dw, pl = lanes)
            fixed (int* po = offsets)
                for (int task = t0; task < t1; task++)
                {
                    int cb = task / g.Ci, c = task % g.Ci, channels = Math.Min(Channels, g.Co - cb * Channels);
                    if (cb != copied) { CopyGradient(gy, gp, cb, channels, n, g, width, rowStride); copied = cb; }
                    // four channels by eight taps as two passes of two (sixteen sums each); up to four taps, or fewer channels, in one
                    int passChannels = channels == 4 && g.KW > 4 ? 2 : channels, passes = channels / passChannels;
                    var run = new TapRun(px + (long)c * sc.Plane, pg, g.OH, sc.Vectors, (long)g.Ci * sc.Plane, g.SH * sc.RowStride, rowStride, width);
                    new Span<float>(pl, g.KH * tapBlocks * passes * blockFloats).Clear();
                    // A sample at a time (a few where their maps are small), so that its gradient and input rows stay in L1
                    // across the taps.
                    for (int s0 = 0; s0 < n; s0 += samples)
                        for (int i = 0, block = 0; i < g.KH; i++)
                            for (int j0 = 0; j0 < g.KW; j0 += WideTaps)
                                for (int pass = 0; pass < passes; pass++, block++)
                                    run.Add(s0, Math.Min(n, s0 + samples), i * sc.RowStride, po + j0, pass * passChannels, passChannels,
                                        Math.Min(WideTaps, g.KW - j0), pl + block * blockFloats);
                    for (int i = 0, block = 0; i < g.KH; i++)
                        for (int j0 = 0; j0 < g.KW; j0 += WideTaps)
                            for (int pass = 0; pass < passes; pass++, block++)
                                for (int k = 0; k < passChannels; k++)
                                    for (int j = j0; j < Math.Min(g.KW, j0 + WideTaps); j++)
                                    {
                                        int co = cb * Channels + pass * passChannels + k;
                                        pd[((co * g.Ci + c) * g.KH + i) * g.KW + j] = Vector512.Sum(Vector512.Load(pl + block * blockFloats + (k * WideTaps + j - j0) * Lanes));
                                    }
                }
            ArrayPool<float>.Shared.Return(lanes);
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

    /// <summary>Tap columns a weight-gradient pass takes at once: up to eight (4 where the kernel has at most four).</summary>
    const int WideTaps = 8;

    interface ICount { static abstract int Value { get; } }
    readonly struct One : ICount { public static int Value => 1; }
    readonly struct Two : ICount { public static int Value => 2; }
    readonly struct Three : ICount { public static int Value => 3; }
    readonly struct Four : ICount { public static int Value => 4; }
    readonly struct Eight : ICount { public static int Value => 8; }

    // One input channel's weight-gradient sums over a copied channel block: x at (input channel c, padded row 0) of
    // sample 0's scratch, gp the block's gradient (N, OH, 4 channels, width).
    readonly unsafe struct TapRun(float* x, float* gp, int oh, int vectors, long sampleIn, int rowStep, int rowStride, int width)
    {
        /// <summary>
        /// Adds samples s0 to s1's gy[k]·x[S·row + i, S·col + j] over their output rows and columns to `lanes` (channel, tap, 16
        /// lanes; WideTaps taps a channel), for `channels` channels from k0 and `taps` tap columns (offsets), i's padded
        /// row at `row`: each tap's load feeds every channel, each channel's every tap (three channels by eight taps:
        /// 24 sums from 11 loads a vector).
        /// </summary>
        public void Add(int s0, int s1, int row, int* offsets, int k0, int channels, int taps, float* lanes)
        {
            switch ((channels, taps > 4))
            {
                case (1, false): Add<One, Four>(s0, s1, row, offsets, k0, lanes); break;
                case (1, true): Add<One, Eight>(s0, s1, row, offsets, k0, lanes); break;
                case (2, false): Add<Two, Four>(s0, s1, row, offsets, k0, lanes); break;
                case (2, true): Add<Two, Eight>(s0, s1, row, offsets, k0, lanes); break;
                case (3, false): Add<Three, Four>(s0, s1, row, offsets, k0, lanes); break;
                case (3, true): Add<Three, Eight>(s0, s1, row, offsets, k0, lanes); break;
                default: Add<Four, Four>(s0, s1, row, offsets, k0, lanes); break;
            }
        }

        // TC channels by TT taps, four channels by four taps at most (taps past the kernel read the scratch's spare columns;
        // their sums are not used).
        void Add<TC, TT>(int s0, int s1, int row, int* offsets, int k0, float* lanes) where TC : struct, ICount where TT : struct, ICount
        {
            float* l1 = lanes + WideTaps * Lanes, l2 = lanes + 2 * WideTaps * Lanes, l3 = lanes + 3 * WideTaps * Lanes;
            Vector512<float> a00 = Carried(lanes, 0, 0), a01 = Carried(lanes, 0, 1), a02 = Carried(lanes, 0, 2), a03 = Carried(lanes, 0, 3);
            Vector512<float> a04 = Carried(lanes, 0, 4), a05 = Carried(lanes, 0, 5), a06 = Carried(lanes, 0, 6), a07 = Carried(lanes, 0, 7);
            Vector512<float> a10 = Carried(lanes, 1, 0), a11 = Carried(lanes, 1, 1), a12 = Carried(lanes, 1, 2), a13 = Carried(lanes, 1, 3);
            Vector512<float> a14 = Carried(lanes, 1, 4), a15 = Carried(lanes, 1, 5), a16 = Carried(lanes, 1, 6), a17 = Carried(lanes, 1, 7);
            Vector512<float> a20 = Carried(lanes, 2, 0), a21 = Carried(lanes, 2, 1), a22 = Carried(lanes, 2, 2), a23 = Carried(lanes, 2, 3);
            Vector512<float> a24 = Carried(lanes, 2, 4), a25 = Carried(lanes, 2, 5), a26 = Carried(lanes, 2, 6), a27 = Carried(lanes, 2, 7);
            Vector512<float> a30 = Carried(lanes, 3, 0), a31 = Carried(lanes, 3, 1), a32 = Carried(lanes, 3, 2), a33 = Carried(lanes, 3, 3);
            int o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3];
            int o4 = TT.Value > 4 ? offsets[4] : 0, o5 = TT.Value > 4 ? offsets[5] : 0, o6 = TT.Value > 4 ? offsets[6] : 0, o7 = TT.Value > 4 ? offsets[7] : 0;
            for (int s = s0; s < s1; s++)
                for (int r = 0; r < oh; r++)
                {
                    float* xr = x + s * sampleIn + row + r * rowStep, gr = gp + ((long)s * oh + r) * rowStride + k0 * width;
                    for (int v = 0; v < vectors; v++, xr += Lanes, gr += Lanes)
                    {
                        var g0 = Vector512.Load(gr);
                        var g1 = TC.Value > 1 ? Vector512.Load(gr + width) : default;
                        var g2 = TC.Value > 2 ? Vector512.Load(gr + 2 * width) : default;
                        var g3 = TC.Value > 3 ? Vector512.Load(gr + 3 * width) : default;
                        Taps(Vector512.Load(xr + o0), g0, g1, g2, ref a00, ref a10, ref a20, g3, ref a30);
                        Taps(Vector512.Load(xr + o1), g0, g1, g2, ref a01, ref a11, ref a21, g3, ref a31);
                        Taps(Vector512.Load(xr + o2), g0, g1, g2, ref a02, ref a12, ref a22, g3, ref a32);
                        Taps(Vector512.Load(xr + o3), g0, g1, g2, ref a03, ref a13, ref a23, g3, ref a33);
                        if (TT.Value > 4)
                        {
                            Taps(Vector512.Load(xr + o4), g0, g1, g2, ref a04, ref a14, ref a24, g3, ref a30);
                            Taps(Vector512.Load(xr + o5), g0, g1, g2, ref a05, ref a15, ref a25, g3, ref a30);
                            Taps(Vector512.Load(xr + o6), g0, g1, g2, ref a06, ref a16, ref a26, g3, ref a30);
                            Taps(Vector512.Load(xr + o7), g0, g1, g2, ref a07, ref a17, ref a27, g3, ref a30);
                        }
                    }
                }
            Store(lanes, a00, a01, a02, a03, a04, a05, a06, a07);
            if (TC.Value > 1) Store(l1, a10, a11, a12, a13, a14, a15, a16, a17);
            if (TC.Value > 2) Store(l2, a20, a21, a22, a23, a24, a25, a26, a27);
            if (TC.Value > 3) Store(l3, a30, a31, a32, a33, default, default, default, default);

            // The carried lanes of a channel's tap, where this pass has that channel and tap.
            static Vector512<float> Carried(float* lanes, int channel, int tap) =>
                channel < TC.Value && tap < TT.Value ? Vector512.Load(lanes + (channel * WideTaps + tap) * Lanes) : default;

            // one tap's load against each channel's gradient (a fourth channel only with four taps)
            static void Taps(Vector512<float> xv, Vector512<float> g0, Vector512<float> g1, Vector512<float> g2,
                ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, Vector512<float> g3, ref Vector512<float> c3)
            {
                c0 = Avx512F.FusedMultiplyAdd(xv, g0, c0);
                if (TC.Value > 1) c1 = Avx512F.FusedMultiplyAdd(xv, g1, c1);
                if (TC.Value > 2) c2 = Avx512F.FusedMultiplyAdd(xv, g2, c2);
                if (TC.Value > 3) c3 = Avx512F.FusedMultiplyAdd(xv, g3, c3);
            }

            static void Store(float* to, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3,
                Vector512<float> t4, Vector512<float> t5, Vector512<float> t6, Vector512<float> t7)
            {
                t0.Store(to); t1.Store(to + Lanes); t2.Store(to + 2 * Lanes); t3.Store(to + 3 * Lanes);
                if (TT.Value > 4) { t4.Store(to + 4 * Lanes); t5.Store(to + 5 * Lanes); t6.Store(to + 6 * Lanes); t7.Store(to + 7 * Lanes); }
            }
        }
    }
}
