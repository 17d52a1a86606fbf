using GanForge.Gan.Zoo;
using GanForge.NN;
using static GanForge.Onnx.OnnxAttribute;

namespace GanForge.Onnx;

/// <summary>
/// The equalised-learning-rate layers and pixel norm as ONNX (run-time weight scales folded into the stored weights),
/// and ProGAN's generator at the level and fade-in α it was exported at.
/// </summary>
static class GrowingConverters
{
    // x · 1/sqrt(mean_c(x²) + ε)
    public static void PixelNorm(PixelNorm layer, OnnxLayerContext c) =>
        c.Graph.Node("Div", [c.Input, PixelNormDenominator(layer, c, c.Input)], c.Output);

    static string PixelNormDenominator(PixelNorm layer, OnnxLayerContext c, string x)
    {
        var mean = c.Graph.Node("ReduceMean", [c.Graph.Node("Mul", [x, x])], null, Ints("axes", 1), Int("keepdims", 1));
        return c.Graph.Node("Sqrt", [c.Graph.Node("Add", [mean, c.Weight("eps", Tensor.Scalar(layer.Eps))])]);
    }

    // Gemm(x, g·W, lr·b; transB=1)
    public static void EqualLinear(EqualLinear layer, OnnxLayerContext c)
    {
        string[] inputs = layer.Bias is { } b
            ? [c.Input, c.Weight("weight", layer.Weight.Detach() * layer.WeightGain), c.Weight("bias", b.Detach() * layer.LrMultiplier)]
            : [c.Input, c.Weight("weight", layer.Weight.Detach() * layer.WeightGain)];
        c.Graph.Node("Gemm", inputs, c.Output, Int("transB", 1));
    }

    // Conv(x, W/sqrt(in·k·k), b)
    public static void EqualConv2d(EqualConv2d layer, OnnxLayerContext c)
    {
        var w = c.Weight("weight", layer.Weight.Detach() * layer.WeightGain);
        string[] inputs = layer.Bias is { } b ? [c.Input, w, c.Weight("bias", b.Detach())] : [c.Input, w];
        int k = layer.KernelSize, p = layer.Padding;
        c.Graph.Node("Conv", inputs, c.Output, Ints("kernel_shape", k, k), Ints("strides", layer.Stride, layer.Stride), Ints("pads", p, p, p, p));
    }

    // leaky_relu(x, 0.2) · sqrt(2)
    public static void ScaledLeakyReLU(ScaledLeakyReLU layer, OnnxLayerContext c) =>
        c.Graph.Node("Mul", [c.Graph.Node("LeakyRelu", [c.Input], null, Float("alpha", 0.2f)), c.Weight("sqrt2", Tensor.Scalar(MathF.Sqrt(2f)))], c.Output);

    // Nearest-neighbour upsampling by an integer factor (the only Upsample ProGAN uses).
    public static void Upsample(Upsample layer, OnnxLayerContext c)
    {
        if (layer.Mode != "nearest" || layer.ScaleFactor is not { } f || f.H != Math.Floor(f.H) || f.W != Math.Floor(f.W))
            throw c.NotSupported("only nearest-neighbour upsampling by a whole scale factor is exported");
        c.Graph.Node("Resize", [c.Input, "", c.Weight("scales", Tensor.FromArray([1f, 1f, (float)f.H, (float)f.W]))], c.Output, String("mode", "nearest"));
    }

    /// <summary>ProGAN's generator at its current level and α, its output upsampled to the full size and clamped.</summary>
    public static void ProGenerator(ProGenerator g, OnnxLayerContext c)
    {
        var graph = c.Graph;
        int step = 0;
        // An example of one sample follows the layers, for the shapes a converter may need (Unflatten's).
        var example = Tensor.Zeros([1, .. c.InputShape.Skip(1)]);
        string Chain(Sequential seq, string x, string name)
        {
            foreach (var (layerName, layer) in seq.NamedChildren())
            {
                var converter = OnnxConverters.Find(layer.GetType()) ?? throw c.NotSupported($"{name}.{layerName} is a {layer.TypeName}");
                string y = graph.Fresh($"{name}.{layerName}.out{step++}");
                var next = layer.Forward(example);
                converter(layer, new OnnxLayerContext(graph, $"{name}.{layerName}", layer, x, example.Shape, next.Shape, y));
                (x, example) = (y, next);
            }
            return x;
        }
        string ToRgb(int level, string x)
        {
            var conv = g.ToRgb[level];
            string y = graph.Fresh($"torgb{level}.out");
            EqualConv2d(conv, new OnnxLayerContext(graph, $"torgb{level}", conv, x, [], [], y));
            return y;
        }
        string Up(string x, int factor) =>
            graph.Node("Resize", [x, "", c.Weight($"scales_x{factor}", Tensor.FromArray([1f, 1f, factor, factor]))], null, String("mode", "nearest"));

        int level = g.Level;
        string h = Chain(g.First, c.Input, "b4");
        string? below = null;
        for (int k = 1; k <= level; k++)
        {
            below = h;
            h = Chain(g.Blocks[k - 1], h, $"b{4 << k}");
        }
        string image = ToRgb(level, h);
        if (level > 0 && g.Alpha < 1f)   // α·new + (1-α)·up(old)
            image = graph.Node("Add", [
                graph.Node("Mul", [image, c.Weight("alpha", Tensor.Scalar(g.Alpha))]),
                graph.Node("Mul", [Up(ToRgb(level - 1, below!), 2), c.Weight("one_minus_alpha", Tensor.Scalar(1f - g.Alpha))])]);
        int r = 4 << level;
        if (r < g.Size) image = Up(image, g.Size / r);
        graph.Node("Clip", [image, c.Weight("min", Tensor.Scalar(-1f)), c.Weight("max", Tensor.Scalar(1f))], c.Output);
    }
}
