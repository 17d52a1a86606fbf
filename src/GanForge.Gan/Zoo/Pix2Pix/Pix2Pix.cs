using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// pix2pix (Isola et al. 2017): a conditional GAN on pairs (A, B). G is a U-Net from A to B with dropout as its only
/// noise; D is a PatchGAN that sees A joined to B (or to G(A)) and judges each patch. G minimises
/// L_cGAN(G, D) + λ·E‖B - G(A)‖₁ with λ = 100; D's loss is halved. Adam 2e-4 (0.5, 0.999), batch norm, BCE loss.
/// </summary>
public class Pix2Pix : ImageToImageVariant
{
    public override string Name => "pix2pix";
    public override string Description => "pix2pix (Isola et al. 2017): U-Net G from A to B (dropout as the noise), PatchGAN D on (A, B), BCE + 100 L1; --pairs edges|masked|folders|side-by-side";
    public override string ImageSizes => "a multiple of 4 from 8 to 1024 (the U-Net halves the side at least twice)";
    public override bool SupportsImageSize(int size) => size is >= 8 and <= 1024 && size % 4 == 0;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));

    /// <summary>The adversarial weight by default: 1 for pix2pix, 0 for the U-Net trained on L1 alone.</summary>
    protected virtual float DefaultAdversarial => 1f;

    /// <summary>λ by default: 100 in pix2pix.</summary>
    protected virtual float DefaultL1 => 100f;

    /// <summary>Noise planes joined to the U-Net's bottleneck by default: none in pix2pix (dropout is its noise).</summary>
    protected virtual int DefaultNoisePlanes => 0;

    public override IReadOnlyList<ModelOption> Options =>
    [
        InputChannels,
        ModelOption.Int("ngf", 64, "width of the U-Net's outermost layer (64 in the paper; x2 per level up to x8)", min: 1),
        ModelOption.Int("ndf", 64, "width of the PatchGAN's first layer", min: 1),
        ModelOption.Float("dropout", 0.5f, "dropout of the three innermost decoder layers, G's only noise (0 = none)", max: 0.95),
        ModelOption.Int("d-layers", 0, "strided layers of the PatchGAN (3 = the paper's 70x70 patches); 0 = by image size: 1 below 48, 2 below 128, else 3", max: 6),
        ModelOption.Float("l1", DefaultL1, "λ: weight of the L1 distance to the target"),
        ModelOption.Int("noise-planes", DefaultNoisePlanes, "planes of N(0, 1) noise joined to the U-Net's bottleneck (a z; 0 = dropout is the only noise)", max: 512),
        ModelOption.Float("adversarial", DefaultAdversarial, "weight of the adversarial term (0 = a U-Net trained on L1 alone, D untrained)"),
    ];

    public override GanModel CreateModel(ModelSpec spec)
    {
        var o = spec.Options;
        int inC = InputChannelsOf(spec), outC = spec.Channels, size = spec.ImageSize;
        int layers = o.Int("d-layers") > 0 ? o.Int("d-layers") : PatchGan.LayersFor(size);
        Module Generator() => new UNet(inC, outC, size, o.Int("ngf"), o.Float("dropout"), new Generator(spec.Seed), new Generator(spec.Seed * 1000 + 4), o.Int("noise-planes"));
        var d = PatchGan.Create(inC + outC, o.Int("ndf"), layers, instanceNorm: false, new Generator(spec.Seed + 1));
        PatchGan.InitWeights(d, new Generator(spec.Seed + 1));
        return GanModel.Pair(Name, Generator, d, spec.LatentDim, [spec.LatentDim], [outC, size, size]);
    }

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options)
    {
        float adversarial = options.Float("adversarial");
        var unet = (UNet)model.Generator;
        Phase[] phases = adversarial > 0
            ? [new PairedDiscriminatorPhase(), new Pix2PixGeneratorPhase(options.Float("l1"), adversarial, drawsBatch: false)]
            : [new Pix2PixGeneratorPhase(options.Float("l1"), 0f, drawsBatch: true)];
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
            Phases = phases,
            EmaNetworks = [],
            DivergedGeneratorLoss = double.PositiveInfinity,
            Preview = new PairedPreview(),
            Parts = [new GeneratorStatePart("dropout_rng", unet.Noise)],
        };
    }
}

/// <summary>The baseline of pix2pix's table 1: the same U-Net trained on L1 alone (no discriminator, adversarial weight 0).</summary>
public sealed class UNetL1 : Pix2Pix
{
    public override string Name => "unet-l1";
    public override string Description => "U-Net trained on L1 alone (pix2pix's baseline: the same G, adversarial weight 0); --pairs as pix2pix";
    protected override float DefaultAdversarial => 0f;
}

