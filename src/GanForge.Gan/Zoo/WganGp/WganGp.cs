using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// WGAN-GP (Gulrajani et al. 2017, Algorithm 1): the Lipschitz constraint as a penalty,
/// λ·E[(‖∇D(x̂)‖₂ - 1)²] at random interpolates x̂ = εx + (1-ε)G(z), λ = 10; n_critic = 5; Adam with
/// lr 1e-4, β = (0, 0.9). No BatchNorm in the critic: the penalty is per sample, and BatchNorm couples
/// the samples of a batch (the paper suggests layer norm instead: `--set d-norm=layer`).
/// </summary>
public sealed class WganGp : DcGanNetworkVariant
{
    public override string Name => "wgan-gp";
    public override string Description => "WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with gradient penalty λ=10, 5 critic steps, Adam 1e-4 (0, 0.9), no BatchNorm in the critic";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("wasserstein", 5, OptimizerSettings.Adam(1e-4f, 0f, 0.9f));
    public override IReadOnlyList<ModelOption> Options { get; } = [.. DcGanNetworks.Declare(norm: "none"), .. ClassicGame.RegulariserOptions(gp: 10f)];
}
