using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// LSGAN (Mao et al. 2017): least-squares losses with the a-b-c coding a = 0 (fake), b = 1 (real),
/// c = 1 (what G wants D to believe): D minimises ½E[(D(x) - 1)²] + ½E[D(G(z))²], G minimises
/// ½E[(D(G(z)) - 1)²], which penalises samples far from the decision boundary even when they are on
/// the right side of it. DCGAN networks; Adam 2e-4, β1 0.5 as in the paper.
/// </summary>
public sealed class LsGan : DcGanNetworkVariant
{
    public override string Name => "lsgan";
    public override string Description => "LSGAN (Mao et al. 2017): least-squares loss (a=0, b=1, c=1), DCGAN networks, Adam 2e-4 (0.5, 0.999)";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("least-squares", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } = [.. DcGanNetworks.Declare(), .. ClassicGame.RegulariserOptions()];
}
