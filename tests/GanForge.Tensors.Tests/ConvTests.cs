using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

[Collection("ConvBackend")]
public class ConvTests
{
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly Dictionary<string, Func<Tensor, Tensor, Tensor?, Tensor>> Ops = new()
    {
        ["conv_basic"] = (x, w, b) => Tensor.Conv2d(x, w, b),
        ["conv_s2p1"] = (x, w, b) => Tensor.Conv2d(x, w, b, stride: 2, padding: 1),
        ["conv_dilated"] = (x, w, b) => Tensor.Conv2d(x, w, b, stride: (1, 2), padding: (2, 1), dilation: (2, 1)),
        ["conv_groups"] = (x, w, b) => Tensor.Conv2d(x, w, b, padding: 1, groups: 2),
        ["conv_1x1"] = (x, w, b) => Tensor.Conv2d(x, w, b),
        ["convt_basic"] = (x, w, b) => Tensor.ConvTranspose2d(x, w, b, stride: 2, padding: 1),
        ["convt_outpad"] = (x, w, b) => Tensor.ConvTranspose2d(x, w, b, stride: 2, padding: 1, outputPadding: 1),
        ["convt_groups_dil"] = (x, w, b) => Tensor.ConvTranspose2d(x, w, b, stride: 2, padding: (1, 0), outputPadding: (1, 0), groups: 2, dilation: 2),
        ["convt_dcgan"] = (x, w, b) => Tensor.ConvTranspose2d(x, w, b),
    };

    public static TheoryData<string> Names() => [.. Ops.Keys];

    [Theory, MemberData(nameof(Names))]
    public void Conv_Fixture_MatchesPyTorchOutputAndGradients(string name)
    {
        var f = Fixtures.Load("conv", name);
        var x = f["x"].RequiresGrad_(); var w = f["w"].RequiresGrad_();
        var b = f.TryGetValue("b", out var bb) ? bb.RequiresGrad_() : null;
        var y = Ops[name](x, w, b);
        Fixtures.AssertClose(f["y"], y, Rtol, Atol, name + " y");
        var inputs = b == null ? new[] { x, w } : [x, w, b];
        var grads = Autograd.Grad([(y * f["gy"]).Sum()], inputs);
        Fixtures.AssertClose(f["gx"], grads[0]!, Rtol, Atol, name + " dx");
        Fixtures.AssertClose(f["gw"], grads[1]!, Rtol, Atol, name + " dw");
        if (b != null) Fixtures.AssertClose(f["gb"], grads[2]!, Rtol, Atol, name + " db");
    }

    public static TheoryData<int, int, int, int, int, int, int> Geometries() => new()
    {
        // stride, padding, dilation, groups, kernel, image size, batch
        { 1, 0, 1, 1, 3, 7, 2 }, { 2, 1, 1, 1, 4, 8, 3 }, { 3, 2, 2, 1, 3, 9, 1 }, { 1, 1, 1, 3, 3, 5, 2 }, { 2, 0, 1, 2, 1, 6, 2 },
        { 1, 0, 1, 1, 4, 4, 5 }, // 1x1 output: the dense GEMM path
        { 2, 1, 1, 1, 4, 16, 9 }, // a batch split across threads
    };

    [Theory, MemberData(nameof(Geometries))]
    public void ConvKernels_VariousGeometries_MatchNaive(int s, int p, int d, int groups, int k, int size, int n)
    {
        var gen = new Generator(5);
        int ci = 2 * groups, co = 3 * groups;
        int o = ConvOut(size, k, s, p, d);
        var geom = new ConvGeometry(ci, size, size, co, o, o, k, k, s, s, p, p, d, d, groups);
        var x = Tensor.Randn([n, ci, size, size], gen); var w = Tensor.Randn([co, ci / groups, k, k], gen);
        var gy = Tensor.Randn([n, co, o, o], gen);
        var (y1, y2) = (new Tensor(n, co, o, o), new Tensor(n, co, o, o));
        Conv.Forward(x.Storage, w.Storage, y1.Storage, n, geom); Conv.ForwardNaive(x.Data, w.Data, y2.Data, n, geom);
        Fixtures.AssertClose(y2, y1, 1e-4, 1e-4, "forward");
        var (x1, x2) = (new Tensor(x.Shape), new Tensor(x.Shape));
        Conv.Transpose(gy.Storage, w.Storage, x1.Storage, n, geom); Conv.TransposeNaive(gy.Data, w.Data, x2.Data, n, geom);
        Fixtures.AssertClose(x2, x1, 1e-4, 1e-4, "transpose");
        var (w1, w2) = (new Tensor(w.Shape), new Tensor(w.Shape));
        Conv.WeightGrad(x.Storage, gy.Storage, w1.Storage, n, geom); Conv.WeightGradNaive(x.Data, gy.Data, w2.Data, n, geom);
        Fixtures.AssertClose(w2, w1, 1e-4, 1e-4, "weight grad");
    }

    static int ConvOut(int size, int k, int s, int p, int d) => (size + 2 * p - d * (k - 1) - 1) / s + 1;

    public static TheoryData<string> GradCases() => ["conv_s2p1_dil", "conv_groups", "convt_outpad", "convt_groups_dil", "convw"];

