using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// DAGAN, the data augmentation GAN (Antoniou et al. 2017): a generator that takes a real image and makes another
/// image of its class. G is pix2pix's U-Net with noise planes (a z) joined at its bottleneck, as DAGAN joins its
/// projected z there; D is the PatchGAN on pairs, told a real pair (an image and another of its class:
/// <c>--pairs same-class</c>) from a generated one (the image and G's image from it). No L1 term: G is not asked to
/// copy the partner, only to make a pair D cannot tell from a real one. The paper trains with WGAN-GP; this keeps
/// pix2pix's non-saturating loss (<c>--loss</c> changes it). Its images feed <c>ganforge augment</c>.
/// </summary>
public sealed class DaGan : Pix2Pix
{
    public override string Name => "dagan";
    public override string Description => "DAGAN (Antoniou et al. 2017): U-Net G from an image to another of its class (noise planes as z), PatchGAN D on same-class pairs; --pairs same-class (the default); feeds `augment`";
    protected override float DefaultL1 => 0f;
    protected override int DefaultNoisePlanes => 8;

    /// <summary>Pairs of one class (<c>same-class</c>) unless others are given; labelled data is needed to form them.</summary>
    public override void ResolveData(TrainConfig config)
    {
        if (string.IsNullOrWhiteSpace(config.Pairs)) config.Pairs = "same-class";
        if (!config.Pairs.Trim().StartsWith("same-class", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{Name}: trains on pairs of one class (--pairs same-class[:SEED]), not '{config.Pairs}'");
        base.ResolveData(config);
    }
}
