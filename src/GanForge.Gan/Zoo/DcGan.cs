using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// DCGAN (Radford et al. 2016): strided convolutions instead of pooling, BatchNorm in both nets
/// (not on G's output or D's input), no hidden fully connected layers, ReLU + Tanh in G,
/// LeakyReLU(0.2) in D, weights N(0, 0.02). At 28 pixels this is exactly the `dcgan28` benchmark
/// workload; at 64 pixels it is the DCGAN of pytorch/examples (`dcgan64`); 32 pixels drops one stage.
/// </summary>
public static class DcGan
{
    public static GanModel Create(ModelSpec spec)
    {
        var rng = new Generator(spec.Seed);
        int nc = spec.Channels, nz = spec.LatentDim, w = spec.Width;
        int[] image = [nc, spec.ImageSize, spec.ImageSize];
        Func<Module> g, enc;
        Module d;
        int[] latent;
        switch (spec.ImageSize)
        {
            case 28:
                g = () => Generator28(nz, nc, rng); d = Discriminator28(nc, 1, rng);
                enc = () => Discriminator28(nc, nz, rng); latent = [nz];
                break;
            case 32 or 64:
                int stages = spec.ImageSize == 32 ? 3 : 4;
                g = () => GeneratorPyramid(nz, nc, w, stages, rng); d = DiscriminatorPyramid(nc, w, stages, 1, rng);
                enc = () => DiscriminatorPyramid(nc, w, stages, nz, rng); latent = [nz, 1, 1];
                break;
            default:
                throw new ArgumentException($"dcgan: image size {spec.ImageSize} is not supported (28, 32 or 64; use --image-size to resize)");
        }
        return new GanModel
        {
            Name = "dcgan",
            Generator = g(),
            Discriminator = d,
            LatentDim = nz,
            LatentShape = latent,
            ImageShape = image,
            CreateGenerator = g,
            CreateEncoder = () => new Sequential(enc(), new Unflatten(1, latent)),
        };
    }

    /// <summary>The `dcgan28` generator: z (nz) -> (nc, 28, 28).</summary>
    static Module Generator28(int nz, int nc, Generator rng) => Initialise(new Sequential(
        new Linear(nz, 128 * 7 * 7, bias: false, generator: rng), new BatchNorm1d(128 * 7 * 7), new ReLU(),
        new Unflatten(1, [128, 7, 7]),                                                     // state: 128 x 7 x 7
        new ConvTranspose2d(128, 64, 4, stride: 2, padding: 1, bias: false, generator: rng), new BatchNorm2d(64), new ReLU(),
        // state: 64 x 14 x 14
        new ConvTranspose2d(64, nc, 4, stride: 2, padding: 1, generator: rng), new Tanh()), rng); // nc x 28 x 28

    /// <summary>The `dcgan28` discriminator: (nc, 28, 28) -> (outputs) logits.</summary>
    static Module Discriminator28(int nc, int outputs, Generator rng) => Initialise(new Sequential(
        new Conv2d(nc, 64, 4, stride: 2, padding: 1, generator: rng), new LeakyReLU(0.2f),            // 64 x 14 x 14
        new Conv2d(64, 128, 4, stride: 2, padding: 1, bias: false, generator: rng), new BatchNorm2d(128), new LeakyReLU(0.2f), // 128 x 7 x 7
        new Flatten(),
        new Linear(128 * 7 * 7, outputs, generator: rng)), rng);

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
    static Module DiscriminatorPyramid(int nc, int w, int stages, int outputs, Generator rng)
    {
        var layers = new List<Module> { new Conv2d(nc, w, 4, stride: 2, padding: 1, bias: false, generator: rng), new LeakyReLU(0.2f) };
        int ch = w;
        for (int s = 1; s < stages; s++, ch *= 2)
            layers.AddRange([new Conv2d(ch, ch * 2, 4, stride: 2, padding: 1, bias: false, generator: rng), new BatchNorm2d(ch * 2), new LeakyReLU(0.2f)]);
        layers.AddRange([new Conv2d(ch, outputs, 4, stride: 1, padding: 0, bias: false, generator: rng), new Flatten()]);
        return Initialise(new Sequential([.. layers]), rng);
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
