using GanForge.NN;

namespace GanForge.NN.Tests;

public class ModuleTests
{
    sealed class Affine : Module
    {
        public Tensor Weight, Bias;
        public Affine() { Weight = RegisterParameter("weight", Tensor.Ones(2, 3)); Bias = RegisterParameter("bias", Tensor.Zeros(2)); RegisterBuffer("count", Tensor.Zeros(1)); }
        public override Tensor Forward(Tensor x) => x.MatMul(Weight, transposeOther: true) + Bias;
    }

    sealed class Net : Module
    {
        public Net() { RegisterModule("0", new Affine()); RegisterModule("1", new Affine()); }
    }

    [Fact]
    public void StateDict_UsesDottedPyTorchNames()
    {
        var keys = new Net().StateDict().Keys.ToArray();
        Assert.Equal(["0.weight", "0.bias", "0.count", "1.weight", "1.bias", "1.count"], keys);
    }

    [Fact]
    public void LoadStateDict_ShapeMismatch_NamesTheTensor()
    {
        var net = new Net();
        var state = net.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state["1.bias"] = Tensor.Zeros(5);
        var e = Assert.Throws<ArgumentException>(() => net.LoadStateDict(state));
        Assert.Contains("'1.bias'", e.Message);
        Assert.Contains("(5)", e.Message);
    }

    [Fact]
    public void RequiresGradFalse_FreezesParameters()
    {
        var m = new Affine();
        m.RequiresGrad(false);
        var x = Tensor.Ones(1, 3).RequiresGrad_();
        m.Forward(x).Sum().Backward();
        Assert.Null(m.Weight.Grad);
        Assert.NotNull(x.Grad);
    }
}
