using GanForge.Kernels;

namespace GanForge.Tests;

/// <summary>
/// The layer norm kernels with rows on lanes (16 and 8 floats, on any processor) and on the scalar loops, against a
/// double-precision reference, and the lanes' per-column sums against the scalar path's bits.
/// </summary>
[Collection("Threading")]
public class LayerNormKernelTests
{
    const float Eps = 1e-5f;

    static float[] Random(int count, ulong seed, float scale = 1f, float shift = 0f) =>
        Tensor.Randn([count], new Generator(seed)).ToArray().Select(v => v * scale + shift).ToArray();

    [Theory]
    [InlineData(64, 16, 1)]
    [InlineData(64, 8, 2)]     // 1001 rows of 64: the rows split in two runs
    [InlineData(16, 16, 2)]
    [InlineData(8, 8, 1)]
    [InlineData(24, 8, 2)]
    [InlineData(64, 1, 2)]     // the scalar loops
    [InlineData(12, 1, 1)]
    [InlineData(4, LayerNorm.FourFloatRows, 1)]   // four rows to a vector with AVX-512 (the scalar loops without), the last row on the scalar loop
    [InlineData(4, 1, 2)]
    public void Rows_OnLanesAndScalar_MatchTheDoubleFormulas(int len, int width, int threads)
    {
        int rows = 1001;
        // an offset mean per row, so the two-pass variance matters
        var x = Random(rows * len, 1, 2f, 3f);
        var g = Random(rows * len, 2);
        var (w, b) = (Random(len, 3), Random(len, 4));
        var (y, mean, invstd) = (new float[rows * len], new float[rows], new float[rows]);
        var (dx, dw, db) = (new float[rows * len], new float[len], new float[len]);
        ThreadingTests.WithThreads(threads, () =>
        {
            LayerNorm.Forward(x, y, rows, len, w, b, Eps, mean, invstd, width);
            LayerNorm.Backward(x, g, rows, len, w, mean, invstd, dx, dw, db, width);
        });

        var (dwRef, dbRef) = (new double[len], new double[len]);
        for (int r = 0; r < rows; r++)
        {
            double m = 0, v = 0;
            for (int j = 0; j < len; j++) m += x[r * len + j];
            m /= len;
            for (int j = 0; j < len; j++) v += (x[r * len + j] - m) * (x[r * len + j] - m);
            double istd = 1 / Math.Sqrt(v / len + Eps), meanG = 0, meanGx = 0;
            Assert.True(Math.Abs(mean[r] - m) <= 1e-6 * (Math.Abs(m) + 1), $"row {r}: mean {mean[r]}, expected {m}");
            Assert.True(Math.Abs(invstd[r] - istd) <= 1e-6 * istd, $"row {r}: invstd {invstd[r]}, expected {istd}");
            for (int j = 0; j < len; j++)
            {
                double xh = (x[r * len + j] - m) * istd, gw = g[r * len + j] * w[j];
                double expected = xh * w[j] + b[j];
                Assert.True(Math.Abs(y[r * len + j] - expected) <= 1e-5 * (Math.Abs(expected) + 1), $"y[{r}, {j}] = {y[r * len + j]}, expected {expected}");
                (meanG, meanGx) = (meanG + gw / len, meanGx + gw * xh / len);
                dwRef[j] += g[r * len + j] * xh;
                dbRef[j] += g[r * len + j];
            }
            for (int j = 0; j < len; j++)
            {
                double xh = (x[r * len + j] - m) * istd, expected = istd * (g[r * len + j] * w[j] - meanG - xh * meanGx);
                Assert.True(Math.Abs(dx[r * len + j] - expected) <= 1e-5 * (Math.Abs(expected) + 1), $"dx[{r}, {j}] = {dx[r * len + j]}, expected {expected}");
            }
        }
        for (int j = 0; j < len; j++)
        {
            Assert.True(Math.Abs(dw[j] - dwRef[j]) <= 1e-5 * (Math.Abs(dwRef[j]) + 1), $"dw[{j}] = {dw[j]}, expected {dwRef[j]}");
            Assert.True(Math.Abs(db[j] - dbRef[j]) <= 1e-5 * (Math.Abs(dbRef[j]) + 1), $"db[{j}] = {db[j]}, expected {dbRef[j]}");
        }
    }

