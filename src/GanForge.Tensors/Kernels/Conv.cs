using System.Buffers;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// The three batched convolution kernels. They run oneDNN's primitives when libdnnl loads
/// (<see cref="ConvDnnl"/>), else (or for a shape oneDNN cannot build) im2col/col2im and GEMM. The batch is split into one
/// contiguous range of samples per thread; each thread runs im2col, a single-threaded GEMM and the
/// scatter for its own samples in sub-chunks (so its scratch stays in cache-friendly sizes and the
/// threads never wait on each other). x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW), y: (N,Co,OH,OW).
/// They take the tensors' arrays because parallel loops cannot capture spans.
/// </summary>
public static class Conv
{
    static bool? _forceManaged = Environment.GetEnvironmentVariable("GANFORGE_CONV")?.Trim().ToLowerInvariant() switch
    {
        "managed" => true,
        "dnnl" or "onednn" => false,
        _ => null,
    };

    /// <summary>
    /// Forces im2col + GEMM (true), oneDNN (false; throws on use if libdnnl cannot be loaded), or lets
    /// the library choose (null, the default unless GANFORGE_CONV=managed|dnnl is set).
    /// </summary>
    public static bool? ForceManaged
    {
        get => _forceManaged;
        set => _forceManaged = value;
    }

    /// <summary>True when oneDNN (libdnnl.so.2) could be loaded and started.</summary>
    public static bool DnnlAvailable => ConvDnnl.Available;

    static bool UseDnnl
    {
        get
        {
            if (_forceManaged == true) return false;
            if (_forceManaged == false && !ConvDnnl.Available)
                throw new InvalidOperationException("Conv: oneDNN was requested (GANFORGE_CONV=dnnl or ForceManaged=false) but libdnnl.so.2 could not be loaded");
            return ConvDnnl.Available;
        }
    }

