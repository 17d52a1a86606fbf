using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// ProGAN (Karras et al. 2018): G and D grow together from 4 × 4 to the image size, each new level faded in over
/// `phase-images` images and then trained as long again; equalised learning rate, pixel norm in G, minibatch standard
/// deviation in D; the WGAN-GP loss (λ = 10, one critic step) with the drift term ε·E[D(x)²], ε = 0.001; Adam 0.001,
/// β = (0, 0.99). Every layer exists from the start, so the optimizers are built once and a checkpoint taken
/// mid-fade resumes bit for bit (the level and α follow from the step).
/// </summary>
public sealed class ProGan : Variant
{
    public override string Name => "progan";
    public override string Description => "ProGAN (Karras et al. 2018): growing 4 -> 8 -> ... with fade-in, equalised LR, pixel norm, mbstd; WGAN-GP + drift, Adam 0.001 (0, 0.99)";
    public override string ImageSizes => "a power of two from 8 to 256";
    public override bool SupportsImageSize(int size) => size is >= 8 and <= 256 && (size & (size - 1)) == 0;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("wasserstein", 1, OptimizerSettings.Adam(0.001f, 0f, 0.99f));

    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ModelOption.Int("phase-images", 60000, "images shown to D per phase: each level fades in over one phase and trains stably for one (600k in the paper)", min: 1),
        ModelOption.Int("width", 64, "channels at 32 pixels; twice this at 16 pixels and below, half per doubling above", min: 1),
        ModelOption.Int("mbstd", 4, "minibatch standard deviation group size in D; 0 = off"),
        ModelOption.Float("drift", 0.001f, "ε of the drift term ε·E[D(x)²] on the real scores; 0 = off"),
        .. ClassicGame.RegulariserOptions(gp: 10f),
    ];

    public override GanModel CreateModel(ModelSpec spec)
    {
        var o = spec.Options;
        int size = spec.ImageSize, w = o.Int("width"), nz = spec.LatentDim, nc = spec.Channels;
        int Width(int r) => Math.Max(Math.Min(2 * w, w * 32 / r), Math.Min(16, w));
        var rng = new Generator(spec.Seed);
        Module G() => new ProGenerator(nz, nc, size, Width, rng);
        return GanModel.Pair(Name, G, new ProDiscriminator(nc, size, Width, o.Int("mbstd"), rng), nz, [nz], [nc, size, size]);
    }

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options)
    {
        float drift = options.Float("drift");
        var classic = ClassicGame.Create(model, config, options, drift: drift > 0 ? new DriftPenalty(drift) : null);
        var g = (GrowingNetwork)model.Generator;
        var schedule = new GrowthSchedule(g.Levels, options.Int("phase-images"), (long)config.BatchSize * classic.RealBatchesPerStep);
        return new Game
        {
            Model = classic.Model,
            Loss = classic.Loss,
            Labels = classic.Labels,
            Augment = classic.Augment,
            Optimizers = classic.Optimizers,
            Phases = [.. classic.Phases.Select(p => new GrowingPhase(p, schedule))],
            RealBatchesPerStep = classic.RealBatchesPerStep,
        };
    }
}

/// <summary>A phase of the classic game run at the level and α the growth schedule gives for the step.</summary>
public sealed class GrowingPhase(Phase inner, GrowthSchedule schedule) : Phase
{
    public override string Name => inner.Name;
    public override string Optimizer => inner.Optimizer;
    public override int Repeats => inner.Repeats;
    public override int Every => inner.Every;
    public override bool KeepsGradients => inner.KeepsGradients;

    public override Tensor Loss(StepContext ctx)
    {
        var (level, alpha) = schedule.At(ctx.Step);
        foreach (var (_, network) in ctx.Model.Networks)
            if (network is GrowingNetwork growing) growing.SetProgress(level, alpha);
        if (inner.Optimizer == "g")
        {
            ctx.Stats.Add(Stats.Resolution, 4 << level);
            ctx.Stats.Add(Stats.FadeAlpha, alpha);
        }
        return inner.Loss(ctx);
    }

    public override void AfterStep(StepContext ctx) => inner.AfterStep(ctx);
}
