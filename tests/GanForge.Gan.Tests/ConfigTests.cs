using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

public class ConfigTests
{
    [Theory]
    [InlineData("Model", "stylegan9", "Unknown model 'stylegan9'")]
    [InlineData("Loss", "hinge2", "Unknown loss 'hinge2'")]
    [InlineData("Optimizer", "lion", "Unknown optimizer 'lion'")]
    [InlineData("DBatch", "halves", "Unknown --d-batch 'halves'")]
    [InlineData("Precision", "fp16", "--precision must be fp32 or bf16, got 'fp16'")]
    public void Validate_UnknownName_SaysWhatIsKnown(string property, string value, string expected)
    {
        var c = new TrainConfig();
        typeof(TrainConfig).GetProperty(property)!.SetValue(c, value);
        var e = Assert.Throws<ArgumentException>(c.Validate);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("fp32", "fp32")]
    [InlineData("Float32", "fp32")]
    [InlineData("BF16", "bf16")]
    [InlineData(" bfloat16 ", "bf16")]
    public void Resolve_Precision_IsItsCanonicalName_AndAnOldConfigWithoutOneIsFp32(string given, string resolved)
    {
        Assert.Equal(resolved, new TrainConfig { Precision = given }.Resolve().Precision);
        Assert.Equal("fp32", TrainConfig.FromYaml("model: gan\n").Resolve().Precision);
        Assert.Contains("precision: fp32", new TrainConfig().Resolve().ToYaml());
        var e = Assert.Throws<ArgumentException>(() => TrainConfig.FromYaml("precision:\n", "run.yaml"));
        Assert.Contains("'precision' needs a value", e.Message);
    }

    [Fact]
    public void Validate_Bf16WhereItCannotRun_SaysWhatIsMissing()
    {
        var c = new TrainConfig { Precision = "bf16" };
        if (Precision.Bf16Supported) { c.Validate(); return; }   // nothing to refuse on a processor with AVX512-BF16 and oneDNN
        var e = Assert.Throws<ArgumentException>(c.Validate);
        Assert.Matches("^--precision bf16: bf16 needs (oneDNN|a processor with AVX512-BF16).*; use --precision fp32$", e.Message);
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

    [Theory]
    [InlineData("gan")]
    [InlineData("dcgan")]
    [InlineData("wgan")]
    [InlineData("wgan-gp")]
    [InlineData("lsgan")]
    [InlineData("sngan")]
    public void Resolve_EveryVariant_LeavesNoBlankValueAndIsStable(string model)
    {
        var resolved = new TrainConfig { Model = model }.Resolve();
        var yaml = resolved.ToYaml();
        var blank = yaml.Split('\n').Where(l => l.TrimEnd().EndsWith(':') && l.Trim() is not ("optimizers:" or "g:" or "d:" or "model-options:")).ToList();
        Assert.Empty(blank);
        Assert.NotNull(resolved.K);
        Assert.NotNull(resolved.Loss);
        Assert.Equal(yaml, TrainConfig.FromYaml(yaml).Resolve().ToYaml());   // config.yaml passed back resolves to itself
    }

    [Fact]
    public void Resolve_FlagsOverTheVariantAndGroupSettingsOverFlags()
    {
        var c = new TrainConfig { Model = "wgan", Lr = 1e-3f, K = 2 };
        c.Set("d.lr=7e-4");
        c.Set("clip=0.05");
        var r = c.Resolve();
        Assert.Equal(1e-3f, r.Optimizers["g"].Lr);
        Assert.Equal(7e-4f, r.Optimizers["d"].Lr);
        Assert.Equal("rmsprop", r.Optimizers["d"].Type);
        Assert.Equal(2, r.K);
        Assert.Equal("0.05", r.ModelOptions["clip"]);
        Assert.Null(r.Lr);
    }

    [Fact]
    public void Resolve_OptimizerTypeChange_TakesThatTypesDefaults()
    {
        var r = new TrainConfig { Model = "wgan", Optimizer = "adam" }.Resolve();
        Assert.Equal("adam", r.Optimizers["d"].Type);
        Assert.Equal(2e-4f, r.Optimizers["d"].Lr);
        Assert.Equal(0.5f, r.Optimizers["d"].Beta1);
        Assert.Null(r.Optimizers["d"].Alpha);
    }

    [Theory]
    [InlineData("model: gan\nlr: [1, 2]\n", "run.yaml line 2: 'lr' expects a number, got a list")]
    [InlineData("model: gan\nepochs: {a: 1}\n", "run.yaml line 2: 'epochs' expects a whole number, got a mapping")]
    [InlineData("seed: -1\n", "run.yaml line 1: 'seed' expects a whole number, 0 or more, got '-1'")]
    [InlineData("model: gan\nepochz: 3\n", "run.yaml line 2: unknown setting 'epochz'")]
    [InlineData("optimizers:\n  d:\n    lr: fast\n", "run.yaml line 3: 'optimizers.d.lr' expects a number, got 'fast'")]
    [InlineData("model-options:\n  gp: [1]\n", "run.yaml line 2: 'model-options.gp' expects a single value, got a list")]
    public void FromYaml_ValueOfTheWrongKind_NamesLineAndKeyInConfigWords(string yaml, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => TrainConfig.FromYaml(yaml, "run.yaml"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Resolve_CheckpointMinutes_DefaultsOnlyWithoutAStepInterval()
    {
        Assert.Equal(TrainConfig.DefaultCheckpointMinutes, new TrainConfig().Resolve().CheckpointMinutes);
        Assert.Equal(0, new TrainConfig { CheckpointEvery = 100 }.Resolve().CheckpointMinutes);
        Assert.Equal(2, new TrainConfig { CheckpointEvery = 100, CheckpointMinutes = 2 }.Resolve().CheckpointMinutes);
    }
}
