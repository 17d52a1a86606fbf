namespace GanForge.NN.Tests;

public class TransformerTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "transformer");

    static TransformerEncoderLayer Loaded()
    {
        var m = new TransformerEncoderLayer(8, 2, 16);
        foreach (var (name, t) in m.StateDict()) t.CopyFrom(Fx["p." + name]);
        return m;
    }

    [Fact]
    public void TransformerEncoderLayer_ParameterNames_MatchPyTorch() =>
        Assert.Equal(Fx.Keys.Where(k => k.StartsWith("p.", StringComparison.Ordinal)).Select(k => k[2..]).Order(),
            new TransformerEncoderLayer(8, 2, 16).StateDict().Keys.Order());

    [Fact]
    public void TransformerEncoderLayer_ForwardAndBackward_MatchPyTorch()
    {
        var m = Loaded();
        var x = Fx["x"].Clone().RequiresGrad_();
        var y = m.Forward(x);
        y.Backward(Fx["gy"]);
        Fixtures.AssertClose(Fx["y"], y, 1e-5, 1e-5, "output");
        Fixtures.AssertClose(Fx["dx"], x.Grad!, 1e-4, 1e-5, "dx");
        foreach (var (name, p) in m.NamedParameters())
            Fixtures.AssertClose(Fx["d" + name], p.Grad!, 1e-4, 1e-5, "d" + name);
    }

    [Fact]
    public void TransformerEncoderLayer_SecondOrder_MatchesPyTorch()
    {
        // What a gradient penalty through a transformer critic differentiates: d/dx sum(dy/dx · gy · v).
        var m = Loaded();
        var x = Fx["x"].Clone().RequiresGrad_();
        var gx = Autograd.Grad([(m.Forward(x) * Fx["gy"]).Sum()], [x], createGraph: true)[0]!;
        var ggx = Autograd.Grad([(gx * Fx["v"]).Sum()], [x])[0]!;
        Fixtures.AssertClose(Fx["ddx"], ggx, 1e-4, 1e-4, "ddx");
    }

    [Fact]
    public void TransformerEncoderLayer_GradCheck()
    {
        var m = new TransformerEncoderLayer(4, 2, 8, generator: new Generator(3));
        GradCheck.First("TransformerEncoderLayer", xs => m.Forward(xs[0]), [Tensor.Randn([2, 3, 4], new Generator(4))]);
    }

    [Fact]
    public void TransformerEncoderLayer_WrongWidth_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new TransformerEncoderLayer(8, 2, 16).Forward(Tensor.Zeros(2, 5, 4)));
        Assert.Contains("(2,5,4)", e.Message);
    }
}
