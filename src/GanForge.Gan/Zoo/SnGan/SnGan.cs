using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// SNGAN (Miyato et al. 2018): every weight of D divided by its largest singular value (one power
/// iteration per step), which bounds D's Lipschitz constant layer by layer, with no BatchNorm in D; the
/// hinge loss of their best results, D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G: -E[D(G(z))];
/// Adam 2e-4, β = (0.5, 0.999), one D step per G step (the paper's setting C). DCGAN networks.
/// </summary>
public sealed class SnGan : DcGanNetworkVariant
{
    public override string Name => "sngan";
    public override string Description => "SNGAN (Miyato et al. 2018): spectral norm on every D layer, hinge loss, Adam 2e-4 (0.5, 0.999), n_dis 1; DCGAN networks";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("hinge", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } =
        [.. DcGanNetworks.Declare(norm: "none", spectralNorm: true), .. ClassicGame.RegulariserOptions()];
}
