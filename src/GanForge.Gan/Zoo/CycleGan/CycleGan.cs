using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// CycleGAN (Zhu et al. 2017): unpaired translation between domains A and B by two generators, G: A → B
/// ("generator") and F: B → A ("generator_ba"), and two PatchGAN discriminators with instance norm, D_B
/// ("discriminator") and D_A ("discriminator_a"). The generators minimise the least-squares adversarial losses plus
/// λ_cyc·(‖F(G(a)) - a‖₁ + ‖G(F(b)) - b‖₁) with λ_cyc = 10 and the identity loss λ_id·(‖G(b) - b‖₁ + ‖F(a) - a‖₁)
/// with λ_id = 5; the discriminators see a pool of 50 past fakes. Adam 2e-4 (0.5, 0.999), constant for the first half
/// of training and decaying linearly to zero over the second.
/// </summary>
public sealed class CycleGan : ImageToImageVariant
{
    public const string GeneratorBaName = "generator_ba";
    public const string DiscriminatorAName = "discriminator_a";

    public override string Name => "cyclegan";
    public override string Description => "CycleGAN (Zhu et al. 2017): ResNet G: A→B and F: B→A, PatchGAN D_A and D_B (instance norm), least squares, cycle 10, identity 5, pool of 50; --domain-a/--domain-b";
    public override string ImageSizes => "a multiple of 4 from 16 to 1024";
    public override bool SupportsImageSize(int size) => size is >= 16 and <= 1024 && size % 4 == 0;
    public override TrainingData Data => TrainingData.Domains;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("least-squares", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));

    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        InputChannels,
        ModelOption.Int("ngf", 64, "width of the generators' first layer (64 in the paper)", min: 1),
        ModelOption.Int("ndf", 64, "width of the discriminators' first layer (64 in the paper)", min: 1),
        ModelOption.Int("blocks", 0, "residual blocks of each generator; 0 = the paper's by size: 9 from 256, else 6", max: 64),
        ModelOption.Int("d-layers", 0, "strided layers of the PatchGANs (3 = the paper's 70x70 patches); 0 = by image size: 1 below 48, 2 below 128, else 3", max: 6),
        ModelOption.Float("cycle", 10f, "λ_cyc: weight of the cycle-consistency L1 (each direction)"),
        ModelOption.Float("identity", 5f, "λ_id: weight of the identity L1 ‖G(b) - b‖₁ + ‖F(a) - a‖₁ (0 = off; needs domains of equal channels)"),
        ModelOption.Float("adversarial", 2f, "weight of each generator's adversarial term: 2 turns the shared least-squares loss's 1/2·(D(G(a)) - 1)² into CycleGAN's (D(G(a)) - 1)²"),
        ModelOption.Int("pool", 50, "fakes kept in each discriminator's history pool (0 = show only the newest)", max: 10_000),
        ModelOption.Bool("decay", true, "decay the learning rates linearly to 0 over the second half of the run"),
    ];

    /// <summary>Two domains are required, pairs and a scale refused; the run keeps no EMA.</summary>
    public override void ResolveData(TrainConfig config)
    {
        CommonSettings(config);
        if (config.Pairs != null || config.Scale != 0)
            throw new ArgumentException($"{Name}: trains on two unpaired domains (--domain-a, --domain-b), not on --pairs or --scale");
        if (string.IsNullOrWhiteSpace(config.DomainA) || string.IsNullOrWhiteSpace(config.DomainB))
            throw new ArgumentException($"{Name}: needs two domains; give --domain-a SPEC and --domain-b SPEC (e.g. fashion-mnist:class=7 and fashion-mnist:class=9, or two folders)");
    }

    public override void ResolveSizeOptions(IDictionary<string, string> options, int size)
    {
        base.ResolveSizeOptions(options, size);
        if (options.TryGetValue("blocks", out var blocks) && blocks == "0") options["blocks"] = size >= 256 ? "9" : "6";
    }

    public override GanModel CreateModel(ModelSpec spec)
    {
        var o = spec.Options;
        int a = InputChannelsOf(spec), b = spec.Channels, size = spec.ImageSize;
        int blocks = o.Int("blocks") > 0 ? o.Int("blocks") : size >= 256 ? 9 : 6;
        int layers = o.Int("d-layers") > 0 ? o.Int("d-layers") : PatchGan.LayersFor(size);
        Module D(int channels, ulong seed)
        {
            var d = PatchGan.Create(channels, o.Int("ndf"), layers, instanceNorm: true, new Generator(seed));
            PatchGan.InitWeights(d, new Generator(seed));
            return d;
        }
        return new GanModel
        {
            Name = Name,
            Networks =
            [
                new(GanModel.GeneratorName, new ResnetGenerator(a, b, o.Int("ngf"), blocks, new Generator(spec.Seed))),
                new(GeneratorBaName, new ResnetGenerator(b, a, o.Int("ngf"), blocks, new Generator(spec.Seed + 2))),
                new(GanModel.DiscriminatorName, D(b, spec.Seed + 1)),
                new(DiscriminatorAName, D(a, spec.Seed + 3)),
            ],
            CreateNetwork = n => throw new ArgumentException($"{Name}: networks are not copied (CycleGAN keeps no EMA)"),
            LatentDim = spec.LatentDim,
            LatentShape = [spec.LatentDim],
            ImageShape = [b, size, size],
        };
    }

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options)
    {
        float identity = options.Float("identity");
        int a = options.Int(InputChannelsKey);
        if (identity > 0 && a != 0 && a != model.ImageShape[0])
            throw new ArgumentException($"{Name}: the identity loss compares G(b) with b, so it needs domains of equal channels (A has {a}, B {model.ImageShape[0]}); " +
                                        "give --channels 1 or 3 to convert both, or --set identity=0");
        var state = new CycleState(new ImagePool("pool_a", options.Int("pool")), new ImagePool("pool_b", options.Int("pool")));
        return new Game
        {
            Model = model,
            Loss = GanLoss.FromName(config.Loss ?? "least-squares"),
            Labels = new LabelOptions(config.RealLabel, config.LabelFlip),
            Optimizers =
            [
                new OptimizerGroup("g", [GanModel.GeneratorName, GeneratorBaName], config.Optimizers["g"]),
                new OptimizerGroup("d", [GanModel.DiscriminatorName, DiscriminatorAName], config.Optimizers["d"]),
            ],
            Phases =
            [
                new CycleGeneratorPhase(state, options.Float("cycle"), identity, options.Float("adversarial")),
                new CycleDiscriminatorPhase(state),
            ],
            EmaNetworks = [],
            DivergedGeneratorLoss = double.PositiveInfinity,
            Preview = new CyclePreview(),
            Parts = [state.PoolA, state.PoolB],
            LrFactor = options.Bool("decay") ? LinearDecay : null,
        };
    }

    /// <summary>1 for the first half of the steps, then falling linearly: 1 - (s - T/2) / (T - T/2 + 1) at step s of T.</summary>
    public static double LinearDecay(long step, long total)
    {
        long half = total / 2;
        return step < half ? 1 : Math.Max(0, 1 - (double)(step - half) / (total - half + 1));
    }
}

