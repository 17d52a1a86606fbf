using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

public class ConfigTests
{
    [Theory]
    [InlineData("Model", "stylegan9", "Unknown model 'stylegan9'")]
    [InlineData("Loss", "hinge2", "Unknown loss 'hinge2'")]
    [InlineData("Optimizer", "lion", "Unknown optimizer 'lion'")]
    public void Validate_UnknownName_SaysWhatIsKnown(string property, string value, string expected)
    {
        var c = new TrainConfig();
        typeof(TrainConfig).GetProperty(property)!.SetValue(c, value);
        var e = Assert.Throws<ArgumentException>(c.Validate);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Yaml_RoundTrips_AndUnknownKeysAreErrors()
    {
        var c = new TrainConfig { Model = "gan", K = 3, LabelSmoothing = 0.1f, Lr = 1e-3f };
        var back = TrainConfig.FromYaml(c.ToYaml());
        Assert.Equal(c.ToYaml(), back.ToYaml());
        var e = Assert.Throws<ArgumentException>(() => TrainConfig.FromYaml("model: gan\nepochz: 3\n", "my.yaml"));
        Assert.Contains("my.yaml", e.Message);
    }

    [Fact]
    public void ResolvedLr_DependsOnTheOptimizer()
    {
        Assert.Equal(2e-4f, new TrainConfig().ResolvedLr);
        Assert.Equal(0.01f, new TrainConfig { Optimizer = "sgd" }.ResolvedLr);
        Assert.Equal(0.2f, new TrainConfig { Optimizer = "sgd", Lr = 0.2f }.ResolvedLr);
    }
}
