using GanForge.NN;

namespace GanForge.Gan.Losses;

/// <summary>
/// The semi-supervised GAN's losses (Odena 2016; Salimans et al. 2016, §5): D is a classifier with C + 1 outputs,
/// the C classes and "generated" (the last). With p_fake(x) = softmax(l(x))_C, D minimises
/// L_unsup = -E_x[log(1 - p_fake(x))] - E_z[log p_fake(G(z))] on all images and L_sup = CE(l(x), y) on the labelled
/// ones; G minimises -E_z[log(1 - p_fake(G(z)))] (the non-saturating form), or matches D's features (feature matching).
/// </summary>
public static class SemiSupervisedLoss
{
    /// <summary>log(1 - p_fake) per row of logits (N, C+1): logsumexp over the C classes minus logsumexp over all C + 1.</summary>
    public static Tensor LogNotFake(Tensor logits)
    {
        int c = logits.Size(1) - 1;
        return logits.Narrow(1, 0, c).LogSumExp(1) - logits.LogSumExp(1);
    }

    // -mean log(1 - p_fake(x)) - mean log p_fake(G(z))
    public static Tensor Unsupervised(Tensor realLogits, Tensor fakeLogits)
    {
        int c = fakeLogits.Size(1) - 1;
        var logFake = fakeLogits.Narrow(1, c, 1).Reshape(-1) - fakeLogits.LogSumExp(1);
        return -LogNotFake(realLogits).Mean() - logFake.Mean();
    }

    // CE(l(x), y) over the C + 1 outputs
    public static Tensor Supervised(Tensor logits, Tensor classes) => F.CrossEntropy(logits, classes);

    // -mean log(1 - p_fake(G(z)))
    public static Tensor Generator(Tensor fakeLogits) => -LogNotFake(fakeLogits).Mean();

    // ‖mean f(x) - mean f(G(z))‖²
    public static Tensor FeatureMatching(Tensor realFeatures, Tensor fakeFeatures)
    {
        var diff = realFeatures.Mean(0) - fakeFeatures.Mean(0);
        return (diff * diff).Sum();
    }
}
