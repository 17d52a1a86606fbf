using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// A generator/discriminator pair with its latent space: what the trainer, the sampler and the
/// checkpoints need to know about a model of the zoo.
/// </summary>
public sealed class GanModel
{
    public required string Name { get; init; }

    /// <summary>Maps latents (see <see cref="LatentShape"/>) to images (N,C,H,W) in [-1,1].</summary>
    public required Module Generator { get; init; }

    /// <summary>Maps images (N,C,H,W) to one logit per image, (N,1).</summary>
    public required Module Discriminator { get; init; }

    /// <summary>Size of the latent vector z.</summary>
    public required int LatentDim { get; init; }

    /// <summary>Shape of one latent as the generator takes it: (nz) or (nz,1,1).</summary>
    public required int[] LatentShape { get; init; }

    /// <summary>Image shape (C,H,W).</summary>
    public required int[] ImageShape { get; init; }

    /// <summary>Builds an encoder image -> latent for autoencoder pre-training of the generator.</summary>
    public required Func<Module> CreateEncoder { get; init; }

    /// <summary>Builds a fresh generator of the same architecture (used for the EMA copy).</summary>
    public required Func<Module> CreateGenerator { get; init; }

    /// <summary>Standard-normal latents z ~ N(0, I), shape (n, LatentShape...).</summary>
    public Tensor SampleLatent(int n, Generator rng) => Tensor.Randn([n, .. LatentShape], rng);

    /// <summary>Reshapes flat latents (n, nz) into the generator's latent shape.</summary>
    public Tensor ShapeLatent(Tensor flat) => flat.Reshape([flat.Size(0), .. LatentShape]);
}

/// <summary>What a model needs to be built: the data's image shape and the user's settings.</summary>
public sealed record ModelSpec(int Channels, int ImageSize, int LatentDim = 100, ulong Seed = 1, int Width = 64);
