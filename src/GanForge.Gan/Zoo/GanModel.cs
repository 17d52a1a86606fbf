using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// A model of the zoo: its networks by name (a generator and a discriminator for the classic games;
/// CycleGAN has four), its latent space and image shape. The trainer freezes, checkpoints and averages
/// networks by these names, so a model with more networks needs no trainer code of its own.
/// </summary>
public sealed class GanModel
{
    /// <summary>The name the generator goes by; samplers and EMA look for it.</summary>
    public const string GeneratorName = "generator";
    /// <summary>The name the discriminator (or critic) goes by.</summary>
    public const string DiscriminatorName = "discriminator";

    public required string Name { get; init; }

    /// <summary>Every trainable network by name, in checkpoint order.</summary>
    public required IReadOnlyList<KeyValuePair<string, Module>> Networks { get; init; }

    /// <summary>Builds a fresh network of the same architecture by name (for EMA copies).</summary>
    public required Func<string, Module> CreateNetwork { get; init; }

    /// <summary>Size of the latent vector z.</summary>
    public required int LatentDim { get; init; }

    /// <summary>Shape of one latent as the generator takes it: (nz) or (nz,1,1).</summary>
    public required int[] LatentShape { get; init; }

    /// <summary>Image shape (C,H,W).</summary>
    public required int[] ImageShape { get; init; }

    /// <summary>Builds an encoder image -> latent for autoencoder pre-training of the generator; null if the model has none.</summary>
    public Func<Module>? CreateEncoder { get; init; }

    /// <summary>The network called <paramref name="name"/>; a clear error if the model has none.</summary>
    public Module this[string name] => Networks.FirstOrDefault(kv => kv.Key == name).Value
        ?? throw new ArgumentException($"Model '{Name}' has no network '{name}' (it has {string.Join(", ", Networks.Select(n => n.Key))})");

    /// <summary>Maps latents (see <see cref="LatentShape"/>) to images (N,C,H,W) in [-1,1].</summary>
    public Module Generator => this[GeneratorName];

    /// <summary>Maps images (N,C,H,W) to one output per image, (N,1).</summary>
    public Module Discriminator => this[DiscriminatorName];

    /// <summary>Standard-normal latents z ~ N(0, I), shape (n, LatentShape...).</summary>
    public Tensor SampleLatent(int n, Generator rng) => Tensor.Randn([n, .. LatentShape], rng);

    /// <summary>Reshapes flat latents (n, nz) into the generator's latent shape.</summary>
    public Tensor ShapeLatent(Tensor flat) => flat.Reshape([flat.Size(0), .. LatentShape]);

    /// <summary>The usual pair: a generator and a discriminator built by factories (called once now, again for copies).</summary>
    public static GanModel Pair(string name, Func<Module> generator, Module discriminator, int latentDim, int[] latentShape,
        int[] imageShape, Func<Module>? encoder = null) => new()
    {
        Name = name,
        Networks = [new(GeneratorName, generator()), new(DiscriminatorName, discriminator)],
        CreateNetwork = n => n == GeneratorName ? generator() : throw new ArgumentException($"{name}: only the generator can be copied"),
        LatentDim = latentDim,
        LatentShape = latentShape,
        ImageShape = imageShape,
        CreateEncoder = encoder,
    };
}

/// <summary>What a model needs to be built: the data's image shape, the user's settings and the variant's options.</summary>
public sealed record ModelSpec(int Channels, int ImageSize, int LatentDim = 100, ulong Seed = 1, ModelOptions? Options = null)
{
    /// <summary>The variant's options, resolved (defaults when none were given).</summary>
    public ModelOptions Options { get; init; } = Options ?? ModelOptions.Empty;
}
