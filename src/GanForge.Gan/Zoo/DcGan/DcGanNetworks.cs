using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>A variant that trains the DCGAN networks: it says only its name, defaults and options (and how it conditions them).</summary>
public abstract class DcGanNetworkVariant : Variant
{
    public override string ImageSizes => "28, or a power of two from 16 to 256";
    public override bool SupportsImageSize(int size) => IsPyramidSize(size);
    public override GanModel CreateModel(ModelSpec spec) => DcGanNetworks.Create(Name, spec);
}

/// <summary>How a variant conditions the DCGAN networks (all off: the unconditional DCGAN).</summary>
/// <param name="Classes">Classes joined to z in G; 0 = unconditional G.</param>
/// <param name="Discriminator">How D sees the class: none, concat (class planes beside the image) or projection.</param>
/// <param name="Codes">InfoGAN's codes joined to z.</param>
/// <param name="HeadOutputs">D outputs beside the adversarial one.</param>
public sealed record Conditioning(int Classes = 0, string Discriminator = "none", LatentCodes? Codes = null, int HeadOutputs = 0);

/// <summary>
/// The DCGAN networks (Radford et al. 2016) that several variants share: strided convolutions instead of
/// pooling, BatchNorm in G (not on its output), ReLU + Tanh in G, LeakyReLU(0.2) in D, weights N(0, 0.02).
/// At 28 pixels this is exactly the `dcgan28` benchmark workload; at 64 pixels the DCGAN of
/// pytorch/examples (`dcgan64`); other powers of two add or drop stages.
/// </summary>
public static class DcGanNetworks
{
    /// <summary>Options of the network shapes: the width of the pyramid and the discriminator's choices.</summary>
    public static IReadOnlyList<ModelOption> Declare(string norm = "batch", bool spectralNorm = false) =>
    [
        ModelOption.Int("width", 64, "channels of the first D and last G stage of the 32+ pixel pyramid (ngf = ndf)", min: 1),
        .. DiscriminatorOptions.Declare(norm, spectralNorm),
    ];

    /// <summary>G and D for <paramref name="spec"/>, with the discriminator options in its model options.</summary>
    public static GanModel Create(string name, ModelSpec spec) => Create(name, spec, new Conditioning());

    /// <summary>
    /// G and D for <paramref name="spec"/> as <paramref name="conditioning"/> asks: a class-conditional G (the class
    /// joined to z), a conditional D (class planes joined to the image, or a projection discriminator), InfoGAN's codes
    /// after z, and a head of extra D outputs (AC-GAN's classes, InfoGAN's Q).
    /// </summary>
    public static GanModel Create(string name, ModelSpec spec, Conditioning conditioning)
    {
        var rng = new Generator(spec.Seed);
        int nc = spec.Channels, nz = spec.LatentDim, w = spec.Options.Int("width"), classes = conditioning.Classes;
        int codes = conditioning.Codes?.Width ?? 0, gIn = nz + codes + classes;
        var dOpts = DiscriminatorOptions.From(spec.Options);
        int[] image = [nc, spec.ImageSize, spec.ImageSize];
        bool flat = spec.ImageSize == 28;
        int[] latentShape = flat ? [nz + codes] : [nz + codes, 1, 1], inputShape = flat ? [gIn] : [gIn, 1, 1];
        int stages = flat ? 0 : (int)Math.Log2(spec.ImageSize) - 2;
        int dChannels = nc + (conditioning.Discriminator == "concat" ? classes : 0);
        Module Body(int outputs, DiscriminatorOptions o) => flat
            ? Discriminator28(dChannels, outputs, o, rng)
            : DiscriminatorPyramid(dChannels, w, stages, outputs, o, rng);

        Module G()
        {
            var body = flat ? Generator28(gIn, nc, rng) : GeneratorPyramid(gIn, nc, w, stages, rng);
            return classes > 0 ? new ConditionalGenerator(body, classes, inputShape) : body;
        }
        Module d = conditioning.Discriminator switch
        {
            "concat" => new ConcatDiscriminator(Body(1, dOpts), classes),
            "projection" => Projection(new Sequential(Body(ProjectionFeatures, dOpts with { Norm = "none", SpectralNorm = false }), new LeakyReLU(0.2f)), classes, rng),
            _ => Body(1 + conditioning.HeadOutputs, dOpts),
        };
        Func<Module>? encoder = classes > 0 || codes > 0 ? null : flat
            ? () => new Sequential(Discriminator28(nc, nz, new DiscriminatorOptions(), rng), new Unflatten(1, [nz]))
            : () => new Sequential(DiscriminatorPyramid(nc, w, stages, nz, new DiscriminatorOptions(), rng), new Unflatten(1, [nz, 1, 1]));
        return GanModel.Pair(name, G, d, nz, latentShape, image, encoder, classes, conditioning.Codes, conditioning.HeadOutputs);
    }

    /// <summary>
    /// Miyato and Koyama's projection discriminator as they train it: spectral norm on every weight (the body, ψ and
    /// the class embedding) and no BatchNorm. Without the spectral norm D overpowers G within a few hundred steps here.
    /// </summary>
    static Module Projection(Module features, int classes, Generator rng)
    {
        var d = new ProjectionDiscriminator(features, ProjectionFeatures, classes, rng);
        foreach (var (_, m) in d.NamedModules().ToList())
            if (m is Conv2d or Linear or Embedding) NN.SpectralNorm.Apply(m, generator: rng);
        return d;
    }

