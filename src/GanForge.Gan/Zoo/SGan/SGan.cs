using GanForge.Data;
using GanForge.Gan.Losses;
using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// The semi-supervised GAN (Odena 2016; Salimans et al. 2016): D is a classifier of C + 1 outputs (the classes and
/// "generated"), trained on a few labelled images per class (`labels-per-class`, drawn with the seed, class-balanced)
/// and on all the other images as unlabelled; G makes D call its images real (`g-loss: non-saturating`) or matches
/// the mean of D's last hidden features on real images (`g-loss: feature-matching`, Salimans et al.'s choice).
/// Labels of the images outside the labelled subset are never read. DCGAN networks, Adam 2e-4 (0.5).
/// </summary>
public sealed class SGan : DcGanNetworkVariant
{
    public override string Name => "sgan";
    public override string Description => "Semi-supervised GAN (Odena 2016; Salimans et al. 2016): D classifies C classes + generated from N labels per class; DCGAN networks";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ConditionalOptions.Classes,
        ModelOption.Int("labels-per-class", 100, "labelled training images per class, drawn with the seed", min: 1),
        ModelOption.Choice("g-loss", "feature-matching", "G's objective: feature-matching (Salimans et al. 2016) or non-saturating", "feature-matching", "non-saturating"),
        ModelOption.Bool("supervised-only", false, "the baseline: train D as a plain classifier on the labelled images only (no G, no unlabelled images)"),
        .. DcGanNetworks.Declare(),
    ];

    /// <summary>D's C + 1 outputs, the last one "generated".</summary>
    public override GanModel CreateModel(ModelSpec spec) =>
        DcGanNetworks.Create(Name, spec, new Conditioning(HeadOutputs: spec.Options.Int("classes")));

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options) => new()
    {
        Model = model,
        Loss = GanLoss.FromName("non-saturating"),   // for the monitors: D's outputs are logits
        Optimizers =
        [
            new OptimizerGroup("g", [GanModel.GeneratorName], config.Optimizers["g"]),
            new OptimizerGroup("d", [GanModel.DiscriminatorName], config.Optimizers["d"]),
        ],
        Phases = options.Bool("supervised-only")
            ? [new SemiSupervisedDiscriminatorPhase(options.Int("labels-per-class"), config.Seed, supervisedOnly: true)]
            :
            [
                new SemiSupervisedDiscriminatorPhase(options.Int("labels-per-class"), config.Seed),
                new SemiSupervisedGeneratorPhase(options.String("g-loss") == "feature-matching"),
            ],
    };

    /// <summary>The class logits (N, C) of D's outputs: all but the last.</summary>
    public override Tensor? ClassLogits(GanModel model, Tensor outputs) => outputs.Narrow(1, 0, outputs.Size(1) - 1);
}

/// <summary>
/// D's update: L_unsup on the step's batch (its labels unread) and on G's samples, plus L_sup on a batch drawn with
/// replacement from the labelled subset (chosen once, class-balanced, with the run's seed).
/// </summary>
/// <remarks>With <c>supervisedOnly</c> the phase is the baseline classifier: L_sup alone, same network, same labelled images and batches.</remarks>
public sealed class SemiSupervisedDiscriminatorPhase(int labelsPerClass, ulong seed, bool supervisedOnly = false) : Phase
{
    GanBatch? _labelled;
    Tensor? _labelledClasses;

    public override string Name => "D";
    public override string Optimizer => "d";

    public override Tensor Loss(StepContext ctx)
    {
        var (model, d) = (ctx.Model, ctx.Model.Discriminator);
        if (_labelled == null) PickLabelled(ctx);
        var real = ctx.NextBatch().Images;
        int m = real.Size(0);
        var picks = new int[m];
        var labelledSet = _labelled!;
        for (int i = 0; i < m; i++) picks[i] = ctx.LabelNoise.NextInt(labelledSet.Size);
        var labelled = labelledSet.Images.IndexSelect(0, picks);
        var classes = _labelledClasses!.IndexSelect(0, picks);
        var labelledOut = d.Forward(labelled);
        var supervised = SemiSupervisedLoss.Supervised(labelledOut, classes);
        ctx.Stats.Add(Stats.LossSupervised, supervised.Item());
        ctx.Stats.Add(Stats.AccClass, AuxiliaryClassLoss.ClassAccuracy(labelledOut.Narrow(1, 0, labelledOut.Size(1) - 1), classes));
        if (supervisedOnly)
        {
            ctx.Stats.Add(Stats.LossD, supervised.Item());
            return supervised;
        }

        Tensor fake;
        using (GradMode.NoGrad()) fake = model.Generate(ctx.Latents(m));
        var (realOut, fakeOut) = (d.Forward(real), d.Forward(fake));
        var loss = SemiSupervisedLoss.Unsupervised(realOut, fakeOut) + supervised;
        ctx.Stats.Add(Stats.LossD, loss.Item());
        double half = Math.Log(0.5);   // log(1 - p_fake) above log ½: D calls the image real
        var notFakeReal = SemiSupervisedLoss.LogNotFake(realOut).Data.ToArray();
        var notFakeFake = SemiSupervisedLoss.LogNotFake(fakeOut).Data.ToArray();
        ctx.Stats.Add(Stats.AccReal, notFakeReal.Count(v => v > half) / (double)m);
        ctx.Stats.Add(Stats.AccFake, notFakeFake.Count(v => v <= half) / (double)m);
        ctx.Stats.Add(Stats.DReal, notFakeReal.Average(v => Math.Exp(v)));
        ctx.Stats.Add(Stats.DFake, notFakeFake.Average(v => Math.Exp(v)));
        return loss;
    }

    void PickLabelled(StepContext ctx)
    {
        var dataset = ctx.Data.Dataset ?? throw new InvalidOperationException("sgan: the training data cannot be indexed to pick its labelled images");
        _labelled = ctx.Data.Take(dataset.BalancedIndices(labelsPerClass, seed ^ 0x5E417ABE1UL));
        _labelledClasses = _labelled.ClassTensor("sgan");
        int outputs = ctx.Model.HeadOutputs + 1;
        if (_labelled.Labels!.Max() >= outputs - 1)
            throw new ArgumentException($"sgan: the data has labels up to {_labelled.Labels!.Max()} but D has {outputs - 1} classes");
    }
}

/// <summary>G's update: feature matching on D's last hidden layer (Salimans et al. 2016), or -log(1 - p_fake(G(z))).</summary>
public sealed class SemiSupervisedGeneratorPhase(bool featureMatching) : Phase
{
    public override string Name => "G";
    public override string Optimizer => "g";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        _lastFake.Return(ctx);
        var latents = ctx.Latents(ctx.BatchSize());
        var fake = model.Generate(latents);
        Tensor loss;
        if (featureMatching)
        {
            var real = (ctx.LastReal ?? ctx.NextBatch()).Images;
            Tensor realFeatures;
            using (GradMode.NoGrad()) realFeatures = DiscriminatorFeatures.Of(model.Discriminator, real);
            loss = SemiSupervisedLoss.FeatureMatching(realFeatures, DiscriminatorFeatures.Of(model.Discriminator, fake));
        }
        else loss = SemiSupervisedLoss.Generator(model.Discriminator.Forward(fake));
        ctx.Stats.Add(Stats.LossG, loss.Item());
        _lastFake.Leave(ctx, model, fake, latents.Z);
        return loss;
    }

    readonly LastFakeLoan _lastFake = new();
}
