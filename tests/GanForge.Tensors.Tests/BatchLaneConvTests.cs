using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// 3 x 3 stride-1 layers padded by 1 with the batch in the vector lanes (<see cref="BatchLaneConv"/>): the three kernels
/// against the naive ones on outputs poisoned with NaN, their adjoint identities, the layers in a graph against the other
/// backends, and the rule's reach. Shares the backend collection: it switches process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public class BatchLaneConvTests
{
    // (Ci, Co, H, W, n): srgan32's residual block; two groups of 16 in a batch; rows of 4 on a map of 16 positions with
    // many channels (more than the threads' blocks); a wide short map (rows of 12, three tiles a row); channels in fours.
    public static TheoryData<int, int, int, int, int> Layers => new()
    {
        { 64, 64, 8, 8, 16 },
        { 8, 12, 8, 8, 32 },
        { 132, 36, 4, 4, 16 },
        { 4, 8, 4, 12, 16 },
        { 12, 4, 16, 4, 48 },
    };

    [Theory, MemberData(nameof(Layers))]
    public void BatchLanes_ThreeKernels_MatchNaive(int ci, int co, int h, int w, int n)
    {
        if (!Avx512F.IsSupported) return;
        var g = new ConvGeometry(ci, h, w, co, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        Assert.True(BatchLaneConv.Suits(n, g));
        var gen = new Generator(67);
        var (x, wt, gy) = (Tensor.Randn([n, ci, h, w], gen), Tensor.Randn([co, ci, 3, 3], gen), Tensor.Randn([n, co, h, w], gen));
        string layer = $"{ci} -> {co} at {h} x {w}, batch {n}";

        // Each output sums Ci·9 (forward), Co·9 (backward-data) or n·H·W (weight gradient) products of unit normals.
        var yRef = new Tensor(n, co, h, w);
        Conv.ForwardNaive(x.Data, wt.Data, yRef.Data, n, g);
        var y = Tensor.Full([n, co, h, w], float.NaN);
        BatchLaneConv.Forward(x.Storage, wt.Storage, y.Storage, n, g);
        Fixtures.AssertClose(yRef, y, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(ci * 9 / 256.0)), $"{layer} forward");

        var dxRef = new Tensor(n, ci, h, w);
        Conv.TransposeNaive(gy.Data, wt.Data, dxRef.Data, n, g);
        var dx = Tensor.Full([n, ci, h, w], float.NaN);
        BatchLaneConv.BackwardData(gy.Storage, wt.Storage, dx.Storage, n, g);
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(co * 9 / 256.0)), $"{layer} backward-data");

        var dwRef = new Tensor(co, ci, 3, 3);
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        var dw = Tensor.Full([co, ci, 3, 3], float.NaN);
        BatchLaneConv.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-4 * Math.Max(1, Math.Sqrt(n * h * w / 256.0)), $"{layer} weight gradient");
    }

    // <gy, conv(x, w)> = <convT(gy, w), x> = <convW(x, gy), w>: the three kernels are one bilinear form, read three ways.
    [Fact]
    public void BatchLanes_Kernels_AreAdjoint()
    {
        if (!Avx512F.IsSupported) return;
        var g = new ConvGeometry(16, 8, 8, 20, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        const int n = 16;
        var gen = new Generator(68);
        var (x, w, gy) = (Tensor.Randn([n, 16, 8, 8], gen), Tensor.Randn([20, 16, 3, 3], gen), Tensor.Randn([n, 20, 8, 8], gen));
        var (y, dx, dw) = (new float[gy.Numel], new float[x.Numel], new float[w.Numel]);
        BatchLaneConv.Forward(x.Storage, w.Storage, y, n, g);
        BatchLaneConv.BackwardData(gy.Storage, w.Storage, dx, n, g);
        BatchLaneConv.WeightGrad(x.Storage, gy.Storage, dw, n, g);
        static double Dot(float[] a, float[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i]; return s; }
        double viaY = Dot(gy.Storage, y), viaX = Dot(dx, x.Storage), viaW = Dot(dw, w.Storage);
        double scale = Math.Sqrt(gy.Numel * 16 * 9.0);   // the typical size of such a sum of unit normals' products
        Assert.True(Math.Abs(viaY - viaX) < 1e-4 * scale, $"<gy, y> {viaY} against <dx, x> {viaX}");
        Assert.True(Math.Abs(viaY - viaW) < 1e-4 * scale, $"<gy, y> {viaY} against <dw, w> {viaW}");
    }

    // srgan32's residual block in a graph (conv with a bias, batch norm's stand-in of a square, then the sum): the output,
    // the input's, the weight's and the bias's gradients the same as with the lanes switched off (oneDNN), to rounding.
    [Fact]
    public void BatchLanes_InAGraph_MatchTheOtherBackends()
    {
        if (!Avx512F.IsSupported) return;
        var gen = new Generator(69);
        var x = Tensor.Randn([16, 64, 8, 8], gen);
        var w = Tensor.Randn([64, 64, 3, 3], gen) * 0.05f;
        var b = Tensor.Randn([64], gen);
        Assert.Equal("lanes", Conv.Picks(ConvDnnl.Kind.Forward, 16, new ConvGeometry(64, 8, 8, 64, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1)));
        (Tensor y, Tensor dx, Tensor dw, Tensor db) Run()
        {
            var (xi, wi, bi) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_(), b.Detach().RequiresGrad_());
            var y = Tensor.Conv2d(xi, wi, bi, stride: 1, padding: 1);
            (y.Square() * 0.5f + xi).Sum().Backward();
            return (y.Detach(), xi.Grad!, wi.Grad!, bi.Grad!);
        }
        var ours = Run();
        Conv.BatchLaneKernels = false;
        try
        {
            var theirs = Run();
            Fixtures.AssertClose(theirs.y, ours.y, 1e-4, 1e-5, "output");
            Fixtures.AssertClose(theirs.dx, ours.dx, 1e-4, 1e-4, "input gradient");
            Fixtures.AssertClose(theirs.dw, ours.dw, 1e-4, 1e-3, "weight gradient");
            Fixtures.AssertClose(theirs.db, ours.db, 1e-4, 1e-3, "bias gradient");
        }
        finally { Conv.BatchLaneKernels = true; }
    }

    // The rule: srgan32's residual blocks take all three; its D's 256 -> 512 at 4 x 4 the forward only; larger maps and
    // layers keep oneDNN; so do batches not of 16s or over 32, strides, other kernels and paddings, groups, channels not in fours
    // or under eight, rows not in fours, a forced backend and the switch off.
    [Fact]
    public void BatchLaneRule_TakesTheMeasuredLayers_AndNoOthers()
    {
        if (!Avx512F.IsSupported) return;
        static ConvGeometry G3(int ci, int co, int h, int w) => new(ci, h, w, co, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        var res = G3(64, 64, 8, 8);
        foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
        {
            Assert.Equal("lanes", Conv.Picks(kind, 16, res));
            Assert.Equal("lanes", Conv.Picks(kind, 32, res));
            Assert.NotEqual("lanes", Conv.Picks(kind, 8, res));
            Assert.NotEqual("lanes", Conv.Picks(kind, 24, res));
            Assert.NotEqual("lanes", Conv.Picks(kind, 64, res));    // generation's batches: oneDNN's Winograd
            Assert.NotEqual("lanes", Conv.Picks(kind, 256, res));
            Assert.NotEqual("lanes", Conv.Picks(kind, 16, G3(64, 64, 16, 16)));   // m = 2^20 on 256 positions
            Assert.NotEqual("lanes", Conv.Picks(kind, 16, G3(64, 256, 16, 16)));
            Assert.NotEqual("lanes", Conv.Picks(kind, 16, G3(128, 256, 8, 8)));   // m = 2^21
        }
        var d4 = G3(256, 512, 4, 4);
        Assert.Equal("lanes", Conv.Picks(ConvDnnl.Kind.Forward, 16, d4));
        Assert.NotEqual("lanes", Conv.Picks(ConvDnnl.Kind.BackwardData, 16, d4));
        Assert.NotEqual("lanes", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 16, d4));
        var up = G3(64, 256, 8, 8);   // m = 2^20 on 64 positions: the backward-data only
        Assert.Equal("lanes", Conv.Picks(ConvDnnl.Kind.BackwardData, 16, up));
        Assert.NotEqual("lanes", Conv.Picks(ConvDnnl.Kind.Forward, 16, up));
        Assert.NotEqual("lanes", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 16, up));
        Assert.NotEqual("lanes", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 16, G3(128, 128, 4, 4)));   // 2^18 on 16 positions
        Assert.Equal("lanes", Conv.Picks(ConvDnnl.Kind.BackwardWeights, 16, G3(64, 64, 4, 4)));
        foreach (var other in new[]
        {
            new ConvGeometry(64, 16, 16, 64, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1),   // stride 2
            new ConvGeometry(64, 8, 8, 64, 6, 6, 3, 3, 1, 1, 0, 0, 1, 1, 1),     // no padding
            new ConvGeometry(64, 8, 8, 64, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2),     // two groups
            new ConvGeometry(64, 8, 8, 64, 6, 6, 3, 3, 1, 1, 1, 1, 2, 2, 1),     // dilation 2
            new ConvGeometry(64, 8, 8, 64, 9, 9, 4, 4, 1, 1, 2, 2, 1, 1, 1),     // 4 x 4 kernels
            G3(62, 64, 8, 8), G3(64, 66, 8, 8), G3(64, 64, 8, 6), G3(64, 64, 2, 4),
            G3(4, 64, 8, 8), G3(64, 4, 8, 8),                                   // an image's four channels, either side
        })
            foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                Assert.NotEqual("lanes", Conv.Picks(kind, 16, other));
        var forced = Conv.ForceManaged;
        try
        {
            Conv.ForceManaged = true;
            Assert.NotEqual("lanes", Conv.Picks(ConvDnnl.Kind.Forward, 16, res));
            Conv.ForceManaged = forced;
            Conv.BatchLaneKernels = false;
            foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                Assert.NotEqual("lanes", Conv.Picks(kind, 16, res));
        }
        finally { (Conv.ForceManaged, Conv.BatchLaneKernels) = (forced, true); }
    }
}
