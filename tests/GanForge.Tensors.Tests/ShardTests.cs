namespace GanForge.Tests;

public class ShardTests
{
    [Fact]
    public void Take_SecondOfThree_KeepsItsRows()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 6, 2);
        var part = new Shard(1, 3).Take(x);
        Assert.Equal([2, 2], part.Shape);
        Assert.Equal([4f, 5f, 6f, 7f], part.ToArray());
        Assert.Equal(2, new Shard(1, 3).Start(6));
    }

    [Fact]
    public void Take_Whole_IsTheTensorItself()
    {
        var x = Tensor.Ones(3, 2);
        Assert.Same(x, Shard.Whole.Take(x));
        Assert.Same(x, default(Shard).Take(x));
        Assert.Equal(Shard.Whole, default);
    }

    [Fact]
    public void Rows_UnevenBatch_ThrowsNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new Shard(0, 4).Rows(10));
        Assert.Equal("Shard: a batch of 10 does not split evenly over 4 processes", e.Message);
        Assert.Throws<ArgumentException>(() => new Shard(2, 2));
    }
}
