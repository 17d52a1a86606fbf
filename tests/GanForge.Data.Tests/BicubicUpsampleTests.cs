namespace GanForge.Data.Tests;

/// <summary>The super-resolution baseline matches PyTorch's bicubic interpolation.</summary>
public class BicubicUpsampleTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Apply_RandomImages_MatchesTorchBicubic(int scale)
    {
        var f = Fixtures.Load("data", "bicubic");
        var y = BicubicUpsample.Apply(f["x"], scale);
        var expected = f[$"x{scale}"];
        Assert.Equal(expected.Shape, y.Shape);
        double max = 0;
        for (int i = 0; i < y.Numel; i++) max = Math.Max(max, Math.Abs(y.Data[i] - expected.Data[i]));
        Assert.True(max < 1e-5, $"max |GanForge - torch| = {max:E2}");
    }

    [Fact]
    public void Apply_ConstantImage_StaysConstant()
    {
        var y = BicubicUpsample.Apply(Tensor.Full([1, 1, 3, 4], 0.25f), 4);
        Assert.All(y.ToArray(), v => Assert.Equal(0.25f, v, 1e-5f));
    }
}
