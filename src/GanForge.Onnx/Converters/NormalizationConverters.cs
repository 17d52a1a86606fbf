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
}
