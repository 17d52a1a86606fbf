using GanForge.NN;
using static GanForge.Onnx.OnnxAttribute;

namespace GanForge.Onnx;

/// <summary>Layers with weights that multiply: Linear (Gemm or MatMul), Conv2d (Conv), ConvTranspose2d (ConvTranspose).</summary>
static class LinearConverters
{
    // x: (N,in), W: (out,in) -> Gemm(x, W, b; transB=1) = x W^T + b: (N,out).
    // x: (N,...,in) -> MatMul(x, W^T) + b, as Gemm takes matrices only.
    public static void Linear(Linear layer, OnnxLayerContext c)
    {
        var w = layer.EffectiveParameter("weight")!;
        var b = layer.EffectiveParameter("bias");
        if (c.InputShape.Count == 2)
        {
            string[] inputs = b == null ? [c.Input, c.Weight("weight", w)] : [c.Input, c.Weight("weight", w), c.Weight("bias", b)];
            c.Graph.Node("Gemm", inputs, c.Output, Int("transB", 1));
            return;
        }
        var wt = c.Weight("weight_t", w.T);
        if (b == null)
        {
            c.Graph.Node("MatMul", [c.Input, wt], c.Output);
            return;
        }
        var product = c.Graph.Node("MatMul", [c.Input, wt], c.Graph.Fresh(c.Path + ".matmul"));
        c.Graph.Node("Add", [product, c.Weight("bias", b)], c.Output);
    }

    // x: (N,C,H,W), W: (OC,C/g,KH,KW) -> (N,OC,OH,OW); pads are [top, left, bottom, right].
    public static void Conv2d(Conv2d layer, OnnxLayerContext c) =>
        c.Graph.Node("Conv", Inputs(layer, c), c.Output, [.. Geometry(layer)]);

    // x: (N,C,H,W), W: (C,OC/g,KH,KW) -> (N,OC,OH,OW), OH = stride·(H-1) + dilation·(KH-1) + 1 - 2·pad + output_padding.
    public static void ConvTranspose2d(ConvTranspose2d layer, OnnxLayerContext c) =>
        c.Graph.Node("ConvTranspose", Inputs(layer, c), c.Output,
            [.. Geometry(layer), Ints("output_padding", layer.OutputPadding.H, layer.OutputPadding.W)]);

    static string[] Inputs(ConvNd layer, OnnxLayerContext c)
    {
        var w = c.Weight("weight", layer.EffectiveParameter("weight")!);
        return layer.EffectiveParameter("bias") is { } b ? [c.Input, w, c.Weight("bias", b)] : [c.Input, w];
    }

    static IEnumerable<OnnxAttribute> Geometry(ConvNd layer) =>
    [
        Ints("kernel_shape", layer.KernelSize.H, layer.KernelSize.W),
        Ints("strides", layer.Stride.H, layer.Stride.W),
        Ints("pads", layer.Padding.H, layer.Padding.W, layer.Padding.H, layer.Padding.W),
        Ints("dilations", layer.Dilation.H, layer.Dilation.W),
        Int("group", layer.Groups),
    ];
}
