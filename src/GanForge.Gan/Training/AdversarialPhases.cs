using GanForge.Gan.Losses;
using GanForge.Gan.Zoo;

namespace GanForge.Gan.Training;

/// <summary>
/// The discriminator (critic) update of the classic game, Algorithm 1's inner step: m real images and m
/// samples of G made without a graph (so no gradient reaches G), the adversarial loss, and the
/// penalties the variant asks for: a gradient penalty on interpolates (WGAN-GP), R1 when it is not lazy,
/// ProGAN's drift term on the real scores, weight clipping after the step (WGAN).
/// </summary>
public sealed class DiscriminatorPhase(int repeats = 1, bool mixedBatch = false, GradientPenalty? gradientPenalty = null,
    R1Penalty? r1 = null, WeightClipping? clipping = null, DriftPenalty? drift = null) : Phase
{
    public override string Name => "D";
    public override string Optimizer => "d";
    public override int Repeats => repeats;

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        var batch = ctx.NextBatch();
        var real = batch.Images;
        int m = real.Size(0);
        var latents = ctx.Latents(m);
        Tensor fake;
        using (GradMode.NoGrad()) fake = model.Generate(latents);
        // G's batch is read by this step alone; its buffer goes back in AfterStep where nothing else can hold it.
        if (_ownBatch.Of(model, fake, latents)) _doneAfterStep.Add(fake);
        // DiffAugment: D sees T(x) and T(G(z)); every term below (penalties included) is on what D sees. What the
        // augmentation made is this step's alone: its buffers go back once the step is done (AfterStep).
        (real, fake) = (Seen(ctx, real), Seen(ctx, fake));
        var realClasses = model.Classes > 0 ? batch.ClassTensor(model.Name) : null;

        Tensor realOut, fakeOut;
        // One batch, half real and half generated: as Algorithm 1 describes when asked for (--d-batch mixed), and
        // whenever D treats each sample on its own (no BatchNorm, minibatch statistics, dropout, spectral norm), where
        // it gives the same outputs as two passes with half the per-layer work and GEMMs twice as tall; only the
        // summation order of D's weight gradients changes. Not with a gradient penalty or R1: five critic steps per
        // generator step carry that rounding far enough to leave the ranks-against-one-process check
        // (DataParallelTests, rtol 1e-3) on wgan-gp, so those games keep two passes.
        bool together = mixedBatch || (gradientPenalty is null && r1 is null && realClasses is null && latents.Classes is null
            && _sampleWise.Of(model.Discriminator));
        if (together)
        {
            var classes = realClasses is null ? null : Tensor.Cat([realClasses, latents.Classes!], 0);
            var both = Tensor.Cat([real, fake], 0);
            // The concatenation's buffer goes back to the pool once the step is done (AfterStep), so the fused
            // pass allocates no more per step than two passes did; only when D is built from layers that keep
            // nothing outside the graph.
            if (_sampleWise.Of(model.Discriminator)) _doneAfterStep.Add(both);
            var outputs = model.Discriminate(both, classes);
            (realOut, fakeOut) = (outputs.Narrow(0, 0, m), outputs.Narrow(0, m, m));
        }
        else (realOut, fakeOut) = (model.Discriminate(real, realClasses), model.Discriminate(fake, latents.Classes));

        var loss = ctx.Game.Loss.Discriminator(model.Adversarial(realOut), model.Adversarial(fakeOut), ctx.Game.Labels, ctx.LabelNoise, ctx.Shard);
        if (ctx.Game.Head is { } head)
        {
            var term = head.Discriminator(model.Head(realOut), batch, model.Head(fakeOut), latents, ctx.Stats);
            ctx.Stats.Add(head.Stat, term.Item());
            loss = loss + term;
        }
        if (gradientPenalty != null)
        {
            var gp = gradientPenalty.Compute(model.Critic(realClasses), real, fake, ctx.Uniform(m));   // λ·E[(‖∇D(x̂)‖ - 1)²]
            ctx.Stats.Add(Stats.GradientPenalty, gp.Item());
            ctx.Stats.Add(Stats.GradientNorm, gradientPenalty.LastGradientNorm);
            loss = loss + gp;
        }
        if (r1 != null)
        {
            var penalty = r1.Compute(model.Critic(realClasses), real);                                  // γ/2·E[‖∇D(x)‖²]
            ctx.Stats.Add(Stats.R1, penalty.Item());
            loss = loss + penalty;
        }
        if (drift != null) loss = loss + drift.Compute(model.Adversarial(realOut));                     // ε·E[D(x)²]
        ctx.Stats.Add(Stats.LossD, loss.Item());
        RecordOutputs(ctx, ctx.Game.Loss, model.Adversarial(realOut), model.Adversarial(fakeOut));
        return loss;
    }

    public override void AfterStep(StepContext ctx)
    {
        clipping?.Apply(ctx.Model.Discriminator);
        // The penalties' passes of D, whose layer outputs only their gradients' graphs read: those have run.
        gradientPenalty?.ReleasePass();
        r1?.ReleasePass();
        // D's graph, the only holder of these batches, has run its backward: their buffers are free.
        _doneAfterStep.Return();
    }

    // Batches this step made that only its graph reads: G's, when G keeps nothing of it, the augmented batches, and
    // real+fake when D ran once over both.
    readonly StepBuffers _doneAfterStep = new();

    // The batch as D sees it (DiffAugment's T(x), made without a graph here); a new batch is returned after the step.
    Tensor Seen(StepContext ctx, Tensor images)
    {
        var seen = ctx.Augmented(images);
        if (seen.GradFn is null && !seen.SharesBufferWith(images)) _doneAfterStep.Add(seen);
        return seen;
    }

    readonly ModuleProperty _sampleWise = new(d => d.IsSampleWise());

    readonly GeneratedBatchOwner _ownBatch = new();

    /// <summary>D(x), D(G(z)), and accuracy for a discriminator or the Wasserstein estimate for a critic.</summary>
    static void RecordOutputs(StepContext ctx, GanLoss loss, Tensor realOut, Tensor fakeOut)
    {
        double dReal = loss.MeanOutput(realOut), dFake = loss.MeanOutput(fakeOut);
        ctx.Stats.Add(Stats.DReal, dReal);
        ctx.Stats.Add(Stats.DFake, dFake);
        if (loss.IsCritic) ctx.Stats.Add(Stats.Wasserstein, dReal - dFake);
        else
        {
            ctx.Stats.Add(Stats.AccReal, TrainingStatistics.Accuracy(realOut, real: true, loss.Threshold));
            ctx.Stats.Add(Stats.AccFake, TrainingStatistics.Accuracy(fakeOut, real: false, loss.Threshold));
        }
    }
}