/// <summary>
/// The discriminator's update on pairs: D(A, B) should say real, D(A, G(A)) generated (G(A) made without a graph).
/// The loss is halved, as pix2pix does to slow D relative to G. A and the image are joined on channels.
/// </summary>
public sealed class PairedDiscriminatorPhase : Phase
{
    public override string Name => "D";
    public override string Optimizer => "d";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        var batch = ctx.NextBatch();
        var (a, b) = (batch.Images, Target(batch, model.Name));
        Tensor fake;
        using (GradMode.NoGrad()) fake = model.Generator.Forward(a);
        var (realPair, fakePair) = (Tensor.Cat([a, b], 1), Tensor.Cat([a, fake], 1));
        // G(A) and the two pairs are read by this step alone (D's first layer keeps its input for the weight gradient):
        // their buffers go back once the step is done (AfterStep), where the networks keep nothing they are given.
        if (_ownBatch.Of(model, fake, a)) _doneAfterStep.Add(fake);
        if (_dKeepsNothing.Of(model.Discriminator)) { _doneAfterStep.Add(realPair); _doneAfterStep.Add(fakePair); }
        var realOut = model.Discriminator.Forward(realPair);
        var fakeOut = model.Discriminator.Forward(fakePair);
        // 1/2·[BCE(D(A, B), 1) + BCE(D(A, G(A)), 0)]
        var loss = 0.5f * ctx.Game.Loss.Discriminator(realOut, fakeOut, ctx.Game.Labels, ctx.LabelNoise, ctx.Shard);
        ctx.Stats.Add(Stats.LossD, loss.Item());
        RecordOutputs(ctx, realOut, fakeOut);
        return loss;
    }

    public override void AfterStep(StepContext ctx) => _doneAfterStep.Return();

    readonly GeneratedBatchOwner _ownBatch = new();
    readonly ModuleProperty _dKeepsNothing = new(d => d.KeepsNoOutputs());
    readonly StepBuffers _doneAfterStep = new();

    /// <summary>The targets B of a paired batch; an error naming the model when the data has none.</summary>
    public static Tensor Target(GanBatch batch, string model) => batch.Target
        ?? throw new InvalidOperationException($"{model}: the training batches have no targets; it trains on pairs (--pairs KIND)");

    /// <summary>D's mean outputs and accuracies on real and generated images.</summary>
    public static void RecordOutputs(StepContext ctx, Tensor realOut, Tensor fakeOut)
    {
        var loss = ctx.Game.Loss;
        ctx.Stats.Add(Stats.DReal, loss.MeanOutput(realOut));
        ctx.Stats.Add(Stats.DFake, loss.MeanOutput(fakeOut));
        ctx.Stats.Add(Stats.AccReal, TrainingStatistics.Accuracy(realOut, real: true, loss.Threshold));
        ctx.Stats.Add(Stats.AccFake, TrainingStatistics.Accuracy(fakeOut, real: false, loss.Threshold));
    }
}

/// <summary>
/// pix2pix's generator update: G(A) through the frozen D with A beside it, the generator's adversarial loss times its
/// weight, plus λ·mean|G(A) - B|. With no D phase before it (the L1 baseline) it draws the step's batch itself.
/// </summary>
public sealed class Pix2PixGeneratorPhase(float l1Weight, float adversarial, bool drawsBatch) : Phase
{
    public override string Name => "G";
    public override string Optimizer => "g";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        _lastFake.Return(ctx);
        var batch = drawsBatch ? ctx.NextBatch() : ctx.LastReal ?? ctx.NextBatch();
        var (a, b) = (batch.Images, PairedDiscriminatorPhase.Target(batch, model.Name));
        var fake = model.Generator.Forward(a);
        var l1 = F.L1Loss(fake, b);                                        // E‖B - G(A)‖₁
        ctx.Stats.Add(Stats.L1, l1.Item());
        var loss = l1Weight * l1;
        if (adversarial > 0)
        {
            var pair = Tensor.Cat([a, fake], 1);
            loss = loss + adversarial * ctx.Game.Loss.Generator(model.Discriminator.Forward(pair));   // -log D(A, G(A))
            Intermediates.Release(pair);   // this phase's own: back once its node has run the backward
        }
        ctx.Stats.Add(Stats.LossG, loss.Item());
        _lastFake.Leave(ctx, model, fake, a);
        return loss;
    }

    readonly LastFakeLoan _lastFake = new();
}
