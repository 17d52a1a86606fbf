namespace GanForge.Tests;

/// <summary>
/// The engine hands a gradient it owns to a leaf as its .Grad without a copy and adds into owned
/// gradients in place. These tests pin down that no two tensors end up sharing a gradient's storage,
/// that the caller's gradient is never taken over, and that accumulation still sums as PyTorch does.
/// </summary>
public class GradientOwnershipTests
{
    static Tensor Leaf(params float[] v) => Tensor.FromArray(v).RequiresGrad_();

    /// <summary>Asserts that writing into <paramref name="a"/> leaves <paramref name="b"/> alone.</summary>
    static void AssertIndependent(Tensor a, Tensor b, string what)
    {
        Assert.False(ReferenceEquals(a.Storage, b.Storage), $"{what}: the two gradients share storage");
        var before = b.ToArray();
        a.Data.Fill(-123f);
        Assert.Equal(before, b.ToArray());
    }

    [Fact]
    public void Add_TwoLeaves_GradsDoNotShareStorage()
    {
        var a = Leaf(1f, 2f, 3f);
        var b = Leaf(4f, 5f, 6f);
        (a + b).Sum().Backward();
        Assert.Equal([1f, 1f, 1f], a.Grad!.ToArray());
        Assert.Equal([1f, 1f, 1f], b.Grad!.ToArray());
        AssertIndependent(a.Grad!, b.Grad!, "a + b");
    }

    [Fact]
    public void Add_TwoLeavesWithUserGradient_GradsOwnNeitherEachOtherNorTheUsersStorage()
    {
        var a = Leaf(1f, 2f, 3f);
        var b = Leaf(4f, 5f, 6f);
        var g = Tensor.FromArray([0.5f, -1f, 2f]);
        (a + b).Backward(g);
        Assert.False(ReferenceEquals(a.Grad!.Storage, g.Storage));
        Assert.False(ReferenceEquals(b.Grad!.Storage, g.Storage));
        AssertIndependent(a.Grad!, b.Grad!, "a + b with gradient");
        g.Data.Fill(9f);
        Assert.Equal([0.5f, -1f, 2f], b.Grad!.ToArray());
    }

    [Fact]
    public void Sub_TwoLeaves_GradsAreIndependent()
    {
        var a = Leaf(1f, 2f);
        var b = Leaf(3f, 4f);
        ((a - b) * 3f).Sum().Backward();
        Assert.Equal([3f, 3f], a.Grad!.ToArray());
        Assert.Equal([-3f, -3f], b.Grad!.ToArray());
        AssertIndependent(a.Grad!, b.Grad!, "a - b");
    }

    [Fact]
    public void Add_SameLeafTwice_GradIsTwo()
    {
        var a = Leaf(1f, 2f, 3f);
        (a + a).Sum().Backward();
        Assert.Equal([2f, 2f, 2f], a.Grad!.ToArray());
    }

    [Fact]
    public void Add_SameLeafTwiceWithUserGradient_GradIsTwiceAndUsersGradientUntouched()
    {
        var a = Leaf(1f, 2f, 3f);
        var g = Tensor.FromArray([1f, 10f, 100f]);
        (a + a).Backward(g);
        Assert.Equal([2f, 20f, 200f], a.Grad!.ToArray());
        Assert.Equal([1f, 10f, 100f], g.ToArray());
        Assert.False(ReferenceEquals(a.Grad!.Storage, g.Storage));
    }

    [Fact]
    public void Leaf_UsedByThreeOps_SumsAllPathsWithoutTouchingOtherGrads()
    {
        // a flows through an add (pass-through gradient), a mul (fresh gradient) and a reshape.
        var a = Leaf(1f, 2f, 3f, 4f);
        var b = Leaf(2f, 2f, 2f, 2f);
        var y = (a + b) + a * b + a.Reshape(2, 2).Reshape(4);
        y.Sum().Backward();
        Assert.Equal([4f, 4f, 4f, 4f], a.Grad!.ToArray()); // 1 + b + 1
        Assert.Equal([2f, 3f, 4f, 5f], b.Grad!.ToArray()); // 1 + a
        AssertIndependent(a.Grad!, b.Grad!, "a and b");
    }

