using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace GanForge.Gan.Training;

/// <summary>
/// Every setting of a training run. The resolved configuration (defaults filled in) is written
/// beside the run's outputs as config.yaml, and a YAML file of the same shape can be passed back
/// with --config.
/// </summary>
public sealed class TrainConfig
{
    /// <summary>Model name in the zoo: gan, dcgan.</summary>
    public string Model { get; set; } = "dcgan";
    /// <summary>embedded (the Fashion-MNIST test split shipped with GanForge), fashion-mnist (Debian's files), or a path (IDX folder or file, PNG folder, CIFAR-10 folder).</summary>
    public string Data { get; set; } = "embedded";
    /// <summary>Training split for Fashion-MNIST: train or test (the embedded data is the test split).</summary>
    public string Split { get; set; } = "train";
    public int Epochs { get; set; } = 5;
    public int BatchSize { get; set; } = 128;
    /// <summary>Learning rate of both networks; null picks the optimizer's default (Adam 2e-4, SGD 0.01).</summary>
    public float? Lr { get; set; }
    /// <summary>adam (DCGAN: betas 0.5, 0.999) or sgd (Goodfellow et al.: momentum 0.5).</summary>
    public string Optimizer { get; set; } = "adam";
    public float Beta1 { get; set; } = 0.5f;
    public float Beta2 { get; set; } = 0.999f;
    public float Momentum { get; set; } = 0.5f;
    /// <summary>Discriminator steps per generator step (k of Algorithm 1).</summary>
    public int K { get; set; } = 1;
    /// <summary>minimax or non-saturating.</summary>
    public string Loss { get; set; } = "non-saturating";
    /// <summary>Target for real samples in D's loss (1 = none; 0.9 = one-sided label smoothing).</summary>
    public float LabelSmoothing { get; set; }
    /// <summary>Probability of flipping a discriminator label (label noise).</summary>
    public float LabelFlip { get; set; }
    /// <summary>mixed: D sees one batch half real, half generated (Algorithm 1); separate: two batches.</summary>
    public string DBatch { get; set; } = "separate";
    /// <summary>Epochs of autoencoder pre-training of the generator (0 = off).</summary>
    public int PretrainAe { get; set; }
    /// <summary>Images are resized to this size (28, 32, 64); 0 keeps the data's size.</summary>
    public int ImageSize { get; set; }
    public int LatentDim { get; set; } = 100;
    /// <summary>Decay of the generator's exponential moving average (0 = off); the EMA is used for sampling.</summary>
    public float Ema { get; set; }
    public ulong Seed { get; set; } = 1;
    public string Out { get; set; } = "runs/default";
    /// <summary>Log statistics every this many generator steps.</summary>
    public int LogEvery { get; set; } = 50;
    /// <summary>Stop after this many generator steps (0 = run all epochs); for quick checks.</summary>
    public int MaxSteps { get; set; }
    /// <summary>Limit the number of training images (0 = all).</summary>
    public int Limit { get; set; }
    public int Threads { get; set; }
    /// <summary>Evaluate the generator (FID, class coverage) every this many generator steps and at each epoch's end (0 = off).</summary>
    public int EvalEvery { get; set; }
    /// <summary>Generated images scored by each evaluation during training.</summary>
    public int EvalSamples { get; set; } = 2000;

    /// <summary>The real label used in D's loss.</summary>
    [YamlIgnore] public float RealLabel => LabelSmoothing > 0 ? 1f - LabelSmoothing : 1f;

    /// <summary>The learning rate after defaults.</summary>
    [YamlIgnore] public float ResolvedLr => Lr ?? (Optimizer == "sgd" ? 0.01f : 2e-4f);

    static readonly string[] Optimizers = ["adam", "sgd"];
    static readonly string[] DBatchModes = ["mixed", "separate"];

    /// <summary>Checks every setting; throws ArgumentException naming the first bad one.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}");
        if (BatchSize < 2) throw new ArgumentException($"--batch-size must be at least 2, got {BatchSize}");
        if (K < 1) throw new ArgumentException($"--k must be at least 1, got {K}");
        if (Lr is <= 0 or float.NaN) throw new ArgumentException($"--lr must be positive, got {Lr}");
        if (!Optimizers.Contains(Optimizer)) throw new ArgumentException($"Unknown optimizer '{Optimizer}'. Known: adam, sgd");
        if (!DBatchModes.Contains(DBatch)) throw new ArgumentException($"Unknown --d-batch '{DBatch}'. Known: mixed, separate");
        if (LabelSmoothing is < 0 or >= 0.5f) throw new ArgumentException($"--label-smoothing must be in [0, 0.5), got {LabelSmoothing}");
        if (LabelFlip is < 0 or >= 0.5f) throw new ArgumentException($"--label-flip must be in [0, 0.5), got {LabelFlip}");
        if (Ema is < 0 or >= 1) throw new ArgumentException($"--ema must be in [0, 1), got {Ema}");
        if (ImageSize is not (0 or 28 or 32 or 64)) throw new ArgumentException($"--image-size must be 28, 32 or 64, got {ImageSize}");
        if (PretrainAe < 0) throw new ArgumentException($"--pretrain-ae must be non-negative, got {PretrainAe}");
        if (EvalEvery < 0) throw new ArgumentException($"--eval-every must be non-negative, got {EvalEvery}");
        if (EvalSamples < 2) throw new ArgumentException($"--eval-samples must be at least 2, got {EvalSamples}");
        if (LatentDim < 1) throw new ArgumentException($"--latent-dim must be positive, got {LatentDim}");
        Losses.GanLoss.FromName(Loss);
        Zoo.ModelZoo.Create(Model, new Zoo.ModelSpec(1, ImageSize == 0 ? 28 : ImageSize, LatentDim)); // unknown model -> clear error
    }

    static ISerializer Serializer => new SerializerBuilder().WithNamingConvention(HyphenatedNamingConvention.Instance).Build();
    static IDeserializer Deserializer => new DeserializerBuilder().WithNamingConvention(HyphenatedNamingConvention.Instance).Build();

    public string ToYaml() => Serializer.Serialize(this);

    /// <summary>Reads a YAML config; unknown keys are an error naming the key and the file.</summary>
    public static TrainConfig FromYaml(string text, string source = "config")
    {
        try { return Deserializer.Deserialize<TrainConfig>(text) ?? new TrainConfig(); }
        catch (YamlDotNet.Core.YamlException e)
        { throw new ArgumentException($"{source}: {e.Message.Replace("\n", " ")} (at line {e.Start.Line})", e); }
    }

    public TrainConfig Copy() => FromYaml(ToYaml());
}
