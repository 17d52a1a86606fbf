namespace GanForge.Tests;

/// <summary>Semantics the op table does not pin down: PyTorch's conventions at edges, shapes of split results.</summary>
public class OpBehaviourTests
{
    [Fact]
    public void Norm2_OfZeroVector_HasZeroGradient()
    {
        var x = Tensor.Zeros(3).RequiresGrad_();
        var y = x.Norm();
        Assert.Equal(0f, y.Item());
        var g = Autograd.Grad(y, x);
        Assert.Equal([0f, 0f, 0f], g.ToArray());
    }

    [Fact]
    public void Norm2_OfZeroVector_SecondDerivativeIsFinite()
    {
        var x = Tensor.Zeros(3).RequiresGrad_();
        var g = Autograd.Grad(x.Norm(), x, createGraph: true);
        var gg = Autograd.Grad((g * Tensor.FromArray([1f, 2f, 3f])).Sum(), x, retainGraph: false);
        Assert.All(gg.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>
    /// A map divided by one value (spectral norm's W / σ): without a graph the divisor's gradient -Σ g·W / σ² is made
    /// in one pooled buffer, with the bits of the composition a backward with a graph runs; the map's gradient g / σ as
    /// before. A divisor of one value dividing one value (the sum is the buffer itself) and a broadcast divisor of
    /// several values keep the composition.
    /// </summary>
    [Theory]
    [InlineData(new[] { 64, 3, 4, 4 }, new[] { 1 })]
    [InlineData(new[] { 300 }, new int[0])]
    [InlineData(new[] { 1 }, new[] { 1 })]
    [InlineData(new[] { 5, 7 }, new[] { 5, 1 })]
    public void Div_ByOneValue_WithoutAGraph_SameBitsAsTheComposition(int[] mapShape, int[] divisorShape)
    {
        var gen = new Generator(21);
        var w = Tensor.Randn(mapShape, gen);
        var sigma = Tensor.Uniform(divisorShape, 0.5f, 2f, gen);
        var upstream = Tensor.Randn(mapShape, gen);
        (float[] Map, float[] Divisor) Gradients(bool graph)
        {
            var (wi, si) = (w.Detach().RequiresGrad_(), sigma.Detach().RequiresGrad_());
            var y = wi / si;
            var grads = Autograd.Grad([y], [wi, si], [upstream], createGraph: graph);
            return (grads[0]!.ToArray(), grads[1]!.ToArray());
        }
        var (mapWith, divisorWith) = Gradients(graph: true);
        var (mapWithout, divisorWithout) = Gradients(graph: false);
        Assert.Equal(mapWith.Select(BitConverter.SingleToInt32Bits), mapWithout.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(divisorWith.Select(BitConverter.SingleToInt32Bits), divisorWithout.Select(BitConverter.SingleToInt32Bits));
        // against a sum in double
        if (sigma.Numel == 1)
        {
            double expected = 0;
            for (int i = 0; i < w.Numel; i++) expected -= (double)upstream.Data[i] * w.Data[i] / ((double)sigma.Data[0] * sigma.Data[0]);
            Assert.Equal(expected, divisorWithout[0], Math.Max(1e-4, Math.Abs(expected) * 1e-5));
        }
    }

    [Fact]
    public void MaxDim_Ties_PicksFirstIndexAndRoutesGradientThere()
    {
        var x = Tensor.FromArray([1f, 3f, 3f, 2f], 1, 4).RequiresGrad_();
        var (values, indices) = x.Max(1);
        Assert.Equal([1f], indices.ToArray());
        Assert.False(indices.RequiresGrad);
        Assert.Equal([0f, 1f, 0f, 0f], Autograd.Grad(values.Sum(), x).ToArray());
    }

    [Fact]
    public void MaxAll_Ties_SharesGradientEvenly()
    {
        var x = Tensor.FromArray([3f, 1f, 3f, 2f]).RequiresGrad_();
        Assert.Equal([0.5f, 0f, 0.5f, 0f], Autograd.Grad(x.Max(), x).ToArray());
    }

    [Fact]
    public void ArgMax_WithoutDim_IndexesTheFlattenedTensor()
    {
        var x = Tensor.FromArray([1f, 5f, 2f, 7f, 7f, 0f], 2, 3);
        Assert.Equal(3f, x.ArgMax().Item());
        Assert.Equal(5f, x.ArgMin().Item());
        Assert.Equal([1f, 0f], x.ArgMax(1).ToArray());
        Assert.Equal([2, 1], x.ArgMax(1, keepDim: true).Shape);
    }

    [Fact]
    public void Chunk_UnevenSize_GivesCeilSizedPieces()
    {
        var pieces = Tensor.Arange(7).Chunk(3);
        Assert.Equal([3, 3, 1], pieces.Select(p => p.Numel).ToArray());
        Assert.Equal(2, Tensor.Arange(4).Chunk(3).Length); // ceil(4/3) = 2 per piece, as torch.chunk
    }

    [Fact]
    public void Slice_OutOfRangeBounds_AreClampedLikePython()
    {
        var x = Tensor.Arange(5);
        Assert.Equal([3f, 4f], x.Slice(0, -2, 100).ToArray());
        Assert.Equal([1f, 3f], x.Slice(0, 1, 4, 2).ToArray());
        Assert.Empty(x.Slice(0, 4, 2).ToArray());
    }

    [Fact]
    public void Clamp_AtTheBounds_PassesTheGradient()
    {
        var x = Tensor.FromArray([-1f, -0.5f, 0f, 0.5f, 1f]).RequiresGrad_();
        var g = Autograd.Grad(x.Clamp(-0.5f, 0.5f).Sum(), x);
        Assert.Equal([0f, 1f, 1f, 1f, 0f], g.ToArray());
    }

    [Fact]
    public void IndexSelect_RepeatedIndices_AccumulateGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequiresGrad_();
        var g = Autograd.Grad(x.IndexSelect(0, 2, 0, 2, -1).Sum(), x);
        Assert.Equal([1f, 0f, 3f], g.ToArray());
    }

    [Fact]
    public void LogSumExp_HugeInputs_StaysFinite()
    {
        var x = Tensor.FromArray([1000f, 1000f]);
        Assert.Equal(1000f + MathF.Log(2f), x.LogSumExp().Item(), 1e-3);
        var neg = Tensor.FromArray([float.NegativeInfinity, float.NegativeInfinity]);
        Assert.Equal(float.NegativeInfinity, neg.LogSumExp().Item());
    }

    [Fact]
    public void MaskedFill_NonzeroMask_FillsAndBlocksGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2).RequiresGrad_();
        var y = x.MaskedFill(Tensor.FromArray([0f, 1f]), 9f);
        Assert.Equal([1f, 9f, 3f, 9f], y.ToArray());
        Assert.Equal([1f, 0f, 1f, 0f], Autograd.Grad(y.Sum(), x).ToArray());
    }

