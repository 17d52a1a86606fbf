namespace GanForge.Tests;

/// <summary>User errors name the op and the shapes involved.</summary>
public class OpErrorTests
{
    static void AssertMessage(Exception e, params string[] parts)
    {
        foreach (var p in parts) Assert.Contains(p, e.Message);
    }

    [Fact]
    public void Cat_MismatchedShapes_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1));
        AssertMessage(e, "Cat", "(2,3)", "(3,3)", "dim 1");
    }

    [Fact]
    public void Stack_MismatchedShapes_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(2, 4)]));
        AssertMessage(e, "Stack", "(2,3)", "(2,4)");
    }

    [Fact]
    public void Where_UnbroadcastableShapes_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Where(Tensor.Ones(3), Tensor.Zeros(2, 4), Tensor.Zeros(4)));
        AssertMessage(e, "Where", "(3)", "(2,4)");
    }

    [Fact]
    public void Eq_UnbroadcastableShapes_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Eq(Tensor.Zeros(2)));
        AssertMessage(e, "Eq", "(2,3)", "(2)");
    }

    [Fact]
    public void Gather_IndexOutOfRange_NamesOpValueAndShape()
    {
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Zeros(2, 3).Gather(1, Tensor.FromArray([0f, 3f], 2, 1)));
        AssertMessage(e, "Gather", "3", "(2,3)");
    }

    // Every value that is not a whole number in [0, size) is refused, whatever the float-to-int conversion makes of it.
    [Theory]
    [InlineData(-1f)]
    [InlineData(-0.5f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    [InlineData(3e9f)]
    public void GatherAndScatterAdd_IndexNotAWholeNumberInRange_Throw(float value)
    {
        var index = Tensor.FromArray([0f, 2f, value, 1f], 2, 2);
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Zeros(2, 3).Gather(1, index));
        AssertMessage(e, "Gather", "(2,3)");
        Assert.Throws<IndexOutOfRangeException>(() => Tensor.Zeros(2, 3).ScatterAdd(1, index, Tensor.Ones(2, 2)));
    }

    [Fact]
    public void Gather_RankMismatch_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Gather(1, Tensor.FromArray([0f, 1f])));
        AssertMessage(e, "Gather", "(2)", "(2,3)");
    }

    [Fact]
    public void ScatterAdd_SrcShapeDiffersFromIndex_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 2).ScatterAdd(0, Tensor.Zeros(2, 2), Tensor.Zeros(2, 1)));
        AssertMessage(e, "ScatterAdd", "(2,2)", "(2,1)");
    }

    [Fact]
    public void IndexSelect_IndexOutOfRange_NamesOpAndShape()
    {
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Zeros(4, 3).IndexSelect(0, 1, 4));
        AssertMessage(e, "IndexSelect", "4", "(4,3)");
    }

    [Fact]
    public void Narrow_PastTheEnd_NamesOpAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 5).Narrow(1, 3, 3));
        AssertMessage(e, "Narrow", "(3,5)");
    }

    [Fact]
    public void Select_IndexOutOfRange_NamesOpAndShape()
    {
        var e = Assert.Throws<IndexOutOfRangeException>(() => Tensor.Zeros(3, 5).Select(0, 3));
        AssertMessage(e, "Select", "(3,5)");
    }

    [Fact]
    public void Max_BadDim_NamesOpAndRank()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 5).Max(2));
        AssertMessage(e, "Max", "dim 2", "rank 2");
    }

    [Fact]
    public void Split_SizesNotAddingUp_NamesOpAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(4, 3).Split([1, 2], 0));
        AssertMessage(e, "Split", "(1,2)", "(4,3)");
    }

    [Fact]
    public void MaskedFill_MaskLargerThanInput_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(4).MaskedFill(Tensor.Ones(3, 4), 0f));
        AssertMessage(e, "MaskedFill", "(3,4)", "(4)");
    }

    [Fact]
    public void Pow_UnbroadcastableExponent_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones(2, 3).Pow(Tensor.Ones(2)));
        AssertMessage(e, "Pow", "(2,3)", "(2)");
    }
}
