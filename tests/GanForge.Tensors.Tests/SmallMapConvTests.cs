using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// Convolutions with tiny output maps (at most 16 positions a sample, dcgan64's 4 x 4 layer), or small ones (up to 64) in
/// a small batch (cyclegan32's 8 x 8 residual blocks at batch 4), run their forward and weight gradient as one GEMM over
/// the batch, after a gathered im2col (without AVX-512 their backward-data too, before a gathered col2im; and where the
/// weights fit L2, the forward and weight gradient in per-thread chunks that stay in cache): each against the naive kernels, the gathered
/// im2col and col2im against the row-by-row ones, and the rule's reach. Shares the backend collection: it switches
/// <see cref="Conv.SmallMapGemms"/> and <see cref="Conv.CachedChunks"/>, process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public unsafe class SmallMapConvTests
{
    // (Ci, H, Co, K, stride, pad, dilation, n): output maps of 16 and of 9 positions (a partial gather).
    public static TheoryData<int, int, int, int, int, int, int, int> Layers => new()
    {
        { 64, 8, 64, 4, 2, 1, 1, 32 },    // dcgan64's last 4 x 4 layer, narrower: 4 x 4 from 8 px, padding masked
        { 64, 8, 80, 4, 2, 0, 1, 64 },    // 3 x 3 maps: 9 of the 16 lanes stored
        { 128, 5, 64, 3, 2, 1, 1, 128 },  // 3 x 3 maps from 5 px, stride 2
        { 128, 8, 64, 3, 2, 1, 2, 64 },   // dilated taps: 3 x 3 maps, dilation 2
        { 128, 10, 64, 3, 1, 0, 1, 4 },   // cyclegan32's residual block, narrower: 8 x 8 maps at batch 4 (256 positions)
        { 128, 9, 64, 3, 1, 0, 1, 5 },    // 7 x 7 maps: 49 positions, the last gather of one lane
        { 128, 16, 64, 3, 2, 1, 1, 4 },   // cyclegan32's downsampling: 8 x 8 from 16 px, stride 2, padding masked
        { 128, 8, 64, 4, 2, 1, 1, 32 },   // 2,048 products an output: the forward's one GEMM without AVX-512 too
        { 128, 16, 64, 4, 2, 1, 1, 8 },   // the same on 8 x 8 maps (dcgan64's 128 -> 256, narrower): on oneDNN where AVX2 runs in halves
        { 64, 14, 64, 4, 2, 1, 1, 12 },   // dcgan28's 7 x 7 maps, 588 positions: the weight gradient's without AVX-512
    };

    // A Layers row's geometry: square maps and kernel, one group.
    static ConvGeometry Square(int ci, int h, int co, int k, int stride, int pad, int dilation)
    {
        int o = (h + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
        return new ConvGeometry(ci, h, h, co, o, o, k, k, stride, stride, pad, pad, dilation, dilation, 1);
    }

    [Theory, MemberData(nameof(Layers))]
    public void SmallMapLayer_ForwardAndWeightGradient_MatchNaive(int ci, int h, int co, int k, int stride, int pad, int dilation, int n)
    {
        var g = Square(ci, h, co, k, stride, pad, dilation);
        int o = g.OH;
        var gen = new Generator(31);
        var (x, w, gy) = (Tensor.Randn([n, ci, h, h], gen), Tensor.Randn([co, ci, k, k], gen), Tensor.Randn([n, co, o, o], gen));
        var dxRef = new Tensor(x.Shape);
        Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
        // Without AVX-512 every row's weights fit L2 (at most 128 x 1,024 floats): the forward (where asked for) and weight
        // gradient in per-thread chunks, and with the chunks off as the one GEMM's rule takes them.
        // The tiny maps' one GEMM too where this processor leaves them to oneDNN (a Zen 4: Conv.TinyMapGemms).
        var previous = (Conv.CachedChunks, Conv.CachedChunkForwards, Conv.TinyMapGemms);
        try
        {
            Conv.TinyMapGemms = true;
            foreach (bool chunks in new[] { true, false })
            {
                (Conv.CachedChunks, Conv.CachedChunkForwards) = (chunks, chunks);
                // Every row takes the one GEMM for both kernels with the AVX-512 GEMM but the last (49 a map in 588
                // positions); without it, the weight gradients of 512 positions or more and the 2,048-product forward and
                // backward-data, and in chunks every forward and weight gradient.
                string path = chunks && !Gemm.RunsAvx512 ? "chunks" : "gemm";
                if (Avx2.IsSupported)
                    foreach (var kind in new[] { ConvDnnl.Kind.Forward, ConvDnnl.Kind.BackwardWeights, ConvDnnl.Kind.BackwardData })
                        if (Conv.SmallMapShape(kind, n, g, Gemm.RunsAvx512))
                            Assert.Equal(kind == ConvDnnl.Kind.BackwardData ? "gemm" : path, Conv.Picks(kind, n, g));
                // Elsewhere the backward-data stays on oneDNN (or, 3 x 3 stride 1 without AVX-512, on our Winograd).
                if (Conv.DnnlAvailable && !(Avx2.IsSupported && Conv.SmallMapShape(ConvDnnl.Kind.BackwardData, n, g, Gemm.RunsAvx512)))
                    Assert.Contains(Conv.Picks(ConvDnnl.Kind.BackwardData, n, g), new[] { "dnnl", "winograd" });

                ConvKernelChecks.ForwardAndWeightGradientMatchNaive(x, w, gy, n, g, Conv.Forward, Conv.WeightGrad, $"{ci} -> {co} to {o} x {o}, {path}");

                var dx = Tensor.Full(x.Shape, float.NaN);
                Conv.Transpose(gy.Storage, w.Storage, dx.Storage, n, g);
                Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4, $"{ci} -> {co} to {o} x {o} backward-data, {path}");
            }
        }
        finally { (Conv.CachedChunks, Conv.CachedChunkForwards, Conv.TinyMapGemms) = previous; }
    }

    // Without AVX-512 (OpenBLAS's GEMM against oneDNN's jit:avx2 kernels) the one GEMM takes every weight gradient of maps
    // of at most 64 positions in batches of 512 positions or more, and the forward and backward-data where an output sums
    // 2,048 products or more; with it, the shapes measured there (never the backward-data). The shape rule on both sides,
    // whichever this processor runs.
    [Fact]
    public void SmallMapShape_WithAndWithoutAvx512_ReachesTheLayersMeasuredOnEach()
    {
        var (forward, weights, data) = (ConvDnnl.Kind.Forward, ConvDnnl.Kind.BackwardWeights, ConvDnnl.Kind.BackwardData);
        var dcgan28 = new ConvGeometry(64, 14, 14, 128, 7, 7, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var dcgan64Conv3 = new ConvGeometry(128, 16, 16, 256, 8, 8, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var dcgan64Conv4 = new ConvGeometry(256, 8, 8, 512, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var cycleganDown2 = new ConvGeometry(128, 16, 16, 256, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1);
        var dcgan64Conv2 = new ConvGeometry(64, 32, 32, 128, 16, 16, 4, 4, 2, 2, 1, 1, 1, 1, 1);

        // dcgan28's weights fit L2: its weight gradient in chunks, at any batch (no col of the whole batch), and its forward
        // too where asked for (by default on oneDNN, the thirty-sixth pass); its backward-data (1,024 products an output)
        // stays on oneDNN, faster than one GEMM and, in a step, than chunks. With the chunks off the forward (1,024
        // products) stays on oneDNN too.
        Assert.True(Conv.InCachedChunks(dcgan28));
        Assert.False(Conv.SmallMapShape(forward, 128, dcgan28, avx512Gemm: false));
        var previous = (Conv.CachedChunks, Conv.CachedChunkForwards);
        try
        {
            Conv.CachedChunkForwards = true;
            foreach (var kind in new[] { forward, weights })
            {
                Assert.True(Conv.SmallMapShape(kind, 128, dcgan28, avx512Gemm: false));
                Assert.True(Conv.SmallMapShape(kind, 1024, dcgan28, avx512Gemm: false));   // a 205 MB col in one GEMM
                Assert.False(Conv.SmallMapShape(kind, 10, dcgan28, avx512Gemm: false));    // 490 positions
            }
            Assert.False(Conv.SmallMapShape(data, 128, dcgan28, avx512Gemm: false));
            Conv.CachedChunks = false;
            Assert.True(Conv.SmallMapShape(weights, 128, dcgan28, avx512Gemm: false));
            Assert.False(Conv.SmallMapShape(weights, 1024, dcgan28, avx512Gemm: false));  // the 205 MB col
            Assert.False(Conv.SmallMapShape(forward, 128, dcgan28, avx512Gemm: false));
        }
        finally { (Conv.CachedChunks, Conv.CachedChunkForwards) = previous; }
        Assert.False(Conv.SmallMapShape(weights, 128, dcgan28, avx512Gemm: true));      // 49 a map, 6,272 positions
        Assert.False(Conv.InCachedChunks(dcgan64Conv3));                                 // 256 x 2,048 weights
        // Where the AVX2 units are full width, the 2,048-product forward and backward-data of maps up to 64 positions take
        // the one GEMM; where AVX2 runs in halves (Zen 1) only those of maps of at most 16 positions, the rest on oneDNN.
        var deep = (Conv.DeepGemmForwards, Conv.DeepGemmBackwardData);
        try
        {
            foreach (bool fullWidth in new[] { true, false })
            {
                (Conv.DeepGemmForwards, Conv.DeepGemmBackwardData) = (fullWidth, fullWidth);
                foreach (var g in new[] { dcgan64Conv3, dcgan64Conv4 })
                {
                    bool takes = fullWidth || g.P <= 16;
                    Assert.Equal(takes, Conv.SmallMapShape(forward, 64, g, avx512Gemm: false));
                    Assert.True(Conv.SmallMapShape(weights, 64, g, avx512Gemm: false));
                    Assert.Equal(takes, Conv.SmallMapShape(data, 64, g, avx512Gemm: false));
                    Assert.Equal(takes, Conv.SmallMapShape(data, 256, g, avx512Gemm: false));   // generation's batch
                    Assert.False(Conv.SmallMapShape(data, 64, g, avx512Gemm: true));
                }
                Assert.False(Conv.SmallMapShape(data, 31, dcgan64Conv4, avx512Gemm: false));      // 496 positions
            }
            Conv.DeepGemmForwards = false;   // the AVX-512 GEMM's rule does not read it
            Assert.Equal(Conv.TinyMapGemms, Conv.SmallMapShape(forward, 64, dcgan64Conv4, avx512Gemm: true));
        }
        finally { (Conv.DeepGemmForwards, Conv.DeepGemmBackwardData) = deep; }

        Assert.False(Conv.SmallMapShape(forward, 64, dcgan64Conv3, avx512Gemm: true));
        Assert.False(Conv.SmallMapShape(weights, 4, cycleganDown2, avx512Gemm: false));  // 256 positions
        // With the AVX-512 GEMM the tiny maps in a large batch take it where the processor runs AVX-512 at full width (the
        // Zen 5), not in 256-bit halves (the Zen 4, where oneDNN's kernels were faster); the small batch's 8 x 8 maps either way.
        var tiny = Conv.TinyMapGemms;
        try
        {
            foreach (bool fullWidth in new[] { true, false })
            {
                Conv.TinyMapGemms = fullWidth;
                Assert.Equal(fullWidth, Conv.SmallMapShape(forward, 64, dcgan64Conv4, avx512Gemm: true));
                Assert.Equal(fullWidth, Conv.SmallMapShape(weights, 64, dcgan64Conv4, avx512Gemm: true));
                Assert.True(Conv.SmallMapShape(weights, 4, cycleganDown2, avx512Gemm: true));
                Assert.True(Conv.SmallMapShape(forward, 64, dcgan64Conv4, avx512Gemm: false));   // the AVX2 rule does not read it
            }
        }
        finally { Conv.TinyMapGemms = tiny; }
        Assert.False(Conv.SmallMapShape(weights, 64, dcgan64Conv2, avx512Gemm: false));  // 256 a map
        Assert.False(Conv.SmallMapShape(forward, 1024, dcgan64Conv4, avx512Gemm: false)); // a 256 MB im2col
    }

    // The gathered im2col of every channel (in two channel ranges) against the row-by-row im2col of each sample into the same (K, N·P) layout,
    // on a buffer poisoned with NaN (a value it does not write fails).
    [Theory, MemberData(nameof(Layers))]
    public void GatheredIm2Col_EveryChannel_MatchesRowByRowIm2Col(int ci, int h, int co, int k, int stride, int pad, int dilation, int n)
    {
        if (!Avx2.IsSupported) return;
        var g = Square(ci, h, co, k, stride, pad, dilation);
        n = Math.Min(n, 5);
        var x = Tensor.Randn([n, ci, h, h], new Generator(32)).ToArray();
        int l = n * g.P, image = ci * h * h;
        var expected = new float[g.K * l];
        for (int s = 0; s < n; s++) Im2Col.Forward(x.AsSpan(s * image, image), expected, l, s * g.P, g);
        var gathered = Enumerable.Repeat(float.NaN, g.K * l).ToArray();
        fixed (float* px = x, pcol = gathered)
        {
            Im2Col.ForwardChannelsSmallMap(px, n, 0, ci / 3, pcol, g);     // in two ranges, as the threads split them
            Im2Col.ForwardChannelsSmallMap(px, n, ci / 3, ci, pcol, g);
        }
        Assert.Equal(expected, gathered);
    }

    // Without AVX-512, a backward-data whose col exceeds its budget runs in chunks of samples, each its own product and
    // col2im: with the budget at three samples' col, dcgan64-like 2,048-product maps at batch 32 take 11 chunks (the last
    // of 2), against the naive kernel. (The per-thread cached chunks off: these weights would fit L2.)
    [Fact]
    public void SmallMapBackwardData_InChunks_MatchesNaive()
    {
        var g = new ConvGeometry(128, 8, 8, 64, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        int n = 32;
        if (!Avx2.IsSupported || !Conv.SmallMapShape(ConvDnnl.Kind.BackwardData, n, g, Gemm.RunsAvx512)) return;
        var gen = new Generator(34);
        var (w, gy) = (Tensor.Randn([64, 128, 4, 4], gen), Tensor.Randn([n, 64, 4, 4], gen));
        var (previous, chunks) = (Conv.BackwardColumnsBudget, Conv.CachedChunks);
        var dx = Tensor.Full([n, 128, 8, 8], float.NaN);
        try
        {
            (Conv.BackwardColumnsBudget, Conv.CachedChunks) = (3 * g.K * g.P, false);
            Assert.Equal("gemm", Conv.Picks(ConvDnnl.Kind.BackwardData, n, g));
            Conv.Transpose(gy.Storage, w.Storage, dx.Storage, n, g);
        }
        finally { (Conv.BackwardColumnsBudget, Conv.CachedChunks) = (previous, chunks); }
        var dxRef = new Tensor(n, 128, 8, 8);
        Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4, "backward-data in chunks of 3 samples");
    }

    // The gathered col2im of every channel (in two channel ranges) against the row-by-row col2im of each sample from the
    // same (K, N·P) col, into a buffer poisoned with NaN (a position it does not write fails); the sums of the taps that
    // read a position are taken in another order, so they agree to rounding.
    [Theory, MemberData(nameof(Layers))]
    public void GatheredCol2Im_EveryChannel_MatchesRowByRowCol2Im(int ci, int h, int co, int k, int stride, int pad, int dilation, int n)
    {
        if (!Avx2.IsSupported) return;
        var g = Square(ci, h, co, k, stride, pad, dilation);
        int o = g.OH;
        n = Math.Min(n, 5);
        int l = n * g.P, image = ci * h * h;
        var col = Tensor.Randn([g.K * l], new Generator(33)).ToArray();
        var expected = new float[n * image];
        for (int s = 0; s < n; s++) Im2Col.Backward(col, l, s * g.P, expected.AsSpan(s * image, image), g);
        var gathered = Enumerable.Repeat(float.NaN, n * image).ToArray();
        fixed (float* pcol = col, px = gathered)
        {
            Im2Col.BackwardChannelsSmallMap(pcol, n, 0, ci / 3, px, g);     // in two ranges, as the threads split them
            Im2Col.BackwardChannelsSmallMap(pcol, n, ci / 3, ci, px, g);
        }
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(gathered), 1e-5, 1e-5, $"{ci} -> {co} to {o} x {o} col2im");
    }

    // Where the rule does not reach with the AVX-512 GEMM: the backward-data (oneDNN's kernel was as fast), batches of under 512 positions or
    // of an im2col over 128 MB, maps of more than 16 unless the batch has at most 256 positions, maps of more than 64,
    // Winograd's 3 x 3 stride-1 layers, and the setting off.
    [Fact]
    public void SmallMapRule_OutsideItsReach_LeavesTheOtherBackends()
    {
        if (!Gemm.RunsAvx512 || !Avx2.IsSupported) return;
        var dcgan64 = new ConvGeometry(256, 8, 8, 512, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        // dcgan64's tiny maps: the one GEMM where AVX-512 runs at full width, oneDNN's kernels on a Zen 4 (TinyMapGemms)
        var tiny = Conv.TinyMapGemms;
        try
        {
            Conv.TinyMapGemms = true;
            Assert.Equal("gemm", Conv.Picks(ConvDnnl.Kind.Forward, 64, dcgan64));
            Assert.Equal("gemm", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 64, dcgan64));
            Conv.TinyMapGemms = false;
            if (Conv.DnnlAvailable)
                foreach (var kind in new[] { ConvDnnl.Kind.Forward, ConvDnnl.Kind.BackwardWeights })
                    Assert.Equal("dnnl", Conv.Picks(kind, 64, dcgan64));
        }
        finally { Conv.TinyMapGemms = tiny; }
        if (!Conv.DnnlAvailable) return;
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.BackwardData, 64, dcgan64));
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.Forward, 16, dcgan64));   // 256 positions
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.Forward, 1024, dcgan64));   // a 256 MB im2col
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.Forward, 64, new ConvGeometry(128, 16, 16, 256, 8, 8, 4, 4, 2, 2, 1, 1, 1, 1, 1)));
        var residual = new ConvGeometry(256, 10, 10, 256, 8, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1);
        Assert.Equal("gemm", Conv.Picks(ConvDnnl.Kind.Forward, 4, residual));
        Assert.Equal("gemm", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 4, residual));
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.BackwardData, 4, residual));
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 8, residual));   // 512 positions
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.Forward, 3, new ConvGeometry(256, 11, 11, 256, 9, 9, 3, 3, 1, 1, 0, 0, 1, 1, 1)));   // 81 a map
        var winograd = new ConvGeometry(256, 4, 4, 256, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        Assert.True(ConvDnnl.UsesWinograd(ConvDnnl.Kind.Forward, 64, winograd));
        Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.Forward, 64, winograd));
        var previous = (Conv.SmallMapGemms, Conv.TinyMapGemms);
        try
        {
            (Conv.SmallMapGemms, Conv.TinyMapGemms) = (false, true);
            Assert.Equal("dnnl", Conv.Picks(ConvDnnl.Kind.Forward, 64, dcgan64));
        }
        finally { (Conv.SmallMapGemms, Conv.TinyMapGemms) = previous; }
    }
}
