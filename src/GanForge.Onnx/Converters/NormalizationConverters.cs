using GanForge.NN;
using static GanForge.Onnx.OnnxAttribute;

namespace GanForge.Onnx;

/// <summary>Normalisation layers in eval mode.</summary>
static class NormalizationConverters
{
    // x: (N,C,...) -> (x - running_mean) / sqrt(running_var + eps) · weight + bias, per channel (eval mode).
    public static void BatchNorm(BatchNormBase layer, OnnxLayerContext c)
    {
        if (layer.RunningMean == null || layer.RunningVar == null)
            throw c.NotSupported("it keeps no running statistics (track_running_stats=False), so eval mode normalises by the batch's");
        var scale = layer.EffectiveParameter("weight") ?? Tensor.Ones(layer.NumFeatures);
        var shift = layer.EffectiveParameter("bias") ?? Tensor.Zeros(layer.NumFeatures);
        c.Graph.Node("BatchNormalization",
            [c.Input, c.Weight("weight", scale), c.Weight("bias", shift), c.Weight("running_mean", layer.RunningMean), c.Weight("running_var", layer.RunningVar)],
            c.Output, Float("epsilon", layer.Eps));
    }

    // x: (N,C,H,W) -> per sample and channel (x - mean_HW) / sqrt(var_HW + eps) · weight + bias; with running
    // statistics tracked, eval mode normalises by those instead, which is BatchNormalization's formula.
    public static void InstanceNorm(InstanceNorm2d layer, OnnxLayerContext c)
    {
        if (c.InputShape.Count != 4)
            throw c.NotSupported($"its input {Shapes.Format([.. c.InputShape])} is not batched (N,C,H,W)");
        var scale = c.Weight("weight", layer.EffectiveParameter("weight") ?? Tensor.Ones(layer.NumFeatures));
        var shift = c.Weight("bias", layer.EffectiveParameter("bias") ?? Tensor.Zeros(layer.NumFeatures));
        if (layer.TrackRunningStats)
            c.Graph.Node("BatchNormalization",
                [c.Input, scale, shift, c.Weight("running_mean", layer.RunningMean!), c.Weight("running_var", layer.RunningVar!)],
                c.Output, Float("epsilon", layer.Eps));
        else
            c.Graph.Node("InstanceNormalization", [c.Input, scale, shift], c.Output, Float("epsilon", layer.Eps));
    }
}
