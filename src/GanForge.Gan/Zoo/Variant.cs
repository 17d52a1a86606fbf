using GanForge.Gan.Augment;
using GanForge.Gan.Losses;
using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>A variant's defaults for the settings every game has: the loss, the critic steps, each optimizer group.</summary>
public sealed record GameDefaults(string Loss, int K, IReadOnlyDictionary<string, OptimizerSettings> Optimizers)
{
    /// <summary>A generator group "g" and a discriminator group "d" with the same settings.</summary>
    public static GameDefaults Pair(string loss, int k, OptimizerSettings both) =>
        new(loss, k, new Dictionary<string, OptimizerSettings> { ["g"] = both, ["d"] = both.Copy() });
}

/// <summary>What a variant trains on.</summary>
public enum TrainingData
{
    /// <summary>Images (with their labels): the noise-to-image games.</summary>
    Images,
    /// <summary>Pairs (A, B) of an input and the image to make from it (pix2pix, super-resolution): <c>--pairs</c>.</summary>
    Pairs,
    /// <summary>Two unpaired domains (CycleGAN): <c>--domain-a</c>, <c>--domain-b</c>.</summary>
    Domains,
}

/// <summary>
/// A GAN variant of the zoo: its name, what it is, its paper's defaults, the options it takes, the image
/// sizes its networks support, how its networks are built and the game they play. One folder of the zoo
/// holds one variant; <see cref="ModelZoo"/> registers it.
/// </summary>
public abstract class Variant
{
    public abstract string Name { get; }
    /// <summary>One line for `ganforge models` and `train --help`.</summary>
    public abstract string Description { get; }
    /// <summary>The image sizes the networks support, in words (for messages).</summary>
    public abstract string ImageSizes { get; }
    public abstract bool SupportsImageSize(int size);
    public abstract GameDefaults Defaults { get; }
    /// <summary>The options this variant takes, with its defaults.</summary>
    public virtual IReadOnlyList<ModelOption> Options => [];

    /// <summary>What the variant trains on (<see cref="TrainingData.Images"/> for the noise-to-image games).</summary>
    public virtual TrainingData Data => TrainingData.Images;

    /// <summary>
    /// Fills in and checks the data settings of a configuration being resolved (<see cref="TrainConfig.Resolve"/>):
    /// the noise-to-image games refuse pairs, domains and a scale; the image-to-image ones require theirs.
    /// </summary>
    public virtual void ResolveData(TrainConfig config)
    {
        if (config.Pairs != null || config.DomainA != null || config.DomainB != null || config.Scale != 0)
            throw new ArgumentException($"{Name}: --pairs, --domain-a, --domain-b and --scale are for the image-to-image models (pix2pix, unet-l1, dagan, srresnet, srgan, cyclegan); {Name} trains on --data alone");
    }

    /// <summary>Builds the networks; <paramref name="spec"/>'s options are resolved against <see cref="Options"/>.</summary>
    public abstract GanModel CreateModel(ModelSpec spec);

    /// <summary>The game for a resolved configuration: by default the classic G/D game with the regularisers the options ask for.</summary>
    public virtual Game CreateGame(GanModel model, TrainConfig config, ModelOptions options) => ClassicGame.Create(model, config, options);

    /// <summary>
    /// The class logits (N, C) in the discriminator's <paramref name="outputs"/>, for a variant whose D classifies
    /// (AC-GAN, the semi-supervised GAN); null for the others.
    /// </summary>
    public virtual Tensor? ClassLogits(GanModel model, Tensor outputs) => null;

    /// <summary>Sizes the DCGAN-style pyramids support: 28, or a power of two from 16 to 256.</summary>
    protected static bool IsPyramidSize(int size) => size == 28 || (size is >= 16 and <= 256 && (size & (size - 1)) == 0);
}

/// <summary>
/// The classic two-player game (Goodfellow et al. 2014, Algorithm 1): k discriminator (critic) updates,
/// each with the penalties the options ask for, an optional lazy R1 phase, then one generator update.
/// </summary>
public static class ClassicGame
{
    /// <summary>
    /// The classic game of <paramref name="model"/>; <paramref name="head"/> is the loss on D's extra outputs (AC-GAN, InfoGAN),
    /// <paramref name="drift"/> ProGAN's pull of the real scores toward 0.
    /// </summary>
    public static Game Create(GanModel model, TrainConfig config, ModelOptions options, HeadLoss? head = null, DriftPenalty? drift = null)
    {
        float Opt(string key) => options.Has(key) ? options.Float(key) : 0f;
        var gp = Opt("gp") > 0 ? new GradientPenalty(Opt("gp")) : null;
        var clip = Opt("clip") > 0 ? new WeightClipping(Opt("clip")) : null;
        var r1 = Opt("r1") > 0 ? new R1Penalty(Opt("r1")) : null;
        int r1Every = options.Has("r1-every") ? options.Int("r1-every") : 1;
        bool lazy = r1 != null && r1Every > 1;
        var phases = new List<Phase>
        {
            new DiscriminatorPhase(config.K ?? 1, config.DBatch == "mixed", gp, lazy ? null : r1, clip, drift),
        };
        if (lazy) phases.Add(new LazyR1Phase(r1!, r1Every));
        phases.Add(new GeneratorPhase());
        return new Game
        {
            Model = model,
            Loss = GanLoss.FromName(config.Loss ?? "non-saturating"),
            Labels = new LabelOptions(config.RealLabel, config.LabelFlip),
            Head = head,
            Augment = options.Has("diffaugment") ? DiffAugment.Parse(options.String("diffaugment")) : null,
            Optimizers =
            [
                new OptimizerGroup("g", [GanModel.GeneratorName], config.Optimizers["g"]),
                new OptimizerGroup("d", [GanModel.DiscriminatorName], config.Optimizers["d"]),
            ],
            Phases = phases,
            RealBatchesPerStep = config.K ?? 1,
        };
    }

    /// <summary>The regulariser options every classic variant takes, with that variant's defaults.</summary>
    public static IReadOnlyList<ModelOption> RegulariserOptions(float gp = 0, float clip = 0, float r1 = 0, int r1Every = 16, string diffAugment = "none") =>
    [
        ModelOption.Float("gp", gp, "gradient penalty weight λ on interpolates (Gulrajani et al. 2017); 0 = off"),
        ModelOption.Float("clip", clip, "weight clipping of the critic to [-c, c] after each step (Arjovsky et al. 2017); 0 = off"),
        ModelOption.Float("r1", r1, "R1 penalty weight γ on real images (Mescheder et al. 2018); 0 = off"),
        ModelOption.Int("r1-every", r1Every, "lazy regularisation: R1 every k steps, scaled by k (Karras et al. 2020); 1 = every step", min: 1),
        ModelOption.List("diffaugment", diffAugment, "DiffAugment (Zhao et al. 2020) of every image D sees, real and fake, in D's and G's steps: " +
            "translation, cutout and/or color, comma-separated, applied in the order given; none = off", DiffAugment.Transforms),
    ];
}
