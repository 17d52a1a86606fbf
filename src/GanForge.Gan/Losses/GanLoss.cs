namespace GanForge.Gan.Losses;

/// <summary>How the discriminator's targets are formed (Salimans et al. 2016; ganhacks).</summary>
/// <param name="RealLabel">Target for real samples: 1, or e.g. 0.9 for one-sided label smoothing.</param>
/// <param name="FlipProbability">Chance that a sample's label is swapped (label noise); 0 disables.</param>
public sealed record LabelOptions(float RealLabel = 1f, float FlipProbability = 0f)
{
    public static LabelOptions Default { get; } = new();
}

/// <summary>
/// An adversarial objective over discriminator logits. Each term carries its formula; all are computed
/// from logits with softplus so they stay finite where sigmoid saturates.
/// </summary>
public abstract class GanLoss
{
    /// <summary>Registry name (`--loss`).</summary>
    public abstract string Name { get; }

    /// <summary>Loss the discriminator minimises, given logits on real and on generated samples.</summary>
    public abstract Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng);

    /// <summary>Loss the generator minimises, given the discriminator's logits on its samples.</summary>
    public abstract Tensor Generator(Tensor fakeLogits);

    /// <summary>softplus(x) = log(1 + exp(x)), stable: relu(x) + log(1 + exp(-|x|)).</summary>
    protected static Tensor Softplus(Tensor x) => x.Relu() + ((-x.Abs()).Exp() + 1f).Log();

    /// <summary>
    /// Mean binary cross-entropy of sigmoid(logits) against targets t:
    /// t·softplus(-x) + (1-t)·softplus(x) = softplus(x) - t·x.
    /// </summary>
    protected static Tensor BceWithLogits(Tensor logits, Tensor targets) => (Softplus(logits) - targets * logits).Mean();

    /// <summary>Per-sample targets for the discriminator: smoothed real labels, and optional flips.</summary>
    protected static (Tensor Real, Tensor Fake) Targets(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng)
    {
        var real = Tensor.Full(realLogits.Shape, labels.RealLabel);
        var fake = Tensor.Zeros(fakeLogits.Shape);
        if (labels.FlipProbability > 0)
        {
            Flip(real.Data, 0f, labels.FlipProbability, rng);
            Flip(fake.Data, labels.RealLabel, labels.FlipProbability, rng);
        }
        return (real, fake);
    }

    static void Flip(Span<float> targets, float to, float p, Generator rng)
    {
        for (int i = 0; i < targets.Length; i++) if (rng.NextFloat() < p) targets[i] = to;
    }

    /// <summary>Looks a loss up by name: minimax, non-saturating.</summary>
    public static GanLoss FromName(string name) => name.ToLowerInvariant() switch
    {
        "minimax" or "saturating" => new MinimaxLoss(),
        "non-saturating" or "nonsaturating" or "ns" => new NonSaturatingLoss(),
        _ => throw new ArgumentException($"Unknown loss '{name}'. Known: minimax, non-saturating"),
    };
}

/// <summary>
/// Goodfellow et al. (2014), equation 1: D maximises log D(x) + log(1 - D(G(z))), G minimises
/// log(1 - D(G(z))). The generator's gradient vanishes when D rejects its samples confidently.
/// </summary>
public sealed class MinimaxLoss : GanLoss
{
    public override string Name => "minimax";

    // -[t·log D(x) + (1-t)·log(1-D(x))] on real, -log(1 - D(G(z))) on fake
    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng)
    {
        var (real, fake) = Targets(realLogits, fakeLogits, labels, rng);
        return BceWithLogits(realLogits, real) + BceWithLogits(fakeLogits, fake);
    }

    // log(1 - sigmoid(l)) = -softplus(l)
    public override Tensor Generator(Tensor fakeLogits) => -Softplus(fakeLogits).Mean();
}

/// <summary>
/// The non-saturating variant from the same paper: G maximises log D(G(z)) instead, i.e. its fakes
/// are labelled real. Same fixed point, strong gradients early in training.
/// </summary>
public sealed class NonSaturatingLoss : GanLoss
{
    public override string Name => "non-saturating";

    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng)
    {
        var (real, fake) = Targets(realLogits, fakeLogits, labels, rng);
        return BceWithLogits(realLogits, real) + BceWithLogits(fakeLogits, fake);
    }

    // -log(sigmoid(D(G(z)))) = softplus(-l)
    public override Tensor Generator(Tensor fakeLogits) => Softplus(-fakeLogits).Mean();
}
