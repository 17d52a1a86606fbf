using System.Globalization;
using GanForge.Gan.Zoo;
using GanForge.Serialization;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace GanForge.Gan.Training;

/// <summary>
/// Every setting of a training run. A blank setting takes the variant's default (its paper's);
/// <see cref="Resolve"/> fills every one in, and that resolved configuration is written beside the
/// run's outputs as config.yaml. A YAML file of the same shape can be passed back with --config.
/// </summary>
public sealed class TrainConfig
{
    /// <summary>Variant name in the zoo (`ganforge models` lists them).</summary>
    public string Model { get; set; } = "dcgan";
    /// <summary>embedded (the Fashion-MNIST test split shipped with GanForge), fashion-mnist (Debian's files), or a path (IDX folder or file, image folder, CIFAR-10 folder).</summary>
    public string Data { get; set; } = "embedded";
    /// <summary>Training split for Fashion-MNIST: train or test (the embedded data is the test split).</summary>
    public string Split { get; set; } = "train";
    /// <summary>
    /// For the paired image-to-image models (pix2pix, srgan): how <see cref="Data"/> becomes pairs (edges, masked,
    /// downscale:S, folders, side-by-side; <see cref="GanForge.Data.DataSpec.PairsHelp"/>). Resolved to the kind with its
    /// settings made explicit; blank for the other models.
    /// </summary>
    public string? Pairs { get; set; }
    /// <summary>For unpaired translation (cyclegan): domain A, any data spec (fashion-mnist:class=7, a folder).</summary>
    public string? DomainA { get; set; }
    /// <summary>For unpaired translation (cyclegan): domain B, any data spec.</summary>
    public string? DomainB { get; set; }
    /// <summary>Super-resolution factor (srgan, srresnet): 2, 4 or 8; the low-resolution inputs are the pairs downscale:S. 0 elsewhere.</summary>
    public int Scale { get; set; }
    /// <summary>Passes over the data.</summary>
    public int Epochs { get; set; } = 5;
    /// <summary>
    /// Images per batch. 16 gives the default run (5 epochs of the 10,000 embedded images) 3,125 generator steps in
    /// about two minutes on 2 cores: what a GAN lacks in a short run is steps, and a CPU pays about the same per image
    /// at any batch size (docs/default-run.md measures the choice).
    /// </summary>
    public int BatchSize { get; set; } = 16;
    /// <summary>Learning rate of every optimizer group; blank takes the variant's defaults.</summary>
    public float? Lr { get; set; }
    /// <summary>adam, sgd or rmsprop for every group; blank takes the variant's.</summary>
    public string? Optimizer { get; set; }
    public float? Beta1 { get; set; }
    public float? Beta2 { get; set; }
    public float? Momentum { get; set; }
    /// <summary>Settings per optimizer group (g, d, ...): what is set here wins over the settings above.</summary>
    public Dictionary<string, OptimizerSettings> Optimizers { get; set; } = [];
    /// <summary>Discriminator (critic) steps per generator step (k of Algorithm 1, WGAN's n_critic); blank takes the variant's.</summary>
    public int? K { get; set; }
    /// <summary>Adversarial loss (minimax, non-saturating, wasserstein, hinge, least-squares); blank takes the variant's.</summary>
    public string? Loss { get; set; }
    /// <summary>The variant's own options (`ganforge models --model NAME` lists them); blank ones take its defaults.</summary>
    public Dictionary<string, string> ModelOptions { get; set; } = [];
    /// <summary>Target for real samples in D's loss is 1 - this (0 = none; 0.1 = one-sided label smoothing).</summary>
    public float LabelSmoothing { get; set; }
    /// <summary>Probability of flipping a discriminator label (label noise).</summary>
    public float LabelFlip { get; set; }
    /// <summary>mixed: D sees one batch half real, half generated (Algorithm 1); separate: two batches.</summary>
    public string DBatch { get; set; } = "separate";
    /// <summary>Epochs of autoencoder pre-training of the generator (0 = off).</summary>
    public int PretrainAe { get; set; }
    /// <summary>
    /// Images are centre-cropped to squares and resized to this size, antialiased bilinear (the variant says which sizes
    /// it supports); 0 keeps the data's size. Resolved to the size trained at.
    /// </summary>
    public int ImageSize { get; set; }
    /// <summary>Image channels: 1 (gray) or 3 (RGB), converting the data; 0 keeps the data's own. Resolved to the channels trained with.</summary>
    public int Channels { get; set; }
    /// <summary>Skip image files that cannot be read (and count them) instead of stopping at the first one.</summary>
    public bool SkipBad { get; set; }
    /// <summary>Size of the latent vector z the generator maps to an image.</summary>
    public int LatentDim { get; set; } = 100;
    /// <summary>
    /// Decay of the generator's exponential moving average (0 = off); the EMA is used for sampling. The default 0.99
    /// averages about the last 100 steps; 0.999 needs runs of many thousand steps, as the average starts from the
    /// initial weights.
    /// </summary>
    public float Ema { get; set; } = 0.99f;
    public ulong Seed { get; set; } = 1;
    public string Out { get; set; } = "runs/default";
    /// <summary>Log statistics every this many generator steps.</summary>
    public int LogEvery { get; set; } = 50;
    /// <summary>Stop after this many generator steps (0 = run all epochs); for quick checks.</summary>
    public int MaxSteps { get; set; }
    /// <summary>Limit the number of training images (0 = all).</summary>
    public int Limit { get; set; }
    public int Threads { get; set; }
    /// <summary>
    /// Number format of the convolutions: fp32 (the default) or bf16, their inputs rounded to bfloat16 and accumulated in
    /// fp32 by oneDNN's kernels (needs AVX512-BF16). The matrix products of fully connected layers (faster in fp32 here),
    /// weights, gradients, optimizer state, losses and normalisation stay fp32 either way. docs/performance.md, "bf16 on
    /// the Zen 5", measures its speed and its samples' quality.
    /// </summary>
    public string Precision { get; set; } = "fp32";
    /// <summary>
    /// Processes training together (mpirun -np N with --distributed mpi), each on an equal share of every batch of
    /// <see cref="BatchSize"/>; filled in by the run from the launcher, 1 without MPI.
    /// </summary>
    public int Ranks { get; set; } = 1;
    /// <summary>With several ranks, batch normalisation uses the statistics of the global batch (all ranks'), not each rank's share.</summary>
    public bool SyncBatchnorm { get; set; }
    /// <summary>Evaluate the generator (FID, class coverage) every this many generator steps and at each epoch's end (0 = off).</summary>
    public int EvalEvery { get; set; }
    /// <summary>Generated images scored by each evaluation during training.</summary>
    public int EvalSamples { get; set; } = 2000;
    /// <summary>
    /// Also write a sample grid every this many generator steps, samples/step_NNNNNNN.png (0 = off): a run's
    /// progress within an epoch, such as each phase of progressive growing.
    /// </summary>
    public int SampleEvery { get; set; }
    /// <summary>Save a checkpoint every this many generator steps, besides each epoch's end (0 = by wall time only, see <see cref="CheckpointMinutes"/>).</summary>
    public int CheckpointEvery { get; set; }
    /// <summary>
    /// Save a checkpoint when this many minutes of training have passed since the last one (0 = off); blank resolves
    /// to <see cref="DefaultCheckpointMinutes"/> when <see cref="CheckpointEvery"/> is 0, else to 0.
    /// </summary>
    public double? CheckpointMinutes { get; set; }
    /// <summary>Settings changed when the run was resumed, each with the step it took effect at (see <see cref="ResumeSettings"/>).</summary>
    public List<ConfigChange> Changes { get; set; } = [];

