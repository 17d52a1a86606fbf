using System.Globalization;
using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// SRGAN (Ledig et al. 2017): super-resolution by an SRResNet generator from the low-resolution image (each S x S
/// block of the high-resolution one averaged: the pairs downscale:S) to the high-resolution one, trained on the
/// perceptual loss l_X + 10⁻³·l_Gen: a content loss on a fixed network's feature maps plus the non-saturating
/// adversarial loss against a strided-conv discriminator. There is no VGG here: the content loss uses the built-in
/// Fashion-MNIST evaluator's convolutional features (<see cref="FeatureNetworks.Evaluator"/>), or pixels (content=mse).
/// Adam 1e-4 (0.9, 0.999) as the paper.
/// </summary>
public class SrGan : ImageToImageVariant
{
    public override string Name => "srgan";
    public override string Description => "SRGAN (Ledig et al. 2017): SRResNet G, strided-conv D, content loss on the built-in evaluator's features + 1e-3 adversarial; --scale 2|4|8";
    public override string ImageSizes => "8 to 1024, a multiple of the scale";
    public override bool SupportsImageSize(int size) => size is >= 8 and <= 1024;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(1e-4f, 0.9f, 0.999f));

    /// <summary>The content loss and adversarial weight by default (SRResNet: pixels, no adversary).</summary>
    protected virtual (string Content, float Adversarial) DefaultLosses => ("evaluator", 1e-3f);

    public override IReadOnlyList<ModelOption> Options =>
    [
        InputChannels,
        ModelOption.Choice("scale", "4", "the upscaling factor (set by --scale)", "2", "4", "8"),
        ModelOption.Int("blocks", 16, "residual blocks of the generator (16 in the paper)", min: 0),
        ModelOption.Int("width", 64, "feature maps of the generator (64 in the paper)", min: 1),
        ModelOption.Int("d-width", 64, "width of D's first convolution (64 in the paper; doubled every second layer)", min: 1),
        ModelOption.Choice("content", DefaultLosses.Content, "the content loss: evaluator (MSE on the built-in evaluator's convolutional features, in place of VGG's) or mse (on pixels)", "evaluator", "mse"),
        ModelOption.Float("content-weight", 1f, "weight of the content loss"),
        ModelOption.Float("adversarial", DefaultLosses.Adversarial, "weight of the adversarial loss (10⁻³ in the paper; 0 = the generator alone, D untrained)"),
    ];

    public override int InputSize(ModelOptions options, int size) => size / Scale(options);

    static int Scale(ModelOptions options) => int.Parse(options.String("scale"), CultureInfo.InvariantCulture);

    /// <summary>The scale from --scale, the pairs (downscale:S) or the option, in that order; written back to all three.</summary>
    public override void ResolveData(TrainConfig config)
    {
        CommonSettings(config);
        if (config.DomainA != null || config.DomainB != null)
            throw new ArgumentException($"{Name}: trains on pairs of low- and high-resolution images (--scale S with --data), not on two domains");
        int? fromPairs = null;
        if (config.Pairs is { } pairs && pairs.Trim().StartsWith("downscale:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(pairs.Trim()["downscale:".Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s))
            fromPairs = s;
        if (config.Scale == 0) config.Scale = fromPairs ?? int.Parse(config.ModelOptions["scale"], CultureInfo.InvariantCulture);
        if (config.Scale is not (2 or 4 or 8)) throw new ArgumentException($"{Name}: scale {config.Scale} is not 2, 4 or 8");
        if (fromPairs is int p && p != config.Scale)
            throw new ArgumentException($"{Name}: --scale {config.Scale} but --pairs {config.Pairs}; give one of them (the inputs of scale S are the pairs downscale:S)");
        config.Pairs ??= $"downscale:{config.Scale}";
        config.ModelOptions["scale"] = config.Scale.ToString(CultureInfo.InvariantCulture);
    }

    public override void CheckPairs(int[] a, int[] b, ModelOptions options)
    {
        int scale = Scale(options);
        if (b[1] % scale != 0 || b[2] % scale != 0)
            throw new ArgumentException($"{Name}: targets B of {string.Join("x", b)} do not divide by the scale {scale}; give an --image-size that does");
        base.CheckPairs(a, b, options);
    }

    public override GanModel CreateModel(ModelSpec spec)
    {
        var o = spec.Options;
        int inC = InputChannelsOf(spec), outC = spec.Channels, size = spec.ImageSize, scale = Scale(o);
        if (size % scale != 0) throw new ArgumentException($"{Name}: image size {size} does not divide by the scale {scale}");
        Module Generator() => new SrResNet(inC, outC, scale, o.Int("blocks"), o.Int("width"), new Generator(spec.Seed));
        var d = SrGanDiscriminator.Create(outC, size, o.Int("d-width"), new Generator(spec.Seed + 1));
        return GanModel.Pair(Name, Generator, d, spec.LatentDim, [spec.LatentDim], [outC, size, size]);
    }

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options)
    {
        float adversarial = options.Float("adversarial");
        var content = options.String("content") == "evaluator" ? FeatureNetworks.Create(FeatureNetworks.Evaluator, Name) : null;
        var g = new SuperResolutionGeneratorPhase(content, options.Float("content-weight"), adversarial, drawsBatch: adversarial == 0);
        return new Game
        {
            Model = model,
            Loss = GanLoss.FromName(config.Loss ?? "non-saturating"),
            Labels = new LabelOptions(config.RealLabel, config.LabelFlip),
            Optimizers =
            [
                new OptimizerGroup("g", [GanModel.GeneratorName], config.Optimizers["g"]),
                new OptimizerGroup("d", [GanModel.DiscriminatorName], config.Optimizers["d"]),
            ],
            Phases = adversarial > 0 ? [new SuperResolutionDiscriminatorPhase(), g] : [g],
            EmaNetworks = [],
            DivergedGeneratorLoss = double.PositiveInfinity,
            Preview = new PairedPreview(),
        };
    }
}

