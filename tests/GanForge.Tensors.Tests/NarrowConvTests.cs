using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// Convolutions with one to four output channels (a generator's RGB layer, a PatchGAN's head) run the direct kernels of
/// <see cref="NarrowConv"/> for their forward and weight gradient: each against the naive kernels on outputs poisoned
/// with NaN, and the rule's reach. Shares the backend collection: it switches process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public class NarrowConvTests
{
    // (Ci, H, W, Co, K, pad, n)
    public static TheoryData<int, int, int, int, int, int, int> Layers => new()
    {
        { 64, 38, 38, 3, 7, 0, 2 },    // cyclegan32's output layer after its reflection padding: 32 x 32, two vectors a row
        { 128, 15, 15, 1, 4, 1, 3 },   // a PatchGAN's 1-channel head: 14 x 14, one partial vector, zero padding
        { 16, 20, 20, 3, 9, 4, 2 },    // SRGAN's 9 x 9 output layer, narrower: 20 x 20, the kernel's reach past a vector
        { 8, 9, 17, 4, 3, 1, 2 },      // four channels, a 9 x 17 map: a last row block of one row, a second vector of one lane
        { 5, 6, 33, 2, 5, 2, 1 },      // two channels, 6 x 33: three vectors, rows fewer than a block
    };

    [Theory, MemberData(nameof(Layers))]
    public void NarrowLayer_ForwardAndWeightGradient_MatchNaive(int ci, int h, int w, int co, int k, int pad, int n)
    {
        if (!Avx512F.IsSupported) return;
        int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
        var g = new ConvGeometry(ci, h, w, co, oh, ow, k, k, 1, 1, pad, pad, 1, 1, 1);
        Assert.Equal("narrow", Conv.Picks(ConvDnnl.Kind.Forward, n, g));
        Assert.Equal("narrow", Conv.Picks(ConvDnnl.Kind.BackwardWeights, n, g));
        var gen = new Generator(41);
        var (x, wt, gy) = (Tensor.Randn([n, ci, h, w], gen), Tensor.Randn([co, ci, k, k], gen), Tensor.Randn([n, co, oh, ow], gen));

        var y = Tensor.Full(gy.Shape, float.NaN);
        Conv.Forward(x.Storage, wt.Storage, y.Storage, n, g);
        var yRef = new Tensor(gy.Shape);
        Conv.ForwardNaive(x.Data, wt.Data, yRef.Data, n, g);
        Fixtures.AssertClose(yRef, y, 1e-4, 1e-4, $"{ci} -> {co} k{k} p{pad} forward");

        var dw = Tensor.Full(wt.Shape, float.NaN);
        Conv.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
        var dwRef = new Tensor(wt.Shape);
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-3, $"{ci} -> {co} k{k} p{pad} weight gradient");
    }

    // Not reached: five channels, stride 2, dilation, maps under 4 x 8 (DCGAN's 1 x 1 head), 1 x 1 kernels (StyleGAN's
    // toRGB), the backward-data, a forced backend, and the switch off.
    [Fact]
    public void NarrowRule_OutsideItsReach_LeavesTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var rgb = new ConvGeometry(64, 38, 38, 3, 32, 32, 7, 7, 1, 1, 0, 0, 1, 1, 1);
        Assert.Equal("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.BackwardData, 4, rgb));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb with { Co = 5 }));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 4, new ConvGeometry(64, 38, 38, 3, 16, 16, 7, 7, 2, 2, 0, 0, 1, 1, 1)));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 4, new ConvGeometry(64, 38, 38, 3, 26, 26, 7, 7, 1, 1, 0, 0, 2, 2, 1)));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 64, new ConvGeometry(512, 4, 4, 1, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1, 1)));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 64, new ConvGeometry(512, 10, 10, 1, 7, 7, 4, 4, 1, 1, 0, 0, 1, 1, 1)));
        Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 32, new ConvGeometry(64, 32, 32, 1, 32, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1)));
        var (forced, narrow) = (Conv.ForceManaged, Conv.NarrowKernels);
        try
        {
            Conv.ForceManaged = true;
            Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb));
            Conv.ForceManaged = forced;
            Conv.NarrowKernels = false;
            Assert.NotEqual("narrow", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb));
        }
        finally { (Conv.ForceManaged, Conv.NarrowKernels) = (forced, narrow); }
    }
}
