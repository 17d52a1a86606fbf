using GanForge.Optim;

namespace GanForge.NN.Tests.Optim;

public class OptimizerErrorTests
{
    static Tensor Param(params int[] shape) => Tensor.Zeros(shape).RequiresGrad_();

    [Fact]
    public void Constructor_EmptyParameterList_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sgd([], lr: 0.1));
        Assert.Contains("empty parameter list", e.Message);
    }

    [Fact]
    public void Constructor_NonLeafTensor_Throws()
    {
        var x = Param(2);
        var e = Assert.Throws<ArgumentException>(() => new Adam([x * 2f]));
        Assert.Contains("non-leaf", e.Message);
    }

    [Fact]
    public void AddParamGroup_ParameterAlreadyInAGroup_Throws()
    {
        var p = Param(2);
        var opt = new Adam([p]);
        var e = Assert.Throws<ArgumentException>(() => opt.AddParamGroup([p], lr: 0.1));
        Assert.Contains("more than one parameter group", e.Message);
    }

    [Theory]
    [InlineData(-0.1, 0.9, 0.999)]
    [InlineData(1e-3, 1.0, 0.999)]
    [InlineData(1e-3, 0.9, -0.5)]
    public void Adam_InvalidHyperparameters_Throw(double lr, double beta1, double beta2)
    {
        Assert.Throws<ArgumentException>(() => new Adam([Param(2)], lr, beta1, beta2));
    }

    [Fact]
    public void Sgd_NesterovWithoutMomentum_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sgd([Param(2)], lr: 0.1, nesterov: true));
        Assert.Contains("nesterov", e.Message);
    }

    [Fact]
    public void AddParamGroup_OptionsOfAnotherOptimizer_Throws()
    {
        var opt = new Adam([Param(2)]);
        var e = Assert.Throws<ArgumentException>(() => opt.AddParamGroup([Param(2)], options: new SgdOptions()));
        Assert.Contains("SgdOptions", e.Message);
    }

    [Fact]
    public void Step_GradientShapeMismatch_NamesShapes()
    {
        var p = Param(2, 3);
        var opt = new Sgd([p], lr: 0.1);
        p.Grad = Tensor.Zeros(3, 2);
        var e = Assert.Throws<InvalidOperationException>(() => opt.Step());
        Assert.Contains("(3,2)", e.Message);
        Assert.Contains("(2,3)", e.Message);
    }

    [Fact]
    public void LoadStateDict_FromOtherOptimizerType_Throws()
    {
        var p = Param(2);
        var sgd = new Sgd([p], lr: 0.1, momentum: 0.9);
        var e = Assert.Throws<ArgumentException>(() => new Adam([p]).LoadStateDict(sgd.StateDict()));
        Assert.Contains("SGD", e.Message);
    }

    [Fact]
    public void LoadStateDict_DifferentParameterShape_NamesTheTensor()
    {
        var a = Param(2);
        var adam = new Adam([a]);
        a.Grad = Tensor.Ones(2);
        adam.Step();
        var e = Assert.Throws<ArgumentException>(() => new Adam([Param(3)]).LoadStateDict(adam.StateDict()));
        Assert.Contains("state.0.exp_avg", e.Message);
    }

    [Fact]
    public void LoadStateDict_DifferentGroupCount_Throws()
    {
        var opt = new Adam([Param(2)]);
        opt.AddParamGroup([Param(2)]);
        var e = Assert.Throws<ArgumentException>(() => new Adam([Param(2)]).LoadStateDict(opt.StateDict()));
        Assert.Contains("2 parameter groups", e.Message);
    }

    [Fact]
    public void OptimizerStateDict_ReadFromFileWithoutOptimizer_SaysWhatIsMissing()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            OptimizerStateDict.ReadFrom(new Dictionary<string, Tensor>(), new Dictionary<string, string>(), "optimizer.", "ckpt.safetensors"));
        Assert.Contains("ckpt.safetensors", e.Message);
        Assert.Contains("optimizer.json", e.Message);
    }
}