    [Fact]
    public void Reshape_UserGradientPassesStraightToLeaf_IsCopiedNotTaken()
    {
        var x = Leaf(1f, 2f, 3f, 4f, 5f, 6f);
        var g = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        x.Reshape(2, 3).Backward(g);
        Assert.False(ReferenceEquals(x.Grad!.Storage, g.Storage));
        g.Data.Fill(0f);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], x.Grad!.ToArray());
    }

    [Fact]
    public void ScalarAdd_UserGradientPassesStraightToLeaf_IsCopiedNotTaken()
    {
        // x + 1 returns the incoming gradient unchanged.
        var x = Leaf(1f, 2f, 3f);
        var g = Tensor.FromArray([7f, 8f, 9f]);
        (x + 1f).Backward(g);
        g.Data.Fill(0f);
        Assert.Equal([7f, 8f, 9f], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_OnLeafItself_CopiesUserGradient()
    {
        var x = Leaf(1f, 2f);
        var g = Tensor.FromArray([3f, 4f]);
        x.Backward(g);
        g.Data.Fill(0f);
        Assert.Equal([3f, 4f], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_UserGradientWithExistingGrad_AddsWithoutChangingUsersGradient()
    {
        var x = Leaf(1f, 2f);
        x.Grad = Tensor.FromArray([10f, 20f]);
        var g = Tensor.FromArray([1f, 2f]);
        x.Reshape(2, 1).Backward(g.Reshape(2, 1));
        Assert.Equal([11f, 22f], x.Grad!.ToArray());
        Assert.Equal([1f, 2f], g.ToArray());
    }

    [Fact]
    public void AutogradGrad_PassThrough_LeavesUsersGradientUnchanged()
    {
        // Autograd.Grad may return a view of the caller's gradient (as torch does), but must not write into it.
        var x = Leaf(1f, 2f, 3f);
        var y = x + 1f;
        var z = x * 2f;
        var g = Tensor.FromArray([1f, 1f, 1f]);
        var gx = Autograd.Grad([y, z], [x], [g, Tensor.FromArray([1f, 1f, 1f])])[0]!;
        Assert.Equal([3f, 3f, 3f], gx.ToArray());
        Assert.Equal([1f, 1f, 1f], g.ToArray());
    }

    [Fact]
    public void Backward_Second_AccumulatesInPlaceIntoSameGradTensor()
    {
        var x = Leaf(1f, 2f, 3f);
        (x * x).Sum().Backward();
        var first = x.Grad!;
        var storage = first.Storage;
        Assert.Equal([2f, 4f, 6f], first.ToArray());
        (x * 3f).Sum().Backward();
        Assert.Same(first, x.Grad);
        Assert.Same(storage, x.Grad!.Storage);
        Assert.Equal([5f, 7f, 9f], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_SecondThroughPassThrough_AccumulatesInPlaceAndKeepsUserGradient()
    {
        var x = Leaf(1f, 2f);
        var g1 = Tensor.FromArray([1f, 1f]);
        (x + 0f).Backward(g1);
        var first = x.Grad!;
        var g2 = Tensor.FromArray([2f, 3f]);
        (x + 0f).Backward(g2);
        Assert.Same(first, x.Grad);
        Assert.Equal([3f, 4f], x.Grad!.ToArray());
        Assert.Equal([1f, 1f], g1.ToArray());
        Assert.Equal([2f, 3f], g2.ToArray());
    }

    [Fact]
    public void Backward_RetainGraphTwice_DoublesGrad()
    {
        var x = Leaf(1f, 2f, 3f);
        var w = Leaf(0.5f, -1f, 2f);
        var loss = (x * w).Tanh().Sum();
        loss.Backward(retainGraph: true);
        var once = x.Grad!.ToArray();
        var onceW = w.Grad!.ToArray();
        var gradTensor = x.Grad;
        loss.Backward();
        Assert.Same(gradTensor, x.Grad);
        Assert.Equal(once.Select(v => 2f * v), x.Grad!.ToArray());
        Assert.Equal(onceW.Select(v => 2f * v), w.Grad!.ToArray());
        AssertIndependent(x.Grad!, w.Grad!, "x and w after two backwards");
    }

    [Fact]
    public void Backward_CreateGraph_GradOfGradIsCorrect()
    {
        // y = sum(x^3): dy/dx = 3x^2 (kept in the graph), d(sum(dy/dx))/dx = 6x.
        var x = Leaf(1f, -2f, 3f);
        (x * x * x).Sum().Backward(createGraph: true);
        var g = x.Grad!;
        Assert.NotNull(g.GradFn);
        Assert.Equal([3f, 12f, 27f], g.ToArray());

        x.Grad = null;
        g.Sum().Backward();
        Assert.Equal([6f, -12f, 18f], x.Grad!.ToArray());
        Assert.Equal([3f, 12f, 27f], g.ToArray());
    }

    [Fact]
    public void Backward_CreateGraphThenPlain_AccumulatesWithoutGraph()
    {
        var x = Leaf(1f, 2f);
        (x * x).Sum().Backward(createGraph: true);
        var withGraph = x.Grad!;
        (x * 5f).Sum().Backward();
        Assert.Equal([7f, 9f], x.Grad!.ToArray());
        Assert.Equal([2f, 4f], withGraph.ToArray()); // the graph-carrying grad was replaced, not written into
        Assert.Null(x.Grad!.GradFn);
    }

    [Fact]
    public void Backward_RetainAndCreateGraph_TwiceAccumulatesAndSecondOrderStillWorks()
    {
        var x = Leaf(0.5f, -1f);
        var y = (x * x * x).Sum();
        y.Backward(retainGraph: true, createGraph: true);
        y.Backward(retainGraph: true, createGraph: true);
        var g = x.Grad!;
        Assert.Equal([1.5f, 6f], g.ToArray()); // 2 * 3x^2
        var gg = Autograd.Grad([g.Sum()], [x])[0]!;
        Assert.Equal([6f, -12f], gg.ToArray()); // 2 * 6x
    }

    [Fact]
    public void AutogradGrad_CreateGraph_GradientPenaltyStyle()
    {
        // R1-like: p = sum((d/dx sum(tanh(w x)))^2); checked against the closed form in double.
        var x = Leaf(0.3f, -0.7f, 1.1f);
        var w = Leaf(0.9f, 1.2f, -0.4f);
        var gx = Autograd.Grad([(w * x).Tanh().Sum()], [x], createGraph: true)[0]!;
        var p = (gx * gx).Sum();
        p.Backward();
        for (int i = 0; i < 3; i++)
        {
            double xi = x.Data[i], wi = w.Data[i];
            double t = Math.Tanh(wi * xi), s = 1 - t * t;  // d/dx tanh(wx) = w s
            double dpdx = 2 * wi * s * wi * (-2 * t * s * wi);          // 2 g dg/dx
            double dpdw = 2 * wi * s * (s + wi * (-2 * t * s * xi));    // 2 g dg/dw
            Assert.Equal(dpdx, x.Grad!.Data[i], 1e-4);
            Assert.Equal(dpdw, w.Grad!.Data[i], 1e-4);
        }
        AssertIndependent(x.Grad!, w.Grad!, "x and w");
    }

    [Fact]
    public void Backward_DiamondGraph_InternalGradientsStayCorrect()
    {
        // h feeds two branches that each pass its gradient straight through (add) or fresh (mul);
        // in-place accumulation at h must not corrupt the branch gradients that reach a and b.
        var a = Leaf(1f, 2f);
        var b = Leaf(3f, 4f);
        var h = a * b;
        var y = (h + b) + (h * h) + (h + a);
        y.Sum().Backward();
        // dy/dh = 1 + 2h + 1; dy/da = dy/dh * b + 1; dy/db = dy/dh * a + 1
        float[] hv = [3f, 8f];
        Assert.Equal(new[] { (2 + 2 * hv[0]) * 3f + 1, (2 + 2 * hv[1]) * 4f + 1 }, a.Grad!.ToArray());
        Assert.Equal(new[] { (2 + 2 * hv[0]) * 1f + 1, (2 + 2 * hv[1]) * 2f + 1 }, b.Grad!.ToArray());
    }
}
