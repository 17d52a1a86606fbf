using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// StyleGAN2 at small scale (Karras et al. 2019, 2020): a mapping network z -> w (pixel norm, equalised fully connected
/// layers at lr × 0.01), a synthesis network from a learned 4×4 constant whose layers are modulated by styles A(w)
/// (weight modulation and demodulation), per-layer noise inputs with learned strengths, toRGB skips, style-mixing
/// regularisation, w_avg tracked for the truncation trick; a residual discriminator with minibatch standard deviation;
/// the non-saturating loss with lazy R1 (γ = 0.01 every 16 steps, stylegan2-ada's `cifar` configuration, the one at
/// 32 pixels) and Adam 0.0025, β = (0, 0.99).
/// </summary>
/// <remarks>
/// Modulation/demodulation rather than StyleGAN's AdaIN: AdaIN normalises each feature map by its own statistics,
/// which lets the generator hide a strong local spike (the "droplet" artifacts) to control the normalisation;
/// demodulation scales the weights by their expected effect instead and never looks at the data, so the artifacts
/// have nothing to exploit; and it is what stylegan2-ada trains. Path-length regularisation is left out, as the
/// `cifar` configuration leaves it out.
/// </remarks>
public sealed class StyleGan : Variant
{
    public override string Name => "stylegan";
    public override string Description => "StyleGAN2 (Karras et al. 2020): mapping network, modulated convs from a learned constant, noise inputs, style mixing, w_avg for truncation; lazy R1, Adam 0.0025 (0, 0.99)";
    public override string ImageSizes => "a power of two from 8 to 256";
    public override bool SupportsImageSize(int size) => size is >= 8 and <= 256 && (size & (size - 1)) == 0;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(0.0025f, 0f, 0.99f));

    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ModelOption.Int("w-dim", 128, "size of w, the mapping network's output (512 in the paper; 128 at 32 pixels)", min: 1),
        ModelOption.Int("mapping-layers", 4, "fully connected layers of the mapping network (8 in the paper, 2 in stylegan2-ada's cifar)", min: 1),
        ModelOption.Float("mapping-lr", 0.01f, "learning-rate multiplier of the mapping network", min: 1e-6, max: 1),
        ModelOption.Int("width", 64, "channels at 32 pixels; twice this at 16 pixels and below, half per doubling above", min: 1),
        ModelOption.Float("mixing", 0.9f, "style-mixing regularisation: probability that a training sample mixes two ws", max: 1),
        ModelOption.Int("mbstd", 4, "minibatch standard deviation group size in D; 0 = off"),
        .. ClassicGame.RegulariserOptions(r1: 0.01f, r1Every: 16),
    ];

    public override GanModel CreateModel(ModelSpec spec)
    {
        var o = spec.Options;
        int size = spec.ImageSize, wDim = o.Int("w-dim"), w = o.Int("width"), nz = spec.LatentDim, nc = spec.Channels;
        int Width(int r) => Math.Max(Math.Min(2 * w, w * 32 / r), Math.Min(16, w));
        var rng = new Generator(spec.Seed);
        Module G() => new StyleGenerator(
            new MappingNetwork(nz, wDim, o.Int("mapping-layers"), o.Float("mapping-lr"), rng),
            new SynthesisNetwork(size, nc, wDim, Width, rng), o.Float("mixing"));
        var d = new StyleDiscriminator(size, nc, Width, o.Int("mbstd"), rng);
        return GanModel.Pair(Name, G, d, nz, [nz], [nc, size, size]);
    }
}
