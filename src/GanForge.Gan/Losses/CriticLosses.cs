namespace GanForge.Gan.Losses;

/// <summary>
/// Wasserstein GAN (Arjovsky et al. 2017): the critic estimates the Earth-Mover distance
/// sup over 1-Lipschitz f of E[f(x)] - E[f(G(z))]; the generator lowers that estimate.
/// </summary>
/// <remarks>
/// D's output is an unbounded score, not a logit. The Lipschitz constraint is not part of the loss:
/// pair it with <see cref="WeightClipping"/> (the paper) or <see cref="GradientPenalty"/>
/// (Gulrajani et al. 2017). <see cref="LabelOptions"/> are ignored: a score has no target to smooth
/// or flip, and no random numbers are drawn.
/// </remarks>
public sealed class WassersteinLoss : GanLoss
{
    public override string Name => "wasserstein";

    public override bool IsCritic => true;

    public override double MeanOutput(Tensor outputs) => MeanRaw(outputs);

    // mean(D(G(z))) - mean(D(x))
    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default) =>
        fakeLogits.Mean() - realLogits.Mean();

    // -mean(D(G(z)))
    public override Tensor Generator(Tensor fakeLogits) => -fakeLogits.Mean();
}

/// <summary>
/// Hinge loss (Lim &amp; Ye 2017; Miyato et al. 2018, SNGAN): the critic is pushed to score real
/// samples above +1 and generated ones below -1, and stops caring once they are; the generator
/// raises its samples' score as in WGAN.
/// </summary>
/// <remarks>
/// D's output is a score, not a logit. <see cref="LabelOptions"/> are ignored (the margins play the
/// role of the targets), and no random numbers are drawn.
/// </remarks>
public sealed class HingeLoss : GanLoss
{
    public override string Name => "hinge";

    public override bool IsCritic => true;

    public override double MeanOutput(Tensor outputs) => MeanRaw(outputs);

    // mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))
    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default) =>
        (1f - realLogits).Relu().Mean() + (fakeLogits + 1f).Relu().Mean();

    // -mean(D(G(z)))
    public override Tensor Generator(Tensor fakeLogits) => -fakeLogits.Mean();
}
