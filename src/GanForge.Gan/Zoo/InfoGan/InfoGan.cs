using GanForge.Gan.Losses;
using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// InfoGAN (Chen et al. 2016): G(z, c) with latent codes c beside the noise (MNIST's setting: one 10-way categorical
/// code and 2 continuous codes ~ U(-1, 1)), and a Q head sharing D's body that predicts c from G's image. Both players
/// also minimise -L_I(G, Q), the variational lower bound on the mutual information I(c; G(z, c)) (λ = 1 for the
/// categorical code; the continuous codes' Gaussian term weighted by `continuous-weight`). DCGAN networks.
/// </summary>
public sealed class InfoGan : DcGanNetworkVariant
{
    public override string Name => "infogan";
    public override string Description => "InfoGAN (Chen et al. 2016): a 10-way categorical and 2 continuous codes beside z, a Q head on D, the mutual-information bound with λ = 1; DCGAN networks";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ModelOption.Int("categories", 10, "values of the categorical code (0 = none)"),
        ModelOption.Int("continuous", 2, "continuous codes ~ U(-1, 1)"),
        ModelOption.Float("lambda", 1f, "λ: weight of the mutual-information bound (its categorical term)"),
        ModelOption.Float("continuous-weight", 0.1f, "weight of the continuous codes' Gaussian term, relative to λ"),
        .. DcGanNetworks.Declare(),
        .. ClassicGame.RegulariserOptions(),
    ];

    public override GanModel CreateModel(ModelSpec spec)
    {
        var codes = Codes(spec.Options);
        return DcGanNetworks.Create(Name, spec, new Conditioning(Codes: codes, HeadOutputs: codes.Width));
    }

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options)
    {
        float lambda = options.Float("lambda");
        return ClassicGame.Create(model, config, options, new MutualInformationLoss(model.Codes!, lambda, lambda * options.Float("continuous-weight")));
    }

    static LatentCodes Codes(ModelOptions o)
    {
        var codes = new LatentCodes(o.Int("categories"), o.Int("continuous"));
        if (codes.Width == 0) throw new ArgumentException("infogan: options 'categories' and 'continuous' are both 0; InfoGAN needs at least one code");
        return codes;
    }
}
