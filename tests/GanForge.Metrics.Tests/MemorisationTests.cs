using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class MemorisationTests
{
    [Fact]
    public void Memorisation_HandMadeImages_NearestDistances()
    {
        // 1-pixel-row "images" of 2 pixels.
        var train = FeatureMatrix.From(new double[,] { { 0, 0 }, { 1, 0 }, { 0, 1 } });
        var fake = FeatureMatrix.From(new double[,] { { 0, 0 }, { 3, 4 }, { 1, 0.5 } }); // copy, far, between
        var held = FeatureMatrix.From(new double[,] { { 0.5, 0.5 }, { 2, 0 } });
        var s = Memorisation.Of(fake, train, held, threshold: 0.6);
        // nearest to (3,4) is (0,1) at sqrt(18); (1,0.5) is 0.5 from (1,0)
        Assert.Equal([0, Math.Round(Math.Sqrt(18), 12), 0.5], s.FakeDistances.Select(v => Math.Round(v, 12)));
        Assert.Equal([Math.Round(Math.Sqrt(0.5), 12), 1], s.RealDistances.Select(v => Math.Round(v, 12)));
        Assert.Equal(0, s.FakeMin);
        Assert.Equal((Math.Sqrt(18) + 0.5) / 3, s.FakeMean, 1e-12);
        Assert.Equal(2.0 / 3, s.FakeFractionBelow, 1e-12);
        Assert.Equal(0, s.RealFractionBelow);
    }

    [Fact]
    public void Memorisation_CopyingGenerator_FallsBelowRealFloor()
    {
        var g = new Generator(9);
        int n = 60, d = 49;
        double[] Rand(int rows) { var a = new double[rows * d]; for (int i = 0; i < a.Length; i++) a[i] = g.NextDouble(); return a; }
        var train = new FeatureMatrix(Rand(n), n, d);
        var held = new FeatureMatrix(Rand(30), 30, d);
        var copies = train.SelectRows(Enumerable.Range(0, 30).ToArray()); // exact copies of training images
        var r = new Memorisation().Compute(new MetricInputs
        {
            FakeImages = copies, TrainImages = train, HeldOutImages = held,
            Protocol = new Protocol("pixels", "-", "train", n, 30, 0),
        });
        Assert.InRange(r.Extras["fake_mean"], 0, 1e-4);   // copies sit at distance 0 up to float rounding (8.8e-9 seen)
        Assert.Equal(1, r.Extras["fake_fraction_below"]);
        Assert.True(r.Extras["real_mean"] > 1, $"held-out floor {r.Extras["real_mean"]}");
        Assert.True(r.Extras["real_fraction_below"] <= 0.05);
    }

    [Fact]
    public void Memorisation_ImageSizeMismatch_Throws()
    {
        var a = FeatureMatrix.From(new double[2, 4]);
        var b = FeatureMatrix.From(new double[2, 9]);
        var e = Assert.Throws<ArgumentException>(() => Memorisation.Of(a, b, a));
        Assert.Contains("(2,9)", e.Message);
    }
}
