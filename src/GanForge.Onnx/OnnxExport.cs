using GanForge.NN;
using Reflection = System.Reflection;
using GanForge.Serialization;

namespace GanForge.Onnx;

/// <summary>How <see cref="OnnxExport.ExportOnnx"/> names the graph's values.</summary>
/// <param name="InputName">The graph's input; "z", a generator's latent.</param>
/// <param name="OutputName">The graph's output; "image", a generator's (N,C,H,W) images.</param>
/// <param name="GraphName">The graph's name; the module's type name when null.</param>
/// <param name="Joined">Inputs joined after the main one (along dim 1, the main input flattened) before the module runs:
/// a class-conditional generator's class, InfoGAN's codes.</param>
/// <param name="JoinedShape">The shape per sample the joined vector is reshaped to for the module, (C) or (C,1,1); flat when null.</param>
public sealed record OnnxExportOptions(string InputName = "z", string OutputName = "image", string? GraphName = null,
    IReadOnlyList<OnnxJoinedInput>? Joined = null, int[]? JoinedShape = null);

/// <summary>An input of the graph joined to the main one: float values (N, width), or int64 class indices (N) fed as one-hot of width classes.</summary>
public sealed record OnnxJoinedInput(string Name, int Width, bool OneHot = false);

/// <summary>
/// ONNX export of a module that is a layer or a (nested) <see cref="Sequential"/> of layers, each with a
/// converter in <see cref="OnnxConverters"/>: opset 17, IR version 8, float32, weights stored in the file.
/// </summary>
/// <remarks>
/// The module runs once on the example input in eval mode (BatchNorm on its running statistics, Dropout off),
/// layer by layer, so each converter knows the shapes its layer sees; its training flags are restored after.
/// Dim 0 of the input and the output is the dynamic batch (dim_param "batch"); the other dims are the
/// example's. The weights written are those Forward uses (spectral norm's W / sigma, not weight_orig).
/// </remarks>
public static class OnnxExport
{
    /// <summary>Writes <paramref name="module"/> as an ONNX model to <paramref name="path"/> (atomically).</summary>
    /// <param name="module">A layer or a (nested) Sequential of layers that <see cref="OnnxConverters"/> can convert.</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="exampleInput">An input the module takes, (batch, ...); its values matter only for the shapes they give.</param>
    /// <param name="options">The graph's value names; a generator's "z" and "image" by default.</param>
    /// <exception cref="NotSupportedException">A layer has no converter, or settings with no ONNX form; the message names it and its path.</exception>
    public static void ExportOnnx(this Module module, string path, Tensor exampleInput, OnnxExportOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, module.ToOnnx(exampleInput, options));

