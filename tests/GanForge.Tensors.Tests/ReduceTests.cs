using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>Reduce.Sum over every split it takes (adjacent reduced dims, a block of kept dims, the general case) against sums in double.</summary>
public class ReduceTests
{
    [Theory]
    [InlineData(new[] { 4, 3, 5, 6 }, new[] { 0, 2, 3 })]   // a bias gradient of NCHW: reduced dims around one kept
    [InlineData(new[] { 4, 3, 5, 6 }, new[] { 0, 3 })]      // kept (3, 5) between reduced dims
    [InlineData(new[] { 4, 3, 5, 6 }, new[] { 1, 3 })]      // kept dims 0 and 2 apart: the general case
    [InlineData(new[] { 4, 3, 5, 6 }, new[] { 0, 1 })]      // adjacent reduced dims
    [InlineData(new[] { 4, 3, 5, 6 }, new[] { 2, 3 })]
    [InlineData(new[] { 7, 129 }, new[] { 0 })]
    public void Sum_EachSplit_MatchesSumInDouble(int[] shape, int[] dims)
    {
        int size = shape.Aggregate(1, (a, b) => a * b);
        var rng = new Random(3);
        var x = Enumerable.Range(0, size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var keptShape = shape.Select((s, d) => dims.Contains(d) ? 1 : s).ToArray();
        var expected = new double[keptShape.Aggregate(1, (a, b) => a * b)];
        var index = new int[shape.Length];
        for (int i = 0; i < size; i++)
        {
            int rest = i, o = 0;
            for (int d = shape.Length - 1; d >= 0; d--) { index[d] = rest % shape[d]; rest /= shape[d]; }
            for (int d = 0; d < shape.Length; d++) o = o * keptShape[d] + (dims.Contains(d) ? 0 : index[d]);
            expected[o] += x[i];
        }
        var y = new float[expected.Length];
        Array.Fill(y, float.NaN);   // every output must be written
        Reduce.Sum(x, shape, dims, y);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expected[i]) < 1e-4, $"y[{i}] = {y[i]}, expected {expected[i]}");
    }

    [Theory]
    [InlineData(300, 181)]   // eight, two and one vectors of columns, then five columns alone; split over the threads
    [InlineData(2080, 64)]   // a transformer's bias gradient: two vectors a thread
    [InlineData(40, 33)]     // one thread's worth
    [InlineData(500, 12)]    // fewer columns than a vector: a row at a time
    [InlineData(20, 300)]    // fewer rows than columns: a row at a time
    public void ColumnSums_MatchSumsInDouble_OnAnyThreads(int rows, int cols)
    {
        var rng = new Random(5);
        var x = Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var expected = new double[cols];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) expected[j] += x[r * cols + j];
        float[] Sums(int threads)
        {
            var y = Enumerable.Repeat(float.NaN, cols + 1).ToArray();   // every sum written, nothing past them
            ThreadingTests.WithThreads(threads, () => Reduce.ColumnSums(x, rows, cols, y));
            Assert.True(float.IsNaN(y[cols]), "ColumnSums wrote past its columns");
            return y;
        }
        var (one, two) = (Sums(1), Sums(2));
        for (int j = 0; j < cols; j++)
        {
            Assert.True(Math.Abs(two[j] - expected[j]) < 1e-4 * Math.Sqrt(rows), $"column {j}: {two[j]}, expected {expected[j]}");
            Assert.True(one[j] == two[j], $"column {j}: {one[j]} on one thread, {two[j]} on two");   // each column summed in row order on either
        }
    }
}
