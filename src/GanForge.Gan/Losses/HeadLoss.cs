using GanForge.NN;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;

namespace GanForge.Gan.Losses;

/// <summary>
/// A loss on the discriminator's head, the outputs beside its adversarial one (AC-GAN's class logits,
/// InfoGAN's Q head): one term added to the discriminator's loss and one to the generator's.
/// </summary>
public abstract class HeadLoss
{
    /// <summary>The statistic the discriminator's term is logged under.</summary>
    public abstract StatDefinition Stat { get; }

    /// <summary>D's term, from its head on the real batch (with its labels) and on the generated batch (with its latents).</summary>
    public abstract Tensor Discriminator(Tensor realHead, GanBatch real, Tensor fakeHead, Latents fake, TrainingStatistics stats);

    /// <summary>G's term, from D's head on the generated batch.</summary>
    public abstract Tensor Generator(Tensor fakeHead, Latents fake);
}

/// <summary>
/// AC-GAN's class loss (Odena et al. 2017): D's head gives class logits; D maximises L_C on real and generated
/// images, G maximises L_C on its images, L_C = E[log P(C = c | X)]. Written as cross-entropies to minimise.
/// </summary>
public sealed class AuxiliaryClassLoss(float weight = 1f) : HeadLoss
{
    public float Weight { get; } = weight;
    public override StatDefinition Stat => Stats.LossClass;

    // weight·(CE(head(x), y) + CE(head(G(z, c)), c))
    public override Tensor Discriminator(Tensor realHead, GanBatch real, Tensor fakeHead, Latents fake, TrainingStatistics stats)
    {
        var realClasses = real.ClassTensor("acgan");
        stats.Add(Stats.AccClass, ClassAccuracy(realHead, realClasses));
        return (F.CrossEntropy(realHead, realClasses) + F.CrossEntropy(fakeHead, fake.Classes!)) * Weight;
    }

    // weight·CE(head(G(z, c)), c)
    public override Tensor Generator(Tensor fakeHead, Latents fake) => F.CrossEntropy(fakeHead, fake.Classes!) * Weight;

    /// <summary>Share of rows whose largest logit is their class.</summary>
    public static double ClassAccuracy(Tensor logits, Tensor classes)
    {
        var predicted = logits.ArgMax(1).Data;
        int ok = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == classes.Data[i]) ok++;
        return (double)ok / Math.Max(predicted.Length, 1);
    }
}

/// <summary>
/// InfoGAN's variational bound on the mutual information between the codes and G's images (Chen et al. 2016,
/// eq. 5): the Q head predicts the categorical code (logits) and the mean of each continuous code (a factored
/// Gaussian of unit variance), and both D (with Q) and G minimise λ_cat·CE(Q_cat, c) + λ_cont·½‖Q_μ - c'‖².
/// Real images carry no codes, so D's term is on generated images only.
/// </summary>
public sealed class MutualInformationLoss(LatentCodes codes, float categoricalWeight = 1f, float continuousWeight = 0.1f) : HeadLoss
{
    public LatentCodes Codes { get; } = codes;
    public override StatDefinition Stat => Stats.LossInfo;

    public override Tensor Discriminator(Tensor realHead, GanBatch real, Tensor fakeHead, Latents fake, TrainingStatistics stats) =>
        Bound(fakeHead, fake.Codes!);

    public override Tensor Generator(Tensor fakeHead, Latents fake) => Bound(fakeHead, fake.Codes!);

    /// <summary>-L_I up to constants: the negative log-likelihood of the codes under Q.</summary>
    public Tensor Bound(Tensor head, Tensor codes)
    {
        Tensor? loss = null;
        if (Codes.Categories > 0)
            loss = F.CrossEntropy(head.Narrow(1, 0, Codes.Categories), Codes.CategoryOf(codes)) * categoricalWeight;
        if (Codes.Continuous > 0)
        {
            var diff = head.Narrow(1, Codes.Categories, Codes.Continuous) - codes.Narrow(1, Codes.Categories, Codes.Continuous);
            var gaussian = (diff * diff).Sum(1).Mean() * (0.5f * continuousWeight);   // ½‖μ - c'‖², per sample
            loss = loss is null ? gaussian : loss + gaussian;
        }
        return loss ?? throw new InvalidOperationException("MutualInformationLoss: the model has no latent codes");
    }
}