/// <summary>What CycleGAN's two phases share: the pools, and the step's fakes (made in G's phase, judged in D's).</summary>
public sealed class CycleState(ImagePool poolA, ImagePool poolB)
{
    public ImagePool PoolA { get; } = poolA;
    public ImagePool PoolB { get; } = poolB;
    /// <summary>F(b) and G(a) of the step, detached.</summary>
    public Tensor? FakeA { get; set; }
    public Tensor? FakeB { get; set; }
}

/// <summary>
/// Both generators' update (the paper trains them first, then the discriminators): the adversarial terms through the
/// frozen D_B and D_A, the cycle L1 in both directions and the identity L1.
/// </summary>
public sealed class CycleGeneratorPhase(CycleState state, float cycle, float identity, float adversarial) : Phase
{
    public override string Name => "G";
    public override string Optimizer => "g";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        var batch = ctx.NextBatch();
        var (a, b) = (batch.Images, batch.DomainB ?? throw new InvalidOperationException($"{model.Name}: the training batches have no domain B"));
        Module g = model.Generator, f = model[CycleGan.GeneratorBaName];
        Tensor fakeB, fakeA, recA, recB, idtB, idtA;
        if (identity > 0 && g.IsSampleWise() && f.IsSampleWise() && a.ShapeSpan.SequenceEqual(b.ShapeSpan))
        {
            // Where neither generator couples samples (instance norm, no dropout), three passes give the six
            // translations: G over a and b, F over b, a and G(a), then G over F(b). The same outputs as six passes
            // (only the summation order of the weight gradients changes), with per-layer calls two and three times
            // as tall: cyclegan32's 8 x 8 residual convolutions took 391 ms an iteration instead of 551 (profiles).
            // What these passes make goes back to the pool: the images' concatenation after the step (G's first layer
            // may keep it for its backward), the generators' outputs and the second concatenation after their nodes'
            // backward, the cycle and identity images after the loss's (fakeA and fakeB are kept for D's update).
            int n = a.Size(0);
            var ab = Tensor.Cat([a, b], 0);
            _doneAfterStep.Add(ab);
            var gab = g.Forward(ab);
            (fakeB, idtB) = (gab.Narrow(0, 0, n), gab.Narrow(0, n, n));
            var bafb = Tensor.Cat([b, a, fakeB], 0);
            var fba = f.Forward(bafb);
            (fakeA, idtA, recA) = (fba.Narrow(0, 0, n), fba.Narrow(0, n, n), fba.Narrow(0, 2 * n, n));
            recB = g.Forward(fakeA);
            ReleaseOwn([bafb, gab, fba, recA, recB, idtA, idtB], kept: [fakeA, fakeB]);
        }
        else
        {
            (fakeB, fakeA) = (g.Forward(a), f.Forward(b));                         // G(a), F(b)
            (recA, recB) = (f.Forward(fakeB), g.Forward(fakeA));                   // F(G(a)), G(F(b))
            (idtB, idtA) = identity > 0 ? (g.Forward(b), f.Forward(a)) : (b, a);   // G(b), F(a)
        }
        var loss = adversarial * (ctx.Game.Loss.Generator(model.Discriminator.Forward(fakeB))
                                  + ctx.Game.Loss.Generator(model[CycleGan.DiscriminatorAName].Forward(fakeA)));
        var cyc = F.L1Loss(recA, a) + F.L1Loss(recB, b);                             // ‖F(G(a)) - a‖₁ + ‖G(F(b)) - b‖₁
        ctx.Stats.Add(Stats.Cycle, cyc.Item());
        loss = loss + cycle * cyc;
        if (identity > 0)
        {
            var idt = F.L1Loss(idtB, b) + F.L1Loss(idtA, a);                       // ‖G(b) - b‖₁ + ‖F(a) - a‖₁
            ctx.Stats.Add(Stats.Identity, idt.Item());
            loss = loss + identity * idt;
        }
        ctx.Stats.Add(Stats.LossG, loss.Item());
        state.FakeA = fakeA.Detach();
        state.FakeB = fakeB.Detach();
        ctx.LastFake = state.FakeB;
        return loss;
    }

    public override void AfterStep(StepContext ctx)
    {
        // The generators' graph, the only reader of these batches, has run its backward.
        _doneAfterStep.Return();
    }

    readonly StepBuffers _doneAfterStep = new();

    /// <summary>
    /// Gives back each of <paramref name="done"/>, made by this step's graph and read only there, once its node has run
    /// its backward (or at once without a graph); not one whose buffer another of them or one of <paramref name="kept"/>
    /// shares (a view).
    /// </summary>
    internal static void ReleaseOwn(Tensor[] done, Tensor[] kept)
    {
        foreach (var t in done)
            if (!done.Concat(kept).Any(other => !ReferenceEquals(other, t) && other.SharesBufferWith(t))) Intermediates.Release(t);
    }
}

