using GanForge.Kernels;

namespace GanForge.Tests;

/// <summary>
/// <see cref="PermuteCopy"/>: the permutation reduced to fewest dims, batched transposes in tiles (in registers for
/// whole 16 x 16 tiles of single floats) and the rest along the output's rows, on one thread or several.
/// </summary>
[Collection("Threading")]
public class PermuteCopyTests
{
    static IEnumerable<int[]> Permutations(int[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany(first => Permutations(items.Where(i => i != first).ToArray()).Select(rest => new[] { first }.Concat(rest).ToArray()));

    [Theory]
    [InlineData(new[] { 3, 17, 1, 33 })]    // a dim of size 1 between; tiles with edges of 1 and 17 floats
    [InlineData(new[] { 2, 16, 32, 5 })]    // whole tiles, and chunks of 5 floats
    [InlineData(new[] { 1, 40, 18, 1 })]    // size-1 dims at both ends
    [InlineData(new[] { 2, 48, 4, 33 })]    // a narrow side (4) left to the rows
    public void EveryPermutation_BothPaths_AnyThreads_PutsEveryElementWhereTheIndicesSay(int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var x = Enumerable.Range(0, count).Select(i => (float)i).ToArray();
        var xs = Shapes.Strides(shape);
        foreach (var perm in Permutations([0, 1, 2, 3]))
        {
            var outShape = perm.Select(d => shape[d]).ToArray();
            var expected = new float[count];
            var i = new int[4];
            int at = 0;
            for (i[0] = 0; i[0] < outShape[0]; i[0]++)
                for (i[1] = 0; i[1] < outShape[1]; i[1]++)
                    for (i[2] = 0; i[2] < outShape[2]; i[2]++)
                        for (i[3] = 0; i[3] < outShape[3]; i[3]++)
                            expected[at++] = x[i[0] * xs[perm[0]] + i[1] * xs[perm[1]] + i[2] * xs[perm[2]] + i[3] * xs[perm[3]]];
            foreach (bool tiles in new[] { true, false })
                foreach (int threads in new[] { 1, 2 })
                {
                    var y = new float[count];
                    var saved = PermuteCopy.Tiles;
                    PermuteCopy.Tiles = tiles;
                    try { ThreadingTests.WithThreads(threads, () => PermuteCopy.Run(x, shape, perm, y, count)); }
                    finally { PermuteCopy.Tiles = saved; }
                    // a copy: every value exactly where the indices put it (the values are their own x offsets)
                    Assert.True(expected.AsSpan().SequenceEqual(y), $"shape ({string.Join(",", shape)}) perm ({string.Join(",", perm)}) tiles {tiles} on {threads} threads");
                }
        }
    }

    [Fact]
    public void Scalar_CopiesItsValue()
    {
        var y = new float[1];
        PermuteCopy.Run([7.5f], [], [], y, 1);
        Assert.Equal(7.5f, y[0]);   // a copy, not a computed value
    }

    [Theory]
    [InlineData(new[] { 32, 4, 8, 4, 8, 4 }, new[] { 0, 1, 3, 2, 4, 5 }, new[] { 128, 8, 4, 32 }, new[] { 0, 2, 1, 3 })]   // TransGAN's windows
    [InlineData(new[] { 32, 1024, 4 }, new[] { 0, 2, 1 }, new[] { 32, 1024, 4 }, new[] { 0, 2, 1 })]                      // a token grid to an image
    [InlineData(new[] { 5, 1, 7 }, new[] { 1, 2, 0 }, new[] { 5, 7 }, new[] { 1, 0 })]                                     // a size-1 dim dropped
    [InlineData(new[] { 2, 3, 4 }, new[] { 0, 1, 2 }, new[] { 24 }, new[] { 0 })]                                          // no permutation: one run
    [InlineData(new[] { 1, 1 }, new[] { 1, 0 }, new[] { 1 }, new[] { 0 })]
    [InlineData(new int[0], new int[0], new[] { 1 }, new[] { 0 })]                                                        // a scalar
    public void Reduce_MergesRunsAndDropsOnes(int[] shape, int[] perm, int[] dims, int[] order)
    {
        var reduced = PermuteCopy.Reduce(shape, perm);
        Assert.Equal(dims, reduced.Dims);
        Assert.Equal(order, reduced.Order);
    }
}
