using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class RegistryTests
{
    [Fact]
    public void MetricRegistry_Names_ListsEveryMetricAndGetReturnsIt()
    {
        string[] expected = ["class_histogram", "density_coverage", "fid", "is", "kid", "memorisation", "precision_recall"];
        Assert.Equal(expected, MetricRegistry.Names);
        foreach (var name in expected) Assert.Equal(name, MetricRegistry.Get(name).Name);
    }

    [Fact]
    public void MetricRegistry_UnknownName_ListsKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => MetricRegistry.Get("fidd"));
        Assert.Contains("fid", e.Message);
        Assert.Contains("kid", e.Message);
    }

    [Fact]
    public void MetricResult_Json_RoundTripsWithProtocol()
    {
        var r = new MetricResult
        {
            Name = "kid", Value = 0.0123, Std = 0.001,
            Extras = new Dictionary<string, double> { ["subsets"] = 100 },
            Protocol = new Protocol("fmnist-cnn", "fc1", "test", 10000, 10000, 7),
        };
        string json = r.ToJson();
        Assert.Contains("\"protocol\":{\"evaluator\":\"fmnist-cnn\",\"layer\":\"fc1\",\"real_split\":\"test\",\"n_real\":10000,\"n_fake\":10000,\"seed\":7}", json);
        var back = MetricResult.FromJson(json);
        Assert.Equal(r.Value, back.Value);
        Assert.Equal(r.Std, back.Std);
        Assert.Equal(r.Protocol, back.Protocol);
        Assert.Equal(100, back.Extras["subsets"]);
    }

    [Fact]
    public void MetricInputs_MissingFeatures_NamesWhatIsMissing()
    {
        var e = Assert.Throws<ArgumentException>(() => MetricRegistry.Get("fid").Compute(new MetricInputs { Protocol = new Protocol("e", "l", "s", 0, 0, 0) }));
        Assert.Contains("FakeFeatures", e.Message);
    }
}
