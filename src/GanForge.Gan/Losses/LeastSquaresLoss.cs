namespace GanForge.Gan.Losses;

/// <summary>
/// Least-squares GAN (Mao et al. 2017), with the paper's 0-1 coding a = 0 (fake), b = 1 (real),
/// c = 1 (what G wants D to believe). Minimising it minimises a Pearson χ² divergence; unlike the
/// sigmoid cross-entropy, it still pulls on samples that are classified correctly but lie far from
/// the decision boundary.
/// </summary>
/// <remarks>
/// D's raw output is compared with the targets directly (no sigmoid), so its decision threshold is
/// halfway between a and b: 0.5. The targets are those of the BCE losses, so one-sided label
/// smoothing (b = <see cref="LabelOptions.RealLabel"/>) and label flips apply, drawing from the
/// generator exactly as they do.
/// </remarks>
public sealed class LeastSquaresLoss : GanLoss
{
    public override string Name => "least-squares";

    public override float Threshold => 0.5f;

    public override double MeanOutput(Tensor outputs) => MeanRaw(outputs);

    // 1/2·mean((D(x) - b)²) + 1/2·mean((D(G(z)) - a)²), with b = t_real, a = t_fake
    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default)
    {
        var (real, fake) = Targets(realLogits, fakeLogits, labels, rng, shard);
        return 0.5f * (realLogits - real).Square().Mean() + 0.5f * (fakeLogits - fake).Square().Mean();
    }

    // 1/2·mean((D(G(z)) - c)²), c = 1
    public override Tensor Generator(Tensor fakeLogits) => 0.5f * (fakeLogits - 1f).Square().Mean();
}
