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

    [Fact]
    public void IsSampleWise_LinearConvAndActivations_True()
    {
        var g = new Generator(1);
        Assert.True(new Sequential(new Flatten(), new Linear(12, 8, generator: g), new LeakyReLU(0.2f), new Linear(8, 1, generator: g)).IsSampleWise());
        Assert.True(new Sequential(new Conv2d(1, 4, 3), new ReLU(), new Flatten()).IsSampleWise());
    }

    [Fact]
    public void IsSampleWise_BatchCoupledOrStatefulLayers_False()
    {
        var g = new Generator(1);
        Assert.False(new Sequential(new Linear(12, 8, generator: g), new BatchNorm1d(8)).IsSampleWise());
        Assert.False(new Sequential(new Linear(12, 8, generator: g), new Dropout(0.5f)).IsSampleWise());
        Assert.False(new Sequential(new Conv2d(1, 4, 3), new MinibatchStdDev()).IsSampleWise());
        Assert.False(new Sequential(SpectralNorm.Apply(new Linear(12, 8, generator: g), generator: g)).IsSampleWise());
        Assert.False(new Affine().IsSampleWise());   // a user's module: unknown, so not assumed per-sample
    }

    /// <summary>A residual block that declares its own Forward (x + f(x)) sample-wise; its children are checked apart.</summary>
    sealed class Residual : Module
    {
        readonly Module _f;
        public Residual(Module f) => _f = RegisterModule("f", f);
        public override Tensor Forward(Tensor x) => x + _f.Forward(x);
        protected override bool ForwardIsSampleWise => true;
    }

    [Fact]
    public void IsSampleWise_InstanceNormAndDeclaredModules_AsTheirLayers()
    {
        Assert.True(new Sequential(new Conv2d(1, 4, 3), new InstanceNorm2d(4), new ReLU()).IsSampleWise());
        Assert.False(new Sequential(new Conv2d(1, 4, 3), new InstanceNorm2d(4, trackRunningStats: true)).IsSampleWise());   // a batch's statistics update the running ones
        Assert.True(new Residual(new Sequential(new Conv2d(4, 4, 3, padding: 1), new InstanceNorm2d(4))).IsSampleWise());
        Assert.False(new Residual(new Sequential(new Conv2d(4, 4, 3, padding: 1), new BatchNorm2d(4))).IsSampleWise());
    }

    [Fact]
    public void Forward_TwoBatchesConcatenated_MatchesTwoForwardsAndTheirGradients()
    {
        // What lets the discriminator update run D once over real and fake: the same rows, and weight gradients
        // equal up to the order of summation.
        var g = new Generator(4);
        var d = new Sequential(new Flatten(), new Linear(12, 16, generator: g), new LeakyReLU(0.2f), new Linear(16, 1, generator: g));
        var real = Tensor.Randn([5, 3, 4], g);
        var fake = Tensor.Randn([5, 3, 4], g);
        Tensor Loss(Tensor r, Tensor f) =>
            F.BinaryCrossEntropyWithLogits(r, Tensor.Ones(5, 1)) + F.BinaryCrossEntropyWithLogits(f, Tensor.Zeros(5, 1));

        var (r2, f2) = (d.Forward(real), d.Forward(fake));
        Loss(r2, f2).Backward();
        var separate = d.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        foreach (var p in d.Parameters()) p.Grad = null;

        var both = d.Forward(Tensor.Cat([real, fake], 0));
        var (r1, f1) = (both.Narrow(0, 0, 5), both.Narrow(0, 5, 5));
        Loss(r1, f1).Backward();

        Fixtures.AssertClose(r2, r1, 1e-6, 1e-6, "D(real) rows");
        Fixtures.AssertClose(f2, f1, 1e-6, 1e-6, "D(fake) rows");
        var together = d.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        for (int i = 0; i < separate.Count; i++)
            Fixtures.AssertClose(Tensor.FromArray(separate[i]), Tensor.FromArray(together[i]), 1e-5, 1e-6, $"gradient of parameter {i}");
    }
}
