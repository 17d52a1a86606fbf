namespace GanForge.Tests;

public class AutogradTests
{
    static Tensor R(params int[] shape) => Tensor.Randn(shape, new Generator(3));

    [Fact]
    public void Backward_ScalarLoss_AccumulatesIntoLeafGrad()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequiresGrad_();
        (x * x).Sum().Backward();
        Assert.Equal([2f, 4f, 6f], x.Grad!.ToArray());
        (x * 3f).Sum().Backward();
        Assert.Equal([5f, 7f, 9f], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_Twice_WithoutRetainGraph_Throws()
    {
        var x = Tensor.FromArray([1f, 2f]).RequiresGrad_();
        var y = (x.Exp() * x).Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("already freed", e.Message);
    }

    [Fact]
    public void Backward_NonScalarWithoutGradient_Throws()
    {
        var x = Tensor.FromArray([1f, 2f]).RequiresGrad_();
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2f).Backward());
        Assert.Contains("not a scalar", e.Message);
    }

    [Fact]
    public void NoGrad_DoesNotRecord()
    {
        var x = Tensor.FromArray([1f, 2f]).RequiresGrad_();
        using (GradMode.NoGrad())
        {
            var y = x * 2f;
            Assert.False(y.RequiresGrad);
            Assert.Null(y.GradFn);
        }
        Assert.True((x * 2f).RequiresGrad);
    }

    [Fact]
    public void Grad_CreateGraph_GivesSecondDerivative()
    {
        // y = x^3 -> dy/dx = 3x^2 -> d2y/dx2 = 6x
        var x = Tensor.FromArray([2f]).RequiresGrad_();
        var dy = Autograd.Grad(x.Pow(3f).Sum(), x, createGraph: true);
        Assert.Equal(12f, dy.Item(), 1e-4);
        var d2y = Autograd.Grad(dy.Sum(), x);
        Assert.Equal(12f, d2y.Item(), 1e-4);
    }

    [Fact]
    public void Gradients_OfCoreOps_MatchFiniteDifferences()
    {
        GradCheck.First("Add broadcast", t => t[0] + t[1], [R(3, 4), R(4)]);
        GradCheck.First("Mul broadcast", t => t[0] * t[1], [R(2, 3, 4), R(3, 1)]);
        GradCheck.First("Div", t => t[0] / (t[1].Square() + 1f), [R(3, 4), R(3, 4)]);
        GradCheck.First("MatMul batched", t => t[0].MatMul(t[1]), [R(2, 3, 4), R(4, 5)]);
        GradCheck.First("MatMul transposed", t => t[0].MatMul(t[1], true, true), [R(4, 3), R(5, 4)]);
        GradCheck.First("Sum dims", t => t[0].Sum([0, 2], keepDim: true), [R(2, 3, 4)]);
        GradCheck.First("Permute", t => t[0].Permute(2, 0, 1), [R(2, 3, 4)]);
        GradCheck.First("Tanh·Sigmoid", t => t[0].Tanh() * t[0].Sigmoid(), [R(3, 4)]);
    }

    [Fact]
    public void SecondOrder_OfCoreOps_MatchFiniteDifferences()
    {
        GradCheck.Second("MatMul·Tanh", t => t[0].MatMul(t[1]).Tanh(), [R(3, 4), R(4, 2)]);
        GradCheck.Second("Mul·Exp", t => (t[0] * t[1]).Exp(), [R(3, 2), R(2)]);
    }
}

public class AnomalyModeTests
{
    [Fact]
    public void AnomalyMode_NaNInForward_NamesTheOp()
    {
        var x = Tensor.FromArray([1f, -1f]).RequiresGrad_();
        using var _ = AnomalyMode.Enable();
        var e = Assert.Throws<ArithmeticException>(() => x.Log());
        Assert.Contains("LogBackward", e.Message);
        Assert.Contains("element 1", e.Message);
    }

    [Fact]
    public void AnomalyMode_InfInBackward_NamesTheOp()
    {
        var x = Tensor.FromArray([0f, 4f]).RequiresGrad_();
        using var _ = AnomalyMode.Enable();
        var y = x.Sqrt().Sum();                    // finite forward, d sqrt(x)/dx = inf at 0
        var e = Assert.Throws<ArithmeticException>(() => y.Backward());
        Assert.Contains("SqrtBackward", e.Message);
    }

    [Fact]
    public void AnomalyMode_Off_LetsNaNThrough()
    {
        var x = Tensor.FromArray([-1f]).RequiresGrad_();
        Assert.True(float.IsNaN(x.Log().Item()));
    }
}
