namespace GanForge.Metrics;

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD^2 between real and
/// generated features under a cubic polynomial kernel, averaged over random subsets. Unlike FID it
/// is unbiased in the number of samples, so small-sample scores are comparable.
/// </summary>
/// <remarks>
/// k(x, y) = (x.y / d + 1)^3.
/// MMD^2_u = sum_{i!=j} k(x_i,x_j) / (m(m-1)) + sum_{i!=j} k(y_i,y_j) / (n(n-1)) - 2 sum_{i,j} k(x_i,y_j) / (m n),
/// which for m = n is the estimator of torch-fidelity and clean-fid. The score is the mean and the
/// (population, ddof = 0) standard deviation of MMD^2_u over subsets drawn without replacement.
/// </remarks>
public sealed class Kid(int subsets = 100, int subsetSize = 1000) : IMetric
{
    /// <summary>Number of subsets.</summary>
    public int Subsets { get; } = subsets;

    /// <summary>Rows per subset; min(N_real, N_fake) is used when that is smaller.</summary>
    public int SubsetSize { get; } = subsetSize;

    /// <inheritdoc/>
    public string Name => "kid";

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var real = inputs.Require(inputs.RealFeatures, Name, nameof(inputs.RealFeatures));
        var fake = inputs.Require(inputs.FakeFeatures, Name, nameof(inputs.FakeFeatures));
        var (mean, std, _) = Between(real, fake, Subsets, SubsetSize, inputs.Protocol.Seed);
        int m = Math.Min(SubsetSize, Math.Min(real.Rows, fake.Rows));
        return new MetricResult
        {
            Name = Name, Value = mean, Std = std, Protocol = inputs.Protocol,
            Extras = new Dictionary<string, double> { ["subsets"] = Subsets, ["subset_size"] = m },
        };
    }

    /// <summary>KID with subsets drawn by a <see cref="Generator"/> seeded with <paramref name="seed"/>.</summary>
    public static (double Mean, double Std, double[] PerSubset) Between(FeatureMatrix real, FeatureMatrix fake,
        int subsets = 100, int subsetSize = 1000, ulong seed = 0)
    {
        FeatureMatrix.CheckSameDim(real, fake, "KID");
        int m = Math.Min(subsetSize, Math.Min(real.Rows, fake.Rows));
        if (m < 2 || subsets < 1)
            throw new ArgumentException($"KID: needs subsets >= 1 and at least 2 rows per set, got {subsets} subsets, real ({real.Rows},{real.Cols}), fake ({fake.Rows},{fake.Cols})");
        var gen = new Generator(seed);
        var realIdx = new int[subsets][];
        var fakeIdx = new int[subsets][];
        for (int s = 0; s < subsets; s++)
        {
            realIdx[s] = gen.Permutation(real.Rows)[..m];
            fakeIdx[s] = gen.Permutation(fake.Rows)[..m];
        }
        return WithSubsets(real, fake, realIdx, fakeIdx);
    }

    /// <summary>KID over given subsets (row indices per subset), so a reference implementation can be matched exactly.</summary>
    public static (double Mean, double Std, double[] PerSubset) WithSubsets(FeatureMatrix real, FeatureMatrix fake,
        int[][] realSubsets, int[][] fakeSubsets)
    {
        FeatureMatrix.CheckSameDim(real, fake, "KID");
        if (realSubsets.Length != fakeSubsets.Length || realSubsets.Length == 0)
            throw new ArgumentException($"KID: {realSubsets.Length} real subsets and {fakeSubsets.Length} fake subsets; need the same, non-zero count");
        var values = new double[realSubsets.Length];
        for (int s = 0; s < values.Length; s++)
            values[s] = Mmd2Unbiased(real.SelectRows(realSubsets[s]), fake.SelectRows(fakeSubsets[s]));
        double mean = values.Average();
        double var = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
        return (mean, Math.Sqrt(var), values);
    }

    /// <summary>Unbiased MMD^2 between the rows of <paramref name="x"/> and <paramref name="y"/> under the cubic kernel.</summary>
    public static double Mmd2Unbiased(FeatureMatrix x, FeatureMatrix y)
    {
        FeatureMatrix.CheckSameDim(x, y, "KID");
        int m = x.Rows, n = y.Rows, d = x.Cols;
        if (m < 2 || n < 2)
            throw new ArgumentException($"KID: MMD needs at least 2 rows per set, got ({m},{d}) and ({n},{d})");
        return KernelSum(x, x, true) / ((double)m * (m - 1))
             + KernelSum(y, y, true) / ((double)n * (n - 1))
             - 2 * KernelSum(x, y, false) / ((double)m * n);
    }

    // sum_{i,j} (a_i . b_j / d + 1)^3, skipping i == j when dropDiagonal. Row blocks run in parallel; their
    // partial sums are added in block order so the result does not depend on scheduling.
    static double KernelSum(FeatureMatrix a, FeatureMatrix b, bool dropDiagonal)
    {
        const int block = 32;
        int d = a.Cols, nb = b.Rows;
        var partial = new double[(a.Rows + block - 1) / block];
        Parallel.For(0, partial.Length, () => new double[block * nb], (blk, _, buf) =>
        {
            int i0 = blk * block, i1 = Math.Min(a.Rows, i0 + block);
            DotProducts.Block(a, i0, i1, b, 0, nb, buf, nb);
            double s = 0;
            for (int i = i0; i < i1; i++)
            {
                var row = buf.AsSpan((i - i0) * nb, nb);
                for (int j = 0; j < nb; j++)
                {
                    if (dropDiagonal && i == j) continue;
                    double t = row[j] / d + 1;
                    s += t * t * t;
                }
            }
            partial[blk] = s;
            return buf;
        }, _ => { });
        return partial.Sum();
    }
}