/// <summary>SRResNet (Ledig et al. 2017): the SRGAN generator trained on pixel MSE alone, the PSNR-oriented baseline.</summary>
public sealed class SrResNetVariant : SrGan
{
    public override string Name => "srresnet";
    public override string Description => "SRResNet (Ledig et al. 2017): SRGAN's generator trained on pixel MSE alone (no discriminator); --scale 2|4|8";
    protected override (string Content, float Adversarial) DefaultLosses => ("mse", 0f);
}

/// <summary>D(HR) should say real, D(G(LR)) generated (G(LR) made without a graph): the adversarial loss on single images.</summary>
public sealed class SuperResolutionDiscriminatorPhase : Phase
{
    public override string Name => "D";
    public override string Optimizer => "d";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        var batch = ctx.NextBatch();
        var hr = PairedDiscriminatorPhase.Target(batch, model.Name);
        Tensor fake;
        using (GradMode.NoGrad()) fake = model.Generator.Forward(batch.Images);
        // G(LR) is read by this step's graph alone: its buffer goes back once the step is done (AfterStep).
        if (_ownBatch.Of(model, fake, batch.Images)) _doneAfterStep.Add(fake);
        var realOut = model.Discriminator.Forward(hr);
        var fakeOut = model.Discriminator.Forward(fake);
        var loss = ctx.Game.Loss.Discriminator(realOut, fakeOut, ctx.Game.Labels, ctx.LabelNoise, ctx.Shard);
        ctx.Stats.Add(Stats.LossD, loss.Item());
        PairedDiscriminatorPhase.RecordOutputs(ctx, realOut, fakeOut);
        return loss;
    }

    public override void AfterStep(StepContext ctx) => _doneAfterStep.Return();

    readonly GeneratedBatchOwner _ownBatch = new();
    readonly StepBuffers _doneAfterStep = new();
}

/// <summary>
/// The generator's update: the content loss, MSE between the feature network's maps of G(LR) and of HR (or between
/// the pixels), times its weight, plus the adversarial weight times -log D(G(LR)).
/// </summary>
public sealed class SuperResolutionGeneratorPhase(Module? features, float contentWeight, float adversarial, bool drawsBatch) : Phase
{
    readonly bool _featuresKeepNothing = features?.KeepsNoOutputs() ?? false;

    public override string Name => "G";
    public override string Optimizer => "g";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        _lastFake.Return(ctx);
        var batch = drawsBatch ? ctx.NextBatch() : ctx.LastReal ?? ctx.NextBatch();
        var hr = PairedDiscriminatorPhase.Target(batch, model.Name);
        var fake = model.Generator.Forward(batch.Images);
        Tensor content;
        if (features == null)
        {
            var difference = fake - hr;
            var squared = difference.Square();
            content = squared.Mean();                                                 // l_MSE = mean (HR - G(LR))²
            Intermediates.Release(difference);
            Intermediates.Release(squared);
        }
        else
        {
            Tensor target;
            using (GradMode.NoGrad()) target = features.Forward(hr);
            var mapped = features.Forward(fake);
            var difference = mapped - target;
            var squared = difference.Square();
            content = squared.Mean();                                                 // l_X = mean (φ(HR) - φ(G(LR)))²
            // The maps, their difference and its square are this loss's alone where the network keeps none of its
            // outputs: their buffers go back once their nodes have run the backward (φ(HR), which has none, after the
            // difference's).
            if (_featuresKeepNothing)
            {
                Intermediates.Release(target, difference);
                foreach (var t in new[] { mapped, difference, squared }) Intermediates.Release(t);
            }
        }
        ctx.Stats.Add(Stats.Content, content.Item());
        var loss = contentWeight * content;
        if (adversarial > 0) loss = loss + adversarial * ctx.Game.Loss.Generator(model.Discriminator.Forward(fake));   // 10⁻³·-log D(G(LR))
        ctx.Stats.Add(Stats.LossG, loss.Item());
        _lastFake.Leave(ctx, model, fake, batch.Images);
        return loss;
    }

    readonly LastFakeLoan _lastFake = new();
}
