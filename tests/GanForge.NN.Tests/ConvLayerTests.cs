using GanForge.NN;

namespace GanForge.NN.Tests;

public class ConvLayerTests
{
    const double Rtol = 1e-4, Atol = 1e-5;

    // Each layer is loaded with the weights of a functional PyTorch fixture, so its output and
    // gradients must match what torch.nn computes with those weights.
    static readonly Dictionary<string, Func<Module>> Layers = new()
    {
        ["conv_basic"] = () => new Conv2d(3, 4, 3),
        ["conv_s2p1"] = () => new Conv2d(3, 5, 4, stride: 2, padding: 1),
        ["conv_dilated"] = () => new Conv2d(2, 3, (3, 2), stride: (1, 2), padding: (2, 1), dilation: (2, 1)),
        ["conv_groups"] = () => new Conv2d(4, 6, 3, padding: 1, groups: 2, bias: false),
        ["convt_basic"] = () => new ConvTranspose2d(4, 3, 4, stride: 2, padding: 1),
        ["convt_outpad"] = () => new ConvTranspose2d(3, 2, 3, stride: 2, padding: 1, outputPadding: 1),
        ["convt_groups_dil"] = () => new ConvTranspose2d(4, 6, 3, stride: 2, padding: (1, 0), outputPadding: (1, 0), groups: 2, bias: false, dilation: 2),
        ["convt_dcgan"] = () => new ConvTranspose2d(6, 4, 4, bias: false),
        ["maxpool_k3s2p1"] = () => new MaxPool2d(3, 2, 1),
        ["avgpool_nopadcount_ceil"] = () => new AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false),
        ["adaptiveavg_7x5_to_3x2"] = () => new AdaptiveAvgPool2d((3, 2)),
        ["nearest_scale2"] = () => new Upsample(scaleFactor: 2),
        ["bilinear_align_scale2"] = () => new Upsample(scaleFactor: 2, mode: "bilinear", alignCorners: true),
        ["bilinear_size5x7"] = () => new Upsample(size: (5, 7), mode: "bilinear"),
        ["pixelshuffle_r2"] = () => new PixelShuffle(2),
        ["pad_reflect"] = () => new ReflectionPad2d((2, 1, 1, 2)),
        ["pad_zero_crop"] = () => new ZeroPad2d((-1, 2, 1, -1)),
    };

    public static TheoryData<string> Names() => [.. Layers.Keys];

    [Theory, MemberData(nameof(Names))]
    public void Layer_FixtureWeights_MatchesPyTorch(string name)
    {
        var f = Fixtures.Load("conv", name);
        var layer = Layers[name]();
        var state = new Dictionary<string, Tensor>();
        if (f.TryGetValue("w", out var w)) state["weight"] = w;
        if (f.TryGetValue("b", out var b)) state["bias"] = b;
        layer.LoadStateDict(state);
        var x = f["x"].RequiresGrad_();
        var y = layer.Forward(x);
        Fixtures.AssertClose(f["y"], y, Rtol, Atol, name + " y");
        var ps = layer.Parameters().ToArray();
        var grads = Autograd.Grad([(y * f["gy"]).Sum()], [x, .. ps]);
        Fixtures.AssertClose(f["gx"], grads[0]!, Rtol, Atol, name + " dx");
        if (ps.Length > 0) Fixtures.AssertClose(f["gw"], grads[1]!, Rtol, Atol, name + " dweight");
        if (ps.Length > 1) Fixtures.AssertClose(f["gb"], grads[2]!, Rtol, Atol, name + " dbias");
    }

    [Fact]
    public void Conv2d_DefaultInit_WithinPyTorchBoundsAndShapes()
    {
        var conv = new Conv2d(6, 8, 3, groups: 2, generator: new Generator(1));
        Assert.Equal([8, 3, 3, 3], conv.Weight.Shape);
        Assert.Equal([8], conv.Bias!.Shape);
        AssertUniform(conv.Weight, 1f / MathF.Sqrt(3 * 9));
        AssertUniform(conv.Bias!, 1f / MathF.Sqrt(3 * 9));
        Assert.Equal(["weight", "bias"], conv.StateDict().Keys);
    }

    [Fact]
    public void ConvTranspose2d_DefaultInit_UsesFanInOfDim1()
    {
        var convT = new ConvTranspose2d(16, 4, 4, stride: 2, padding: 1, generator: new Generator(2));
        Assert.Equal([16, 4, 4, 4], convT.Weight.Shape);
        // PyTorch's fan_in for this weight is size(1) * KH * KW = out_channels/groups * 16.
        AssertUniform(convT.Weight, 1f / MathF.Sqrt(4 * 16));
    }

    static void AssertUniform(Tensor t, float bound)
    {
        var d = t.Data;
        float max = 0f;
        foreach (var v in d) max = Math.Max(max, Math.Abs(v));
        Assert.True(max <= bound, $"max |value| {max} exceeds the bound {bound}");
        if (d.Length >= 100) Assert.True(max > 0.8f * bound, $"max |value| {max} is far below the bound {bound}");
    }

    [Fact]
    public void Conv2d_NoBias_RegistersNullBias()
    {
        var conv = new Conv2d(2, 3, 3, bias: false);
        Assert.Null(conv.Bias);
        Assert.Single(conv.Parameters());
        Assert.Equal(["weight"], conv.StateDict().Keys);
    }

    [Theory]
    [InlineData(1, 4, 4, 32)]   // transgan32's discriminator: 64 tokens of 16 floats
    [InlineData(3, 2, 3, 12)]   // RGB, non-square patches
    public void Conv2d_ForwardTokens_MatchesForwardTransposed_AndItsGradients(int ci, int ph, int pw, int size)
    {
        var rng = new Generator(12);
        var layer = new Conv2d(ci, 5, (ph, pw), stride: (ph, pw), generator: rng);
        int h = size / ph * ph, w = size / pw * pw;
        var x = Tensor.Randn([3, ci, h, w], rng).RequiresGrad_();
        var g = Tensor.Randn([3, h / ph * (w / pw), 5], rng);
        var expected = layer.Forward(x).Flatten(2).Transpose(1, 2);
        var tokens = layer.ForwardTokens(x);
        Fixtures.AssertClose(expected.Clone(), tokens, Rtol, Atol, "tokens");
        var parameters = new[] { x, layer.Weight, layer.Bias! };
        var want = Autograd.Grad([(expected * g).Sum()], parameters);
        var got = Autograd.Grad([(tokens * g).Sum()], parameters, createGraph: true);
        for (int i = 0; i < 3; i++) Fixtures.AssertClose(want[i]!, got[i]!, Rtol, Atol, $"gradient {i}");
        // the second order a gradient penalty takes: d/dw of |dx|²
        var penaltyWant = Autograd.Grad([Autograd.Grad([(layer.Forward(x).Flatten(2).Transpose(1, 2) * g).Sum()], [x], createGraph: true)[0]!.Square().Sum()], [layer.Weight]);
        var penaltyGot = Autograd.Grad([got[0]!.Square().Sum()], [layer.Weight]);
        Fixtures.AssertClose(penaltyWant[0]!, penaltyGot[0]!, Rtol, Atol, "second order");
    }

    [Fact]
    public void Conv2d_ForwardTokens_NotAPatchEmbedding_Throws()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Conv2d(1, 4, 4, stride: 2).ForwardTokens(Tensor.Randn(1, 1, 8, 8)));
        Assert.Contains("Conv2d.ForwardTokens", e.Message);
        Assert.Throws<ArgumentException>(() => new Conv2d(1, 4, 4, stride: 4).ForwardTokens(Tensor.Randn(1, 1, 10, 8)));
    }

    [Fact]
    public void Conv2d_ChannelMismatch_ErrorNamesLayerAndShapes()
    {
        var conv = new Conv2d(1, 4, 3);
        var ex = Assert.Throws<ArgumentException>(() => conv.Forward(new Tensor(2, 3, 8, 8)));
        Assert.Contains("Conv2d: input (2,3,8,8) should be (N,1,H,W) for weight (4,1,3,3)", ex.Message);
    }

    [Fact]
    public void ConvTranspose2d_DcganBlock_ProducesExpectedShape()
    {
        // state: (ngf*8) x 4 x 4 -> (ngf*4) x 8 x 8
        var up = new ConvTranspose2d(16, 8, 4, stride: 2, padding: 1, bias: false);
        Assert.Equal([2, 8, 8, 8], up.Forward(Tensor.Randn(2, 16, 4, 4)).Shape);
    }
}
