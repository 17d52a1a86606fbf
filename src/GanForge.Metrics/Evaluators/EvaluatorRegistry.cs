using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Metrics.Evaluators;

/// <summary>
/// Evaluator architectures by name, and loading their weights: the built-in Fashion-MNIST CNN ships
/// inside this assembly; a user's network is "a safetensors file plus a registered architecture name".
/// </summary>
public static class EvaluatorRegistry
{
    /// <summary>The default evaluator: <see cref="FashionMnistCnn"/> with the committed weights.</summary>
    public const string Default = FashionMnistCnn.ArchitectureName;

    const string BuiltinResource = "GanForge.Metrics.Evaluators.fashion_mnist_cnn.safetensors";

    static readonly Dictionary<string, Func<IEvaluatorNetwork>> Architectures = new(StringComparer.Ordinal)
    {
        [FashionMnistCnn.ArchitectureName] = () => new FashionMnistCnn(),
    };

    /// <summary>Registered architecture names, sorted.</summary>
    public static IReadOnlyList<string> Names => Architectures.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Adds (or replaces) an architecture; the factory returns a freshly initialised network.</summary>
    public static void Register(string name, Func<IEvaluatorNetwork> factory) => Architectures[name] = factory;

    /// <summary>A freshly initialised network of architecture <paramref name="name"/>.</summary>
    public static IEvaluatorNetwork Create(string name) =>
        Architectures.TryGetValue(name, out var f) ? f()
        : throw new ArgumentException($"Evaluator: unknown architecture '{name}'; registered: {string.Join(", ", Names)}");

    /// <summary>
    /// The evaluator <paramref name="name"/> with weights from <paramref name="weightsPath"/>, or, without a
    /// path, the built-in weights (only <see cref="Default"/> has them).
    /// </summary>
    public static NetworkFeatureExtractor Load(string name = Default, string? weightsPath = null)
    {
        var network = Create(name);
        if (weightsPath != null)
        {
            if (!File.Exists(weightsPath)) throw new FileNotFoundException($"Evaluator '{name}': weights file {weightsPath} not found", weightsPath);
            network.Module.Load(weightsPath);
        }
        else if (name == Default)
        {
            network.Module.LoadStateDictFrom(BuiltinWeights().Tensors, "embedded " + BuiltinResource);
        }
        else throw new ArgumentException($"Evaluator '{name}': no built-in weights; pass a safetensors file");
        return new NetworkFeatureExtractor(name, network);
    }

    /// <summary>The built-in evaluator's tensors and metadata (architecture, test accuracy, epochs, seed, date).</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) BuiltinWeights()
    {
        using var stream = typeof(EvaluatorRegistry).Assembly.GetManifestResourceStream(BuiltinResource)
            ?? throw new InvalidOperationException($"Evaluator: embedded resource {BuiltinResource} is missing from GanForge.Metrics");
        var tmp = Path.Combine(Path.GetTempPath(), $"ganforge-evaluator-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var f = File.Create(tmp)) stream.CopyTo(f);
            return SafeTensors.Read(tmp);
        }
        finally { File.Delete(tmp); }
    }
}
