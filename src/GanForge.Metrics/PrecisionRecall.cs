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