    /// <summary>Width φ(x) of the projection discriminator's features.</summary>
    const int ProjectionFeatures = 128;

    /// <summary>The `dcgan28` generator: z (nz) -> (nc, 28, 28).</summary>
    static Module Generator28(int nz, int nc, Generator rng) => Initialise(new Sequential(
        new Linear(nz, 128 * 7 * 7, bias: false, generator: rng), new BatchNorm1d(128 * 7 * 7), new ReLU(),
        new Unflatten(1, [128, 7, 7]),                                                     // state: 128 x 7 x 7
        new ConvTranspose2d(128, 64, 4, stride: 2, padding: 1, bias: false, generator: rng), new BatchNorm2d(64), new ReLU(),
        // state: 64 x 14 x 14
        new ConvTranspose2d(64, nc, 4, stride: 2, padding: 1, generator: rng), new Tanh()), rng); // nc x 28 x 28

    /// <summary>The `dcgan28` discriminator: (nc, 28, 28) -> (outputs) logits.</summary>
    static Module Discriminator28(int nc, int outputs, DiscriminatorOptions o, Generator rng)
    {
        var layers = new List<Module> { new Conv2d(nc, 64, 4, stride: 2, padding: 1, generator: rng), new LeakyReLU(0.2f) }; // 64 x 14 x 14
        var norm = o.NormLayer(128, 7);
        layers.Add(new Conv2d(64, 128, 4, stride: 2, padding: 1, bias: norm == null, generator: rng));                    // 128 x 7 x 7
        if (norm != null) layers.Add(norm);
        layers.Add(new LeakyReLU(0.2f));
        layers.AddRange(o.Head(128, 7, 7, outputs, c => [new Flatten(), new Linear(c * 7 * 7, outputs, generator: rng)], rng));
        return o.Finish(Initialise(new Sequential([.. layers]), rng), rng);
    }

    /// <summary>
    /// pytorch/examples' generator with <paramref name="stages"/> upsampling stages:
    /// z (nz,1,1) -> (w·2^(stages-1), 4, 4) -> ... -> (nc, 4·2^stages, 4·2^stages).
    /// </summary>
    static Module GeneratorPyramid(int nz, int nc, int w, int stages, Generator rng)
    {
        var layers = new List<Module>();
        int ch = w << (stages - 1);
        layers.AddRange([new ConvTranspose2d(nz, ch, 4, stride: 1, padding: 0, bias: false, generator: rng), new BatchNorm2d(ch), new ReLU()]);
        for (int s = 1; s < stages; s++, ch /= 2)                                            // state: ch x 4·2^(s-1)
            layers.AddRange([new ConvTranspose2d(ch, ch / 2, 4, stride: 2, padding: 1, bias: false, generator: rng), new BatchNorm2d(ch / 2), new ReLU()]);
        layers.AddRange([new ConvTranspose2d(ch, nc, 4, stride: 2, padding: 1, bias: false, generator: rng), new Tanh()]);
        return Initialise(new Sequential([.. layers]), rng);
    }

    /// <summary>pytorch/examples' discriminator: (nc, S, S) -> ... -> (w·2^(stages-1), 4, 4) -> (outputs) logits.</summary>
    static Module DiscriminatorPyramid(int nc, int w, int stages, int outputs, DiscriminatorOptions o, Generator rng)
    {
        var layers = new List<Module> { new Conv2d(nc, w, 4, stride: 2, padding: 1, bias: false, generator: rng), new LeakyReLU(0.2f) };
        int ch = w, size = 2 << stages;                                                      // state: w x S/2 x S/2
        for (int s = 1; s < stages; s++, ch *= 2)
        {
            size /= 2;
            layers.Add(new Conv2d(ch, ch * 2, 4, stride: 2, padding: 1, bias: false, generator: rng));
            if (o.NormLayer(ch * 2, size) is { } norm) layers.Add(norm);
            layers.Add(new LeakyReLU(0.2f));
        }
        // state: ch x 4 x 4
        layers.AddRange(o.Head(ch, 4, 4, outputs, c => [new Conv2d(c, outputs, 4, stride: 1, padding: 0, bias: false, generator: rng), new Flatten()], rng));
        return o.Finish(Initialise(new Sequential([.. layers]), rng), rng);
    }

    /// <summary>DCGAN's weights_init: conv and linear weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0.</summary>
    static Module Initialise(Module net, Generator rng)
    {
        foreach (var (_, m) in net.NamedModules())
        {
            switch (m)
            {
                case Conv2d or ConvTranspose2d or Linear:
                    Init.Normal(m.StateDict()["weight"], 0f, 0.02f, rng);
                    break;
                case BatchNorm1d or BatchNorm2d:
                    Init.Normal(m.StateDict()["weight"], 1f, 0.02f, rng);
                    Init.Zeros(m.StateDict()["bias"]);
                    break;
            }
        }
        return net;
    }
}
