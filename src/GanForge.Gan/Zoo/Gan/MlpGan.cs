using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// The fully connected GAN of Goodfellow et al. (2014), the `mlpgan` workload of the benchmarks: generator
/// z(100) -> 256 -> 512 -> 1024 -> C·H·W with LeakyReLU(0.2) and Tanh, discriminator C·H·W -> 512 -> 256 -> 1
/// with LeakyReLU(0.2). PyTorch default initialisation. Any image size.
/// </summary>
public sealed class MlpGan : Variant
{
    public override string Name => "gan";
    public override string Description => "MLP GAN of Goodfellow et al. (2014): 100-256-512-1024-784 generator, 784-512-256-1 discriminator; any image size";
    public override string ImageSizes => "any";
    public override bool SupportsImageSize(int size) => size > 0;
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } =
        [.. DiscriminatorOptions.Declare(normChoice: false), .. ClassicGame.RegulariserOptions()];

    public override GanModel CreateModel(ModelSpec spec)
    {
        var rng = new Generator(spec.Seed);
        int pixels = spec.Channels * spec.ImageSize * spec.ImageSize;
        int[] image = [spec.Channels, spec.ImageSize, spec.ImageSize];
        var o = DiscriminatorOptions.From(spec.Options);
        Module G() => new Sequential(
            new Linear(spec.LatentDim, 256, generator: rng), new LeakyReLU(0.2f),
            new Linear(256, 512, generator: rng), new LeakyReLU(0.2f),
            new Linear(512, 1024, generator: rng), new LeakyReLU(0.2f),
            new Linear(1024, pixels, generator: rng), new Tanh(),
            new Unflatten(1, image));                                   // (N, C, H, W)
        // The minibatch std layer works on feature maps: the 256 features are seen as (256, 1, 1).
        IEnumerable<Module> Head() => o.MbstdGroup > 0
            ? [new Unflatten(1, [256, 1, 1]), .. o.Head(256, 1, 1, 1, c => [new Flatten(), new Linear(c, 1, generator: rng)], rng)]
            : o.Head(256, 1, 1, 1, c => [new Linear(c, 1, generator: rng)], rng);
        var d = o.Finish(new Sequential([
            new Flatten(),                                              // (N, C·H·W)
            new Linear(pixels, 512, generator: rng), new LeakyReLU(0.2f),
            new Linear(512, 256, generator: rng), new LeakyReLU(0.2f),
            .. Head()]), rng);                                          // (N, 1) logits
        return GanModel.Pair(Name, G, d, spec.LatentDim, [spec.LatentDim], image, () => new Sequential(
            new Flatten(),
            new Linear(pixels, 512, generator: rng), new LeakyReLU(0.2f),
            new Linear(512, 256, generator: rng), new LeakyReLU(0.2f),
            new Linear(256, spec.LatentDim, generator: rng)));
    }
}
