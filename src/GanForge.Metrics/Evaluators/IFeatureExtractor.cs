namespace GanForge.Metrics.Evaluators;

/// <summary>
/// A feature network for metrics: maps images in [-1, 1] (N,C,H,W) to a penultimate-layer embedding
/// (FID, KID, precision/recall, density/coverage) and, when it is a classifier, class probabilities
/// (Inception Score, class histogram).
/// </summary>
public interface IFeatureExtractor
{
    /// <summary>The evaluator's name as written in a metric protocol (e.g. "fashion-mnist-cnn").</summary>
    string Name { get; }

    /// <summary>The layer the features come from (e.g. "fc1.relu").</summary>
    string Layer { get; }

    /// <summary>Feature dimension D.</summary>
    int FeatureDim { get; }

    /// <summary>Number of classes of the probabilities; 0 when the network is not a classifier.</summary>
    int Classes { get; }

    /// <summary>
    /// Features (N, FeatureDim) and, for a classifier, probabilities (N, Classes) whose rows sum to 1,
    /// of <paramref name="images"/> (N,C,H,W) in [-1, 1], evaluated <paramref name="batchSize"/> at a time.
    /// Images of another size are resized to the network's input size.
    /// </summary>
    (FeatureMatrix Features, double[,]? Probabilities) Extract(Tensor images, int batchSize = 256);
}
