namespace GanForge.Data.Tests;

public class TransformTests
{
    [Theory]
    [InlineData("up_12x10", 12, 10)]
    [InlineData("down_4x5", 4, 5)]
    public void Resize_Bilinear_MatchesTorchInterpolate(string name, int h, int w)
    {
        var f = Fixtures.Load("data", "resize");
        var y = new Resize(h, w).Apply(f["x"].Clone(), new Generator());
        Fixtures.AssertClose(f[name], y, 1e-5, 1e-6, $"Resize {name}");
    }

    [Fact]
    public void Resize_28To32_KeepsConstantImageConstant()
    {
        var y = Transforms.ResizeBilinear(Tensor.Full([1, 28, 28], 0.3f), 32, 32);
        Assert.Equal([1, 32, 32], y.Shape);
        Assert.All(y.ToArray(), v => Assert.Equal(0.3f, v, 1e-6));
    }

    [Fact]
    public void Normalize_Default_MapsUnitRangeToSymmetric()
    {
        var y = new Normalize().Apply(Tensor.FromArray([0f, 0.5f, 1f], 1, 1, 3), new Generator());
        Assert.Equal([-1f, 0f, 1f], y.ToArray());
    }

    [Fact]
    public void Normalize_PerChannel_UsesEachChannelsStats()
    {
        var y = new Normalize([0f, 1f], [1f, 2f]).Apply(Tensor.FromArray([3f, 3f], 2, 1, 1), new Generator());
        Assert.Equal([3f, 1f], y.ToArray());
    }

    [Fact]
    public void RandomHorizontalFlip_ProbabilityOne_MirrorsRows()
    {
        var y = new RandomHorizontalFlip(1f).Apply(Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 2, 3), new Generator());
        Assert.Equal([3f, 2f, 1f, 6f, 5f, 4f], y.ToArray());
    }

    [Fact]
    public void RandomHorizontalFlip_SameSeed_SameDecisions()
    {
        static string Decisions(ulong seed)
        {
            var rng = new Generator(seed);
            var flip = new RandomHorizontalFlip();
            return string.Concat(Enumerable.Range(0, 40).Select(_ => flip.Apply(Tensor.FromArray([0f, 1f], 1, 1, 2), rng).Data[0] == 1f ? 'F' : '.'));
        }
        Assert.Equal(Decisions(5), Decisions(5));
        Assert.NotEqual(Decisions(5), Decisions(6));
        Assert.Contains('F', Decisions(5));
        Assert.Contains('.', Decisions(5));
    }
}
