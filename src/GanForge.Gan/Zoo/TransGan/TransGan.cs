using GanForge.Gan.Losses;
using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// TransGAN (Jiang et al. 2021, "TransGAN: Two Pure Transformers Can Make One Strong GAN, and That Can Scale Up") at
/// small scale: a convolution-free generator of transformer blocks on a token grid that grows 8 × 8 -> 16 × 16 -> 32 × 32
/// by pixel shuffle (width ÷ 4 per doubling), grid self-attention in windows on the widest grids; a ViT discriminator
/// on 4 × 4 patches with a class token; DiffAugment (translation, cutout, colour) on every image D sees, which the paper
/// found indispensable for a transformer D; the official code's CIFAR-10 loss, WGAN-GP (λ = 10) with the drift term
/// ε = 0.001, and its Adam 1e-4, β = (0, 0.99). Its n_critic is 4; here 1 (see remarks).
/// </summary>
/// <remarks>
/// Why TransGAN rather than ViTGAN (Lee et al. 2022) for 32-pixel grey Fashion-MNIST on a CPU: ViTGAN's generator
/// emits every patch through an implicit neural representation (a SIREN MLP run per pixel) with self-modulated
/// LayerNorm, and its D needs L2 attention and improved spectral normalisation to be stable: each is a new op with
/// its own gradient, and the per-pixel SIREN is the costliest part on a CPU. TransGAN is built from ops the engine
/// already has and checks against PyTorch (LayerNorm, multi-head attention, GELU, pixel shuffle, a strided conv for
/// the patches), its pixel-shuffle stages keep the cost per stage flat, and its own CIFAR-10 configuration is at 32
/// pixels. One critic step per generator step instead of the official 4: with the gradient penalty differentiated
/// through attention a critic step costs about as much as a generator step here, so four would make each step
/// about 2.5 times as long, and DiffAugment already keeps D from running ahead; `--k 4` restores the paper's.
/// </remarks>
public sealed class TransGan : Variant
{
    public override string Name => "transgan";
    public override string Description => "TransGAN (Jiang et al. 2021): transformer G on a token grid upsampled by pixel shuffle, ViT D on patches; DiffAugment, WGAN-GP + drift, Adam 1e-4 (0, 0.99)";
    public override string ImageSizes => "16, 32 or 64";
    public override bool SupportsImageSize(int size) => size is 16 or 32 or 64;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("wasserstein", 1, OptimizerSettings.Adam(1e-4f, 0f, 0.99f));

    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ModelOption.Int("width", 64, "G's token width on the 8 × 8 grid, ÷ 4 per doubling (1024 in the paper's CIFAR-10 model)", min: 1),
        ModelOption.Int("g-depth", 2, "G's transformer blocks on the 8 × 8 grid (5 in the paper)", min: 1),
        ModelOption.Int("g-up-depth", 1, "G's blocks on each upsampled grid (4 and 2 in the paper)"),
        ModelOption.Int("heads", 4, "attention heads (fewer where a stage's width is too small to split)", min: 1),
        ModelOption.Int("window", 8, "G's grids wider than this attend within window × window cells (grid self-attention)", min: 1),
        ModelOption.Int("d-width", 64, "D's token width (384 in the paper)", min: 1),
        ModelOption.Int("d-depth", 2, "D's transformer blocks (3 in the paper)", min: 1),
        ModelOption.Int("patch", 4, "D's patch size: 4 cuts 32 pixels into 8 × 8 = 64 tokens (2 in the paper)", min: 1),
        ModelOption.Float("drift", 0.001f, "ε of the drift term ε·E[D(x)²] on the real scores; 0 = off"),
        .. ClassicGame.RegulariserOptions(gp: 10f, diffAugment: "translation,cutout,color"),
    ];

    public override GanModel CreateModel(ModelSpec spec)
    {
        var o = spec.Options;
        int size = spec.ImageSize, nz = spec.LatentDim, nc = spec.Channels, ups = TransGanShapes.Upsamplings(size);
        int[] depths = [o.Int("g-depth"), .. Enumerable.Repeat(o.Int("g-up-depth"), ups)];
        TransGanShapes.CheckWidth(Name, o.Int("width"), ups);
        var rng = new Generator(spec.Seed);
        NN.Module G() => new TransGenerator(nz, nc, size, o.Int("width"), o.Int("heads"), depths, o.Int("window"), rng);
        var d = new TransDiscriminator(nc, size, o.Int("patch"), o.Int("d-width"), o.Int("heads"), o.Int("d-depth"), rng);
        return GanModel.Pair(Name, G, d, nz, [nz], [nc, size, size]);
    }

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options)
    {
        float drift = options.Float("drift");
        return ClassicGame.Create(model, config, options, drift: drift > 0 ? new DriftPenalty(drift) : null);
    }
}
