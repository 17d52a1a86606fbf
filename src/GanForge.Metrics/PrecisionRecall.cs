namespace GanForge.Metrics;

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019): fidelity and diversity measured
/// separately, from k-NN balls around each real and each generated feature vector.
/// </summary>
/// <remarks>
/// r_k(x) = distance from x to its k-th nearest neighbour within its own set (self excluded).
/// precision = (1/M) sum_j 1[ exists i: ||f_j - r_i|| &lt;= r_k(r_i) ]  (fakes inside the real manifold),
/// recall    = (1/N) sum_i 1[ exists j: ||r_i - f_j|| &lt;= r_k(f_j) ]  (reals inside the fake manifold).
/// "&lt;=" as in the paper's code. Default k = 3.
/// </remarks>
public sealed class PrecisionRecall(int k = 3) : IMetric
{
    /// <summary>Neighbourhood size.</summary>
    public int K { get; } = k;

    /// <inheritdoc/>
    public string Name => "precision_recall";

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var (p, r) = Between(inputs.Require(inputs.RealFeatures, Name, nameof(inputs.RealFeatures)),
            inputs.Require(inputs.FakeFeatures, Name, nameof(inputs.FakeFeatures)), K);
        return new MetricResult
        {
            Name = Name, Value = p, Protocol = inputs.Protocol,
            Extras = new Dictionary<string, double> { ["precision"] = p, ["recall"] = r, ["k"] = K },
        };
    }

    /// <summary>Precision and recall of <paramref name="fake"/> against <paramref name="real"/>.</summary>
    public static (double Precision, double Recall) Between(FeatureMatrix real, FeatureMatrix fake, int k = 3)
    {
        FeatureMatrix.CheckSameDim(real, fake, "PrecisionRecall");
        var realRadii = PairwiseDistances.KthNeighbourSquaredRadii(real, k);
        var fakeRadii = PairwiseDistances.KthNeighbourSquaredRadii(fake, k);
        var recalled = new bool[real.Rows];
        int precise = 0;
        PairwiseDistances.ForEachRow(fake, real, () => new int[1], (j, d2, count) =>
        {
            bool inside = false;
            for (int i = 0; i < d2.Length; i++)
            {
                if (d2[i] <= realRadii[i]) inside = true;
                // Several tasks may set the same flag; they only ever write true.
                if (d2[i] <= fakeRadii[j]) recalled[i] = true;
            }
            if (inside) count[0]++;
        }, count => precise += count[0]);
        return ((double)precise / fake.Rows, (double)recalled.Count(b => b) / real.Rows);
    }
}

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
