namespace GanForge.Metrics;

/// <summary>Metrics by name, so configs and the CLI can say <c>metrics: [fid, kid, precision_recall]</c>.</summary>
public static class MetricRegistry
{
    static readonly Dictionary<string, Func<IMetric>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fid"] = () => new Fid(),
        ["kid"] = () => new Kid(),
        ["is"] = () => new InceptionScore(),
        ["precision_recall"] = () => new PrecisionRecall(),
        ["density_coverage"] = () => new DensityCoverage(),
        ["class_histogram"] = () => new ClassHistogram(),
        ["memorisation"] = () => new Memorisation(),
    };

    /// <summary>Registered names, sorted.</summary>
    public static IReadOnlyList<string> Names => Factories.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>A new instance of the metric with its default settings.</summary>
    public static IMetric Get(string name) =>
        Factories.TryGetValue(name, out var f) ? f()
        : throw new ArgumentException($"MetricRegistry: unknown metric '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>Adds or replaces a metric (e.g. one with non-default settings, or a new one).</summary>
    public static void Register(string name, Func<IMetric> factory) => Factories[name] = factory;
}
