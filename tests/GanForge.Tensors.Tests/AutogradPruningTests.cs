namespace GanForge.Tests;

/// <summary>
/// Autograd.Grad computes only what leads to its inputs: a node off every path to them does not run,
/// and a node on the path is told (NeedsGrad) that its other inputs need no gradient, so a gradient
/// penalty's ∇ₓD skips the layers' weight gradients. Backward still computes every gradient.
/// </summary>
public class AutogradPruningTests
{
    /// <summary>y = a·b elementwise, recording which input gradients the engine asked for.</summary>
    sealed class SpyMul : Function
    {
        Tensor _a = null!, _b = null!;
        public List<(bool A, bool B)> Asked { get; } = [];

        public Tensor Apply(Tensor a, Tensor b)
        {
            (_a, _b) = (a, b);
            Tensor y;
            using (GradMode.NoGrad()) y = a * b;
            return Record(this, y, a, b);
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Asked.Add((NeedsGrad(0), NeedsGrad(1)));
            return [NeedsGrad(0) ? grad * _b : null, NeedsGrad(1) ? grad * _a : null];
        }
    }

    [Fact]
    public void Grad_WithRespectToOneInput_DoesNotAskForTheOthersGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3).RequiresGrad_();
        var w = Tensor.FromArray([4f, 5f, 6f], 3).RequiresGrad_();
        var spy = new SpyMul();
        var y = spy.Apply(x, w).Sum();
        var gx = Autograd.Grad(y, x);
        Assert.Equal([(true, false)], spy.Asked);
        Assert.Equal(w.ToArray(), gx.ToArray());
        Assert.Null(w.Grad);
    }

    [Fact]
    public void Backward_AsksForEveryInputsGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3).RequiresGrad_();
        var w = Tensor.FromArray([4f, 5f, 6f], 3).RequiresGrad_();
        var spy = new SpyMul();
        spy.Apply(x, w).Sum().Backward();
        Assert.Equal([(true, true)], spy.Asked);
        Assert.Equal([1f, 2f, 3f], w.Grad!.ToArray());
    }

    [Fact]
    public void Grad_NodeOffEveryPathToTheInputs_DoesNotRun()
    {
        var x = Tensor.FromArray([1f, 2f], 2).RequiresGrad_();
        var w = Tensor.FromArray([3f, 4f], 2).RequiresGrad_();
        var v = Tensor.FromArray([5f, 6f], 2).RequiresGrad_();
        var off = new SpyMul();
        var y = (x * w).Sum() + off.Apply(w, v).Sum();      // the second term does not depend on x
        var gx = Autograd.Grad(y, x);
        Assert.Empty(off.Asked);
        Assert.Equal([3f, 4f], gx.ToArray());
    }

    [Fact]
    public void Grad_CreateGraph_SecondOrderStillReachesTheWeights()
    {
        // penalty = (d/dx sum(x·w))² summed = sum(w²): its gradient w.r.t. w is 2w, through the recorded backward.
        var x = Tensor.FromArray([1f, 2f], 2).RequiresGrad_();
        var w = Tensor.FromArray([3f, -4f], 2).RequiresGrad_();
        var gx = Autograd.Grad(new SpyMul().Apply(x, w).Sum(), x, createGraph: true);
        gx.Square().Sum().Backward();
        Assert.Equal([6f, -8f], w.Grad!.ToArray());
    }
}
