using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// Choices any discriminator of the zoo takes: the normalisation of its hidden layers, spectral norm on
/// every layer, and a minibatch layer before its last layer that lets it see a batch's diversity.
/// </summary>
/// <param name="Norm">batch, layer or none (a gradient penalty needs no BatchNorm in the critic).</param>
/// <param name="SpectralNorm">Spectral normalisation of every conv and linear weight (Miyato et al. 2018).</param>
/// <param name="MbstdGroup">Minibatch standard deviation group size (Karras et al. 2018); 0 = off.</param>
/// <param name="MbdKernels">Minibatch discrimination kernels B (Salimans et al. 2016); 0 = off.</param>
/// <param name="MbdKernelDim">Minibatch discrimination kernel dimension C.</param>
public sealed record DiscriminatorOptions(string Norm = "batch", bool SpectralNorm = false, int MbstdGroup = 0, int MbdKernels = 0, int MbdKernelDim = 5)
{
    /// <summary>The options as the variant declares them, each with the variant's default.</summary>
    public static IReadOnlyList<ModelOption> Declare(string norm = "batch", bool spectralNorm = false, bool normChoice = true) =>
    [
        .. normChoice ? [ModelOption.Choice("d-norm", norm, "normalisation of D's hidden layers", "batch", "layer", "none")] : Array.Empty<ModelOption>(),
        ModelOption.Bool("spectral-norm", spectralNorm, "spectral normalisation of every D weight (Miyato et al. 2018)"),
        ModelOption.Int("mbstd", 0, "minibatch standard deviation before D's last layer, group size (Karras et al. 2018); 0 = off"),
        ModelOption.Int("minibatch-discrimination", 0, "minibatch discrimination before D's last layer, kernels B (Salimans et al. 2016); 0 = off"),
        ModelOption.Int("mbd-kernel-dim", 5, "minibatch discrimination: dimension C of each kernel", min: 1),
    ];

    public static DiscriminatorOptions From(ModelOptions o) => new(
        o.Has("d-norm") ? o.String("d-norm") : "none", o.Bool("spectral-norm"), o.Int("mbstd"), o.Int("minibatch-discrimination"), o.Int("mbd-kernel-dim"));

    /// <summary>The normalisation layer for <paramref name="channels"/> feature maps of <paramref name="size"/> pixels, or null.</summary>
    public Module? NormLayer(int channels, int size) => Norm switch
    {
        "batch" => new BatchNorm2d(channels),
        "layer" => new LayerNorm([channels, size, size]),
        _ => null,
    };

    /// <summary>
    /// The last layers: features (N,c,h,w) -> [mbstd] -> [flatten, minibatch discrimination] -> (N, outputs).
    /// Without a minibatch discrimination layer, <paramref name="last"/> maps the features to the outputs.
    /// </summary>
    public IEnumerable<Module> Head(int c, int h, int w, int outputs, Func<int, Module[]> last, Generator rng)
    {
        if (MbstdGroup > 0) { yield return new MinibatchStdDev(MbstdGroup); c += 1; }    // state: (c+1) x h x w
        if (MbdKernels > 0)
        {
            yield return new Flatten();
            yield return new MinibatchDiscrimination(c * h * w, MbdKernels, MbdKernelDim, rng);  // (N, c·h·w + B)
            yield return new Linear(c * h * w + MbdKernels, outputs, generator: rng);
        }
        else foreach (var m in last(c)) yield return m;
    }

    /// <summary>Spectral norm on every conv and linear weight of <paramref name="net"/> when asked for.</summary>
    public Module Finish(Module net, Generator rng)
    {
        if (!SpectralNorm) return net;
        foreach (var (_, m) in net.NamedModules().ToList())
            if (m is Conv2d or Linear) NN.SpectralNorm.Apply(m, generator: rng);
        return net;
    }
}
