using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

public class ConfigTests
{
    [Theory]
    [InlineData("Model", "stylegan9", "Unknown model 'stylegan9'")]
    [InlineData("Loss", "hinge2", "Unknown loss 'hinge2'")]
    [InlineData("Optimizer", "lion", "Unknown optimizer 'lion'")]
    [InlineData("DBatch", "halves", "Unknown --d-batch 'halves'")]
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
    public void Resolve_Lr_DependsOnTheOptimizerAndTheModel()
    {
        static float? Lr(TrainConfig c, string group = "g") => c.Resolve().Optimizers[group].Lr;
        Assert.Equal(2e-4f, Lr(new TrainConfig()));
        Assert.Equal(0.01f, Lr(new TrainConfig { Optimizer = "sgd" }));
        Assert.Equal(0.2f, Lr(new TrainConfig { Optimizer = "sgd", Lr = 0.2f }));
        Assert.Equal(5e-5f, Lr(new TrainConfig { Model = "wgan" }, "d"));
        Assert.Equal(1e-4f, Lr(new TrainConfig { Model = "wgan-gp" }));
    }
}
