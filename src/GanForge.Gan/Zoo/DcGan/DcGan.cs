using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// DCGAN (Radford et al. 2016): the DCGAN networks with the non-saturating loss and Adam (lr 2e-4,
/// β1 0.5). With `--set r1=γ` it is the R1-regularised GAN of Mescheder et al. (2018); `mbstd` and
/// `minibatch-discrimination` add a minibatch layer to D.
/// </summary>
public sealed class DcGan : DcGanNetworkVariant
{
    public override string Name => "dcgan";
    public override string Description => "DCGAN (Radford et al. 2016): strided-conv G and D with BatchNorm, non-saturating loss, Adam 2e-4 (0.5, 0.999)";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } = [.. DcGanNetworks.Declare(), .. ClassicGame.RegulariserOptions()];
}