    /// <summary>
    /// Our own Winograd, F(4x4, 3x3) or F(2x2, 3x3) (<see cref="Winograd"/>), for the 3x3 stride-1 convolutions it suits: true always,
    /// false never, null (the default; GANFORGE_WINOGRAD=own|off sets it) by <see cref="UsesOwnWinograd"/>'s rule.
    /// </summary>
    public static bool? OwnWinograd { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_WINOGRAD")?.Trim().ToLowerInvariant() switch
    {
        "own" => true,
        "off" => false,
        _ => null,
    };

    // The rule, from kernel timings on an AVX2 processor (2 threads, each kernel warm, ours and oneDNN's direct one
    // alternating, `bench --kernels --winograd`): stylegan32's layers at batch 32 ran 1.7-2.6x as fast on ours at 8, 16
    // and 32 px (F(4x4); the three kinds of every layer), cyclegan32's 8 px residual blocks at batch 4-12 (256-768
    // positions, 256 channels) 0.9-1.7x (F(2x2) at batch 4, F(4x4) at 8 and 12); at 4 px (512 positions) the forward
    // ran 0.7-0.9x. So ours from 256 positions on maps of 8 px or more. On AVX-512 oneDNN's own Winograd runs
    // (ConvDnnl); GANFORGE_CONV_ALGO=direct turns both off, and neither runs under bf16 products or where im2col + GEMM
    // is asked for (GANFORGE_CONV=managed).
    static bool UsesOwnWinograd(int n, in ConvGeometry g) =>
        Winograd.Suits(g) && (OwnWinograd ?? (Winograd.IsSupported && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated
            && ConvDnnl.ConvAlgorithm != ConvDnnl.Algorithm.Direct && _forceManaged != true && !Precision.Bf16Active
            && (long)n * g.OH * g.OW >= 256 && g.OH >= 8 && g.OW >= 8));

    /// <summary>
    /// Which implementation the rules pick for one kernel of this layer: "winograd" (ours), "lanes" (<see cref="BatchLaneConv"/>), "flipped" (<see cref="ImageConv"/>
    /// the other way round, <see cref="IsFlippedImageLayer"/>), "direct" (<see cref="DirectConv"/>,
    /// <see cref="FewChannelBackwardData"/>), "image" (<see cref="ImageConv"/>), "dnnl", "gemm" (im2col + GEMM, or one GEMM
    /// over the batch) or "chunks" (small maps in per-thread chunks that stay in cache, <see cref="InCachedChunks"/>).
    /// </summary>
    internal static string Picks(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        UsesOwnWinograd(n, g) ? "winograd" : IsBatchLane(kind, n, g) ? "lanes" : IsFlippedImageLayer(kind, n, g) ? "flipped"
        : IsDirect(kind, n, g) || kind == ConvDnnl.Kind.BackwardData && IsFewChannelData(n, g) ? "direct"
        : IsImageLayer(kind, n, g) ? "image"
        : IsSmallMap(kind, n, g) ? (RunsInCachedChunks(kind, g) ? "chunks" : "gemm")
        : DnnlRuns(kind, g) ? "dnnl" : "gemm";

    /// <summary>
    /// Whether this kernel of this layer reads its inputs in bf16: <see cref="Precision.Current"/> is bf16 (and can run
    /// here), and the kernel is not one whose fp32 path ran faster than oneDNN's bf16 one (<see cref="Fp32Faster"/>).
    /// </summary>
    internal static bool RunsBf16(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        Precision.Bf16Active && (Bf16Everywhere || !Fp32Faster(kind, n, g));

    /// <summary>Every kernel in bf16 under bf16, the rule's fp32 ones too (the bench's per-kernel comparison and the bf16 kernel tests).</summary>
    internal static bool Bf16Everywhere { get; set; }

    /// <summary>
    /// The kernels that stay fp32 under bf16. On the Zen 5 (`bench --kernels --precision bf16`, 2 threads, fp32 and bf16
    /// alternated, two runs in the twenty-third pass) oneDNN's bf16 kernel took longer than the fp32 path on
    /// <list type="bullet">
    /// <item>the weight gradient of a layer whose outputs sum fewer than 64 products (dcgan's 1 -> 64 4 x 4 on the
    /// image, a 16-long reduction: 1.25-1.97x fp32's time at 28 px, 1.45-1.47x at 64 px);</item>
    /// <item>the 3 x 3 stride-1 layers, which fp32 runs by Winograd or as one GEMM over the batch: their weight gradient
    /// over at most 8,192 output positions in the batch (cyclegan32's residual blocks at batch 4-16: 1.41-1.82x;
    /// stylegan32's 4-16 px maps: 1.03-4.2x) and their forward over more (stylegan32's 32 px maps: 0.95-1.12x, five
    /// readings of six above 1). Their larger weight gradients (stylegan32's 32 px: 0.75-0.95x) and their
    /// backward-data (0.47-0.98x, but stylegan32's 128 -> 64 at 32 px: 0.91-1.10x) gain from bf16.</item>
    /// </list>
    /// Whole steps under bf16, the rule against every kernel in bf16 (`bench --bf16-every-kernel`, alternated):
    /// stylegan32 +9% (three rounds, 65-75 -> 75-82 images/s), cyclegan32 +6% (12.8-13.2 -> 13.5-14.1), dcgan28 +5%
    /// (median of five), dcgan64 +1-3%. (The image-side backward-data runs im2col + GEMM, fp32 like every product,
    /// whatever the precision.)
    /// </summary>
    internal static bool Fp32Faster(ConvDnnl.Kind kind, int n, in ConvGeometry g)
    {
        bool winogradShape = g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1;
        long positions = (long)n * g.OH * g.OW;
        return kind switch
        {
            ConvDnnl.Kind.BackwardWeights => g.K < 64 || winogradShape && positions <= 8192,
            ConvDnnl.Kind.Forward => winogradShape && positions > 8192,
            _ => false,
        };
    }

    /// <summary>Whether layers of at most four output channels run <see cref="DirectConv"/>'s kernels (tests switch it).</summary>
    internal static bool DirectKernels { get; set; } = true;

    // The forward and weight gradient of layers with at most four output channels (DirectConv): where neither backend is
    // forced, in fp32. The kernels also take layers of few input channels, but in the step they did not pay there: dcgan28's
    // 1 -> 64 forward ran 0.50 against 0.64-0.76 ms alone, yet in the step 1.1-1.2 ms a call either way. The step's output
    // buffer is out of cache, and a 4-channel tile's stores scatter over 64 planes; ImageConv, which writes a block of
    // four whole planes at a time through non-temporal stores, takes those layers (IsImageLayer).
    static bool IsDirect(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        DirectKernels && kind != ConvDnnl.Kind.BackwardData && g.Co <= 4
        && _forceManaged == null && !RunsBf16(kind, n, g) && DirectConv.Suits(g);

    // The three kernels of layers on an image into more than four channels (ImageConv; four or fewer are DirectConv's),
    // with AVX-512, where neither backend is forced, in fp32. dcgan28's and wgangp28's 1 -> 64 layers (D's first, G's
    // last): whole steps alternated against oneDNN's forward and weight gradient and im2col + GEMM's backward-data
    // (`bench --alternate image-layers`, 16 rounds) ran 1.027x and 1.029x (medians of the rounds); the forward 1.1-1.3
    // -> 0.5-0.6 ms a call in dcgan28's step profile, 0.22-0.27 ms alone with its output in cache.

    /// <summary>Whether <see cref="ImageConv"/> runs the forward where its rule says (tests and the bench switch it).</summary>
    internal static bool ImageForwards { get; set; } = true;

    /// <summary>Whether <see cref="ImageConv"/> runs the weight gradient where its rule says (tests and the bench switch it).</summary>
    internal static bool ImageWeightGrads { get; set; } = true;

    /// <summary>Whether <see cref="ImageConv"/> runs the backward-data where its rule says (tests and the bench switch it).</summary>
    internal static bool ImageBackwardData { get; set; } = true;

    static bool IsImageLayer(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        kind switch { ConvDnnl.Kind.Forward => ImageForwards, ConvDnnl.Kind.BackwardWeights => ImageWeightGrads, _ => ImageBackwardData }
        && IsImageSide(g) && g.Co > 4 && _forceManaged == null && !RunsBf16(kind, n, g) && ImageConv.Suits(g);

    /// <summary>
    /// Whether the backward-data of a layer whose input has at most four channels runs <see cref="FewChannelBackwardData"/>
    /// (where neither backend is forced, in fp32): those that do not take im2col + the AVX-512 GEMM (<see cref="IsImageSide"/>,
    /// with AVX-512). On the Zen 1 of the thirty-seventh pass: see that kernel.
    /// </summary>
    static bool IsFewChannelData(int n, in ConvGeometry g) =>
        FewChannelKernels && !IsImageSide(g) && _forceManaged == null
        && !RunsBf16(ConvDnnl.Kind.BackwardData, n, g) && FewChannelBackwardData.Suits(g);

    /// <summary>Whether <see cref="FewChannelBackwardData"/> runs where its rule says (tests and the bench switch it).</summary>
    internal static bool FewChannelKernels { get; set; } = true;

    /// <summary>Whether a generator's last layer takes <see cref="ImageConv"/>'s kernels the other way round (tests and the bench switch it).</summary>
    internal static bool FlippedImageKernels { get; set; } = true;

    // The backward-data and weight gradient of a stride-1 layer from more than four channels into at most four (a
    // generator's last: SRGAN's 64 -> 3 9 x 9, CycleGAN's 64 -> 3 7 x 7; a PatchGAN's 1-channel head). Its backward-data
    // is the forward of the layer the other way round, from the gradient's few channels into the input's many, each
    // kernel turned half a circle and the channels swapped, padded by K - 1 - P (Flipped); its weight gradient is that
    // layer's weight gradient with the input's maps in the output gradient's place, turned back. Both are then an image
    // layer's, which ImageConv computes. `bench --kernels` (2 threads, batch 16, each pair in alternation; this against
    // oneDNN's backward-data and DirectConv's weight gradient):
    // - srgan32's 64 -> 3 9 x 9 at 32 px: backward-data 1.71-1.72 against 2.41-3.15 ms, weight gradient 2.63-2.70
    //   against 5.52-5.60 (DirectConv's taps go eight and four for nine);
    // - the zoo's 64 -> 1 layers at 28 px: SRGAN's 9 x 9 0.56-0.60 against 0.91-1.47 and 0.93-0.96 against 3.43-3.64,
    //   CycleGAN's 7 x 7 0.67-0.72 against 1.15-2.08 and 1.23-1.24 against 1.84-2.13;
    // - pix2pix32's PatchGAN head, 128 -> 1 4 x 4 at 15 px: 0.12 against 0.56-0.72 and 0.19 against 0.55-0.72.
    // The weight gradient stays with DirectConv where its blocks fill, three or four channels by at most eight taps a
    // row: cyclegan32's 64 -> 3 7 x 7 (batch 8) took 1.88-1.99 ms this way against 1.65-1.99. Maps of fewer than 16
    // output positions keep their paths (MinFlippedPositions).
    static bool IsFlippedImageLayer(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        FlippedImageKernels && g.Co <= 4 && g.Ci > 4 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1
        && g.PH < g.KH && g.PW < g.KW && g.P >= MinFlippedPositions && kind switch
        {
            ConvDnnl.Kind.BackwardData => true,
            ConvDnnl.Kind.BackwardWeights => g.Co < 3 || g.KW > 8,
            _ => false,
        }
        && _forceManaged == null && !RunsBf16(kind, n, g) && ImageConv.Suits(Flipped(g));

    /// <summary>Whether 3 x 3 stride-1 layers of batches of 16 take <see cref="BatchLaneConv"/> where its rule says (tests and the bench switch it; GANFORGE_BATCH_LANES=0 turns it off).</summary>
    internal static bool BatchLaneKernels { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_BATCH_LANES")?.Trim() != "0";

    // The kernels of a 3 x 3 stride-1 layer padded by 1 in a batch of 16 (or a multiple) with the batch in the lanes
    // (BatchLaneConv), where neither backend is forced, in fp32, and where they ran faster than oneDNN's Winograd or direct
    // kernels (`bench --kernels --batch-lanes`, 2 threads, each pair alternated; BatchLaneShape). At least eight channels
    // on each side: a layer on an image or into one keeps the image kernels, and four channels are one block of the
    // lanes' outputs, one thread's work.
    static bool IsBatchLane(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        BatchLaneKernels && _forceManaged == null && !RunsBf16(kind, n, g) && BatchLaneConv.Suits(n, g)
        && (BatchLaneEverywhere || n <= MaxLaneBatch && g.Ci >= 8 && g.Co >= 8 && BatchLaneShape(kind, g));

    // Batches of 16 and 32 take the lanes; larger ones give oneDNN's Winograd enough positions to pay for its transforms:
    // srgan32's generation (G in eval mode, batch 256) ran 0.76x as fast with its residual blocks' forwards in the lanes
    // (`bench --generate-only --alternate batch-lanes`, 8 rounds).
    const int MaxLaneBatch = 32;

    /// <summary>The lanes for every layer <see cref="BatchLaneConv.Suits"/>, past the rule's shapes (the bench's comparison).</summary>
    internal static bool BatchLaneEverywhere { get; set; }

    /// <summary>
    /// The layers <see cref="BatchLaneConv"/> takes by size, m = Ci·Co·P multiply-adds a sample and tap. Alternated against
    /// oneDNN on 2 threads (`bench --kernels --batch-lanes`, the sixty-seventh pass), the lanes ran:
    /// - srgan32's residual blocks, 64 -> 64 at 8 x 8 (m = 2^18): forward 1.44x, backward-data 1.45x, weight gradient 1.63x;
    /// - maps of 16 positions: forwards 1.15-2.49x whatever the channels (srgan32's D 256 -> 512 at 4 x 4 1.27x); the
    ///   backward-data 1.06-2.39x up to 256 -> 256 (m = 2^20), 0.66-0.75x past it; the weight gradient 2.09-2.28x at
    ///   64 -> 64 (m = 2^16), 1.18-1.24x at 128 -> 128 in a batch of 16 but 0.88-0.99x in stylegan32's of 32 (the lanes'
    ///   sums weigh on few positions), 0.81-0.85x from 256 -> 256;
    /// - maps of 64 positions: all three 1.08-1.26x up to 64 -> 128 (m = 2^19); at m = 2^20 forwards and backward-data
    ///   0.86-1.48x, weight gradients 0.70-0.81x; from 2^21 0.58-0.89x, where oneDNN's Winograd transforms pay;
    /// - maps of 256 positions: 1.01-1.54x up to 32 -> 64 (m = 2^19), 0.78-0.91x at 64 -> 64; larger maps 0.40-0.78x.
    /// So the forward and backward-data up to m = 2^19, the forward also on maps of at most 16 positions, the
    /// backward-data also up to m = 2^20 on maps of at most 64; the weight gradient up to m = 2^19 on maps of 64 positions
    /// or more, 2^17 on smaller ones.
    /// </summary>
    internal static bool BatchLaneShape(ConvDnnl.Kind kind, in ConvGeometry g)
    {
        long m = (long)g.Ci * g.Co * g.P;
        return kind switch
        {
            ConvDnnl.Kind.Forward => m <= 1 << 19 || g.P <= 16,
            ConvDnnl.Kind.BackwardData => m <= 1 << 19 || g.P <= 64 && m <= 1 << 20,
            _ => m <= (g.P >= 64 ? 1 << 19 : 1 << 17),
        };
    }

    // Output positions a sample at least for the flipped kernels: a discriminator's head onto 1 x 1 (DCGAN's, one GEMM) or a
    // few positions keeps its own path.
    const int MinFlippedPositions = 16;

    /// <summary>The stride-1 layer from g's outputs to its inputs whose forward is g's backward-data (kernels flipped, channels swapped).</summary>
    static ConvGeometry Flipped(in ConvGeometry g) =>
        new(g.Co, g.OH, g.OW, g.Ci, g.H, g.W, g.KH, g.KW, 1, 1, g.KH - 1 - g.PH, g.KW - 1 - g.PW, 1, 1, 1);

    // w (Co,Ci,KH,KW) -> (Ci,Co,KH,KW) with each kernel turned half a circle: to[ci][co][kh][kw] = w[co][ci][KH-1-kh][KW-1-kw].
    // Its own inverse (with Co and Ci swapped).
    static void FlipKernels(ReadOnlySpan<float> w, Span<float> to, int co, int ci, int kh, int kw)
    {
        int taps = kh * kw;
        for (int o = 0; o < co; o++)
            for (int i = 0; i < ci; i++)
            {
                var src = w.Slice((o * ci + i) * taps, taps);
                var dst = to.Slice((i * co + o) * taps, taps);
                for (int t = 0; t < taps; t++) dst[taps - 1 - t] = src[t];
            }
    }

    static void FlippedBackwardData(float[] gy, float[] w, float[] dx, int n, in ConvGeometry g)
    {
        var wf = ArrayPool<float>.Shared.Rent(w.Length);
        FlipKernels(w, wf, g.Co, g.Ci, g.KH, g.KW);
        ImageConv.Forward(gy, wf, null, dx, n, Flipped(g));
        ArrayPool<float>.Shared.Return(wf);
    }

    static void FlippedWeightGrad(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g)
    {
        int length = g.Co * g.Ci * g.KH * g.KW;
        var df = ArrayPool<float>.Shared.Rent(length);
        ImageConv.WeightGrad(gy, x, df, n, Flipped(g));
        FlipKernels(df.AsSpan(0, length), dw, g.Ci, g.Co, g.KH, g.KW);
        ArrayPool<float>.Shared.Return(df);
    }

    /// <summary>Which implementation runs the convolutions: "dnnl" or "managed" (im2col + GEMM).</summary>
    public static string Backend => UseDnnl ? "dnnl" : "managed";

    // Measured per kernel on the dcgan layers (docs/performance.md): oneDNN's direct kernels win the
    // forward and backward-data clearly; for the weight gradient and for 1x1-output (dense) layers
    // our per-thread im2col + GEMM was as fast or faster, so those stay managed unless oneDNN is forced.
    // On an AVX-512 machine oneDNN's weight gradient (jit:avx512_core) beat im2col + GEMM: dcgan28 used 20% less
    // CPU per iteration with it (0.34 against 0.42 s, three alternating pairs, each one faster), so there the
    // weight gradient goes to oneDNN too; on the AVX2 machine of the table above it stays managed.
    static readonly bool DnnlWeightGradients = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;

    static bool DnnlRuns(ConvDnnl.Kind kind, in ConvGeometry g) =>
        UseDnnl && (_forceManaged == false || ((kind != ConvDnnl.Kind.BackwardWeights || DnnlWeightGradients) && !IsDense(g) && !IsPatchEmbedding(g) && !IsPointwise(g)
            && !(kind == ConvDnnl.Kind.BackwardData && IsImageSide(g))));

    /// <summary>
    /// True where the convolution's input has an image's few channels (at most 4: grey, RGB, RGBA): its backward-data
    /// (a discriminator's input gradient, a generator's last transposed convolution) writes so few channels that
    /// oneDNN's kernels ran at 12-40 GFLOP/s, and col2im after our GEMM 2.6-4.8x faster (`bench --kernels`, 2 threads,
    /// AVX-512: 1 -> 64 at 28 px, batch 128, 4.4 against 1.7 ms; at 64 px, batch 64, 11.5 against 2.4; cyclegan32's
    /// 3 -> 64 7 x 7 at 32 px, batch 8, 3.8 against 1.4). Its forward and weight gradient stayed on oneDNN, which was
    /// faster there than im2col + GEMM (0.6 against 1.2 ms, 0.5 against 1.9 at 28 px). Since the forty-fourth pass the
    /// three kernels of such layers into more than four channels run <see cref="ImageConv"/> (<see cref="IsImageLayer"/>),
    /// and this rule's im2col + GEMM the backward-data of those into four or fewer. Measured where our GEMM is the AVX-512
    /// one; without AVX-512 (OpenBLAS's GEMM, oneDNN's jit:avx2, not measured) these stay on oneDNN, as before.
    /// </summary>
    static bool IsImageSide(in ConvGeometry g) =>
        g.Ci <= 4 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;   // all channels: a depthwise layer's stay on oneDNN

    /// <summary>
    /// True for a ViT's patch embedding: non-overlapping unpadded patches (stride = kernel) of a few input channels
    /// (at most 64 values a patch). im2col is then a permutation and the product one thin GEMM on our threads; oneDNN's
    /// kernels for it ran its OpenMP threads against ours: transgan32's 1 -> 64 4 x 4 patches cost 17.1 ms an iteration
    /// on 2 threads with oneDNN and 11.6 with im2col + GEMM (profiles in the same minutes).
    /// </summary>
    static bool IsPatchEmbedding(in ConvGeometry g) =>
        g.SH == g.KH && g.SW == g.KW && g.KH > 1 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1 && g.Groups == 1 && g.K <= 64;

    /// <summary>
    /// True for a 1x1 stride-1 unpadded convolution (StyleGAN's fromRGB, toRGB and residual skips): each sample is one
    /// GEMM on its maps as they lie, y[s] = W·x[s] (Co x Ci by Ci x P), with no im2col. oneDNN's kernels reorder such
    /// maps into their blocked layout and back, and ran 2-4x slower than the per-sample GEMMs on all of stylegan32's
    /// 1x1 layers (2 threads, batch 32: 1 -> 64 at 32 px forward 1.5 ms against 0.4).
    /// </summary>
    static bool IsPointwise(in ConvGeometry g) =>
        g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0 && g.Groups == 1;

    /// <summary>Whether small output maps run as one GEMM over the batch (<see cref="IsSmallMap"/>; GANFORGE_SMALL_MAPS=dnnl turns it off).</summary>
    internal static bool SmallMapGemms { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_SMALL_MAPS")?.Trim().ToLowerInvariant() != "dnnl";

    // The batch's im2col these layers take, at most 128 MB (dcgan64's at batch 64: 16 MB); a larger batch runs on oneDNN.
    const long ColumnsBudget = 1L << 25;

    // Maps of 17-64 positions take the one GEMM only in batches of at most this many positions (cyclegan32's residual
    // blocks at batch 4: 256); from 512 on oneDNN's kernels ran them faster.
    const int SmallBatchPositions = 256;

    /// <summary>
    /// True for the forward and weight gradient of a layer whose output map has at most 16 positions while each output
    /// sums 1,024 products or more and the batch holds 512 positions or more (dcgan64's 256 -> 512 4 x 4 layer at 8 px,
    /// batch 64: K = 4,096, N·P = 1,024). oneDNN's direct kernels, which block over the output map, ran it at 210-250
    /// GFLOP/s; as one product over the batch, (Co x K) by (K x N·P), it is a large square-ish GEMM the AVX-512 kernel
    /// runs at 350+, after a gathered im2col of the batch (16 MB, 1.7 ms). `bench --kernels`, 2 threads: forward 20.6 ->
    /// 15.8-16.8 ms, weight gradient 18.1-18.4 -> 16.1-17.2. Also for maps of up to 64 positions in a batch of at most
    /// <see cref="SmallBatchPositions"/> (cyclegan32's 256 -> 256 residual blocks, 8 x 8 at batch 4: 256 x 2,304 by
    /// 2,304 x 256), where oneDNN's kernels have too few rows and samples to share out: `bench --kernels --backends`,
    /// forward 1.44 -> 1.11 ms, weight gradient 1.54 -> 1.20; at batch 8 and more oneDNN was faster (2.15 against 2.54
    /// ms). With the AVX-512 GEMM the backward-data stays on oneDNN (GEMM + col2im ran 18.4-20.0 ms against 15.7 on
    /// dcgan64's layer with a row-by-row col2im, 14.3-14.4 against 14.2 with a gathered one; 1.36 against 1.30 on
    /// cyclegan32's); without AVX-512 it takes the one GEMM too (<see cref="SmallMapOnAvx2"/>). Winograd's 3 x 3 layers
    /// stay with Winograd. In fp32, where the AVX-512 GEMM runs, and on a processor without AVX-512 by
    /// <see cref="SmallMapOnAvx2"/> (an AVX-512 processor with the AVX-512 GEMM switched off keeps oneDNN's kernels, as
    /// before: the AVX2 rule was measured against oneDNN's jit:avx2 ones).
    /// </summary>
    static bool IsSmallMap(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        SmallMapGemms && (Gemm.RunsAvx512 || !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        && SmallMapShape(kind, n, g, Gemm.RunsAvx512)
        && !ConvDnnl.UsesWinograd(kind, n, g) && !RunsBf16(kind, n, g) && Avx2.IsSupported;

    /// <summary>The shapes <see cref="IsSmallMap"/> takes, with the AVX-512 GEMM (<paramref name="avx512Gemm"/>) or without it.</summary>
    internal static bool SmallMapShape(ConvDnnl.Kind kind, int n, in ConvGeometry g, bool avx512Gemm) =>
        (kind != ConvDnnl.Kind.BackwardData || !avx512Gemm || IsMicroMap(kind, g)) && g.K >= 1024 && g.Co >= 64
        && (avx512Gemm ? SmallMapOnAvx512(kind, n, g) : SmallMapOnAvx2(kind, n, g))
        && ((long)n * g.P * g.K <= ColumnsBudget || !avx512Gemm && kind != ConvDnnl.Kind.BackwardData && InCachedChunks(g)) && g.Groups == 1 && !IsDense(g);

    // With the AVX-512 GEMM: maps of at most 16 positions in batches of 512 or more (not on a Zen 4: TinyMapGemms), or of
    // up to 64 in batches of at most SmallBatchPositions (the measurements above).
    static bool SmallMapOnAvx512(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        IsMicroMap(kind, g) || (g.P <= 16 ? TinyMapGemms && (long)n * g.P >= 512 : g.P <= 64 && (long)n * g.P <= SmallBatchPositions);

    /// <summary>
    /// With the AVX-512 GEMM (not on a Zen 4, as <see cref="TinyMapGemms"/>): the backward-data (with its col2im) and the
    /// weight gradient of maps of at most 4 positions take the one GEMM over the batch, whatever the batch. srgan32's D
    /// ends in a 512 -> 512 stride-2 layer from 4 x 4 to 2 x 2 (batch 16: 64 positions, K = 4,608), where oneDNN's direct
    /// kernels, which block over the output map, ran at 105-122 GFLOP/s: `bench --kernels --backends`, 2 threads,
    /// backward-data 2.48 -> 1.28 ms, weight gradient 2.87 -> 2.14. Its forward stays on oneDNN (1.86 ms against 3.96).
    /// </summary>
    static bool IsMicroMap(ConvDnnl.Kind kind, in ConvGeometry g) => MicroMapGemms && kind != ConvDnnl.Kind.Forward && g.P <= 4 && TinyMapGemms;

    /// <summary>Whether <see cref="IsMicroMap"/>'s layers take the one GEMM (true; the bench switches it).</summary>
    internal static bool MicroMapGemms { get; set; } = true;

    /// <summary>
    /// Whether, with the AVX-512 GEMM, maps of at most 16 positions in batches of 512 positions or more (dcgan64's 256 ->
    /// 512 layer at 8 px) take the one GEMM over the batch (else oneDNN's direct kernels). Not on a processor that runs
    /// AVX-512 in 256-bit halves (<see cref="Processor.SplitsAvx512"/>): on the Zen 4 of the forty-sixth pass oneDNN ran
    /// that layer's forward in 18.4 ms against 23.2 as one GEMM and its weight gradient in 21.5 against 23.6 (`bench
    /// --kernels --backends`, 2 threads), and whole dcgan64 steps ran 0.963 and 0.964 as fast with the GEMM (`bench
    /// --alternate small-maps`, 12 rounds, twice), where the Zen 5 of the twentieth pass ran them 1.047 as fast.
    /// </summary>
    internal static bool TinyMapGemms { get; set; } = !Processor.SplitsAvx512;

    /// <summary>
    /// Without AVX-512 (OpenBLAS's GEMM against oneDNN's jit:avx2 kernels, which reach 35-45% of the FMA peak on maps of
    /// at most 64 positions): the one GEMM over the batch for every weight gradient of such maps, where the per-sample
    /// chunks of im2col + GEMM ran before (dcgan28's 64 -> 128 at 14 px, batch 128, 26.4 -> 22.5 ms; dcgan64's 256 -> 512
    /// at 8 px 48.3 -> 39.4), and for the forward where each output sums 2,048 products or more (dcgan64's 128 -> 256 at
    /// 16 px 51.8 -> 43.2 ms, 256 -> 512 at 8 px 50.8 -> 40.0; with 1,024, dcgan28's layer, oneDNN's was as fast or
    /// faster: 21.0 against 21.3 ms, 11.3 against 12.4 at batch 64). `bench --kernels --backends`, a Zen 3, 2 threads.
    /// From 512 positions in the batch: cyclegan32's 128 -> 256 at 16 px, batch 4 (256 positions), ran its weight
    /// gradient in 2.48 ms against oneDNN's 2.77 where the per-sample chunks had taken 1.88 against 2.43.
    /// The backward-data under the same shape rule as the forward: the product wᵀ·gy' over the batch, then a gathered col2im
    /// (<see cref="Im2Col.BackwardChannelsSmallMap"/>). oneDNN's jit:avx2 backward-data ran dcgan64's 256 -> 512 layer at
    /// 8 px, batch 64, at 56-63 GFLOP/s where its forward ran at 80-110: 77.1 and 68.6 ms against 41.4 and 43.0 in one
    /// product; 128 -> 256 at 16 px 55.7 and 51.7 against 48.7 and 44.5; at batch 256 (generation) 256 -> 512 199-299
    /// against 171-179 ms, 128 -> 256 even (182-223 against 187-202). With 1,024 products (dcgan28's 64 -> 128 at 14 px)
    /// oneDNN's was faster: 24.3 against 27.5 ms at batch 128, 42.0 against 49.5 at 256. Whole dcgan64 steps, alternated in
    /// one process: 1.064 and 1.091; its generation (batch 256, separate processes alternated) 1.15-1.17.
    /// The weight gradient of a layer whose weights fit a core's L2 (dcgan28's) runs in per-thread chunks instead (<see cref="InCachedChunks"/>),
    /// and its forward on oneDNN (<see cref="CachedChunkForwards"/>). On a processor that runs AVX2 in 128-bit halves the
    /// forward and backward-data of maps of 17-64 positions stay on oneDNN (<see cref="DeepGemmForwards"/>).
    /// </summary>
    static bool SmallMapOnAvx2(ConvDnnl.Kind kind, int n, in ConvGeometry g) =>
        g.P <= 64 && (long)n * g.P >= 512 && kind switch
        {
            ConvDnnl.Kind.BackwardWeights => true,
            ConvDnnl.Kind.Forward => g.K >= 2048 && (g.P <= 16 || DeepGemmForwards) || ChunksTake(kind, g),
            _ => g.K >= 2048 && (g.P <= 16 || DeepGemmBackwardData),
        };

    /// <summary>
    /// Whether, without AVX-512, the forward of a map of 17-64 positions whose outputs sum 2,048 products or more takes
    /// the one GEMM over the batch (else oneDNN's direct kernel); maps of at most 16 positions take it either way. Not on a
    /// processor that runs AVX2 in 128-bit halves (<see cref="Processor.SplitsAvx2"/>), where oneDNN's kernel runs near
    /// the FMA peak: on the Zen 1 of the thirty-seventh pass dcgan64's 128 -> 256 layer at 16 px, batch 64, 2 threads,
    /// ran its forward in 59.3-62.2 ms on oneDNN against 71.1-88.9 as one GEMM (`bench --kernels --backends`, four runs,
    /// two of them with OpenBLAS's or oneDNN's threaded GEMM), and whole dcgan64 steps ran 0.975 as fast with the GEMM
    /// (`bench --alternate deep-gemm-forwards`, 16 rounds, 13 under 1). Where the AVX2 units are full width (the Zen 3
    /// of the twenty-seventh pass) the GEMM was the faster (see <see cref="SmallMapOnAvx2"/>). Stylegan32's 4 x 4 layers
    /// (3 x 3, 16 positions) ran whole steps 1.026 as fast with the GEMM on the Zen 1: the 16-position maps keep it.
    /// </summary>
    internal static bool DeepGemmForwards { get; set; } = !Processor.SplitsAvx2;

    /// <summary>
    /// The same for the backward-data (a transposed convolution's forward). On the Zen 1, dcgan64's 128 -> 256 layer at
    /// 16 px ran it in 62.3-77.3 ms on oneDNN against 75.1-85.3 as one GEMM at batch 64 and 242.7-284.9 against 295.0-299.3 at
    /// batch 256; whole generation calls of dcgan64 (G's 256 -> 128 layer, batch 256) ran 0.974 as fast with the GEMM
    /// (`bench --alternate deep-gemm-backdata --generate-only`, 12 rounds, every one under 1); training steps 0.998.
    /// </summary>
    internal static bool DeepGemmBackwardData { get; set; } = !Processor.SplitsAvx2;

    /// <summary>
    /// Without AVX-512, the weight gradient (and the forward, where <see cref="CachedChunkForwards"/> asks for it; by default not
    /// since the thirty-sixth pass) of small maps whose weights fit a core's L2 cache (at most 128K
    /// floats, 512 kB: dcgan28's 64 -> 128 layer at 14 px, 128 x 1,024) runs each thread's samples in chunks of at most
    /// <see cref="CachedColumns"/> floats of col (<see cref="CachedChunksForward"/>, <see cref="CachedChunksWeightGrad"/>):
    /// the chunk's gathered im2col, one single-threaded product and the scatter stay in cache, where the one GEMM over
    /// the batch wrote and read back a col of 25 MB (dcgan28's layer at batch 128: the gathered im2col alone 6.4-7.5 ms,
    /// the product 13.7-14.2, oneDNN's whole forward 21.6-23.3). A Zen 3, 2 threads, alternated, against the rule before
    /// (oneDNN's forward, the one GEMM's weight gradient), batch 128: forward 21.8 -> 19.0 and 14.1 -> 13.5 ms (the host
    /// busy, then quiet), weight gradient 22.9 -> 19.3 and 17.0 -> 15.3; batch 64 11.1 -> 9.6 and 6.3 -> 6.6, 11.0 ->
    /// 9.7 and 7.2 -> 6.6; batch 256 42.7 -> 37.4 and 29.2 -> 27.2, 45.2 -> 35.2 and 34.3 -> 29.9. Whole steps (`bench
    /// --alternate cached-chunks`): dcgan28 1.133, 1.015, 1.030, on one thread 1.015; wgangp28 1.016, 1.063, 1.000.
    /// The backward-data in chunks ran as fast as oneDNN's on a busy host and slower on a quiet one (25.4 against 29.7 ms
    /// at batch 256, 6.1 against 6.8 at 64), and took whole steps with it to 0.976 and 0.949: it stays on oneDNN.
    /// Larger weights are read once a chunk: dcgan64's 256 -> 512 at 8 px (8 MB) ran all three kinds slower in chunks;
    /// its 128 -> 256 at 16 px (2 MB) ran the forward 0-10% and the weight gradient 6-9% faster (chunks of 2 and 4
    /// samples, a quiet host), a few per cent of 7 of a step's 21 convolutions: not taken, they keep the one GEMM.
    /// </summary>
    internal static bool InCachedChunks(in ConvGeometry g) => CachedChunks && (long)g.Co * g.K <= 1 << 17;

    // Whether a small-map kernel of this layer runs in cached chunks (else as one GEMM over the batch): its weight gradient,
    // and its forward where CachedChunkForwards asks for it, without the AVX-512 GEMM.
    static bool RunsInCachedChunks(ConvDnnl.Kind kind, in ConvGeometry g) =>
        kind != ConvDnnl.Kind.BackwardData && !Gemm.RunsAvx512 && ChunksTake(kind, g);

    // Whether the chunks take this kind of kernel of this layer: its weights fit L2, and a forward only where asked for.
    static bool ChunksTake(ConvDnnl.Kind kind, in ConvGeometry g) =>
        InCachedChunks(g) && (kind != ConvDnnl.Kind.Forward || CachedChunkForwards);

    /// <summary>
    /// Whether the forward of <see cref="InCachedChunks"/> layers runs in chunks too (off: on oneDNN, since the thirty-sixth
    /// pass). The twenty-ninth pass measured the chunks 4-13% faster than oneDNN's forward on dcgan28's layer (a Zen 3); on
    /// the Zen 1 host of the thirty-sixth pass, with every product on oneDNN's sgemm, whole dcgan28 steps ran 0.821 as fast
    /// with the forward in chunks as with oneDNN's (`--alternate chunk-forwards`, 10 rounds, 9 of them under 0.94; the
    /// whole chunk rule against the one GEMM's 0.872 and 0.880), wgangp28's 0.991 (rounds 0.74-1.86).
    /// </summary>
    internal static bool CachedChunkForwards { get; set; }

    /// <summary>Whether <see cref="InCachedChunks"/> layers run in chunks (else the one GEMM's rule; GANFORGE_SMALL_MAPS=batch turns it off).</summary>
    internal static bool CachedChunks { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_SMALL_MAPS")?.Trim().ToLowerInvariant() != "batch";

    /// <summary>The col of a chunk of <see cref="InCachedChunks"/>, in floats (1 MB; chunks of 0.5 and 2 MB gained less against oneDNN).</summary>
    const int CachedColumns = 1 << 18;

    // Samples a chunk: as many as CachedColumns holds, at most a thread's share of the batch.
    static int CachedChunk(int n, in ConvGeometry g)
    {
        int share = (n + Threading.ChunkCount(n) - 1) / Threading.ChunkCount(n);
        return Math.Clamp(CachedColumns / (g.K * g.P), 1, share);
    }

    /// <summary>
    /// Runs product(s) for every sample: samples shared out over the threads when there are enough of them, else one
    /// after another. <see cref="Gemm.Sgemm"/> keeps to the calling thread inside a parallel loop and splits itself
    /// outside one, so each product gets the threads the samples leave.
    /// </summary>
    static void ForEachSample(int n, Action<int> product)
    {
        if (n >= 2 * Threading.Threads) Threading.For(n, product);
        else for (int s = 0; s < n; s++) product(s);
    }

    // Per-thread cap on the im2col scratch (floats): 1M = 4 MB.
    const int ColBudget = 1 << 20;

    static int ChunkSize(int n, in ConvGeometry g) =>
        Math.Clamp(ColBudget / Math.Max(1, g.Groups * g.K * g.P), 1, Math.Max(n, 1));

    // Runs body(first, count) over the thread's sample range in sub-chunks of at most nb samples.
    static void ForSampleChunks(int n, int nb, Action<int, int, int> body) =>
        Threading.ForRanges(n, (t, s0, s1) =>
        {
            for (int s = s0; s < s1; s += nb) body(t, s, Math.Min(nb, s1 - s));
        });

    /// <summary>
    /// True when the kernel covers the whole unpadded image and the output is 1x1 (DCGAN's first convT
    /// and last conv): im2col is then the identity and each kernel is one plain GEMM over the batch,
    /// x: (N, K), y: (N, Co), w: (Co, K).
    /// </summary>
    static bool IsDense(in ConvGeometry g) =>
        g.OH == 1 && g.OW == 1 && g.PH == 0 && g.PW == 0 && g.H == g.KH && g.W == g.KW && g.DH == 1 && g.DW == 1 && g.Groups == 1;

    /// <summary>
    /// y = conv(x, w) + bias. x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW), bias: (Co) -> y: (N,Co,OH,OW). A layer on an image
    /// (<see cref="ImageConv"/>) starts its sums from the bias; the others add it in a pass of their own.
    /// </summary>
    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, int n, ConvGeometry g)
    {
        if (bias != null && IsImageLayer(ConvDnnl.Kind.Forward, n, g)) { ImageConv.Forward(x, w, bias, y, n, g); return; }
        Forward(x, w, y, n, g);
        if (bias != null) AddBias(y, bias, n, g.Co, g.OH * g.OW);
    }

    /// <summary>
    /// y = conv(reflection-pad(x), w) + bias for a layer <see cref="TakesReflected"/> accepts (<see cref="DirectConv"/>: at
    /// most four output channels), g's PH and PW being the reflection padding: the bits of padding first and convolving
    /// without padding, without the padded copy.
    /// </summary>
    public static void ForwardReflected(float[] x, float[] w, float[]? bias, float[] y, int n, ConvGeometry g)
    {
        if (!TakesReflected(n, g)) throw new ArgumentException($"Conv.ForwardReflected: the direct kernels do not take {g} over {n} samples");
        DirectConv.ForwardReflected(x, w, y, n, g);
        if (bias != null) AddBias(y, bias, n, g.Co, g.OH * g.OW);
    }

    /// <summary>Whether <see cref="ForwardReflected"/> runs this layer: the direct kernels take it, the padding under the map.</summary>
    public static bool TakesReflected(int n, in ConvGeometry g) => IsDirect(ConvDnnl.Kind.Forward, n, g) && g.PH < g.H && g.PW < g.W;

    /// <summary>
    /// y = gain·LeakyReLU(conv(x, w) + bias) with a <paramref name="slope"/> of 0 or more (0: ReLU): the values of
    /// <see cref="Forward(float[], float[], float[], float[], int, ConvGeometry)"/> then <see cref="Activation.LeakyRelu"/>,
    /// bit for bit. A layer on an image with a gain of 1 applies the activation as it stores its tiles; the others in a
    /// pass over y.
    /// </summary>
    public static void ForwardActivated(float[] x, float[] w, float[]? bias, float[] y, int n, ConvGeometry g, float slope, float gain = 1f)
    {
        if (!(slope >= 0f)) throw new ArgumentException($"Conv.ForwardActivated: slope {slope} must be 0 or more (a negative one flips the sign the backward reads)");
        if (gain == 1f && FusesImageActivation(n, g)) { ImageConv.Forward(x, w, bias, y, n, g, slope); return; }
        Forward(x, w, bias, y, n, g);
        Activation.LeakyRelu(y, y, n * g.Co * g.OH * g.OW, slope, gain);
    }

    /// <summary>
    /// Whether the backward of <see cref="ForwardActivated"/> runs as one pass over y and its gradient
    /// (<see cref="BackwardActivated"/>): the layer is on an image, and each of dx and dw asked for runs
    /// <see cref="ImageConv"/>'s kernel (as <see cref="Transpose"/> and <see cref="WeightGrad"/> pick theirs).
    /// </summary>
    public static bool BacksActivatedInOnePass(int n, ConvGeometry g, bool dx, bool dw) =>
        FusesImageActivation(n, g)
        && (!dx || (!IsSmallMap(ConvDnnl.Kind.BackwardData, n, g) && IsImageLayer(ConvDnnl.Kind.BackwardData, n, g)))
        && (!dw || IsImageLayer(ConvDnnl.Kind.BackwardWeights, n, g));

    /// <summary>
    /// dx, dw and db (each where not null) of <see cref="ForwardActivated"/> from y and its gradient gy, in one pass over
    /// them where <see cref="BacksActivatedInOnePass"/> says (<see cref="ImageConv.BackwardActivated"/>); the caller
    /// runs the activation's backward and the three kernels elsewhere.
    /// </summary>
    public static void BackwardActivated(float[] x, float[] w, float[] gy, float[] y, float slope,
        float[]? dx, float[]? dw, float[]? db, int n, ConvGeometry g)
    {
        if (!BacksActivatedInOnePass(n, g, dx != null, dw != null))
            throw new InvalidOperationException($"Conv.BackwardActivated: {g} does not run in one pass here (BacksActivatedInOnePass)");
        ImageConv.BackwardActivated(x, w, gy, y, slope, dx, dw, db, n, g);
    }

    /// <summary>
    /// Whether a layer on an image and the LeakyReLU after it run in <see cref="ImageConv"/>'s kernels as one (tests and
    /// the bench switch it; off, the pair runs the convolution's kernels and the activation's pass, the same values).
    /// </summary>
    internal static bool FuseImageActivation { get; set; } = true;

    // Where the forward runs ImageConv's kernel, with or without a bias (as Forward picks it).
    static bool FusesImageActivation(int n, in ConvGeometry g) =>
        FuseImageActivation && !UsesOwnWinograd(n, g) && IsImageLayer(ConvDnnl.Kind.Forward, n, g);

    /// <summary>y[s][c] += bias[c] over each of the n samples' c maps of hw positions.</summary>
    public static void AddBias(float[] y, float[] bias, int n, int c, int hw) =>
        Threading.For(n, s =>
        {
            for (int o = 0; o < c; o++)
                System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan((s * c + o) * hw, hw), bias[o], y.AsSpan((s * c + o) * hw, hw));
        });

    /// <summary>y = conv(x, w) (no bias). x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW) -> y: (N,Co,OH,OW).</summary>
    public static void Forward(float[] x, float[] w, float[] y, int n, ConvGeometry g)
    {
        if (UsesOwnWinograd(n, g)) { Winograd.Forward(x, w, y, n, g); return; }
        if (IsBatchLane(ConvDnnl.Kind.Forward, n, g)) { BatchLaneConv.Forward(x, w, y, n, g); return; }
        if (IsDirect(ConvDnnl.Kind.Forward, n, g)) { DirectConv.Forward(x, w, y, n, g); return; }
        if (IsImageLayer(ConvDnnl.Kind.Forward, n, g)) { ImageConv.Forward(x, w, null, y, n, g); return; }
        if (IsSmallMap(ConvDnnl.Kind.Forward, n, g)) { SmallMapForward(x, w, y, n, g); return; }
        if (DnnlRuns(ConvDnnl.Kind.Forward, g) && ConvDnnl.TryRun(ConvDnnl.Kind.Forward, x, w, y, n, g)) return;
        if (IsDense(g)) { Gemm.Sgemm(false, true, n, g.Co, g.K, 1f, x, g.K, w, g.K, 0f, y, g.Co); return; }
        if (IsPointwise(g))
        {
            var (ci, co, ps) = (g.Ci, g.Co, g.P);
            ForEachSample(n, s => Gemm.Sgemm(false, false, co, ps, ci, 1f, w, ci, x.AsSpan(s * ci * ps, ci * ps), ps, 0f, y.AsSpan(s * co * ps, co * ps), ps));
            return;
        }
        int nb = ChunkSize(n, g), k = g.K, p = g.P;
        ForSampleChunks(n, nb, (_, n0, cnt) =>
        {
            int l = cnt * p;
            var col = ArrayPool<float>.Shared.Rent(g.Groups * k * l);
            var outBuf = cnt == 1 ? y : ArrayPool<float>.Shared.Rent(g.Co * l);
            int outOff = cnt == 1 ? n0 * g.Co * p : 0;
            for (int s = 0; s < cnt; s++)
                for (int gi = 0; gi < g.Groups; gi++)
                    Im2Col.Forward(x.AsSpan(((n0 + s) * g.Ci + gi * g.CiG) * g.H * g.W, g.CiG * g.H * g.W),
                        col.AsSpan(gi * k * l, k * l), l, s * p, g);
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm.SgemmSerial(false, false, g.CoG, l, k, 1f, w.AsSpan(gi * g.CoG * k, g.CoG * k), k,
                    col.AsSpan(gi * k * l, k * l), l, 0f, outBuf.AsSpan(outOff + gi * g.CoG * l, g.CoG * l), l);
            if (cnt > 1)
            {
                for (int s = 0; s < cnt; s++) ScatterFeatures(outBuf, y, n0, cnt, s, g);
                ArrayPool<float>.Shared.Return(outBuf);
            }
            ArrayPool<float>.Shared.Return(col);
        });
    }

    /// <summary>x = convT(y, w), the adjoint of <see cref="Forward(float[], float[], float[], int, ConvGeometry)"/> in x. y: (N,Co,OH,OW), w: (Co,Ci/groups,KH,KW) -> x: (N,Ci,H,W).</summary>
    public static void Transpose(float[] y, float[] w, float[] x, int n, ConvGeometry g)
    {
        if (UsesOwnWinograd(n, g)) { Winograd.BackwardData(y, w, x, n, g); return; }
        if (IsBatchLane(ConvDnnl.Kind.BackwardData, n, g)) { BatchLaneConv.BackwardData(y, w, x, n, g); return; }
        if (IsSmallMap(ConvDnnl.Kind.BackwardData, n, g)) { SmallMapBackwardData(y, w, x, n, g); return; }
        if (IsFewChannelData(n, g)) { FewChannelBackwardData.Run(y, w, x, n, g); return; }
        if (IsFlippedImageLayer(ConvDnnl.Kind.BackwardData, n, g)) { FlippedBackwardData(y, w, x, n, g); return; }
        if (IsImageLayer(ConvDnnl.Kind.BackwardData, n, g)) { ImageConv.BackwardData(y, w, x, n, g); return; }
        if (DnnlRuns(ConvDnnl.Kind.BackwardData, g) && ConvDnnl.TryRun(ConvDnnl.Kind.BackwardData, y, w, x, n, g)) return;
        if (IsDense(g)) { Gemm.Sgemm(false, false, n, g.K, g.Co, 1f, y, g.Co, w, g.K, 0f, x, g.K); return; }
        if (IsPointwise(g))
        {
            var (ci, co, ps) = (g.Ci, g.Co, g.P);
            ForEachSample(n, s => Gemm.Sgemm(true, false, ci, ps, co, 1f, w, ci, y.AsSpan(s * co * ps, co * ps), ps, 0f, x.AsSpan(s * ci * ps, ci * ps), ps));
            return;
        }
        int nb = ChunkSize(n, g), k = g.K, p = g.P;
        ForSampleChunks(n, nb, (_, n0, cnt) =>
        {
            int l = cnt * p;
            var col = ArrayPool<float>.Shared.Rent(g.Groups * k * l);
            var yT = cnt == 1 ? y : ArrayPool<float>.Shared.Rent(g.Co * l);
            int yOff = cnt == 1 ? n0 * g.Co * p : 0;
            if (cnt > 1) GatherFeatures(y, yT, n0, cnt, g);
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm.SgemmSerial(true, false, k, l, g.CoG, 1f, w.AsSpan(gi * g.CoG * k, g.CoG * k), k,
                    yT.AsSpan(yOff + gi * g.CoG * l, g.CoG * l), l, 0f, col.AsSpan(gi * k * l, k * l), l);
            for (int s = 0; s < cnt; s++)
                for (int gi = 0; gi < g.Groups; gi++)
                {
                    var xs = x.AsSpan(((n0 + s) * g.Ci + gi * g.CiG) * g.H * g.W, g.CiG * g.H * g.W);
                    xs.Clear();
                    Im2Col.Backward(col.AsSpan(gi * k * l, k * l), l, s * p, xs, g);
                }
            if (cnt > 1) ArrayPool<float>.Shared.Return(yT);
            ArrayPool<float>.Shared.Return(col);
        });
    }

    /// <summary>dw = convW(x, gy), the adjoint of <see cref="Forward(float[], float[], float[], int, ConvGeometry)"/> in w. x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci/groups,KH,KW).</summary>
    public static void WeightGrad(float[] x, float[] gy, float[] dw, int n, ConvGeometry g)
    {
        if (UsesOwnWinograd(n, g)) { Winograd.WeightGrad(x, gy, dw, n, g); return; }
        if (IsBatchLane(ConvDnnl.Kind.BackwardWeights, n, g)) { BatchLaneConv.WeightGrad(x, gy, dw, n, g); return; }
        if (IsFlippedImageLayer(ConvDnnl.Kind.BackwardWeights, n, g)) { FlippedWeightGrad(x, gy, dw, n, g); return; }
        if (IsDirect(ConvDnnl.Kind.BackwardWeights, n, g)) { DirectConv.WeightGrad(x, gy, dw, n, g); return; }
        if (IsImageLayer(ConvDnnl.Kind.BackwardWeights, n, g)) { ImageConv.WeightGrad(x, gy, dw, n, g); return; }
        if (IsSmallMap(ConvDnnl.Kind.BackwardWeights, n, g)) { SmallMapWeightGrad(x, gy, dw, n, g); return; }
        if (DnnlRuns(ConvDnnl.Kind.BackwardWeights, g) && ConvDnnl.TryRun(ConvDnnl.Kind.BackwardWeights, x, gy, dw, n, g)) return;
        if (IsDense(g)) { Gemm.Sgemm(true, false, g.Co, g.K, n, 1f, gy, g.Co, x, g.K, 0f, dw, g.K); return; }
        if (IsPointwise(g) && n < 2 * Threading.Threads)
        {
            // Few samples: their products one after another, each on all the threads, summing into dw.
            for (int s = 0; s < n; s++)
                Gemm.Sgemm(false, true, g.Co, g.Ci, g.P, 1f, gy.AsSpan(s * g.Co * g.P, g.Co * g.P), g.P,
                    x.AsSpan(s * g.Ci * g.P, g.Ci * g.P), g.P, s == 0 ? 0f : 1f, dw, g.Ci);
            return;
        }
        int nb = ChunkSize(n, g), k = g.K, p = g.P, size = g.Co * k;
        // Each thread accumulates into its own buffer (thread 0 into dw); the partial sums are added at the end.
        int parts = Threading.ChunkCount(n);
        var partial = new float[parts][];
        partial[0] = dw;
        for (int t = 1; t < parts; t++) partial[t] = ArrayPool<float>.Shared.Rent(size);
        for (int t = 0; t < parts; t++) Array.Clear(partial[t], 0, size);
        if (IsPointwise(g))
            // Each thread sums its samples' products dy[s]·x[s]ᵀ (Co x P by P x Ci) into its own buffer.
            Threading.ForRanges(n, (t, s0, s1) =>
            {
                for (int s = s0; s < s1; s++)
                    Gemm.SgemmSerial(false, true, g.Co, g.Ci, p, 1f, gy.AsSpan(s * g.Co * p, g.Co * p), p,
                        x.AsSpan(s * g.Ci * p, g.Ci * p), p, 1f, partial[t].AsSpan(0, size), g.Ci);
            });
        else ForSampleChunks(n, nb, (t, n0, cnt) =>
        {
            int l = cnt * p;
            var col = ArrayPool<float>.Shared.Rent(g.Groups * k * l);
            var gT = cnt == 1 ? gy : ArrayPool<float>.Shared.Rent(g.Co * l);
            int gOff = cnt == 1 ? n0 * g.Co * p : 0;
            for (int s = 0; s < cnt; s++)
                for (int gi = 0; gi < g.Groups; gi++)
                    Im2Col.Forward(x.AsSpan(((n0 + s) * g.Ci + gi * g.CiG) * g.H * g.W, g.CiG * g.H * g.W),
                        col.AsSpan(gi * k * l, k * l), l, s * p, g);
            if (cnt > 1) GatherFeatures(gy, gT, n0, cnt, g);
            for (int gi = 0; gi < g.Groups; gi++)
                Gemm.SgemmSerial(false, true, g.CoG, k, l, 1f, gT.AsSpan(gOff + gi * g.CoG * l, g.CoG * l), l,
                    col.AsSpan(gi * k * l, k * l), l, 1f, partial[t].AsSpan(gi * g.CoG * k, g.CoG * k), k);
            if (cnt > 1) ArrayPool<float>.Shared.Return(gT);
            ArrayPool<float>.Shared.Return(col);
        });
        for (int t = 1; t < parts; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dw.AsSpan(0, size), partial[t].AsSpan(0, size), dw.AsSpan(0, size));
            ArrayPool<float>.Shared.Return(partial[t]);
        }
    }

    // The batch's im2col: x (N,Ci,H,W) -> col (K, N·P), sample s in columns [s·P, (s+1)·P). The channels over the
    // threads, each filling its KH·KW rows front to back with one gather per sample: a sample at a time through
    // Im2Col.Forward wrote P floats into each of K rows a page apart and took 6-9 ms, the rows' copies of 1-4 values 4 ms.
    static unsafe float[] BatchColumns(float[] x, int n, in ConvGeometry g)
    {
        var col = ArrayPool<float>.Shared.Rent(g.K * n * g.P);
        var geometry = g;
        Threading.ForRanges(g.Ci, (_, c0, c1) =>
        {
            fixed (float* px = x, pcol = col) Im2Col.ForwardChannelsSmallMap(px, n, c0, c1, pcol, geometry);
        });
        return col;
    }

    // x: (N,Ci,H,W), w: (Co,K) -> y: (N,Co,OH,OW) as y' = w·col, (Co, N·P), then (Co, N, P) -> (N, Co, P).
    static void SmallMapForward(float[] x, float[] w, float[] y, int n, in ConvGeometry g)
    {
        if (RunsInCachedChunks(ConvDnnl.Kind.Forward, g)) { CachedChunksForward(x, w, y, n, g); return; }
        int k = g.K, p = g.P, l = n * p, co = g.Co;
        var col = BatchColumns(x, n, g);
        var yT = ArrayPool<float>.Shared.Rent(co * l);
        Gemm.Sgemm(false, false, co, l, k, 1f, w, k, col, l, 0f, yT, l);
        var geometry = g;
        Threading.For(n, s => ScatterFeatures(yT, y, 0, n, s, geometry));
        ArrayPool<float>.Shared.Return(yT);
        ArrayPool<float>.Shared.Return(col);
    }

    /// <summary>
    /// The col of SmallMapBackwardData, at most this many floats (16 MB by default; tests lower it): a batch whose col is
    /// larger runs in chunks of samples. Generation's batch of 256 in one product held dcgan64's 128 MB col and took its
    /// peak from 433 to 664 MB; in chunks of 16 MB, 456 MB, as fast (457 and 427 images/s against 454 and 426; 32 MB
    /// chunks 475 MB).
    /// </summary>
    internal static int BackwardColumnsBudget { get; set; } = 1 << 22;

    // gy: (N,Co,OH,OW), w: (Co,K) -> x: (N,Ci,H,W): col = wᵀ·gy' (K, N·P) in one product per chunk of samples, then each
    // input position the sum of the taps that read it.
    static unsafe void SmallMapBackwardData(float[] gy, float[] w, float[] x, int n, in ConvGeometry g)
    {
        int k = g.K, co = g.Co, image = g.Ci * g.H * g.W;
        int chunk = Math.Clamp(BackwardColumnsBudget / (k * g.P), 1, n);
        var gT = ArrayPool<float>.Shared.Rent(co * chunk * g.P);
        var col = ArrayPool<float>.Shared.Rent(k * chunk * g.P);
        var geometry = g;
        for (int n0 = 0; n0 < n; n0 += chunk)
        {
            int cnt = Math.Min(chunk, n - n0), l = cnt * g.P;
            GatherFeatures(gy, gT, n0, cnt, g);
            Gemm.Sgemm(true, false, k, l, co, 1f, w, k, gT, l, 0f, col, l);
            Threading.ForRanges(g.Ci, (_, c0, c1) =>
            {
                fixed (float* pcol = col, px = x) Im2Col.BackwardChannelsSmallMap(pcol, cnt, c0, c1, px + (long)n0 * image, geometry);
            });
        }
        ArrayPool<float>.Shared.Return(gT);
        ArrayPool<float>.Shared.Return(col);
    }

    // x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,K) = gy'·colᵀ, the sum over the batch's positions in one product.
    static void SmallMapWeightGrad(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g)
    {
        if (RunsInCachedChunks(ConvDnnl.Kind.BackwardWeights, g)) { CachedChunksWeightGrad(x, gy, dw, n, g); return; }
        int k = g.K, p = g.P, l = n * p, co = g.Co;
        var col = BatchColumns(x, n, g);
        var gT = ArrayPool<float>.Shared.Rent(co * l);
        GatherFeatures(gy, gT, 0, n, g);
        Gemm.Sgemm(false, true, co, k, l, 1f, gT, l, col, l, 0f, dw, k);
        ArrayPool<float>.Shared.Return(gT);
        ArrayPool<float>.Shared.Return(col);
    }

    // Runs body(thread, first sample, count, col, features) over each thread's samples in chunks of CachedChunk(n, g)
    // (ForSampleChunks), col holding the chunk's gathered im2col (K, count·P) and features a scratch of (Co, count·P) floats.
    static unsafe void ForCachedChunks(float[] x, int n, ConvGeometry g, Action<int, int, int, float[], float[]> body)
    {
        int image = g.Ci * g.H * g.W;
        ForSampleChunks(n, CachedChunk(n, g), (t, s, cnt) =>
        {
            var col = ArrayPool<float>.Shared.Rent(g.K * cnt * g.P);
            var features = ArrayPool<float>.Shared.Rent(g.Co * cnt * g.P);
            fixed (float* px = x, pcol = col) Im2Col.ForwardChannelsSmallMap(px + (long)s * image, cnt, 0, g.Ci, pcol, g);
            body(t, s, cnt, col, features);
            ArrayPool<float>.Shared.Return(features);
            ArrayPool<float>.Shared.Return(col);
        });
    }

    // x -> y in cached chunks: y' = w·col (Co, cnt·P), then each sample's (Co, P) to y.
    static void CachedChunksForward(float[] x, float[] w, float[] y, int n, in ConvGeometry g)
    {
        var geometry = g;
        ForCachedChunks(x, n, g, (_, s, cnt, col, yT) =>
        {
            int l = cnt * geometry.P;
            Gemm.SgemmSerial(false, false, geometry.Co, l, geometry.K, 1f, w, geometry.K, col, l, 0f, yT, l);
            for (int j = 0; j < cnt; j++) ScatterFeatures(yT, y, s, cnt, j, geometry);
        });
    }

    // x, gy -> dw in cached chunks, each thread summing its chunks' gy'·colᵀ into its own buffer (thread 0 into dw), the
    // buffers added at the end.
    static void CachedChunksWeightGrad(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g)
    {
        int size = g.Co * g.K;
        var partial = new float[Threading.ChunkCount(n)][];
        partial[0] = dw;
        for (int t = 1; t < partial.Length; t++) partial[t] = ArrayPool<float>.Shared.Rent(size);
        foreach (var buffer in partial) Array.Clear(buffer, 0, size);
        var geometry = g;
        ForCachedChunks(x, n, g, (t, s, cnt, col, gT) =>
        {
            int l = cnt * geometry.P;
            GatherFeatures(gy, gT, s, cnt, geometry);
            Gemm.SgemmSerial(false, true, geometry.Co, geometry.K, l, 1f, gT, l, col, l, 1f, partial[t].AsSpan(0, size), geometry.K);
        });
        for (int t = 1; t < partial.Length; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dw.AsSpan(0, size), partial[t].AsSpan(0, size), dw.AsSpan(0, size));
            ArrayPool<float>.Shared.Return(partial[t]);
        }
    }

    // The inverse of GatherFeatures for sample s of the chunk: (Co, cnt*P) -> its (Co, P) in y at sample n0 + s.
    static void ScatterFeatures(float[] yT, float[] y, int n0, int cnt, int s, in ConvGeometry g)
    {
        int p = g.P, l = cnt * p;
        for (int o = 0; o < g.Co; o++) yT.AsSpan(o * l + s * p, p).CopyTo(y.AsSpan(((n0 + s) * g.Co + o) * p, p));
    }

    // (cnt, Co, P) slice of y starting at sample n0 -> (Co, cnt*P)
    static void GatherFeatures(float[] y, float[] yT, int n0, int cnt, ConvGeometry g)
    {
        int p = g.P, l = cnt * p;
        for (int s = 0; s < cnt; s++)
            for (int o = 0; o < g.Co; o++)
                y.AsSpan(((n0 + s) * g.Co + o) * p, p).CopyTo(yT.AsSpan(o * l + s * p, p));
    }

    /// <summary>Direct 7-loop convolution, the reference for tests. Shapes as <see cref="Forward(float[], float[], float[], int, ConvGeometry)"/>.</summary>
    public static void ForwardNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int n, in ConvGeometry g)
    {
        for (int b = 0; b < n; b++)
            for (int o = 0; o < g.Co; o++)
            {
                int gi = o / g.CoG;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        double s = 0;
                        for (int c = 0; c < g.CiG; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    s += x[((b * g.Ci + gi * g.CiG + c) * g.H + ih) * g.W + iw] * w[((o * g.CiG + c) * g.KH + kh) * g.KW + kw];
                                }
                        y[((b * g.Co + o) * g.OH + oh) * g.OW + ow] = (float)s;
                    }
            }
    }

    /// <summary>Direct scatter form of <see cref="Transpose"/>, the reference for tests.</summary>
    public static void TransposeNaive(ReadOnlySpan<float> y, ReadOnlySpan<float> w, Span<float> x, int n, in ConvGeometry g)
    {
        x[..(n * g.Ci * g.H * g.W)].Clear();
        for (int b = 0; b < n; b++)
            for (int o = 0; o < g.Co; o++)
            {
                int gi = o / g.CoG;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        float v = y[((b * g.Co + o) * g.OH + oh) * g.OW + ow];
                        for (int c = 0; c < g.CiG; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    x[((b * g.Ci + gi * g.CiG + c) * g.H + ih) * g.W + iw] += v * w[((o * g.CiG + c) * g.KH + kh) * g.KW + kw];
                                }
                    }
            }
    }

    /// <summary>Direct form of <see cref="WeightGrad"/>, the reference for tests.</summary>
    public static void WeightGradNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> dw, int n, in ConvGeometry g)
    {
        dw[..(g.Co * g.K)].Clear();
        for (int b = 0; b < n; b++)
            for (int o = 0; o < g.Co; o++)
            {
                int gi = o / g.CoG;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        float v = gy[((b * g.Co + o) * g.OH + oh) * g.OW + ow];
                        for (int c = 0; c < g.CiG; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    dw[((o * g.CiG + c) * g.KH + kh) * g.KW + kw] += v * x[((b * g.Ci + gi * g.CiG + c) * g.H + ih) * g.W + iw];
                                }
                    }
            }
    }
}
