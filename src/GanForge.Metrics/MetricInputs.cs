namespace GanForge.Metrics;

/// <summary>
/// Everything a metric may read. Each metric checks that what it needs is present and names what
/// is missing; the rest may stay null.
/// </summary>
public sealed class MetricInputs
{
    /// <summary>Evaluator features of real samples, (N_real, D).</summary>
    public FeatureMatrix? RealFeatures { get; init; }

    /// <summary>Evaluator features of generated samples, (N_fake, D).</summary>
    public FeatureMatrix? FakeFeatures { get; init; }

    /// <summary>Evaluator class probabilities of generated samples, (N_fake, C), rows summing to 1.</summary>
    public FeatureMatrix? FakeProbabilities { get; init; }

    /// <summary>Evaluator class probabilities of real samples, (N_real, C); the class histogram uses their argmax when labels are absent.</summary>
    public FeatureMatrix? RealProbabilities { get; init; }

    /// <summary>True labels of real samples, each in [0, C).</summary>
    public int[]? RealLabels { get; init; }

    /// <summary>Generated images flattened to pixels, (N_fake, C*H*W), for memorisation.</summary>
    public FeatureMatrix? FakeImages { get; init; }

    /// <summary>Training images flattened to pixels, (N_train, C*H*W): what a memorising generator would copy.</summary>
    public FeatureMatrix? TrainImages { get; init; }

    /// <summary>Held-out real images, (N_heldout, C*H*W): their distance to the training set is the real-vs-real floor.</summary>
    public FeatureMatrix? HeldOutImages { get; init; }

    /// <summary>The protocol copied into every result.</summary>
    public required Protocol Protocol { get; init; }

    internal FeatureMatrix Require(FeatureMatrix? m, string metric, string what) =>
        m ?? throw new ArgumentException($"{metric}: MetricInputs.{what} is required");
}
