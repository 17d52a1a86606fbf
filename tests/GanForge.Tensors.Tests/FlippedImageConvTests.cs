using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// A generator's last layer (many channels into at most four, stride 1) seen the other way round: its backward-data as
/// the forward of the layer from the gradient's few channels into the input's many, and its weight gradient as that
/// layer's, both on <see cref="ImageConv"/>'s kernels (Conv's IsFlippedImageLayer). Checked against the naive kernels on
/// outputs poisoned with NaN, and the rule's reach. Shares the backend collection: it switches process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public class FlippedImageConvTests
{
    // (Ci, H, W, Co, K, pad, n, the weight gradient flipped too)
    public static TheoryData<int, int, int, int, int, int, int, bool> Layers => new()
    {
        { 16, 20, 20, 3, 9, 4, 2, true },    // SRGAN's 9 x 9 output layer, narrower: nine taps a row
        { 64, 38, 38, 3, 7, 0, 2, false },   // cyclegan32's after its reflection padding: P' = 6, rows of 38 (three vectors)
        { 128, 15, 15, 1, 4, 1, 3, true },   // a PatchGAN's 1-channel head: 14 x 14 back to 15 x 15
        { 8, 9, 37, 1, 5, 2, 2, true },      // one channel, rows of 37: three vectors, the last of five lanes
        { 5, 7, 12, 2, 3, 0, 1, true },      // two channels, no padding: P' = 2, 5 x 10 back to 7 x 12, one sample
        { 6, 12, 18, 4, 9, 3, 2, true },     // four channels, a padding under half the kernel
        { 8, 6, 6, 1, 3, 2, 2, true },       // the full padding, P = K - 1: P' = 0
    };

    [Theory, MemberData(nameof(Layers))]
    public void FlippedLayer_BackwardDataAndWeightGradient_MatchNaive(int ci, int h, int w, int co, int k, int pad, int n, bool weightsFlipped)
    {
        if (!Avx512F.IsSupported) return;
        int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
        var g = new ConvGeometry(ci, h, w, co, oh, ow, k, k, 1, 1, pad, pad, 1, 1, 1);
        Assert.Equal("flipped", Conv.Picks(ConvDnnl.Kind.BackwardData, n, g));
        Assert.Equal(weightsFlipped, Conv.Picks(ConvDnnl.Kind.BackwardWeights, n, g) == "flipped");
        Assert.NotEqual("flipped", Conv.Picks(ConvDnnl.Kind.Forward, n, g));
        var gen = new Generator(47);
        var (x, wt, gy) = (Tensor.Randn([n, ci, h, w], gen), Tensor.Randn([co, ci, k, k], gen), Tensor.Randn([n, co, oh, ow], gen));
        string layer = $"{ci} -> {co} k{k} p{pad} {h} x {w}";

        // The backward-data sums Co·K·K products an input (the atol of ConvKernelChecks for that depth).
        var dxRef = new Tensor(n, ci, h, w);
        Conv.TransposeNaive(gy.Data, wt.Data, dxRef.Data, n, g);
        var dx = Tensor.Full([n, ci, h, w], float.NaN);
        Conv.Transpose(gy.Storage, wt.Storage, dx.Storage, n, g);
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(co * k * k / 256.0)), $"{layer} backward-data");

        var dwRef = new Tensor(co, ci, k, k);
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        var dw = Tensor.Full([co, ci, k, k], float.NaN);
        Conv.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-3, $"{layer} weight gradient");
    }

    // SRGAN's last layer in a graph, conv with a bias then tanh: the output gradient, the weight's and the bias's the
    // same as with the rule off (oneDNN's backward-data, DirectConv's weight gradient), to rounding.
    [Fact]
    public void FlippedLayer_InAGraph_MatchesTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var gen = new Generator(48);
        var x = Tensor.Randn([3, 16, 24, 24], gen);
        var w = Tensor.Randn([3, 16, 9, 9], gen) * 0.05f;
        var b = Tensor.Randn([3], gen);
        (Tensor dx, Tensor dw, Tensor db) Run()
        {
            var (xi, wi, bi) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_(), b.Detach().RequiresGrad_());
            Tensor.Conv2d(xi, wi, bi, stride: 1, padding: 4).Tanh().Square().Sum().Backward();
            return (xi.Grad!, wi.Grad!, bi.Grad!);
        }
        var ours = Run();
        Conv.FlippedImageKernels = false;
        try
        {
            var theirs = Run();
            Fixtures.AssertClose(theirs.dx, ours.dx, 1e-4, 1e-5, "input gradient");
            Fixtures.AssertClose(theirs.dw, ours.dw, 1e-4, 1e-4, "weight gradient");
            Fixtures.AssertClose(theirs.db, ours.db, 1e-4, 1e-4, "bias gradient");
        }
        finally { Conv.FlippedImageKernels = true; }
    }

    // Not reached: the forward, stride 2, dilation, groups, five output channels, four input channels (an image layer's
    // own), a padding of the kernel's size or more, maps of fewer than 16 positions (a discriminator's 1 x 1 head), a
    // forced backend, and the switch off.
    [Fact]
    public void FlippedRule_OutsideItsReach_LeavesTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var sr = new ConvGeometry(64, 32, 32, 3, 32, 32, 9, 9, 1, 1, 4, 4, 1, 1, 1);
        Assert.Equal("flipped", Conv.Picks(ConvDnnl.Kind.BackwardData, 16, sr));
        Assert.Equal("flipped", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 16, sr));
        Assert.Equal("direct", Conv.Picks(ConvDnnl.Kind.Forward, 16, sr));
        foreach (var other in new[]
        {
            new ConvGeometry(64, 32, 32, 3, 16, 16, 9, 9, 2, 2, 4, 4, 1, 1, 1),
            new ConvGeometry(64, 32, 32, 3, 24, 24, 9, 9, 1, 1, 4, 4, 2, 2, 1),
            new ConvGeometry(64, 32, 32, 4, 32, 32, 9, 9, 1, 1, 4, 4, 1, 1, 2),
            sr with { Co = 5 },
            sr with { Ci = 4 },
            new ConvGeometry(64, 8, 8, 1, 18, 18, 3, 3, 1, 1, 6, 6, 1, 1, 1),
            new ConvGeometry(128, 7, 7, 1, 1, 1, 7, 7, 1, 1, 0, 0, 1, 1, 1),     // dcgan28's D head: one GEMM
            new ConvGeometry(512, 4, 4, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1),     // 9 positions, under 16
        })
            foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                Assert.NotEqual("flipped", Conv.Picks(kind, 16, other));
        var forced = Conv.ForceManaged;
        try
        {
            Conv.ForceManaged = true;
            Assert.NotEqual("flipped", Conv.Picks(ConvDnnl.Kind.BackwardData, 16, sr));
            Conv.ForceManaged = forced;
            Conv.FlippedImageKernels = false;
            Assert.NotEqual("flipped", Conv.Picks(ConvDnnl.Kind.BackwardData, 16, sr));
            Assert.NotEqual("flipped", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 16, sr));
        }
        finally { (Conv.ForceManaged, Conv.FlippedImageKernels) = (forced, true); }
    }
}
