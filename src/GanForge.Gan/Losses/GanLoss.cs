using GanForge.Serialization;

namespace GanForge.Gan.Losses;

/// <summary>How the discriminator's targets are formed (Salimans et al. 2016; ganhacks).</summary>
/// <param name="RealLabel">Target for real samples: 1, or e.g. 0.9 for one-sided label smoothing.</param>
/// <param name="FlipProbability">Chance that a sample's label is swapped (label noise); 0 disables.</param>
public sealed record LabelOptions(float RealLabel = 1f, float FlipProbability = 0f)
{
    public static LabelOptions Default { get; } = new();
}

/// <summary>
/// An adversarial objective over the discriminator's raw outputs: logits of a probability for the
/// BCE-based losses, scores for least squares and the critic losses. Each term carries its formula.
/// </summary>
public abstract class GanLoss
{
    /// <summary>Registry name (`--loss`).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// True when D's output is a critic score (wasserstein, hinge), not a logit of a probability:
    /// it has no sigmoid, and label options do not apply.
    /// </summary>
    public virtual bool IsCritic => false;

    /// <summary>The decision threshold on D's raw output: 0 for logits and critics, 0.5 for least squares.</summary>
    public virtual float Threshold => 0f;

    /// <summary>
    /// Mean of what D "says" about a batch, for statistics: mean sigmoid(logit) for the BCE-based
    /// losses, mean raw output for least squares and critics. Reads values only, no graph.
    /// </summary>
    public virtual double MeanOutput(Tensor outputs)
    {
        var d = outputs.Data;
        if (d.Length == 0) return double.NaN;
        double sum = 0;
        foreach (float l in d) sum += l >= 0 ? 1 / (1 + Math.Exp(-l)) : Math.Exp(l) / (1 + Math.Exp(l));
        return sum / d.Length;
    }

    /// <summary>Loss the discriminator minimises, given its outputs on real and on generated samples.</summary>
    /// <param name="realLogits">D's outputs on the real rows.</param>
    /// <param name="fakeLogits">D's outputs on the generated rows.</param>
    /// <param name="labels">Label smoothing and flips.</param>
    /// <param name="rng">The source of label flips.</param>
    /// <param name="shard">
    /// In data-parallel training, which rows of the global batch the outputs are: label flips are drawn for the whole
    /// global batch, as one process draws them, and the shard's are used.
    /// </param>
    public abstract Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default);

    /// <summary>Loss the generator minimises, given the discriminator's outputs on its samples.</summary>
    public abstract Tensor Generator(Tensor fakeLogits);

    /// <summary>The canonical registry names; <see cref="FromName"/> also takes a few aliases.</summary>
    public static IReadOnlyList<string> Names { get; } = ["minimax", "non-saturating", "wasserstein", "hinge", "least-squares"];

    /// <summary>
    /// Looks a loss up by name (case-insensitive): one of <see cref="Names"/>, or an alias
    /// (saturating, nonsaturating, ns, wgan, leastsquares, lsgan, ls).
    /// </summary>
    public static GanLoss FromName(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "minimax" or "saturating" => new MinimaxLoss(),
        "non-saturating" or "nonsaturating" or "ns" => new NonSaturatingLoss(),
        "wasserstein" or "wgan" => new WassersteinLoss(),
        "hinge" => new HingeLoss(),
        "least-squares" or "leastsquares" or "lsgan" or "ls" => new LeastSquaresLoss(),
        _ => throw new ArgumentException($"Unknown loss '{MessageText.Quote(name)}'. Known: {string.Join(", ", Names)}"),
    };

    /// <summary>softplus(x) = log(1 + exp(x)), stable: relu(x) + log(1 + exp(-|x|)).</summary>
    protected static Tensor Softplus(Tensor x) => x.Relu() + ((-x.Abs()).Exp() + 1f).Log();

    /// <summary>
    /// Mean binary cross-entropy of sigmoid(logits) against targets t:
    /// t·softplus(-x) + (1-t)·softplus(x) = softplus(x) - t·x.
    /// </summary>
    protected static Tensor BceWithLogits(Tensor logits, Tensor targets) => (Softplus(logits) - targets * logits).Mean();

    /// <summary>Per-sample targets for the discriminator: smoothed real labels, and optional flips (of the shard's rows).</summary>
    protected static (Tensor Real, Tensor Fake) Targets(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default)
    {
        var real = Tensor.Full(realLogits.Shape, labels.RealLabel);
        var fake = Tensor.Zeros(fakeLogits.Shape);
        if (labels.FlipProbability > 0)
        {
            Flip(real.Data, 0f, labels.FlipProbability, rng, shard);
            Flip(fake.Data, labels.RealLabel, labels.FlipProbability, rng, shard);
        }
        return (real, fake);
    }

    static void Flip(Span<float> targets, float to, float p, Generator rng, Shard shard)
    {
        // One draw per element of the global batch; the shard's elements are its block (rows are equal in size).
        for (long i = (long)shard.Index * targets.Length; i > 0; i--) rng.NextFloat();
        for (int i = 0; i < targets.Length; i++) if (rng.NextFloat() < p) targets[i] = to;
        for (long i = (long)(shard.Count - 1 - shard.Index) * targets.Length; i > 0; i--) rng.NextFloat();
    }

    /// <summary>Mean of the raw outputs, in double (least squares and critics).</summary>
    protected static double MeanRaw(Tensor outputs)
    {
        var d = outputs.Data;
        if (d.Length == 0) return double.NaN;
        double sum = 0;
        foreach (float v in d) sum += v;
        return sum / d.Length;
    }
}

/// <summary>
/// Goodfellow et al. (2014), equation 1: D maximises log D(x) + log(1 - D(G(z))), G minimises
/// log(1 - D(G(z))). The generator's gradient vanishes when D rejects its samples confidently.
/// </summary>
public sealed class MinimaxLoss : GanLoss
{
    public override string Name => "minimax";

    // -[t·log D(x) + (1-t)·log(1-D(x))] on real, -log(1 - D(G(z))) on fake
    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default)
    {
        var (real, fake) = Targets(realLogits, fakeLogits, labels, rng, shard);
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

    public override Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, LabelOptions labels, Generator rng, Shard shard = default)
    {
        var (real, fake) = Targets(realLogits, fakeLogits, labels, rng, shard);
        return BceWithLogits(realLogits, real) + BceWithLogits(fakeLogits, fake);
    }

    // -log(sigmoid(D(G(z)))) = softplus(-l)
    public override Tensor Generator(Tensor fakeLogits) => Softplus(-fakeLogits).Mean();
}
