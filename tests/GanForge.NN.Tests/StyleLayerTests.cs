namespace GanForge.NN.Tests;

/// <summary>
/// The style layers (PixelNorm, EqualLinear, EqualConv2d, ModulatedConv2d, NoiseInjection) against the PyTorch
/// references of tools/fixtures/style.py (forward, backward and double backward, each through a leaky ReLU so the
/// second-order terms are not zero), finite differences of first and second order, and the properties the papers
/// rely on (unit RMS, the runtime scale, demodulation's unit output scale, the fixed noise map).
/// </summary>
public class StyleLayerTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "style");

    const double Rtol = 1e-4, Atol = 1e-5;

    /// <summary>
    /// Checks y, d(sum(y·gy))/d(x and params) and d||d(sum(y·gy))/dx||²/d(x and params) of
    /// <paramref name="f"/> against fixture <paramref name="p"/>.
    /// </summary>
    static void AssertMatchesFixture(string p, Func<Tensor, Tensor> f, Tensor x, params (string Name, Tensor Param)[] parameters)
    {
        var gy = Fx[p + ".gy"];
        Tensor[] wrt = [x, .. parameters.Select(q => q.Param)];
        foreach (var t in wrt) t.RequiresGrad = true;
        var y = f(x);
        Fixtures.AssertClose(Fx[p + ".y"], y, Rtol, Atol, p + " y");
        var first = Autograd.Grad([(y * gy).Sum()], wrt, allowUnused: true);
        Fixtures.AssertClose(Fx[p + ".dx"], first[0]!, Rtol, Atol, p + " dx");
        for (int i = 0; i < parameters.Length; i++)
            Fixtures.AssertClose(Fx[p + ".d" + parameters[i].Name], first[i + 1]!, Rtol, Atol, $"{p} d{parameters[i].Name}");

        var gx = Autograd.Grad((f(x) * gy).Sum(), x, createGraph: true);
        // A layer linear in x (up to the leaky ReLU's piecewise-constant slope) has a gradient free of x: no graph, zeros.
        var second = gx.RequiresGrad ? Autograd.Grad([gx.Square().Sum()], wrt, allowUnused: true) : new Tensor?[wrt.Length];
        Fixtures.AssertClose(Fx[p + ".ggx"], second[0] ?? Tensor.Zeros(x.Shape), Rtol, 1e-4, p + " d||dx||²/dx");
        for (int i = 0; i < parameters.Length; i++)
        {
            var expected = Fx[p + ".gg" + parameters[i].Name];
            Fixtures.AssertClose(expected, second[i + 1] ?? Tensor.Zeros(expected.Shape), Rtol, 1e-4, $"{p} d||dx||²/d{parameters[i].Name}");
        }
    }

    static Tensor X(string p) => Fx[p + ".x"].Clone();

    [Fact]
    public void PixelNorm_ForwardBackwardAndDoubleBackward_MatchPyTorch()
    {
        AssertMatchesFixture("pn", new PixelNorm().Forward, X("pn"));
    }

    [Fact]
    public void PixelNorm_Output_HasUnitRootMeanSquareOverChannels()
    {
        var y = new PixelNorm().Forward(Tensor.Randn([4, 16], new Generator(1)) * 5f);
        var rms = y.Square().Mean(1).Sqrt().ToArray();
        Assert.All(rms, v => Assert.InRange(v, 1f - 1e-4f, 1f + 1e-4f));
        var e = Assert.Throws<ArgumentException>(() => new PixelNorm().Forward(Tensor.Zeros(2, 3, 4)));
        Assert.Equal("PixelNorm: expected input (N,C) or (N,C,H,W), got (2,3,4)", e.Message);
    }

    [Fact]
    public void EqualLinear_LrMultiplier_MatchesPyTorch()
    {
        var m = new EqualLinear(6, 3, lrMultiplier: 0.01f);
        m.Weight.CopyFrom(Fx["eqlin.weight"]);
        m.Bias!.CopyFrom(Fx["eqlin.bias"]);
        AssertMatchesFixture("eqlin", x => m.Forward(x).LeakyRelu(0.2f), X("eqlin"), ("weight", m.Weight), ("bias", m.Bias));
    }

    [Fact]
    public void EqualLinear_Init_StoresUnitNormalOverLrMulAndScalesAtRunTime()
    {
        var m = new EqualLinear(256, 128, biasInit: 1f, lrMultiplier: 0.01f, generator: new Generator(2));
        var w = m.Weight.ToArray();
        double std = Math.Sqrt(w.Average(v => (double)v * v));
        Assert.InRange(std, 98, 102);                                    // N(0, 1/0.01²): 32768 draws
        Assert.Equal(0.01f / 16f, m.WeightGain, 1e-9f);
        // The effective bias is lr_mul · stored = biasInit.
        var y = m.Forward(Tensor.Zeros(1, 256));
        Assert.All(y.ToArray(), v => Assert.InRange(v, 1f - 1e-6f, 1f + 1e-6f));
        // Effective weights ~ N(0, 1/in): outputs of unit inputs have about unit variance.
        var out1 = new EqualLinear(256, 512, bias: false, generator: new Generator(3)).Forward(Tensor.Ones(1, 256) );
        double var1 = out1.ToArray().Average(v => (double)v * v);
        Assert.InRange(var1, 0.85, 1.15);
        Assert.Throws<ArgumentException>(() => new EqualLinear(4, 4, lrMultiplier: 0f));
        var e = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(2, 5)));
        Assert.Equal("EqualLinear: expected input (N,256), got (2,5)", e.Message);
    }

    [Fact]
    public void EqualConv2d_ForwardBackwardAndDoubleBackward_MatchPyTorch()
    {
        var m = new EqualConv2d(3, 4, 3, padding: 1);
        m.Weight.CopyFrom(Fx["eqconv.weight"]);
        m.Bias!.CopyFrom(Fx["eqconv.bias"]);
        AssertMatchesFixture("eqconv", x => m.Forward(x).LeakyRelu(0.2f), X("eqconv"), ("weight", m.Weight), ("bias", m.Bias));
        var e = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(1, 2, 5, 5)));
        Assert.Equal("EqualConv2d: input (1,2,5,5) should be (N,3,H,W)", e.Message);
    }

    [Theory]
    [InlineData("modconv", true, 4, 3)]
    [InlineData("torgb", false, 3, 1)]
    public void ModulatedConv2d_ForwardBackwardAndDoubleBackward_MatchPyTorch(string p, bool demodulate, int outChannels, int k)
    {
        var m = new ModulatedConv2d(3, outChannels, k, wDim: 5, demodulate: demodulate);
        m.Weight.CopyFrom(Fx[p + ".weight"]);
        m.Affine.Weight.CopyFrom(Fx[p + ".affine.weight"]);
        m.Affine.Bias!.CopyFrom(Fx[p + ".affine.bias"]);
        var w = Fx[p + ".w"].Clone();
        AssertMatchesFixture(p, x => m.Forward(x, w).LeakyRelu(0.2f), X(p),
            ("w", w), ("weight", m.Weight), ("affine.weight", m.Affine.Weight), ("affine.bias", m.Affine.Bias));
    }

    // The fast paths (scale, convolve, scale; upsampling the scaled input at its own size; a 1 x 1 layer as per-sample
    // products) against the paper's grouped convolution with one weight per sample (upsampling the input first).
    [Theory]
    [InlineData(true, 3, false)]
    [InlineData(false, 3, false)]
    [InlineData(true, 3, true)]
    [InlineData(false, 1, false)]
    [InlineData(true, 1, false)]
    [InlineData(true, 1, true)]
    public void ModulatedConv2d_ScaledPath_EqualsGroupedConvolutionWithPerSampleWeights(bool demodulate, int kernel, bool upsample)
    {
        var m = new ModulatedConv2d(4, 5, kernel, wDim: 6, demodulate: demodulate, generator: new Generator(4), upsample: upsample);
        var x = Tensor.Randn([3, 4, 8, 8], new Generator(5));
        var w = Tensor.Randn([3, 6], new Generator(6));
        var y = m.Forward(x, w);
        Assert.Equal(upsample ? [3, 5, 16, 16] : new[] { 3, 5, 8, 8 }, y.Shape);
        Fixtures.AssertClose(m.GroupedReference(x, w), y, 1e-4, 1e-5, "scale/conv/scale vs grouped");
    }

    // A caller that owns the input (the synthesis network's layers in generation) lets the modulation overwrite it:
    // without a graph the outputs are the bits of the copying path and the input holds x ⊙ s; with a graph (where the
    // backward would read x) the input is left as it was and the outputs are the same.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ModulatedConv2d_ConsumingItsInput_SameOutputs_OverwritesOnlyWithoutAGraph(bool upsample)
    {
        var m = new ModulatedConv2d(4, 5, 3, wDim: 6, generator: new Generator(4), upsample: upsample);
        var x = Tensor.Randn([3, 4, 8, 8], new Generator(5));
        var w = Tensor.Randn([3, 6], new Generator(6));
        using (GradMode.NoGrad())
        {
            var (y, d) = m.ForwardParts(x.Clone(), w);
            var owned = x.Clone();
            var (yOwned, dOwned) = m.ForwardParts(owned, w, consumesInput: true);
            Assert.Equal(y.ToArray(), yOwned.ToArray());
            Assert.Equal(d!.ToArray(), dOwned!.ToArray());
            Assert.Equal((x * m.Styles(w).Reshape(3, 4, 1, 1)).ToArray(), owned.ToArray());
        }
        var kept = x.Clone();
        var (yGraph, _) = m.ForwardParts(kept, w, consumesInput: true);
        Assert.NotNull(yGraph.GradFn);
        Assert.Equal(x.ToArray(), kept.ToArray());
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(3, true)]
    [InlineData(1, false)]
    public void ModulatedConv2d_GradCheck_FirstAndSecondOrder(int kernel, bool upsample)
    {
        var m = new ModulatedConv2d(2, 3, kernel, wDim: 3, demodulate: kernel == 3, generator: new Generator(7), upsample: upsample);
        var x = Tensor.Randn([2, 2, 4, 4], new Generator(8));
        var w = Tensor.Randn([2, 3], new Generator(9));
        // a smooth objective: a leaky ReLU's kink within the finite difference's step spoils the second order
        Tensor F(Tensor[] xs) => m.Forward(xs[0], xs[1]).Tanh();
        GradCheck.First("ModulatedConv2d", F, [x, w, m.Weight]);
        GradCheck.Second("ModulatedConv2d", F, [x, w, m.Weight]);
    }

    [Fact]
    public void EqualLayersAndPixelNorm_GradCheck_FirstAndSecondOrder()
    {
        var conv = new EqualConv2d(2, 3, 3, padding: 1, generator: new Generator(10));
        var x = Tensor.Randn([2, 2, 4, 4], new Generator(11));
        GradCheck.First("EqualConv2d", xs => conv.Forward(xs[0]).LeakyRelu(0.2f), [x, conv.Weight]);
        GradCheck.Second("EqualConv2d", xs => conv.Forward(xs[0]).LeakyRelu(0.2f), [x, conv.Weight]);
        var lin = new EqualLinear(4, 3, lrMultiplier: 0.5f, generator: new Generator(12));
        var v = Tensor.Randn([3, 4], new Generator(13));
        GradCheck.First("EqualLinear", xs => lin.Forward(xs[0]).LeakyRelu(0.2f), [v, lin.Weight]);
        GradCheck.Second("EqualLinear", xs => lin.Forward(xs[0]).LeakyRelu(0.2f), [v, lin.Weight]);
        GradCheck.First("PixelNorm", xs => new PixelNorm().Forward(xs[0]), [Tensor.Randn([2, 3, 2, 2], new Generator(14))]);
        GradCheck.Second("PixelNorm", xs => new PixelNorm().Forward(xs[0]), [Tensor.Randn([2, 3, 2, 2], new Generator(15))]);
    }

    [Fact]
    public void ModulatedConv2d_Demodulated_OutputsHaveAboutUnitScaleWhateverTheStyleScale()
    {
        // Demodulation removes the styles' overall scale: w·10 and w give the same output.
        var m = new ModulatedConv2d(16, 16, 3, wDim: 8, generator: new Generator(16));
        var x = Tensor.Randn([2, 16, 8, 8], new Generator(17));
        var w = Tensor.Randn([2, 8], new Generator(18));
        m.Affine.Bias!.Fill(0f);
        Fixtures.AssertClose(m.Forward(x, w), m.Forward(x, w * 10f), 1e-3, 1e-4, "style scale");
        double var = m.Forward(x, w).ToArray().Average(v => (double)v * v);
        Assert.InRange(var, 0.3, 3);                                    // unit expected variance, padding shrinks the borders
        var e = Assert.Throws<ArgumentException>(() => m.Forward(x, Tensor.Zeros(3, 8)));
        Assert.Equal("ModulatedConv2d: w (3,8) should be (2,8) for input (2,16,8,8)", e.Message);
    }

    [Fact]
    public void NoiseInjection_MatchesPyTorch_AndWithoutNoiseAddsTheFixedMap()
    {
        var m = new NoiseInjection(3, 4, new Generator(19));
        Assert.All(m.Strength.ToArray(), v => Assert.Equal(0f, v));   // zero at first: the noise starts switched off
        m.Strength.CopyFrom(Fx["noise.strength"]);
        var noise = Fx["noise.noise"];
        AssertMatchesFixture("noise", x => m.Forward(x, noise).LeakyRelu(0.2f), X("noise"), ("strength", m.Strength));

        var x0 = Tensor.Zeros(2, 3, 4, 4);
        var expected = m.Strength.Detach().Reshape(1, 3, 1, 1) * m.ConstNoise;
        Fixtures.AssertClose(expected.Expand(2, 3, 4, 4), m.Forward(x0, null), 1e-6, 1e-7, "const noise");
        Assert.Contains("noise_const", m.StateDict().Keys);
        var e = Assert.Throws<ArgumentException>(() => m.Forward(x0, Tensor.Zeros(2, 1, 3, 3)));
        Assert.Equal("NoiseInjection: noise (2,1,3,3) should be (2,1,4,4)", e.Message);
    }
}
