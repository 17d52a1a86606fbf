using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Onnx;

/// <summary>
/// A zoo model's generator as ONNX, with inputs that say what they are: <c>z</c> (batch, nz) or (batch, nz, 1, 1);
/// <c>class</c> (batch, int64) for a class-conditional generator; <c>code</c> (batch, width) for InfoGAN's codes
/// (the categorical value one-hot, then the continuous codes); output <c>image</c> (batch, C, H, W) in [-1, 1].
/// </summary>
public static class GeneratorExport
{
    /// <summary>Writes the ONNX model of <paramref name="generator"/> (the model's, or its EMA copy) to <paramref name="path"/> atomically.</summary>
    public static void ExportGeneratorOnnx(this GanModel model, string path, Module? generator = null) =>
        AtomicFile.WriteAllBytes(path, model.GeneratorToOnnx(generator));

    /// <summary>The ONNX model of the generator as bytes (see <see cref="GeneratorExport"/>).</summary>
    public static byte[] GeneratorToOnnx(this GanModel model, Module? generator = null)
    {
        var g = generator ?? model.Generator;
        var joined = new List<OnnxJoinedInput>();
        if (model.Codes is { } codes) joined.Add(new OnnxJoinedInput("code", codes.Width));
        var body = g;
        int[]? shape = null;
        if (g is ConditionalGenerator conditional)
        {
            joined.Add(new OnnxJoinedInput("class", conditional.Classes, OneHot: true));
            (body, shape) = (conditional.Body, [.. conditional.InputShape]);
        }
        else if (joined.Count > 0) shape = model.LatentShape;
        var example = Tensor.Randn([1, model.LatentDim], new Generator(0));   // for the shapes only
        if (joined.Count == 0) example = model.ShapeLatent(example);
        return body.ToOnnx(example, new OnnxExportOptions(GraphName: model.Name + " generator", Joined: joined, JoinedShape: shape));
    }
}
