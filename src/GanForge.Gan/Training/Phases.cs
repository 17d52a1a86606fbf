using GanForge.Gan.Losses;
using GanForge.Gan.Zoo;
using GanForge.Optim;

namespace GanForge.Gan.Training;

/// <summary>Everything a phase reads and updates during one run of training.</summary>
public sealed class TrainingContext
{
    public required GanModel Model { get; init; }
    public required Optimizer OptimizerG { get; init; }
    public required Optimizer OptimizerD { get; init; }
    public required GanLoss Loss { get; init; }
    public required LabelOptions Labels { get; init; }
    public required IBatchSource Data { get; init; }
    /// <summary>Latent noise for training steps.</summary>
    public required Generator Noise { get; init; }
    /// <summary>Randomness of label flipping.</summary>
    public required Generator LabelNoise { get; init; }
    public TrainingStats Stats { get; } = new();
    /// <summary>Generator steps taken so far.</summary>
    public long Step { get; set; }
    /// <summary>Last real batch seen (for diversity measurements).</summary>
    public Tensor? LastReal { get; set; }
    /// <summary>Last generated batch (for diversity measurements).</summary>
    public Tensor? LastFake { get; set; }
}

/// <summary>One part of a training iteration (stylegan2-ada's phases): updates one network with the other frozen.</summary>
public abstract class Phase
{
    public abstract string Name { get; }
    public abstract void Run(TrainingContext ctx);
}

/// <summary>
/// Algorithm 1's inner loop: <c>k</c> discriminator updates, each on m real images and m samples of
/// G, with G frozen (its samples are made without a graph, so no gradient reaches it).
/// </summary>
public sealed class DiscriminatorPhase(int k, bool mixedBatch) : Phase
{
    public override string Name => "D";

    public override void Run(TrainingContext ctx)
    {
        var (g, d) = (ctx.Model.Generator, ctx.Model.Discriminator);
        d.RequiresGrad(true);
        for (int i = 0; i < k; i++)
        {
            var real = ctx.Data.Next();
            int m = real.Size(0);
            Tensor fake;
            using (GradMode.NoGrad()) fake = g.Forward(ctx.Model.SampleLatent(m, ctx.Noise));

            Tensor realLogits, fakeLogits;
            if (mixedBatch)
            {
                // One batch, half real and half generated, as Algorithm 1 describes.
                var logits = d.Forward(Tensor.Cat([real, fake], 0));
                (realLogits, fakeLogits) = (logits.Narrow(0, 0, m), logits.Narrow(0, m, m));
            }
            else (realLogits, fakeLogits) = (d.Forward(real), d.Forward(fake));

            var loss = ctx.Loss.Discriminator(realLogits, fakeLogits, ctx.Labels, ctx.LabelNoise);
            Monitors.CheckFinite("discriminator loss", loss.Item(), ctx.Step);
            ctx.OptimizerD.ZeroGradAndRecycle(); // the phases own the gradients: their buffers are reused
            loss.Backward();
            ctx.OptimizerD.Step();

            ctx.Stats.Add("loss_d", loss.Item());
            ctx.Stats.Add("d_real", TrainingStats.MeanProbability(realLogits));
            ctx.Stats.Add("d_fake", TrainingStats.MeanProbability(fakeLogits));
            ctx.Stats.Add("acc_real", TrainingStats.Accuracy(realLogits, real: true));
            ctx.Stats.Add("acc_fake", TrainingStats.Accuracy(fakeLogits, real: false));
            ctx.LastReal = real;
        }
    }
}

/// <summary>
/// The generator update: fresh noise, G(z) through a frozen D (no weight gradients are computed for
/// D), the generator loss with its fakes labelled real (or the minimax form), one optimizer step.
/// </summary>
public sealed class GeneratorPhase : Phase
{
    public override string Name => "G";

    public override void Run(TrainingContext ctx)
    {
        var (g, d) = (ctx.Model.Generator, ctx.Model.Discriminator);
        int m = ctx.LastReal?.Size(0) ?? 64;
        d.RequiresGrad(false);
        try
        {
            var fake = g.Forward(ctx.Model.SampleLatent(m, ctx.Noise));
            var logits = d.Forward(fake);
            var loss = ctx.Loss.Generator(logits);
            Monitors.CheckFinite("generator loss", loss.Item(), ctx.Step);
            ctx.OptimizerG.ZeroGradAndRecycle();
            loss.Backward();
            ctx.OptimizerG.Step();
            ctx.Stats.Add("loss_g", loss.Item());
            ctx.LastFake = fake.Detach();
        }
        finally { d.RequiresGrad(true); }
    }
}