    [Theory]
    [InlineData(64, 16)]
    [InlineData(64, 8)]
    [InlineData(16, 8)]
    [InlineData(4, LayerNorm.FourFloatRows)]
    public void ColumnSums_OnLanes_MatchTheScalarPath(int len, int width)
    {
        // Same statistics: the lanes add the scalar loop's float products in double in the same order, so the sums agree
        // to far below the tolerance (1e-6 relative, against the 1e-5 the double formulas allow above).
        int rows = 700;
        var x = Random(rows * len, 5, 1.5f, -1f);
        var g = Random(rows * len, 6);
        var w = Random(len, 7);
        var (y, mean, invstd) = (new float[rows * len], new float[rows], new float[rows]);
        LayerNorm.Forward(x, y, rows, len, w, null, Eps, mean, invstd, 1);
        var (dwScalar, dbScalar, dwLanes, dbLanes) = (new float[len], new float[len], new float[len], new float[len]);
        ThreadingTests.WithThreads(2, () =>
        {
            LayerNorm.Backward(x, g, rows, len, w, mean, invstd, null, dwScalar, dbScalar, 1);
            LayerNorm.Backward(x, g, rows, len, w, mean, invstd, null, dwLanes, dbLanes, width);
        });
        Fixtures.AssertClose(Tensor.Wrap(dwScalar, [len]), Tensor.Wrap(dwLanes, [len]), 1e-6, 1e-7, "dw, lanes against scalar");
        Fixtures.AssertClose(Tensor.Wrap(dbScalar, [len]), Tensor.Wrap(dbLanes, [len]), 1e-6, 1e-7, "db, lanes against scalar");
    }

    [Theory]
    [InlineData(64, 16)]
    [InlineData(64, 8)]
    [InlineData(16, 8)]
    [InlineData(24, 8)]
    public void SecondOrder_OnLanes_MatchesTheScalarLoops(int len, int width)
    {
        // A gradient penalty's second backward through the norm: dx, dg and dw from lanes against the scalar loops (the
        // rows' sums are added in another order, so within rounding, not to the bit).
        int rows = 900;
        var x = Random(rows * len, 8, 2f, 1f);
        var (g, u, w) = (Random(rows * len, 9), Random(rows * len, 10), Random(len, 11));
        var (y, mean, invstd) = (new float[rows * len], new float[rows], new float[rows]);
        LayerNorm.Forward(x, y, rows, len, w, null, Eps, mean, invstd, 1);
        var (dx1, dg1, dw1) = (new float[rows * len], new float[rows * len], new float[len]);
        var (dx2, dg2, dw2) = (new float[rows * len], new float[rows * len], new float[len]);
        LayerNorm.SecondOrder(x, g, u, rows, len, w, mean, invstd, dx1, dg1, dw1, 1);
        ThreadingTests.WithThreads(2, () => LayerNorm.SecondOrder(x, g, u, rows, len, w, mean, invstd, dx2, dg2, dw2, width));
        Fixtures.AssertClose(Tensor.Wrap(dx1, [rows, len]), Tensor.Wrap(dx2, [rows, len]), 1e-4, 1e-5, "d/dx");
        Fixtures.AssertClose(Tensor.Wrap(dg1, [rows, len]), Tensor.Wrap(dg2, [rows, len]), 1e-4, 1e-5, "d/dg");
        Fixtures.AssertClose(Tensor.Wrap(dw1, [len]), Tensor.Wrap(dw2, [len]), 1e-4, 1e-4, "d/dw");
    }
}
