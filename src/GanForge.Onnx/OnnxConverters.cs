using GanForge.NN;

namespace GanForge.Onnx;

/// <summary>
/// Writes the ONNX nodes of one layer: they read <see cref="OnnxLayerContext.Input"/> and write
/// <see cref="OnnxLayerContext.Output"/>, computing what the layer's Forward computes in eval mode.
/// </summary>
public delegate void OnnxConverter<in T>(T layer, OnnxLayerContext context) where T : Module;

/// <summary>What a converter knows of the layer it converts: where it sits, its values' names and the example's shapes.</summary>
public sealed class OnnxLayerContext
{
    internal OnnxLayerContext(OnnxGraph graph, string path, Module layer, string input, int[] inputShape, int[] outputShape, string output)
    {
        Graph = graph; Path = path; Layer = layer; Input = input; InputShape = inputShape; OutputShape = outputShape; Output = output;
    }

    /// <summary>The graph to add nodes and weights to.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>The layer's dotted path in the exported module ("3", "1.2"); "" when the module itself is the layer.</summary>
    public string Path { get; }

    public Module Layer { get; }

    /// <summary>The name of the value the layer reads.</summary>
    public string Input { get; }

    /// <summary>The shape of the layer's input on the example; dim 0 is the batch, which is dynamic in the graph.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>The shape of the layer's output on the example (dim 0 the batch).</summary>
    public IReadOnlyList<int> OutputShape { get; }

    /// <summary>The name of the value the converter must write.</summary>
    public string Output { get; }

    /// <summary>The layer in words, for messages: "layer 3 (Linear)", or "the module (Linear)" for the root.</summary>
    public string Describe() => Describe(Path, Layer);

    internal static string Describe(string path, Module layer) =>
        path.Length == 0 ? $"the module ({layer.TypeName})" : $"layer {path} ({layer.TypeName})";

    /// <summary>Stores a weight of this layer under its state-dict name ("3.weight"); returns its value name.</summary>
    public string Weight(string name, Tensor tensor) => Graph.Initializer(Path.Length == 0 ? name : Path + "." + name, tensor);

    /// <summary>The error for a layer whose settings have no ONNX form: it names the layer, its path and why.</summary>
    public NotSupportedException NotSupported(string reason) =>
        new($"ExportOnnx: {Describe()} cannot be exported to ONNX: {reason}");
}

/// <summary>
/// The converters by layer type. Built in: every layer of the zoo's generators (Linear, BatchNorm1d/2d,
/// ReLU, LeakyReLU, Tanh, Unflatten, ConvTranspose2d) and Conv2d, Flatten, Sigmoid, InstanceNorm2d,
/// PixelShuffle, Identity, Dropout and Dropout2d (identities in eval); the equalised-LR layers, pixel norm, the scaled
/// leaky ReLU and nearest Upsample; and the zoo's stylegan and progan generators whole. Supporting another layer is one converter and one
/// <see cref="Register{T}"/> line; a converter registered for a base type serves its subclasses.
/// </summary>
public static class OnnxConverters
{
    static readonly Dictionary<Type, OnnxConverter<Module>> Converters = [];
    static readonly Lock Gate = new();

    static OnnxConverters()
    {
        Register<Linear>(LinearConverters.Linear);
        Register<Conv2d>(LinearConverters.Conv2d);
        Register<ConvTranspose2d>(LinearConverters.ConvTranspose2d);
        Register<BatchNorm1d>(NormalizationConverters.BatchNorm);
        Register<BatchNorm2d>(NormalizationConverters.BatchNorm);
        Register<InstanceNorm2d>(NormalizationConverters.InstanceNorm);
        Register<ReLU>(ActivationConverters.Relu);
        Register<LeakyReLU>(ActivationConverters.LeakyRelu);
        Register<Tanh>(ActivationConverters.Tanh);
        Register<Sigmoid>(ActivationConverters.Sigmoid);
        Register<Identity>(ActivationConverters.Identity);
        Register<Dropout>(ActivationConverters.Identity);
        Register<Dropout2d>(ActivationConverters.Identity);
        Register<Flatten>(ShapeConverters.Flatten);
        Register<Unflatten>(ShapeConverters.Unflatten);
        Register<PixelShuffle>(ShapeConverters.PixelShuffle);
        Register<GanForge.Gan.Zoo.StyleGenerator>(StyleConverters.StyleGenerator);
        Register<PixelNorm>(GrowingConverters.PixelNorm);
        Register<EqualLinear>(GrowingConverters.EqualLinear);
        Register<EqualConv2d>(GrowingConverters.EqualConv2d);
        Register<GanForge.Gan.Zoo.ScaledLeakyReLU>(GrowingConverters.ScaledLeakyReLU);
        Register<Upsample>(GrowingConverters.Upsample);
        Register<GanForge.Gan.Zoo.ProGenerator>(GrowingConverters.ProGenerator);
    }

    /// <summary>Adds (or replaces) the converter of layers of type <typeparamref name="T"/> and its subclasses.</summary>
    public static void Register<T>(OnnxConverter<T> converter) where T : Module
    {
        lock (Gate) Converters[typeof(T)] = (layer, context) => converter((T)layer, context);
    }

    /// <summary>True when layers of <paramref name="layer"/>'s type have a converter.</summary>
    public static bool CanExport(Module layer) => Find(layer.GetType()) != null;

    internal static OnnxConverter<Module>? Find(Type type)
    {
        lock (Gate)
        {
            for (var t = type; t != null && t != typeof(Module); t = t.BaseType)
                if (Converters.TryGetValue(t, out var converter)) return converter;
            return null;
        }
    }
}