    /// <summary>Minutes between checkpoints when no step interval is given: at most this much training is lost to a crash.</summary>
    public const double DefaultCheckpointMinutes = 5;

    /// <summary>The real label used in D's loss.</summary>
    [YamlIgnore] public float RealLabel => LabelSmoothing > 0 ? 1f - LabelSmoothing : 1f;

    static readonly string[] DBatchModes = ["mixed", "separate"];
    static readonly string[] OptimizerFields = ["type", "lr", "beta1", "beta2", "momentum", "alpha"];

    /// <summary>
    /// Applies one `--set key=value`: `GROUP.FIELD` (g.lr=1e-4, d.type=rmsprop) sets an optimizer group,
    /// any other key a model option (r1=10, mbstd=4).
    /// </summary>
    public void Set(string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ArgumentException($"--set '{assignment}': expected key=value (e.g. --set r1=10 or --set d.lr=4e-4)");
        string key = assignment[..eq].Trim(), value = assignment[(eq + 1)..].Trim();
        int dot = key.IndexOf('.');
        if (dot < 0) { ModelOptions[key] = value; return; }
        string group = key[..dot], field = key[(dot + 1)..].ToLowerInvariant();
        if (!Optimizers.TryGetValue(group, out var s)) Optimizers[group] = s = new OptimizerSettings();
        float Number() => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var f)
            ? f : throw new ArgumentException($"--set {key}: '{value}' is not a number");
        switch (field)
        {
            case "type": s.Type = value.ToLowerInvariant(); break;
            case "lr": s.Lr = Number(); break;
            case "beta1": s.Beta1 = Number(); break;
            case "beta2": s.Beta2 = Number(); break;
            case "momentum": s.Momentum = Number(); break;
            case "alpha": s.Alpha = Number(); break;
            default: throw new ArgumentException($"--set {key}: unknown optimizer field '{field}'. Known: {string.Join(", ", OptimizerFields)}");
        }
    }

    /// <summary>
    /// This configuration with every blank filled in from the variant: its canonical name, loss, critic
    /// steps, every optimizer group and every model option. The result has no blank values.
    /// </summary>
    public TrainConfig Resolve()
    {
        var variant = ModelZoo.Get(Model);
        var defaults = variant.Defaults;
        var r = Copy();
        r.Model = variant.Name;
        r.Loss = Losses.GanLoss.FromName(Loss ?? defaults.Loss).Name;
        r.K = K ?? defaults.K;
        r.ModelOptions = new Dictionary<string, string>(Zoo.ModelOptions.Resolve(variant.Name, variant.Options, ModelOptions).Values);
        var everyGroup = new OptimizerSettings { Type = Optimizer?.ToLowerInvariant(), Lr = Lr, Beta1 = Beta1, Beta2 = Beta2, Momentum = Momentum };
        foreach (var name in Optimizers.Keys.Where(n => !defaults.Optimizers.ContainsKey(n)))
            throw new ArgumentException($"{variant.Name}: no optimizer group '{MessageText.Quote(name)}' (it has {string.Join(", ", defaults.Optimizers.Keys)})");
        r.Optimizers = defaults.Optimizers.ToDictionary(kv => kv.Key,
            kv => (Optimizers.TryGetValue(kv.Key, out var own) ? own : new OptimizerSettings()).Over(everyGroup.Over(kv.Value)));
        (r.Lr, r.Optimizer, r.Beta1, r.Beta2, r.Momentum) = (null, null, null, null, null);
        r.CheckpointMinutes = CheckpointMinutes ?? (CheckpointEvery > 0 ? 0 : DefaultCheckpointMinutes);
        r.Precision = GanForge.Precision.Name(ParsedPrecision());
        variant.ResolveData(r);
        return r;
    }

    /// <summary>Checks every setting of a resolved configuration; throws ArgumentException naming the first bad one.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}");
        if (BatchSize < 2) throw new ArgumentException($"--batch-size must be at least 2, got {BatchSize}");
        if (K is < 1) throw new ArgumentException($"--k must be at least 1, got {K}");
        if (Lr is { } lr && !(lr > 0 && float.IsFinite(lr))) throw new ArgumentException($"--lr must be a positive number, got {lr}");
        if (Optimizer != null && !OptimizerSettings.Types.Contains(Optimizer.ToLowerInvariant()))
            throw new ArgumentException($"Unknown optimizer '{MessageText.Quote(Optimizer)}'. Known: {string.Join(", ", OptimizerSettings.Types)}");
        foreach (var (name, s) in Optimizers) if (s.Type != null && s.Lr != null) s.Validate(name);
        if (!DBatchModes.Contains(DBatch)) throw new ArgumentException($"Unknown --d-batch '{MessageText.Quote(DBatch)}'. Known: mixed, separate");
        if (LabelSmoothing is < 0 or >= 0.5f) throw new ArgumentException($"--label-smoothing must be in [0, 0.5), got {LabelSmoothing}");
        if (LabelFlip is < 0 or >= 0.5f) throw new ArgumentException($"--label-flip must be in [0, 0.5), got {LabelFlip}");
        if (Ema is < 0 or >= 1) throw new ArgumentException($"--ema must be in [0, 1), got {Ema}");
        if (ImageSize < 0) throw new ArgumentException($"--image-size must be positive, got {ImageSize}");
        if (Channels is not (0 or 1 or 3)) throw new ArgumentException($"--channels must be 1 (gray) or 3 (RGB), got {Channels}");
        if (Scale is not (0 or 2 or 4 or 8)) throw new ArgumentException($"--scale must be 2, 4 or 8, got {Scale}");
        if (PretrainAe < 0) throw new ArgumentException($"--pretrain-ae must be non-negative, got {PretrainAe}");
        if (EvalEvery < 0) throw new ArgumentException($"--eval-every must be non-negative, got {EvalEvery}");
        if (EvalSamples < 2) throw new ArgumentException($"--eval-samples must be at least 2, got {EvalSamples}");
        if (LatentDim < 1) throw new ArgumentException($"--latent-dim must be at least 1, got {LatentDim}");
        if (MaxSteps < 0) throw new ArgumentException($"--max-steps must be non-negative, got {MaxSteps}");
        if (Limit < 0) throw new ArgumentException($"--limit must be non-negative, got {Limit}");
        if (Threads < 0) throw new ArgumentException($"--threads must be non-negative, got {Threads}");
        if (ParsedPrecision() == ComputePrecision.Bf16 && GanForge.Precision.Bf16Unavailable is { } why)
            throw new ArgumentException($"--precision {Precision}: {why}; use --precision fp32");
        if (Ranks < 1) throw new ArgumentException($"ranks must be at least 1, got {Ranks}");
        if (BatchSize % Ranks != 0)
            throw new ArgumentException($"--batch-size {BatchSize} does not split evenly over {Ranks} MPI ranks: each rank takes an equal share of the global batch (use a multiple of {Ranks})");
        if (PretrainAe > 0 && Ranks > 1)
            throw new ArgumentException($"--pretrain-ae is not supported with --distributed ({Ranks} ranks): the pre-training does not average over ranks; train without it");
        if (LogEvery < 1) throw new ArgumentException($"--log-every must be at least 1, got {LogEvery}");
        if (SampleEvery < 0) throw new ArgumentException($"--sample-every must be non-negative, got {SampleEvery}");
        if (CheckpointEvery < 0) throw new ArgumentException($"--checkpoint-every must be non-negative, got {CheckpointEvery}");
        if (CheckpointMinutes is { } minutes && !(minutes >= 0 && double.IsFinite(minutes)))
            throw new ArgumentException($"--checkpoint-minutes must be a non-negative number, got {minutes}");
        if (Loss != null) Losses.GanLoss.FromName(Loss);
        var variant = ModelZoo.Get(Model);
        if (ImageSize > 0 && !variant.SupportsImageSize(ImageSize))
            throw new ArgumentException($"{variant.Name}: image size {ImageSize} is not supported ({variant.ImageSizes})");
    }

    /// <summary><see cref="Precision"/> parsed; an unknown name is an error naming the option.</summary>
    public ComputePrecision ParsedPrecision()
    {
        try { return GanForge.Precision.Parse(Precision); }
        catch (ArgumentException) { throw new ArgumentException($"--precision must be fp32 or bf16, got '{MessageText.Quote(Precision)}'"); }
    }

    static ISerializer Serializer => new SerializerBuilder().WithNamingConvention(HyphenatedNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections).Build();
    static IDeserializer Deserializer => new DeserializerBuilder().WithNamingConvention(HyphenatedNamingConvention.Instance).Build();

    public string ToYaml() => Serializer.Serialize(this);

    /// <summary>
    /// Reads a YAML config; an unknown key or a value of the wrong kind is an error naming the file, the line and
    /// the key in config.yaml's words ("run.yaml line 3: 'lr' expects a number, got a list").
    /// </summary>
    public static TrainConfig FromYaml(string text, string source = "config")
    {
        TrainConfig config;
        try { config = Deserializer.Deserialize<TrainConfig>(text) ?? new TrainConfig(); }
        catch (YamlDotNet.Core.YamlException e) { throw new ArgumentException(ConfigYamlErrors.Describe(text, source, e), e); }
        return config.NoBlanks(source);
    }

    /// <summary>
    /// A setting written with no value (`model:` or `model: ~`) reads as null: a setting that must have one is an
    /// error naming it; an empty list or mapping is just empty.
    /// </summary>
    TrainConfig NoBlanks(string source)
    {
        foreach (var (key, value) in new[] { ("model", Model), ("data", Data), ("split", Split), ("d-batch", DBatch), ("out", Out), ("precision", Precision) })
            if (value == null) throw new ArgumentException($"{source}: '{key}' needs a value");
        Optimizers ??= [];
        ModelOptions ??= [];
        Changes ??= [];
        foreach (var (group, settings) in Optimizers)
            if (settings == null) Optimizers[group] = new OptimizerSettings();
        foreach (var (key, value) in ModelOptions)
            if (value == null) throw new ArgumentException($"{source}: model option '{MessageText.Quote(key)}' needs a value");
        if (Changes.Any(c => c == null)) throw new ArgumentException($"{source}: an entry of 'changes' is empty");
        return this;
    }

    public TrainConfig Copy() => FromYaml(ToYaml());
}