/// <summary>
/// Both discriminators' update on the step's real images and fakes drawn through the pools: D_B on b and G(a), D_A on
/// a and F(b), each with the game's least-squares loss (its 1/2 is CycleGAN's halving of D's loss).
/// </summary>
public sealed class CycleDiscriminatorPhase(CycleState state) : Phase
{
    public override string Name => "D";
    public override string Optimizer => "d";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        var batch = ctx.LastReal ?? throw new InvalidOperationException($"{model.Name}: the discriminators' phase runs after the generators'");
        var fakeB = state.PoolB.Query(state.FakeB!, ctx.LabelNoise);
        var fakeA = state.PoolA.Query(state.FakeA!, ctx.LabelNoise);
        Module dB = model.Discriminator, dA = model[CycleGan.DiscriminatorAName];
        var (realOutB, fakeOutB) = RealAndFake(dB, batch.DomainB!, fakeB);
        var (realOutA, fakeOutA) = RealAndFake(dA, batch.Images, fakeA);
        var loss = ctx.Game.Loss.Discriminator(realOutB, fakeOutB, ctx.Game.Labels, ctx.LabelNoise, ctx.Shard)
                   + ctx.Game.Loss.Discriminator(realOutA, fakeOutA, ctx.Game.Labels, ctx.LabelNoise, ctx.Shard);
        ctx.Stats.Add(Stats.LossD, loss.Item());
        PairedDiscriminatorPhase.RecordOutputs(ctx, realOutB, fakeOutB);
        return loss;
    }

    /// <summary>D(real) and D(fake): one pass over both where D treats each sample on its own (instance norm).</summary>
    (Tensor Real, Tensor Fake) RealAndFake(Module d, Tensor real, Tensor fake)
    {
        if (!d.IsSampleWise() || !real.ShapeSpan[1..].SequenceEqual(fake.ShapeSpan[1..])) return (d.Forward(real), d.Forward(fake));
        // The concatenation goes back after the step (D's first layer may keep it), D's output after its node's backward.
        var images = Tensor.Cat([real, fake], 0);
        _doneAfterStep.Add(images);
        var both = d.Forward(images);
        var outputs = (both.Narrow(0, 0, real.Size(0)), both.Narrow(0, real.Size(0), fake.Size(0)));
        CycleGeneratorPhase.ReleaseOwn([both], kept: [outputs.Item1, outputs.Item2]);
        return outputs;
    }

    public override void AfterStep(StepContext ctx)
    {
        // The discriminators' graph, the only reader of the concatenated batches, has run its backward.
        _doneAfterStep.Return();
    }

    readonly StepBuffers _doneAfterStep = new();
}

/// <summary>CycleGAN's sample grid: per row a, G(a), F(G(a)), then b, F(b), G(F(b)) (domain A shown in B's channels).</summary>
public sealed class CyclePreview : ImagePreview
{
    public override int Columns => 6;

    public override Tensor Render(GanModel model, GanBatch batch)
    {
        Module g = model.Generator, f = model[CycleGan.GeneratorBaName];
        var a = batch.Images;
        var b = batch.DomainB!;
        var ab = g.Forward(a);
        var aba = f.Forward(ab);
        var ba = f.Forward(b);
        var bab = g.Forward(ba);
        Tensor Show(Tensor x) => PairedPreview.DisplayLike(x, ab);
        int n = Math.Min(a.Size(0), b.Size(0));
        var columns = new[] { Show(a), ab, Show(aba), b, Show(ba), bab };
        var rows = new List<Tensor>(6 * n);
        for (int i = 0; i < n; i++)
            foreach (var column in columns) rows.Add(column.Narrow(0, i, 1));
        return Tensor.Cat([.. rows], 0);
    }
}
