using GanForge.Data;
using GanForge.Metrics.Probes;

namespace GanForge.Metrics.Tests;

public class LinearProbeTests
{
    /// <summary>Three Gaussian blobs in 20 dimensions whose means differ along the first three axes only, scaled differently per axis.</summary>
    static (Tensor X, int[] Y) Blobs(int perClass, ulong seed, float separation)
    {
        var rng = new Generator(seed);
        var x = Tensor.Randn([3 * perClass, 20], rng);
        var y = new int[3 * perClass];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = i % 3;
            x.Data[i * 20 + y[i]] += separation;
            for (int j = 0; j < 20; j++) x.Data[i * 20 + j] *= 1 + j;   // unequal scales: the probe standardises
        }
        return (x, y);
    }

    [Fact]
    public void Fit_SeparableBlobs_ClassifiesHeldOutPointsAlmostPerfectly()
    {
        var (train, trainY) = Blobs(30, 1, 6f);
        var (test, testY) = Blobs(200, 2, 6f);
        double accuracy = LinearProbe.Fit(train, trainY, 3).Accuracy(test, testY);
        Console.WriteLine($"separable: {accuracy:P1}");
        Assert.True(accuracy > 0.95, $"accuracy {accuracy:P1}");
    }

    [Fact]
    public void Fit_NoSignal_StaysNearChance()
    {
        var (train, trainY) = Blobs(30, 3, 0f);
        var (test, testY) = Blobs(200, 4, 0f);
        double accuracy = LinearProbe.Fit(train, trainY, 3).Accuracy(test, testY);
        Console.WriteLine($"no signal: {accuracy:P1}");
        Assert.InRange(accuracy, 0.2, 0.47);   // chance is 1/3
    }

    [Fact]
    public void Fit_LabelsDoNotMatchRows_ErrorNamesTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => LinearProbe.Fit(new Tensor(4, 2), [0, 1], 2));
        Assert.Contains("LinearProbe: features (4,2) do not match 2 labels", e.Message);
    }

    [Fact]
    public void BalancedIndices_EmbeddedData_SameCountPerClassAndSeeded()
    {
        var data = Data.FashionMnist.LoadEmbedded();
        var a = data.BalancedIndices(7, 5);
        Assert.Equal(70, a.Length);
        Assert.All(a.GroupBy(i => data.Label(i)), g => Assert.Equal(7, g.Count()));
        Assert.Equal(70, a.Distinct().Count());
        Assert.Equal(a, data.BalancedIndices(7, 5));
        Assert.NotEqual(a, data.BalancedIndices(7, 6));
        var e = Assert.Throws<ArgumentException>(() => data.Take(30).BalancedIndices(10, 1));
        Assert.Contains("has only", e.Message);
    }
}
