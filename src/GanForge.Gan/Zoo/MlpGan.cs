using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// The fully connected GAN: the `mlpgan` workload of the benchmarks, generator
/// z(100) -> 256 -> 512 -> 1024 -> C·H·W with LeakyReLU(0.2) and Tanh, discriminator
/// C·H·W -> 512 -> 256 -> 1 with LeakyReLU(0.2). PyTorch default initialisation.
/// </summary>
public static class MlpGan
{
    public static GanModel Create(ModelSpec spec)
    {
        var rng = new Generator(spec.Seed);
        int pixels = spec.Channels * spec.ImageSize * spec.ImageSize;
        int[] image = [spec.Channels, spec.ImageSize, spec.ImageSize];
        Module G() => new Sequential(
            new Linear(spec.LatentDim, 256, generator: rng), new LeakyReLU(0.2f),
            new Linear(256, 512, generator: rng), new LeakyReLU(0.2f),
            new Linear(512, 1024, generator: rng), new LeakyReLU(0.2f),
            new Linear(1024, pixels, generator: rng), new Tanh(),
            new Unflatten(1, image));                                   // (N, C, H, W)
        var d = new Sequential(
            new Flatten(),                                              // (N, C·H·W)
            new Linear(pixels, 512, generator: rng), new LeakyReLU(0.2f),
            new Linear(512, 256, generator: rng), new LeakyReLU(0.2f),
            new Linear(256, 1, generator: rng));                        // (N, 1) logits
        return new GanModel
        {
            Name = "gan",
            Generator = G(),
            Discriminator = d,
            LatentDim = spec.LatentDim,
            LatentShape = [spec.LatentDim],
            ImageShape = image,
            CreateGenerator = G,
            CreateEncoder = () => new Sequential(
                new Flatten(),
                new Linear(pixels, 512, generator: rng), new LeakyReLU(0.2f),
                new Linear(512, 256, generator: rng), new LeakyReLU(0.2f),
                new Linear(256, spec.LatentDim, generator: rng)),
        };
    }
}
