namespace GanForge.Metrics;

/// <summary>
/// Density and coverage (Naeem et al. 2020): like precision and recall, but built only from k-NN
/// balls around real samples, so they are robust to outliers among the generated samples.
/// </summary>
/// <remarks>
/// density  = (1/(k M)) sum_j sum_i 1[ ||f_j - r_i|| &lt; r_k(r_i) ]  (can exceed 1 when fakes crowd real modes),
/// coverage = (1/N) sum_i 1[ min_j ||r_i - f_j|| &lt; r_k(r_i) ].
/// Strict "&lt;" as in the paper's prdc code. Default k = 5.
/// </remarks>
public sealed class DensityCoverage(int k = 5) : IMetric
{
    /// <summary>Neighbourhood size.</summary>
    public int K { get; } = k;

    /// <inheritdoc/>
    public string Name => "density_coverage";

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var (d, c) = Between(inputs.Require(inputs.RealFeatures, Name, nameof(inputs.RealFeatures)),
            inputs.Require(inputs.FakeFeatures, Name, nameof(inputs.FakeFeatures)), K);
        return new MetricResult
        {
            Name = Name, Value = d, Protocol = inputs.Protocol,
            Extras = new Dictionary<string, double> { ["density"] = d, ["coverage"] = c, ["k"] = K },
        };
    }

    /// <summary>Density and coverage of <paramref name="fake"/> against <paramref name="real"/>.</summary>
    public static (double Density, double Coverage) Between(FeatureMatrix real, FeatureMatrix fake, int k = 5)
    {
        FeatureMatrix.CheckSameDim(real, fake, "DensityCoverage");
        var realRadii = PairwiseDistances.KthNeighbourSquaredRadii(real, k);
        // Density only needs the total number of (fake, real-ball) memberships, so one pass over real rows
        // gives both: per real ball, how many fakes fall inside, and whether the nearest fake does.
        long inBalls = 0;
        int covered = 0;
        PairwiseDistances.ForEachRow(real, fake, () => new long[2], (i, d2, acc) =>
        {
            double nearest = double.PositiveInfinity;
            for (int j = 0; j < d2.Length; j++)
            {
                if (d2[j] < realRadii[i]) acc[0]++;
                if (d2[j] < nearest) nearest = d2[j];
            }
            if (nearest < realRadii[i]) acc[1]++;
        }, acc => { inBalls += acc[0]; covered += (int)acc[1]; });
        return (inBalls / ((double)k * fake.Rows), (double)covered / real.Rows);
    }
}
