using GanForge.NN;
using static GanForge.Onnx.OnnxAttribute;

namespace GanForge.Onnx;

/// <summary>Elementwise layers, and the layers that are identities in eval mode.</summary>
static class ActivationConverters
{
    public static void Relu(ReLU layer, OnnxLayerContext c) => c.Graph.Node("Relu", [c.Input], c.Output);

    public static void LeakyRelu(LeakyReLU layer, OnnxLayerContext c) =>
        c.Graph.Node("LeakyRelu", [c.Input], c.Output, Float("alpha", layer.NegativeSlope));

    public static void Tanh(Tanh layer, OnnxLayerContext c) => c.Graph.Node("Tanh", [c.Input], c.Output);

    public static void Sigmoid(Sigmoid layer, OnnxLayerContext c) => c.Graph.Node("Sigmoid", [c.Input], c.Output);

    /// <summary>Identity, and Dropout / Dropout2d, which pass their input through in eval mode.</summary>
    public static void Identity(Module layer, OnnxLayerContext c) => c.Graph.Node("Identity", [c.Input], c.Output);
}
