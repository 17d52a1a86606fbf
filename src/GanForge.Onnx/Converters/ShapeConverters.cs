using GanForge.NN;

namespace GanForge.Onnx;

/// <summary>Layers that only move values: Flatten and Unflatten as a Reshape that keeps the dynamic batch dim, PixelShuffle.</summary>
static class ShapeConverters
{
    public static void Flatten(Flatten layer, OnnxLayerContext c)
    {
        if (Shapes.NormalizeDim(layer.StartDim, c.InputShape.Count, "Flatten") == 0)
            throw c.NotSupported($"start_dim={layer.StartDim} flattens the batch dimension, which is dynamic in the graph");
        ReshapeKeepingBatch(c);
    }

    public static void Unflatten(Unflatten layer, OnnxLayerContext c)
    {
        if (Shapes.NormalizeDim(layer.Dim, c.InputShape.Count, "Unflatten") == 0)
            throw c.NotSupported($"dim={layer.Dim} splits the batch dimension, which is dynamic in the graph");
        ReshapeKeepingBatch(c);
    }

    // x: (N, C·r·r, H, W) -> (N, C, H·r, W·r); DepthToSpace's CRD order is PyTorch's pixel_shuffle.
    public static void PixelShuffle(PixelShuffle layer, OnnxLayerContext c) =>
        c.Graph.Node("DepthToSpace", [c.Input], c.Output, OnnxAttribute.Int("blocksize", layer.UpscaleFactor), OnnxAttribute.String("mode", "CRD"));

    // x: (N, ...) -> (N, output dims 1.. of the example)
    static void ReshapeKeepingBatch(OnnxLayerContext c)
    {
        long[] shape = [0, .. c.OutputShape.Skip(1).Select(d => (long)d)];
        c.Graph.Node("Reshape", [c.Input, c.Graph.Int64s(c.Path + ".shape", shape)], c.Output);
    }
}
