using GanForge.NN;

namespace GanForge.Metrics.Evaluators;

/// <summary>
/// A classifier module that also exposes its penultimate activations, so one forward pass serves
/// both the features and the probabilities. Architectures in <see cref="EvaluatorRegistry"/> implement it.
/// </summary>
public interface IEvaluatorNetwork
{
    /// <summary>The module itself (its state dict is what a weights file holds).</summary>
    Module Module { get; }

    /// <summary>Input channels the network expects.</summary>
    int InputChannels { get; }

    /// <summary>Input height and width the network expects.</summary>
    int InputSize { get; }

    /// <summary>Penultimate feature dimension.</summary>
    int FeatureDim { get; }

    /// <summary>Number of classes of <see cref="Classify"/>.</summary>
    int Classes { get; }

    /// <summary>The layer <see cref="Features"/> reads, for protocols.</summary>
    string FeatureLayer { get; }

    /// <summary>Penultimate features (N, FeatureDim) of x (N,C,H,W) in [-1, 1].</summary>
    Tensor Features(Tensor x);

    /// <summary>Logits (N, Classes) from features returned by <see cref="Features"/>.</summary>
    Tensor Classify(Tensor features);
}
