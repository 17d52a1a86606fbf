using GanForge.Serialization;

namespace GanForge.Gan.Zoo;

/// <summary>The variants by name (`--model`, `ganforge models`). A new variant is one folder and one line here.</summary>
public static class ModelZoo
{
    static readonly Variant[] Variants = [new MlpGan(), new DcGan(), new Wgan(), new WganGp(), new LsGan(), new SnGan(),
        new CGan(), new AcGan(), new SGan(), new InfoGan(), new StyleGan(), new ProGan(), new Pix2Pix(), new UNetL1(), new DaGan(), new SrResNetVariant(), new SrGan(), new CycleGan(), new TransGan()];

    public static IReadOnlyList<Variant> All => Variants;

    public static IEnumerable<string> Names => Variants.Select(v => v.Name);

    /// <summary>The variant called <paramref name="name"/> (any case); a clear error naming the known ones.</summary>
    public static Variant Get(string name) =>
        Variants.FirstOrDefault(v => v.Name.Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown model '{MessageText.Quote(name)}'. Known models: {string.Join(", ", Names)}");

    public static string Describe(string name) => Get(name).Description;

    /// <summary>Builds the networks of <paramref name="name"/>; the spec's options are resolved against the variant's.</summary>
    public static GanModel Create(string name, ModelSpec spec)
    {
        var variant = Get(name);
        if (!variant.SupportsImageSize(spec.ImageSize))
            throw new ArgumentException($"{variant.Name}: image size {spec.ImageSize} is not supported ({variant.ImageSizes}; use --image-size to resize)");
        var options = ModelOptions.Resolve(variant.Name, variant.Options, spec.Options.Values);
        return variant.CreateModel(spec with { Options = options });
    }
}