    static (Func<Tensor[], Tensor> f, Tensor[] inputs) GradCase(string name)
    {
        var g = new Generator(9);
        return name switch
        {
            "conv_s2p1_dil" => (a => Tensor.Conv2d(a[0], a[1], a[2], stride: 2, padding: 1, dilation: (1, 2)),
                [Tensor.Randn([2, 2, 6, 7], g), Tensor.Randn([3, 2, 3, 2], g), Tensor.Randn([3], g)]),
            "conv_groups" => (a => Tensor.Conv2d(a[0], a[1], a[2], padding: (0, 1), groups: 2),
                [Tensor.Randn([1, 4, 4, 4], g), Tensor.Randn([2, 2, 2, 3], g), Tensor.Randn([2], g)]),
            "convt_outpad" => (a => Tensor.ConvTranspose2d(a[0], a[1], a[2], stride: 2, padding: 1, outputPadding: 1),
                [Tensor.Randn([2, 3, 3, 2], g), Tensor.Randn([3, 2, 3, 3], g), Tensor.Randn([2], g)]),
            "convt_groups_dil" => (a => Tensor.ConvTranspose2d(a[0], a[1], null, stride: (2, 1), padding: 1, groups: 2, dilation: 2),
                [Tensor.Randn([1, 4, 3, 3], g), Tensor.Randn([4, 1, 2, 2], g)]),
            "convw" => (a => Tensor.Conv2dWeightGrad(a[0], a[1], 3, stride: 2, padding: 1),
                [Tensor.Randn([2, 2, 5, 5], g), Tensor.Randn([2, 3, 3, 3], g)]),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory, MemberData(nameof(GradCases))]
    public void Conv_FiniteDifferences_FirstOrderMatches(string name)
    {
        var (f, inputs) = GradCase(name);
        GradCheck.First(name, f, inputs);
    }

    [Theory, MemberData(nameof(GradCases))]
    public void Conv_FiniteDifferences_SecondOrderMatches(string name)
    {
        var (f, inputs) = GradCase(name);
        // Conv is bilinear, so a square makes the second derivative w.r.t. one input non-trivial.
        // eps 1e-2: float32 round-off dominates 1e-3 differences of these quartic objectives.
        GradCheck.Second(name, a => f(a).Square(), inputs, eps: 1e-2);
    }

    [Fact]
    public void GradientPenalty_ConvCritic_MatchesPyTorch()
    {
        var f = Fixtures.Load("conv", "gp_critic");
        var x = f["x"].RequiresGrad_();
        var w1 = f["w1"].RequiresGrad_(); var b1 = f["b1"].RequiresGrad_();
        var w2 = f["w2"].RequiresGrad_(); var b2 = f["b2"].RequiresGrad_();
        var d = Tensor.Conv2d(Tensor.Conv2d(x, w1, b1, stride: 2, padding: 1).LeakyRelu(0.2f), w2, b2);
        Fixtures.AssertClose(f["d"], d, Rtol, Atol, "D(x)");
        var gx = Autograd.Grad(d.Sum(), x, createGraph: true);
        Fixtures.AssertClose(f["gx"], gx, Rtol, Atol, "grad_x D");
        // ||g||_2 written as sqrt(sum(g^2) + tiny): the ops helper's Norm is not merged into this branch.
        var norm = (gx.Flatten(1).Square().Sum(1) + 1e-12f).Sqrt();
        var gp = (norm - 1f).Square().Mean();
        Fixtures.AssertClose(f["gp"], gp.Reshape(1), Rtol, Atol, "gp");
        var grads = Autograd.Grad([gp], [w1, w2]);
        Fixtures.AssertClose(f["gw1"], grads[0]!, Rtol, Atol, "dgp/dw1");
        Fixtures.AssertClose(f["gw2"], grads[1]!, Rtol, Atol, "dgp/dw2");
    }

    [Fact]
    public void Conv2d_ChannelMismatch_ThrowsNamingShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(new Tensor(2, 3, 8, 8), new Tensor(4, 1, 3, 3)));
        Assert.Contains("Conv2d: input (2,3,8,8) has 3 channels", ex.Message);
    }

    [Fact]
    public void ConvTranspose2d_OutputPaddingTooLarge_Throws() =>
        Assert.Throws<ArgumentException>(() => Tensor.ConvTranspose2d(new Tensor(1, 2, 3, 3), new Tensor(2, 2, 3, 3), stride: 2, outputPadding: 2));

    [Fact]
    public void Conv2d_KernelLargerThanInput_Throws() =>
        Assert.Throws<ArgumentException>(() => Tensor.Conv2d(new Tensor(1, 1, 2, 2), new Tensor(1, 1, 3, 3)));

    [Fact]
    public void Conv2d_LargeBatchChunked_MatchesNaive()
    {
        // Enough samples that the im2col budget forces several chunks.
        var gen = new Generator(2);
        var x = Tensor.Randn([40, 8, 32, 32], gen); var w = Tensor.Randn([4, 8, 3, 3], gen);
        var y = Tensor.Conv2d(x, w, padding: 1);
        var geom = new ConvGeometry(8, 32, 32, 4, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        var expected = new Tensor(40, 4, 32, 32);
        Conv.ForwardNaive(x.Data, w.Data, expected.Data, 40, geom);
        Fixtures.AssertClose(expected, y, 1e-4, 1e-4, "chunked conv");
    }
}
