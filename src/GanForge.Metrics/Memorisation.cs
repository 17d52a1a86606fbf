namespace GanForge.Metrics;

/// <summary>
/// Does the generator copy its training set? For every generated image, the L2 pixel distance to
/// its nearest training image, beside the same for held-out real images: real images the model never
/// saw set the floor a non-memorising generator is expected to sit at, not below.
/// </summary>
/// <remarks>
/// nn(x) = min_t ||x - t||_2 over training images t (pixels flattened). Reports mean and min of nn over
/// generated images and over held-out images, and the fraction of each closer than a threshold: the given
/// one, or else the 1st percentile of the held-out distances (so about 1% of held-out images fall below it,
/// and a generator far above 1% is copying). Cost is N_fake x N_train x pixels: subsample for large sets.
/// </remarks>
public sealed class Memorisation(double? threshold = null) : IMetric
{
    /// <summary>Distance below which an image counts as a near-copy; null = 1st percentile of held-out distances.</summary>
    public double? Threshold { get; } = threshold;

    /// <inheritdoc/>
    public string Name => "memorisation";

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var s = Of(inputs.Require(inputs.FakeImages, Name, nameof(inputs.FakeImages)),
            inputs.Require(inputs.TrainImages, Name, nameof(inputs.TrainImages)),
            inputs.Require(inputs.HeldOutImages, Name, nameof(inputs.HeldOutImages)), Threshold);
        return new MetricResult
        {
            Name = Name, Value = s.FakeMean, Protocol = inputs.Protocol,
            Extras = new Dictionary<string, double>
            {
                ["fake_mean"] = s.FakeMean, ["fake_min"] = s.FakeMin, ["fake_fraction_below"] = s.FakeFractionBelow,
                ["real_mean"] = s.RealMean, ["real_min"] = s.RealMin, ["real_fraction_below"] = s.RealFractionBelow,
                ["threshold"] = s.Threshold,
            },
        };
    }

    /// <summary>Result of <see cref="Of"/>; distances are L2 in pixel units.</summary>
    public sealed record Summary(double FakeMean, double FakeMin, double FakeFractionBelow,
        double RealMean, double RealMin, double RealFractionBelow, double Threshold,
        double[] FakeDistances, double[] RealDistances);

    /// <summary>Nearest-training-image statistics of <paramref name="fake"/> and <paramref name="heldOut"/>.</summary>
    public static Summary Of(FeatureMatrix fake, FeatureMatrix train, FeatureMatrix heldOut, double? threshold = null)
    {
        if (fake.Cols != train.Cols || heldOut.Cols != train.Cols)
            throw new ArgumentException($"Memorisation: images differ in size: fake ({fake.Rows},{fake.Cols}), train ({train.Rows},{train.Cols}), held-out ({heldOut.Rows},{heldOut.Cols})");
        FeatureMatrix.CheckRows(fake, 1, "Memorisation", "fake images");
        FeatureMatrix.CheckRows(train, 1, "Memorisation", "train images");
        FeatureMatrix.CheckRows(heldOut, 1, "Memorisation", "held-out images");
        var f = PairwiseDistances.NearestSquared(fake, train).Select(Math.Sqrt).ToArray();
        var r = PairwiseDistances.NearestSquared(heldOut, train).Select(Math.Sqrt).ToArray();
        double t = threshold ?? Percentile(r, 0.01);
        static double Below(double[] v, double t) => v.Count(x => x < t) / (double)v.Length;
        return new Summary(f.Average(), f.Min(), Below(f, t), r.Average(), r.Min(), Below(r, t), t, f, r);
    }

    /// <summary>Linear-interpolated quantile q in [0, 1] (numpy's default).</summary>
    internal static double Percentile(double[] values, double q)
    {
        var s = values.Order().ToArray();
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }
}
