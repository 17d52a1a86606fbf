namespace GanForge.Tests;

/// <summary>Permute shares the output's rows out over threads, each range starting its own odometer.</summary>
[Collection("Threading")]
public class PermuteThreadsTests
{
    [Theory]
    [InlineData(1, new[] { 2, 0, 3, 1 })]
    [InlineData(3, new[] { 2, 0, 3, 1 })]
    [InlineData(3, new[] { 0, 1, 3, 2 })]    // a transpose of the last two dims: strided rows
    [InlineData(2, new[] { 0, 2, 1, 3 })]    // attention's head split: short contiguous rows
    public void Permute_AnyThreads_PutsEveryElementWhereTheIndicesSay(int threads, int[] perm)
    {
        int[] shape = [6, 40, 33, 6];   // 7,920 rows of 6 or more: above one chunk's share
        var x = Tensor.Randn(shape, new Generator(8));
        Tensor y = null!;
        ThreadingTests.WithThreads(threads, () => y = x.Permute(perm));
        Assert.Equal(perm.Select(d => shape[d]).ToArray(), y.Shape);
        var i = new int[4];
        for (i[0] = 0; i[0] < shape[0]; i[0]++)
            for (i[1] = 0; i[1] < shape[1]; i[1]++)
                for (i[2] = 0; i[2] < shape[2]; i[2]++)
                    for (i[3] = 0; i[3] < shape[3]; i[3]++)
                        Assert.Equal(x[i[0], i[1], i[2], i[3]], y[i[perm[0]], i[perm[1]], i[perm[2]], i[perm[3]]]);
    }
}