/// <summary>
/// Lazy R1 (Karras et al. 2020, stylegan2-ada's "Dreg" phase): γ/2·E[‖∇D(x)‖²] on the step's real batch,
/// every k steps; the trainer multiplies it by k and corrects D's learning rate and betas by k/(k+1).
/// </summary>
public sealed class LazyR1Phase(R1Penalty r1, int every) : Phase
{
    public override string Name => "D_r1";
    public override string Optimizer => "d";
    public override int Every => every;

    public override Tensor Loss(StepContext ctx)
    {
        var batch = ctx.LastReal ?? ctx.NextBatch();
        var classes = ctx.Model.Classes > 0 ? batch.ClassTensor(ctx.Model.Name) : null;
        var penalty = r1.Compute(ctx.Model.Critic(classes), ctx.Augmented(batch.Images));
        ctx.Stats.Add(Stats.R1, penalty.Item());
        return penalty;
    }

    /// <summary>The penalty's pass of D, whose layer outputs only its gradient's graph read: that has run.</summary>
    public override void AfterStep(StepContext ctx) => r1.ReleasePass();
}

/// <summary>
/// The generator update: fresh noise (and classes or codes), G(z) through the frozen D (no weight gradients
/// are computed for D), the generator's side of the adversarial loss and of the head's loss, one optimizer step.
/// </summary>
public sealed class GeneratorPhase : Phase
{
    public override string Name => "G";
    public override string Optimizer => "g";

