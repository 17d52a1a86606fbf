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

    /// <summary>Classes the generator is conditioned on (cGAN, AC-GAN); 0 for an unconditional generator.</summary>
    public int Classes { get; init; }

    /// <summary>InfoGAN's latent codes fed to the generator beside z; null when it has none.</summary>
    public LatentCodes? Codes { get; init; }

    /// <summary>Outputs of the discriminator beside the adversarial one (AC-GAN's classes, InfoGAN's Q head); the adversarial output is column 0.</summary>
    public int HeadOutputs { get; init; }

    /// <summary>Builds an encoder image -> latent for autoencoder pre-training of the generator; null if the model has none.</summary>
    public Func<Module>? CreateEncoder { get; init; }

    /// <summary>The network called <paramref name="name"/>; a clear error if the model has none.</summary>
    public Module this[string name] => Networks.FirstOrDefault(kv => kv.Key == name).Value
        ?? throw new ArgumentException($"Model '{Name}' has no network '{name}' (it has {string.Join(", ", Networks.Select(n => n.Key))})");

    /// <summary>Maps latents (see <see cref="LatentShape"/>) to images (N,C,H,W) in [-1,1].</summary>
    public Module Generator => this[GeneratorName];

    /// <summary>Maps images (N,C,H,W) to one output per image, (N,1).</summary>
    public Module Discriminator => this[DiscriminatorName];

    /// <summary>Standard-normal latents z ~ N(0, I), shape (n, LatentShape...), for a generator that takes nothing else.</summary>
    public Tensor SampleLatent(int n, Generator rng) => Tensor.Randn([n, .. LatentShape], rng);

    /// <summary>
    /// What the generator is fed for <paramref name="n"/> samples: z ~ N(0, I) (n, nz), the classes (drawn uniformly
    /// unless <paramref name="classes"/> gives them) when the generator is conditional, InfoGAN's codes (a uniform
    /// categorical value as one-hot, continuous values ~ U(-1, 1)) when it has them; everything from <paramref name="rng"/>.
    /// </summary>
    public Latents SampleLatents(int n, Generator rng, Tensor? classes = null)
    {
        var z = Tensor.Randn([n, LatentDim], rng);
        if (Classes > 0 && classes == null)
        {
            classes = new Tensor(n);
            for (int i = 0; i < n; i++) classes.Data[i] = rng.NextInt(Classes);
        }
        return new Latents(z, Classes > 0 ? classes : null, Codes?.Sample(n, rng));
    }

    /// <summary>Classes 0, 1, ..., C-1, 0, 1, ... for <paramref name="n"/> samples: a class-balanced batch (null for an unconditional model).</summary>
    public Tensor? BalancedClasses(int n)
    {
        if (Classes == 0) return null;
        var c = new Tensor(n);
        for (int i = 0; i < n; i++) c.Data[i] = i % Classes;
        return c;
    }

    /// <summary>
    /// Latents for a sample grid of 8 columns: one row per class (or per value of InfoGAN's categorical code) when
    /// the model has them, else 8 rows.
    /// </summary>
    public Latents GridLatents(Generator rng)
    {
        int rows = Classes > 0 ? Classes : Codes is { Categories: > 0 } c ? c.Categories : 8, n = rows * 8;
        var z = Tensor.Randn([n, LatentDim], rng);
        Tensor? classes = null, codes = null;
        if (Classes > 0)
        {
            classes = new Tensor(n);
            for (int i = 0; i < n; i++) classes.Data[i] = i / 8;
        }
        if (Codes is { } latentCodes)
        {
            codes = new Tensor(n, latentCodes.Width);
            for (int i = 0; i < n; i++)
            {
                int category = latentCodes.Categories > 0 && Classes == 0 ? i / 8 : rng.NextInt(Math.Max(latentCodes.Categories, 1));
                latentCodes.Sample(1, rng, latentCodes.Categories > 0 ? category : null).Data.CopyTo(codes.Data.Slice(i * latentCodes.Width));
            }
        }
        return new Latents(z, classes, codes);
    }

    /// <summary>G(latents): the generator (or <paramref name="generator"/>, an EMA copy, say) on z joined to its codes, with the classes when it is conditional.</summary>
    public Tensor Generate(Latents latents, Module? generator = null)
    {
        var g = generator ?? Generator;
        int n = latents.Count;
        var input = latents.Codes is null ? latents.Z : Tensor.Cat([latents.Z, latents.Codes], 1);
        input = input.Reshape([n, .. LatentShape]);
        if (g is ConditionalModule conditional)
            return conditional.Forward(input, latents.Classes
                ?? throw new ArgumentException($"{Name}: the generator is class-conditional; give the classes of the {n} samples"));
        return g.Forward(input);
    }

    /// <summary>
    /// G(latents) written into <paramref name="destination"/> (N·C·H·W values), the batch's buffer then given back to the
    /// engine's pool unless it is the latents' own (a generator that passes its input through): the next batch takes it
    /// instead of fresh memory. Where a first touch of a page costs 10 us (the twenty-third pass's host), fresh outputs
    /// held mlpgan's generation to 61,000-72,000 images/s in a process that had run a larger model, against 112,000 with
    /// its outputs returned.
    /// </summary>
    public void GenerateInto(Latents latents, Span<float> destination, Module? generator = null)
    {
        var images = Generate(latents, generator);
        images.Data.CopyTo(destination);
        if (!images.SharesBufferWith(latents.Z)) images.ReturnToPool();
    }

    /// <summary>D(x) (N, 1 + HeadOutputs), with the classes (N) when the discriminator is conditional.</summary>
    public Tensor Discriminate(Tensor images, Tensor? classes, Module? discriminator = null)
    {
        var d = discriminator ?? Discriminator;
        if (d is ConditionalModule conditional)
            return conditional.Forward(images, classes
                ?? throw new ArgumentException($"{Name}: the discriminator is class-conditional; give the classes of the {images.Size(0)} images"));
        return d.Forward(images);
    }

    /// <summary>The adversarial column of discriminator outputs (N, 1); the outputs themselves when there is no head.</summary>
    public Tensor Adversarial(Tensor outputs) => HeadOutputs == 0 ? outputs : outputs.Narrow(1, 0, 1);

    /// <summary>The head's columns of discriminator outputs (N, HeadOutputs).</summary>
    public Tensor Head(Tensor outputs) => HeadOutputs == 0
        ? throw new InvalidOperationException($"{Name}: the discriminator has no head beside its adversarial output")
        : outputs.Narrow(1, 1, HeadOutputs);

    /// <summary>
    /// The discriminator as a function of images alone, its adversarial output only, the classes fixed: what a
    /// penalty on ∇ₓD (gradient penalty, R1) differentiates.
    /// </summary>
    public Module Critic(Tensor? classes) => new CriticView(this, classes);

    sealed class CriticView(GanModel model, Tensor? classes) : Module
    {
        public override Tensor Forward(Tensor input) => model.Adversarial(model.Discriminate(input, classes));
    }

    /// <summary>Reshapes flat latents (n, nz) into the generator's latent shape.</summary>
    public Tensor ShapeLatent(Tensor flat) => flat.Reshape([flat.Size(0), .. LatentShape]);

    /// <summary>The usual pair: a generator and a discriminator built by factories (called once now, again for copies).</summary>
    public static GanModel Pair(string name, Func<Module> generator, Module discriminator, int latentDim, int[] latentShape,
        int[] imageShape, Func<Module>? encoder = null, int classes = 0, LatentCodes? codes = null, int headOutputs = 0) => new()
    {
        Classes = classes,
        Codes = codes,
        HeadOutputs = headOutputs,
        Name = name,
        Networks = [new(GeneratorName, generator()), new(DiscriminatorName, discriminator)],
        CreateNetwork = n => n == GeneratorName ? generator() : throw new ArgumentException($"{name}: only the generator can be copied"),
        LatentDim = latentDim,
        LatentShape = latentShape,
        ImageShape = imageShape,
        CreateEncoder = encoder,
    };
}

