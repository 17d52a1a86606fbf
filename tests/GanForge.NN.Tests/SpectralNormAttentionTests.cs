namespace GanForge.NN.Tests;

public class SpectralNormTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "spectral_norm");

    static Linear Wrapped()
    {
        var m = SpectralNorm.Apply(new Linear(4, 3));
        var state = m.StateDict();
        state["weight_orig"].CopyFrom(Fx["weight_orig"]);
        state["bias"].CopyFrom(Fx["bias"]);
        state["weight_u"].CopyFrom(Fx["u0"]);
        state["weight_v"].CopyFrom(Fx["v0"]);
        return m;
    }

    [Fact]
    public void SpectralNorm_StateDict_UsesPyTorchNames()
    {
        var m = SpectralNorm.Apply(new Linear(4, 3));
        Assert.Equal(["bias", "weight_orig", "weight_u", "weight_v"], m.StateDict().Keys);
        Assert.Equal(["bias", "weight_orig"], m.NamedParameters().Select(p => p.Key));
        Assert.Equal(1f, MathF.Sqrt(m.StateDict()["weight_u"].ToArray().Sum(v => v * v)), 1e-5);
    }

    [Fact]
    public void SpectralNorm_TrainingForward_MatchesPyTorch()
    {
        var m = Wrapped();
        var x = Fx["x"].Clone().RequiresGrad_();
        var y = m.Forward(x);
        y.Backward(Fx["gy"]);
        var state = m.StateDict();
        Fixtures.AssertClose(Fx["u1"], state["weight_u"], 1e-5, 1e-6, "u after power iteration");
        Fixtures.AssertClose(Fx["v1"], state["weight_v"], 1e-5, 1e-6, "v after power iteration");
        var sigma = (state["weight_u"] * state["weight_orig"].MatMul(state["weight_v"])).Sum().Reshape(1);
        Fixtures.AssertClose(Fx["sigma"], sigma, 1e-5, 1e-6, "sigma");
        Fixtures.AssertClose(Fx["y"], y, 1e-5, 1e-6, "output");
        Fixtures.AssertClose(Fx["dx"], x.Grad!, 1e-5, 1e-6, "dx");
        Fixtures.AssertClose(Fx["dweight_orig"], state["weight_orig"].Grad!, 1e-4, 1e-6, "dweight_orig");
    }

    [Fact]
    public void SpectralNorm_Eval_DoesNotUpdateVectors()
    {
        var m = Wrapped();
        m.Eval();
        m.Forward(Fx["x"]);
        Fixtures.AssertClose(Fx["u0"], m.StateDict()["weight_u"], 0, 0, "u unchanged in eval");
    }

    [Fact]
    public void SpectralNorm_ManyIterations_GivesUnitSpectralNorm()
    {
        var m = SpectralNorm.Apply(new Linear(6, 5, generator: new Generator(3)), nPowerIterations: 50, generator: new Generator(4));
        var eye = Tensor.Zeros(6, 6);
        for (int i = 0; i < 6; i++) eye.Data[i * 7] = 1f;
        // Rows of (I W^T) are W's columns: the normalised weight, recovered from the layer without bias.
        var w = (m.Forward(eye) - m.StateDict()["bias"]).T;
        // Largest singular value by power iteration on W^T W.
        var v = Tensor.Ones(6);
        for (int i = 0; i < 100; i++) { v = w.T.MatMul(w.MatMul(v)); v = v / v.Square().Sum().Sqrt().Item(); }
        float sigma = w.MatMul(v).Square().Sum().Sqrt().Item();
        Assert.Equal(1f, sigma, 1e-3);
    }

    [Fact]
    public void SpectralNorm_MissingParameter_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => SpectralNorm.Apply(new ReLU()));
        Assert.Contains("weight", e.Message);
    }

    [Fact]
    public void SpectralNorm_GradCheck()
    {
        var m = SpectralNorm.Apply(new Linear(3, 2, generator: new Generator(5)), nPowerIterations: 20, generator: new Generator(6));
        var x = Tensor.Randn([2, 3], new Generator(7));
        m.Forward(x); // converge u, v, then fix them so finite differences see one function
        m.Eval();
        var w = m.StateDict()["weight_orig"];
        GradCheck.First("SpectralNorm", xs => m.Forward(x), [w]);
    }
}

public class AttentionTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "attention");

    static MultiheadAttention Loaded()
    {
        var m = new MultiheadAttention(8, 2);
        foreach (var (name, t) in m.StateDict()) t.CopyFrom(Fx["p." + name]);
        return m;
    }

    [Fact]
    public void MultiheadAttention_ParameterNames_MatchPyTorch() =>
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], new MultiheadAttention(8, 2).StateDict().Keys);

    [Fact]
    public void MultiheadAttention_WithMasks_MatchesPyTorch()
    {
        var m = Loaded();
        var q = Fx["q"].Clone().RequiresGrad_();
        var (y, w) = m.Forward(q, Fx["k"], Fx["v"], keyPaddingMask: Fx["pad"], attnMask: Fx["amask"]);
        y.Backward(Fx["gy"]);
        Fixtures.AssertClose(Fx["y"], y, 1e-5, 1e-5, "output");
        Fixtures.AssertClose(Fx["w"], w!, 1e-5, 1e-6, "averaged weights");
        Fixtures.AssertClose(Fx["dq"], q.Grad!, 1e-4, 1e-5, "dq");
        Fixtures.AssertClose(Fx["din_proj_weight"], m.InProjWeight.Grad!, 1e-4, 1e-5, "din_proj_weight");
        Fixtures.AssertClose(Fx["dout_proj.weight"], m.OutProj.Weight.Grad!, 1e-4, 1e-5, "dout_proj.weight");
    }

    [Fact]
    public void MultiheadAttention_BatchFirst_MatchesSequenceFirst()
    {
        var m = Loaded();
        var mb = new MultiheadAttention(8, 2, batchFirst: true);
        mb.LoadStateDict(m.StateDict());
        var (y, _) = m.Forward(Fx["q"], Fx["k"], Fx["v"]);
        var (yb, _) = mb.Forward(Fx["q"].Transpose(0, 1), Fx["k"].Transpose(0, 1), Fx["v"].Transpose(0, 1));
        Fixtures.AssertClose(y.Transpose(0, 1), yb, 1e-6, 1e-6, "batch-first output");
    }

    [Fact]
    public void MultiheadAttention_GradCheck()
    {
        var m = new MultiheadAttention(4, 2, generator: new Generator(8));
        var k = Tensor.Randn([3, 2, 4], new Generator(9));
        GradCheck.First("MultiheadAttention", xs => m.Forward(xs[0], k, k).Output, [Tensor.Randn([2, 2, 4], new Generator(10))]);
    }
}
