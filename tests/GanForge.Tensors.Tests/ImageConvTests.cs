using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The three kernels of layers on an image (at most four input channels into more than four), with AVX-512:
/// <see cref="ImageConv"/> against the naive kernels on outputs poisoned with NaN, the bias its forward starts from, the
/// layers through <see cref="Conv"/> and autograd (a gradient penalty's second order too), and the rule's reach. Shares the backend collection: it
/// switches process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public class ImageConvTests
{
    // (Ci, H, W, Co, KH, KW, stride, pad, n)
    public static TheoryData<int, int, int, int, int, int, int, int, int> Layers => new()
    {
        { 1, 28, 28, 64, 4, 4, 2, 1, 3 },    // dcgan28's and wgangp28's first layer: 14 x 14, one partial vector a row
        { 1, 64, 64, 64, 4, 4, 2, 1, 2 },    // dcgan64's: 32 x 32, two whole vectors a row
        { 3, 32, 32, 64, 7, 7, 1, 3, 2 },    // an RGB 7 x 7 layer, stride 1: 147 taps, the last block of four overlapping
        { 2, 9, 11, 5, 3, 3, 1, 1, 2 },      // five channels (the last block overlapping), 18 taps, 9 x 11
        { 4, 20, 37, 7, 3, 3, 2, 1, 3 },     // four channels, stride 2, odd sizes: 10 x 19, a second vector of 3 lanes
        { 3, 20, 40, 8, 5, 4, 3, 1, 2 },     // stride 3 (its rows gathered a float at a time), a 5 x 4 kernel: 6 x 13
        { 1, 12, 70, 6, 3, 3, 1, 1, 1 },     // three vectors a row (70 = 4 · 16 + 6), one sample
    };

    [Theory, MemberData(nameof(Layers))]
    public void ImageLayer_ForwardWeightGradientAndBackwardData_MatchNaive(int ci, int h, int w, int co, int kh, int kw, int stride, int pad, int n)
    {
        if (!Avx512F.IsSupported) return;
        var g = Geometry(ci, h, w, co, kh, kw, stride, pad);
        Assert.True(ImageConv.Suits(g));
        foreach (var kind in new[] { ConvDnnl.Kind.Forward, ConvDnnl.Kind.BackwardWeights, ConvDnnl.Kind.BackwardData })
            Assert.Equal("image", Conv.Picks(kind, n, g));
        var gen = new Generator(43);
        var (x, wt, gy) = (Tensor.Randn([n, ci, h, w], gen), Tensor.Randn([co, ci, kh, kw], gen), Tensor.Randn([n, co, g.OH, g.OW], gen));

        ConvKernelChecks.ForwardAndWeightGradientMatchNaive(x, wt, gy, n, g, (a, b, y, m, geo) => ImageConv.Forward(a, b, null, y, m, geo),
            ImageConv.WeightGrad, $"{ci} -> {co} k{kh}x{kw} s{stride} p{pad}");

        // The bias is where each sum starts, through the kernel and through Conv.Forward's overload that takes it.
        var bias = Tensor.Randn([co], gen);
        var expected = new Tensor(n, co, g.OH, g.OW);
        Conv.ForwardNaive(x.Data, wt.Data, expected.Data, n, g);
        for (int i = 0; i < expected.Numel; i++) expected.Data[i] += bias.Data[i / (g.OH * g.OW) % co];
        var y = Tensor.Full([n, co, g.OH, g.OW], float.NaN);
        Conv.Forward(x.Storage, wt.Storage, bias.Storage, y.Storage, n, g);
        Fixtures.AssertClose(expected, y, 1e-4, 1e-4, "Conv.Forward with a bias");

        // The backward-data sums Co products a column (the atol of ConvKernelChecks for that depth).
        var dxRef = new Tensor(n, ci, h, w);
        Conv.TransposeNaive(gy.Data, wt.Data, dxRef.Data, n, g);
        var dx = Tensor.Full([n, ci, h, w], float.NaN);
        ImageConv.BackwardData(gy.Storage, wt.Storage, dx.Storage, n, g);
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(co * kh * kw / 256.0)), "backward-data");
        var viaConv = Tensor.Full([n, ci, h, w], float.NaN);
        Conv.Transpose(gy.Storage, wt.Storage, viaConv.Storage, n, g);
        Fixtures.AssertClose(dxRef, viaConv, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(co * kh * kw / 256.0)), "Conv.Transpose");
    }

    // dcgan28's discriminator layer in a graph, conv with a bias then LeakyReLU: the output and a gradient penalty's
    // gradients (its second order runs all three kernels) the same as on the paths the rule took before.
    [Fact]
    public void ImageLayer_InAGraph_MatchesTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var gen = new Generator(44);
        var x = Tensor.Randn([5, 1, 28, 28], gen);
        var w = Tensor.Randn([64, 1, 4, 4], gen) * 0.2f;
        var b = Tensor.Randn([64], gen);
        (Tensor y, Tensor dx, Tensor dw, Tensor db) Run()
        {
            var (xi, wi, bi) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_(), b.Detach().RequiresGrad_());
            var y = Tensor.Conv2d(xi, wi, bi, stride: 2, padding: 1).LeakyRelu(0.2f);
            var gx = Autograd.Grad(y.Square().Sum(), xi, createGraph: true);
            gx.Square().Sum().Backward();
            return (y.Detach(), xi.Grad!, wi.Grad!, bi.Grad!);
        }
        var (forward, weights, data) = (Conv.ImageForwards, Conv.ImageWeightGrads, Conv.ImageBackwardData);
        var ours = Run();
        try
        {
            (Conv.ImageForwards, Conv.ImageWeightGrads, Conv.ImageBackwardData) = (false, false, false);
            var before = Run();
            Fixtures.AssertClose(before.y, ours.y, 1e-4, 1e-4, "y");
            Fixtures.AssertClose(before.dx, ours.dx, 1e-3, 1e-3, "dx of the penalty");
            Fixtures.AssertClose(before.dw, ours.dw, 1e-3, 1e-3, "dw of the penalty");
            Fixtures.AssertClose(before.db, ours.db, 1e-3, 1e-3, "db of the penalty");
        }
        finally { (Conv.ImageForwards, Conv.ImageWeightGrads, Conv.ImageBackwardData) = (forward, weights, data); }
    }

    // Not reached: four output channels or fewer (DirectConv's), five input channels, dilation, groups, a forced backend,
    // and the switches off. Refused by name and shape where it cannot compute a layer or its buffers are too small.
    [Fact]
    public void ImageRule_OutsideItsReach_LeavesTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var d28 = Geometry(1, 28, 28, 64, 4, 4, 2, 1);
        Assert.Equal("image", Conv.Picks(ConvDnnl.Kind.Forward, 128, d28));
        Assert.Equal("image", Conv.Picks(ConvDnnl.Kind.BackwardData, 128, d28));
        Assert.Equal("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, Geometry(3, 32, 32, 4, 4, 4, 2, 1)));
        Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.Forward, 4, Geometry(5, 32, 32, 64, 4, 4, 2, 1)));
        Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.Forward, 4, d28 with { OH = 12, OW = 12, DH = 2, DW = 2 }));
        Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.Forward, 4, d28 with { Ci = 2, Co = 64, Groups = 2 }));
        var (forced, forward, weights, data) = (Conv.ForceManaged, Conv.ImageForwards, Conv.ImageWeightGrads, Conv.ImageBackwardData);
        try
        {
            Conv.ForceManaged = true;
            Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.Forward, 128, d28));
            Conv.ForceManaged = forced;
            Conv.ImageForwards = false;
            Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.Forward, 128, d28));
            Assert.Equal("image", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 128, d28));
            Conv.ImageWeightGrads = false;
            Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 128, d28));
            Assert.Equal("image", Conv.Picks(ConvDnnl.Kind.BackwardData, 128, d28));
            Conv.ImageBackwardData = false;
            Assert.NotEqual("image", Conv.Picks(ConvDnnl.Kind.BackwardData, 128, d28));
        }
        finally { (Conv.ForceManaged, Conv.ImageForwards, Conv.ImageWeightGrads, Conv.ImageBackwardData) = (forced, forward, weights, data); }

        var five = Geometry(5, 8, 8, 16, 4, 4, 2, 1);
        Assert.False(ImageConv.Suits(five));
        var e = Assert.Throws<ArgumentException>(() => ImageConv.Forward(new float[5 * 64], new float[16 * 5 * 16], null, new float[16 * 16], 1, five));
        Assert.Contains("ImageConv.Forward", e.Message);
        Assert.Contains("5->16", e.Message);

        // Buffers too small for the batch are refused before any pointer reads them: one sample short of output.
        var d4 = Geometry(1, 28, 28, 64, 4, 4, 2, 1);
        var shortOut = Assert.Throws<ArgumentException>(() => ImageConv.Forward(new float[2 * 784], new float[64 * 16], null, new float[64 * 196], 2, d4));
        Assert.Contains("ImageConv.Forward", shortOut.Message);
        Assert.Contains("maps 25088", shortOut.Message);
        Assert.Throws<ArgumentException>(() => ImageConv.WeightGrad(new float[784], new float[2 * 64 * 196], new float[64 * 16], 2, d4));
        Assert.Throws<ArgumentException>(() => ImageConv.BackwardData(new float[2 * 64 * 196], new float[63 * 16], new float[2 * 784], 2, d4));
    }

    static ConvGeometry Geometry(int ci, int h, int w, int co, int kh, int kw, int stride, int pad) =>
        new(ci, h, w, co, (h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1, kh, kw, stride, stride, pad, pad, 1, 1, 1);
}