    /// <summary>The ONNX model of <paramref name="module"/> as bytes (see <see cref="ExportOnnx"/>).</summary>
    public static byte[] ToOnnx(this Module module, Tensor exampleInput, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        if (exampleInput.Rank < 1 || exampleInput.Size(0) < 1)
            throw new ArgumentException($"ExportOnnx: example input {Shapes.Format(exampleInput.ShapeSpan)} needs a batch dimension of at least 1");
        var layers = Layers(module, "").ToList();
        foreach (var (path, layer) in layers)
            if (!OnnxConverters.CanExport(layer))
                throw new NotSupportedException($"ExportOnnx: {OnnxLayerContext.Describe(path, layer)} cannot be exported to ONNX");

        var graph = new OnnxGraph(options.GraphName ?? module.TypeName, options.InputName, options.OutputName);
        var modes = module.NamedModules().Select(m => (Module: m.Value, m.Value.Training)).ToList();
        module.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            var x = exampleInput;
            string value = options.InputName;
            if (options.Joined is { Count: > 0 }) (x, value) = Join(graph, exampleInput, options);
            if (layers.Count == 0) graph.Node("Identity", [value], options.OutputName);
            for (int i = 0; i < layers.Count; i++)
            {
                var (path, layer) = layers[i];
                var y = layer.Forward(x);
                string output = i == layers.Count - 1 ? options.OutputName
                    : graph.Fresh((path.Length == 0 ? "" : path + ".") + layer.TypeName.ToLowerInvariant());
                OnnxConverters.Find(layer.GetType())!(layer, new OnnxLayerContext(graph, path, layer, value, x.Shape, y.Shape, output));
                (x, value) = (y, output);
            }
            if (x.Rank < 1 || x.Size(0) != exampleInput.Size(0))
                throw new NotSupportedException($"ExportOnnx: output {Shapes.Format(x.ShapeSpan)} does not keep the batch dimension of input {Shapes.Format(exampleInput.ShapeSpan)}");
            graph.Input(options.InputName, [null, .. exampleInput.Shape[1..].Select(d => (int?)d)]);
            foreach (var j in options.Joined ?? []) graph.Input(j.Name, j.OneHot ? [null] : [null, j.Width], int64: j.OneHot);
            graph.Output(options.OutputName, [null, .. x.Shape[1..].Select(d => (int?)d)]);
            return graph.ToModelBytes(ProducerVersion, $"{module.TypeName} exported by GanForge");
        }
        finally
        {
            // Pre-order: a module's Train sets its descendants, whose own flags come after it.
            foreach (var (m, training) in modes) m.Train(training);
        }
    }

    /// <summary>
    /// The nodes that join the extra inputs to the main one: [flatten(main), onehot(class) or code, ...] concatenated
    /// along dim 1, reshaped to <see cref="OnnxExportOptions.JoinedShape"/>; returns the example joined the same way
    /// (class 0, zero codes) and the joined value's name.
    /// </summary>
    static (Tensor Example, string Value) Join(OnnxGraph graph, Tensor example, OnnxExportOptions o)
    {
        int n = example.Size(0);
        var parts = new List<Tensor> { example.Reshape(n, -1) };
        var names = new List<string>
        {
            example.Rank == 2 ? o.InputName : graph.Node("Reshape", [o.InputName, graph.Int64s("flat_shape", 0, -1)], graph.Fresh("z_flat")),
        };
        foreach (var j in o.Joined!)
        {
            graph.Reserve(j.Name);
            if (j.OneHot)
            {
                // OneHot(indices, depth, [off, on]): float rows because the values are float
                names.Add(graph.Node("OneHot", [j.Name, graph.Int64s("depth", j.Width), graph.Initializer("onehot_values", Tensor.FromArray([0f, 1f], [2]))],
                    graph.Fresh(j.Name + "_onehot"), OnnxAttribute.Int("axis", -1)));
                var first = new Tensor(n, j.Width);
                for (int i = 0; i < n; i++) first.Data[i * j.Width] = 1f;
                parts.Add(first);
            }
            else
            {
                names.Add(j.Name);
                parts.Add(new Tensor(n, j.Width));
            }
        }
        string joined = graph.Node("Concat", [.. names], graph.Fresh("joined"), OnnxAttribute.Int("axis", 1));
        var x = Tensor.Cat([.. parts], 1);
        if (o.JoinedShape is { } shape)
        {
            joined = graph.Node("Reshape", [joined, graph.Int64s("joined_shape", [-1, .. shape.Select(d => (long)d)])], graph.Fresh("joined_reshaped"));
            x = x.Reshape([n, .. shape]);
        }
        return (x, joined);
    }

    /// <summary>The layers of <paramref name="module"/> in execution order with their dotted paths (Sequentials flattened).</summary>
    static IEnumerable<(string Path, Module Layer)> Layers(Module module, string path)
    {
        if (module is not Sequential)
        {
            yield return (path, module);
            yield break;
        }
        foreach (var (name, child) in module.NamedChildren())
            foreach (var layer in Layers(child, path.Length == 0 ? name : path + "." + name))
                yield return layer;
    }

    static string ProducerVersion =>
        typeof(OnnxExport).Assembly.GetCustomAttributes(typeof(Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0";
}