/// <summary>
/// InfoGAN's latent codes (Chen et al. 2016): a categorical code of <paramref name="Categories"/> values (0 = none)
/// and <paramref name="Continuous"/> codes ~ U(-1, 1), fed to the generator as one-hot and values after z.
/// </summary>
public sealed record LatentCodes(int Categories, int Continuous)
{
    /// <summary>Width of the codes as the generator takes them.</summary>
    public int Width => Categories + Continuous;

    /// <summary>Codes for <paramref name="n"/> samples (n, Width): categorical values uniform (or <paramref name="category"/>), continuous U(-1, 1).</summary>
    public Tensor Sample(int n, Generator rng, int? category = null)
    {
        var codes = new Tensor(n, Width);
        var d = codes.Data;
        for (int i = 0; i < n; i++)
        {
            if (Categories > 0) d[i * Width + (category ?? rng.NextInt(Categories))] = 1f;
            for (int j = 0; j < Continuous; j++) d[i * Width + Categories + j] = (float)(rng.NextDouble() * 2 - 1);
        }
        return codes;
    }

    /// <summary>The categorical value of each row of <paramref name="codes"/> (N) as floats, for a cross-entropy target.</summary>
    public Tensor CategoryOf(Tensor codes)
    {
        int n = codes.Size(0);
        var c = new Tensor(n);
        for (int i = 0; i < n; i++)
        {
            var row = codes.Data.Slice(i * Width, Categories);
            c.Data[i] = row.IndexOf(1f);
        }
        return c;
    }
}

/// <summary>What the generator is fed for a batch: noise z (N, nz), the classes (N) of a conditional generator, InfoGAN's codes (N, width).</summary>
public sealed record Latents(Tensor Z, Tensor? Classes = null, Tensor? Codes = null)
{
    public int Count => Z.Size(0);

    /// <summary>The rows <paramref name="start"/> to start + <paramref name="length"/>.</summary>
    public Latents Slice(int start, int length) =>
        new(Z.Narrow(0, start, length), Classes?.Narrow(0, start, length), Codes?.Narrow(0, start, length));
}

/// <summary>What a model needs to be built: the data's image shape, the user's settings and the variant's options.</summary>
public sealed record ModelSpec(int Channels, int ImageSize, int LatentDim = 100, ulong Seed = 1, ModelOptions? Options = null)
{
    /// <summary>The variant's options, resolved (defaults when none were given).</summary>
    public ModelOptions Options { get; init; } = Options ?? ModelOptions.Empty;
}
