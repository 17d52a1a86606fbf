namespace GanForge.Metrics;

/// <summary>
/// How a score was measured. Scores from different evaluators, layers, splits or sample counts are
/// not comparable (FID is biased in n_fake), so every <see cref="MetricResult"/> carries a copy.
/// </summary>
/// <param name="Evaluator">Name of the feature extractor / classifier (e.g. "fmnist-cnn-v1").</param>
/// <param name="Layer">Layer whose activations are the features (e.g. "fc1").</param>
/// <param name="RealSplit">Which real data was the reference (e.g. "test").</param>
/// <param name="NReal">Number of real samples used.</param>
/// <param name="NFake">Number of generated samples used.</param>
/// <param name="Seed">Seed of the generator sampling and of metric subsampling.</param>
public sealed record Protocol(string Evaluator, string Layer, string RealSplit, int NReal, int NFake, ulong Seed);