    public override Tensor Loss(StepContext ctx)
    {
        var model = ctx.Model;
        _lastFake.Return(ctx);
        var latents = ctx.Latents(ctx.BatchSize());
        var fake = model.Generate(latents);
        var seen = ctx.Augmented(fake);
        var outputs = model.Discriminate(seen, latents.Classes);   // G is trained through T
        // T(G(z)) is this phase's own: its buffer goes back once its node has run its backward.
        if (!seen.SharesBufferWith(fake)) Intermediates.Release(seen);
        var loss = ctx.Game.Loss.Generator(model.Adversarial(outputs));
        if (ctx.Game.Head is { } head) loss = loss + head.Generator(model.Head(outputs), latents);
        ctx.Stats.Add(Stats.LossG, loss.Item());
        _lastFake.Leave(ctx, model, fake, latents.Z);
        return loss;
    }

    readonly LastFakeLoan _lastFake = new();
}

/// <summary>
/// The batch a generator phase leaves as <see cref="StepContext.LastFake"/> (the trainer reads it only to log), lent
/// where the phase owns it (<see cref="GeneratedBatchOwner"/>): if no one has read or replaced it by the phase's next
/// turn, its buffer goes back to the pool, where the new batch takes it instead of a fresh allocation (SRGAN's 192 KB a
/// step, a page fault per 4 KB). A batch someone read is never reused.
/// </summary>
sealed class LastFakeLoan
{
    readonly GeneratedBatchOwner _owner = new();
    Tensor? _lent;

    /// <summary>The batch lent at the last turn back to the pool, where no one read or replaced it since.</summary>
    public void Return(StepContext ctx)
    {
        if (_lent != null && ReferenceEquals(ctx.UnreadLastFake, _lent))
        {
            ctx.LastFake = null;
            _lent.ReturnToPool();
        }
        _lent = null;
    }

    /// <summary>Leaves G's batch <paramref name="fake"/>, made from <paramref name="input"/> (z, or an image-to-image G's A), as the last fake, lent where the phase owns it.</summary>
    public void Leave(StepContext ctx, GanModel model, Tensor fake, Tensor input)
    {
        var kept = fake.Detach();
        ctx.LastFake = kept;
        if (_owner.Of(model, fake, input)) _lent = kept;
    }
}

/// <summary>
/// Whether a phase that made G's batch is its only holder, free to give its buffer back once done with it: G is built
/// from layers that keep nothing (<see cref="NN.Module.KeepsNoOutputs"/>; a user's G may keep what it returns) and the
/// batch is not z itself.
/// </summary>
sealed class GeneratedBatchOwner
{
    readonly ModuleProperty _keepsNoOutputs = new(g => g.KeepsNoOutputs());

    public bool Of(GanModel model, Tensor fake, Latents latents) => Of(model, fake, latents.Z);

    /// <summary>The same for a batch G made from <paramref name="input"/> (an image-to-image G's A).</summary>
    public bool Of(GanModel model, Tensor fake, Tensor input) =>
        _keepsNoOutputs.Of(model.Generator) && !fake.SharesBufferWith(input);
}

/// <summary>
/// A property of a network that its layers decide and that training does not change, asked of the last network
/// checked once (each step would otherwise walk its modules).
/// </summary>
sealed class ModuleProperty(Func<NN.Module, bool> ask)
{
    (NN.Module? Module, bool Answer) _last;

    public bool Of(NN.Module module)
    {
        if (!ReferenceEquals(_last.Module, module)) _last = (module, ask(module));
        return _last.Answer;
    }
}
