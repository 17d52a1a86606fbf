namespace GanForge.Gan.Zoo;

/// <summary>Models by name (`--model`). A variant registers one factory here.</summary>
public static class ModelZoo
{
    static readonly Dictionary<string, (string Description, Func<ModelSpec, GanModel> Create)> Models = new()
    {
        ["gan"] = ("MLP GAN of Goodfellow et al. (2014): 100-256-512-1024-784 generator, 784-512-256-1 discriminator", MlpGan.Create),
        ["dcgan"] = ("DCGAN (Radford et al. 2016) for 28, 32 or 64 pixel images", DcGan.Create),
    };

    public static IEnumerable<string> Names => Models.Keys;

    public static string Describe(string name) => Models[name].Description;

    public static GanModel Create(string name, ModelSpec spec)
    {
        if (!Models.TryGetValue(name.ToLowerInvariant(), out var entry))
            throw new ArgumentException($"Unknown model '{name}'. Known models: {string.Join(", ", Models.Keys)}");
        return entry.Create(spec);
    }
}
