using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// WGAN (Arjovsky et al. 2017, Algorithm 1): the critic estimates the Wasserstein-1 distance,
/// E[D(x)] - E[D(G(z))], kept K-Lipschitz by clipping its weights to [-0.01, 0.01] after every update;
/// n_critic = 5 critic updates per generator update; RMSprop with lr 5e-5 (momentum-based optimizers
/// made training unstable in the paper). DCGAN networks, BatchNorm in the critic as in the paper.
/// </summary>
public sealed class Wgan : DcGanNetworkVariant
{
    public override string Name => "wgan";
    public override string Description => "WGAN (Arjovsky et al. 2017): Wasserstein critic with weight clipping 0.01, 5 critic steps, RMSprop 5e-5; DCGAN networks";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("wasserstein", 5, OptimizerSettings.RmsProp(5e-5f));
    public override IReadOnlyList<ModelOption> Options { get; } = [.. DcGanNetworks.Declare(), .. ClassicGame.RegulariserOptions(clip: 0.01f)];
}
