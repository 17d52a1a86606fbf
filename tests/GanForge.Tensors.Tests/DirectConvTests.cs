using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// Convolutions with at most four channels on one side (a discriminator's first layer, a generator's RGB layer, a
/// PatchGAN's head): the direct kernels of <see cref="DirectConv"/> against the naive ones on outputs poisoned with NaN,
/// and the rule's reach (layers of at most four output channels run them). Shares the backend collection: it
/// switches process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public class DirectConvTests
{
    // (Ci, H, W, Co, K, stride, pad, n)
    public static TheoryData<int, int, int, int, int, int, int, int> Layers => new()
    {
        { 64, 38, 38, 3, 7, 1, 0, 2 },    // cyclegan32's output layer after its reflection padding: 32 x 32, two vectors a row
        { 128, 15, 15, 1, 4, 1, 1, 3 },   // a PatchGAN's 1-channel head: 14 x 14, one partial vector, zero padding
        { 16, 20, 20, 3, 9, 1, 4, 2 },    // SRGAN's 9 x 9 output layer, narrower: 20 x 20, the kernel's reach past a vector
        { 8, 9, 17, 4, 3, 1, 1, 2 },      // four channels, a 9 x 17 map: a last row block of one row, a second vector of one lane
        { 5, 6, 33, 2, 5, 1, 2, 1 },      // two channels, 6 x 33: three vectors, rows fewer than a block
        { 1, 28, 28, 64, 4, 2, 1, 3 },    // dcgan28's first layer: stride 2 (two column phases), 16 channel blocks, 14 x 14
        { 3, 32, 32, 64, 7, 1, 3, 2 },    // cyclegan32's RGB input layer (its padding here zeros), 7 taps: a block of 3 spare
        { 3, 35, 37, 6, 5, 3, 2, 2 },     // stride 3, a channel block of two, odd sizes: 12 x 13
    };

    [Theory, MemberData(nameof(Layers))]
    public void DirectLayer_ForwardAndWeightGradient_MatchNaive(int ci, int h, int w, int co, int k, int stride, int pad, int n)
    {
        if (!Avx512F.IsSupported) return;
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        var g = new ConvGeometry(ci, h, w, co, oh, ow, k, k, stride, stride, pad, pad, 1, 1, 1);
        // Few input channels into many output channels go to ImageConv (the direct kernels did not pay there in the step);
        // the direct kernels are checked on them too, called directly.
        // The weight gradient of a stride-1 layer into one or two channels, or of more than eight taps a row, goes to
        // ImageConv the other way round (FlippedImageConvTests).
        bool flipped = co <= 4 && ci > 4 && stride == 1 && (co < 3 || k > 8);
        if (co <= 4) Assert.Equal("direct", Conv.Picks(ConvDnnl.Kind.Forward, n, g));
        else Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, n, g));
        if (co <= 4 && !flipped) Assert.Equal("direct", Conv.Picks(ConvDnnl.Kind.BackwardWeights, n, g));
        else Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.BackwardWeights, n, g));
        var gen = new Generator(41);
        var (x, wt, gy) = (Tensor.Randn([n, ci, h, w], gen), Tensor.Randn([co, ci, k, k], gen), Tensor.Randn([n, co, oh, ow], gen));

        ConvKernelChecks.ForwardAndWeightGradientMatchNaive(x, wt, gy, n, g, DirectConv.Forward, DirectConv.WeightGrad,
            $"{ci} -> {co} k{k} s{stride} p{pad}");
    }

    // A batch of four samples a thread or more runs a sample at a time, each thread through a one-sample scratch
    // (DirectConv.SampleScratch); a smaller one through the whole batch's. An odd batch splits unevenly over the threads.
    // Both must match the naive kernel, and each other bit for bit: every output is the same sum in the same order.
    [Theory]
    [InlineData(64, 38, 38, 3, 7, 1, 0)]   // cyclegan32's RGB layer
    [InlineData(3, 35, 37, 6, 5, 3, 2)]    // stride 3, a channel block of two
    [InlineData(8, 9, 17, 4, 3, 1, 1)]     // a last row block of one row, a second vector of one lane
    public void DirectForward_SampleAtATime_SameBitsAsWholeBatch(int ci, int h, int w, int co, int k, int stride, int pad)
    {
        if (!Avx512F.IsSupported) return;
        int n = 4 * Threading.Threads + 1, oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        var g = new ConvGeometry(ci, h, w, co, oh, ow, k, k, stride, stride, pad, pad, 1, 1, 1);
        var gen = new Generator(43);
        var (x, wt) = (Tensor.Randn([n, ci, h, w], gen), Tensor.Randn([co, ci, k, k], gen));
        var bySample = Tensor.Full([n, co, oh, ow], float.NaN);
        var whole = Tensor.Full([n, co, oh, ow], float.NaN);
        bool saved = DirectConv.SampleScratch;
        try
        {
            DirectConv.SampleScratch = true;
            DirectConv.Forward(x.Storage, wt.Storage, bySample.Storage, n, g);
            DirectConv.SampleScratch = false;
            DirectConv.Forward(x.Storage, wt.Storage, whole.Storage, n, g);
        }
        finally { DirectConv.SampleScratch = saved; }
        var reference = new Tensor([n, co, oh, ow]);
        Conv.ForwardNaive(x.Data, wt.Data, reference.Data, n, g);
        Fixtures.AssertClose(reference, bySample, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(g.K / 256.0)), $"{ci} -> {co} k{k} a sample at a time");
        Assert.Equal(whole.Data.ToArray(), bySample.Data.ToArray());
    }

    // Not reached: five output channels (also with four input channels), dilation, maps under 4 x 8 (DCGAN's 1 x 1 head), 1 x 1 kernels (StyleGAN's
    // toRGB), patch embeddings, the backward-data, a forced backend, and the switch off.
    [Fact]
    public void DirectRule_OutsideItsReach_LeavesTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var rgb = new ConvGeometry(64, 38, 38, 3, 32, 32, 7, 7, 1, 1, 0, 0, 1, 1, 1);
        Assert.Equal("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.BackwardData, 4, rgb));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb with { Co = 5 }));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb with { Co = 5, Ci = 4 }));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, new ConvGeometry(64, 38, 38, 3, 26, 26, 7, 7, 1, 1, 0, 0, 2, 2, 1)));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 64, new ConvGeometry(512, 4, 4, 1, 1, 1, 4, 4, 1, 1, 0, 0, 1, 1, 1)));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 64, new ConvGeometry(512, 10, 10, 1, 7, 7, 4, 4, 1, 1, 0, 0, 1, 1, 1)));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 32, new ConvGeometry(64, 32, 32, 1, 32, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1)));
        Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 32, new ConvGeometry(1, 32, 32, 64, 8, 8, 4, 4, 4, 4, 0, 0, 1, 1, 1)));
        var (forced, direct) = (Conv.ForceManaged, Conv.DirectKernels);
        try
        {
            Conv.ForceManaged = true;
            Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb));
            Conv.ForceManaged = forced;
            Conv.DirectKernels = false;
            Assert.NotEqual("direct", Conv.Picks(ConvDnnl.Kind.Forward, 4, rgb));
        }
        finally { (Conv.ForceManaged, Conv.DirectKernels) = (forced, direct); }
    }
}
