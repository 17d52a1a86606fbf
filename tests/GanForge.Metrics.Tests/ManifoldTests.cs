using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class ManifoldTests
{
    static FeatureMatrix Gaussian(int n, int d, ulong seed, double shift = 0, double scale = 1)
    {
        var g = new Generator(seed);
        var data = new double[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = g.NextNormal() * scale + shift;
        return new FeatureMatrix(data, n, d);
    }

    [Fact]
    public void PairwiseDistances_Blocked_MatchesNaive()
    {
        // Sizes that are not multiples of the row and column blocks.
        var a = Gaussian(PairwiseDistances.RowBlock * 2 + 5, 7, 1);
        var b = Gaussian(PairwiseDistances.ColBlock + 9, 7, 2, 0.5);
        var naive = PairwiseDistances.Naive(a, b);
        var seen = new bool[a.Rows];
        PairwiseDistances.ForEachRow<object?>(a, b, () => null, (i, d2, _) =>
        {
            for (int j = 0; j < b.Rows; j++)
                Assert.True(Math.Abs(d2[j] - naive[i, j]) < 1e-10 * (1 + naive[i, j]), $"d2[{i},{j}] = {d2[j]}, expected {naive[i, j]}");
            seen[i] = true;
        }, _ => { });
        Assert.All(seen, Assert.True);
    }

    [Theory]
    [InlineData(7, 9, 5)]     // odd rows and columns, D below one vector
    [InlineData(13, 10, 23)]  // D with a vector tail
    [InlineData(64, 36, 40)]  // whole tiles only
    public void DotProducts_Block_MatchesNaive(int na, int nb, int d)
    {
        var a = Gaussian(na, d, 11);
        var b = Gaussian(nb, d, 12);
        int ld = nb + 3; // a leading dimension wider than the block
        var fast = new double[na * ld];
        var naive = new double[na * ld];
        DotProducts.Block(a, 1, na, b, 2, nb, fast, ld);
        DotProducts.BlockNaive(a, 1, na, b, 2, nb, naive, ld);
        for (int i = 0; i < fast.Length; i++)
            Assert.True(Math.Abs(fast[i] - naive[i]) < 1e-12 * (1 + Math.Abs(naive[i])), $"element {i}: {fast[i]} vs {naive[i]}");
    }

    [Theory]
    [InlineData(70, 5, 3)]   // rows not a multiple of the row block
    [InlineData(300, 9, 5)]  // several row and column blocks
    public void KthNeighbourRadii_SymmetricBlocked_MatchesSortedNaive(int n, int d, int k)
    {
        var x = Gaussian(n, d, 13);
        var fast = PairwiseDistances.KthNeighbourSquaredRadii(x, k);
        var naive = PairwiseDistances.KthNeighbourSquaredRadiiNaive(x, k);
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(fast[i] - naive[i]) < 1e-10 * (1 + naive[i]), $"row {i}: {fast[i]} vs {naive[i]}");
    }

    [Fact]
    public void KthNeighbourRadii_ExcludeSelf()
    {
        var x = FeatureMatrix.From(new double[,] { { 0 }, { 1 }, { 3 }, { 7 } });
        var r = PairwiseDistances.KthNeighbourSquaredRadii(x, 2);
        Assert.Equal([9.0, 4.0, 9.0, 36.0], r); // 2nd nearest other point: 3, 2, 3, 6
    }

    [Fact]
    public void PrecisionRecallDensityCoverage_MatchReference()
    {
        var f = Fixtures.Load("metrics", "prdc");
        var real = FeatureMatrix.From(f["real"]);
        var fake = FeatureMatrix.From(f["fake"]);
        var (p, r) = PrecisionRecall.Between(real, fake);
        var (d, c) = DensityCoverage.Between(real, fake);
        var expected = f["prdc"].ToArray();
        Assert.Equal(expected[0], p, 1e-5);
        Assert.Equal(expected[1], r, 1e-5);
        Assert.Equal(expected[2], d, 1e-5);
        Assert.Equal(expected[3], c, 1e-5);
    }

    [Fact]
    public void PrecisionRecall_IdenticalSets_AreOne()
    {
        var x = Gaussian(300, 16, 3);
        var (p, r) = PrecisionRecall.Between(x, x);
        var (d, c) = DensityCoverage.Between(x, x);
        Assert.Equal(1.0, p);
        Assert.Equal(1.0, r);
        Assert.Equal(1.0, c);
        Assert.True(d > 0.9, $"density of a set against itself {d}");
    }

    [Fact]
    public void PrecisionRecall_CollapsedFakes_HighPrecisionNoRecallNoCoverage()
    {
        var real = Gaussian(400, 8, 4);
        var data = new double[200 * 8];
        for (int i = 0; i < 200; i++)
            for (int j = 0; j < 8; j++) data[i * 8 + j] = real[0, j] + 1e-4 * (i % 2); // all fakes at real sample 0
        var fake = new FeatureMatrix(data, 200, 8);
        var (p, r) = PrecisionRecall.Between(real, fake);
        var (_, c) = DensityCoverage.Between(real, fake);
        Assert.Equal(1.0, p);
        Assert.True(r < 0.02, $"recall of a collapsed generator {r}");
        Assert.True(c < 0.02, $"coverage of a collapsed generator {c}");
    }

    [Fact]
    public void PrecisionRecall_FarAwayFakes_AreZero()
    {
        var real = Gaussian(200, 8, 5);
        var fake = Gaussian(200, 8, 6, shift: 50);
        var (p, r) = PrecisionRecall.Between(real, fake);
        var (d, c) = DensityCoverage.Between(real, fake);
        Assert.Equal(0.0, p);
        Assert.Equal(0.0, r);
        Assert.Equal(0.0, d);
        Assert.Equal(0.0, c);
    }

    [Fact]
    public void PrecisionRecall_KNotBelowN_Throws()
    {
        var x = Gaussian(3, 2, 7);
        var e = Assert.Throws<ArgumentException>(() => PrecisionRecall.Between(x, x, k: 3));
        Assert.Contains("k = 3", e.Message);
    }
}