    [Fact]
    public void Select_RemovesTheDim()
    {
        var x = Tensor.Arange(24).Reshape(2, 3, 4);
        var y = x.Select(1, -1);
        Assert.Equal([2, 4], y.Shape);
        Assert.Equal([8f, 9f, 10f, 11f, 20f, 21f, 22f, 23f], y.ToArray());
    }

    [Fact]
    public void Comparisons_CarryNoGradient()
    {
        var x = Tensor.Randn([3], new Generator(1)).RequiresGrad_();
        Assert.False(x.Gt(0f).RequiresGrad);
        Assert.Null(x.Eq(x).GradFn);
    }

    [Fact]
    public void MaxDim_OfScalar_ReturnsItAtIndexZero()
    {
        var (values, indices) = Tensor.Scalar(4f).Max(0);
        Assert.Equal(4f, values.Item());
        Assert.Equal(0f, indices.Item());
    }

    [Fact]
    public void Stack_NegativeDim_InsertsFromTheEnd()
    {
        var y = Tensor.Stack([Tensor.Zeros(2, 3), Tensor.Ones(2, 3)], -1);
        Assert.Equal([2, 3, 2], y.Shape);
        Assert.Equal([0f, 1f, 0f, 1f], y.ToArray()[..4]);
    }
}
