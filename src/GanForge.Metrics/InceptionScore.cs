namespace GanForge.Metrics;

/// <summary>
/// Inception Score (Salimans et al. 2016) from any classifier's probabilities: high when each sample
/// is classified confidently and the classes are used evenly. Ranges from 1 to C.
/// </summary>
/// <remarks>
/// IS = exp( E_x KL( p(y|x) || p(y) ) ),  p(y) = E_x p(y|x), both over one split.
/// Mean and (ddof = 0) std over <see cref="Splits"/> consecutive, equal splits, as the original code.
/// 0 log 0 is taken as 0, so one-hot probabilities are fine.
/// </remarks>
public sealed class InceptionScore(int splits = 10) : IMetric
{
    /// <summary>Number of splits.</summary>
    public int Splits { get; } = splits;

    /// <inheritdoc/>
    public string Name => "is";

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var (mean, std) = Of(inputs.Require(inputs.FakeProbabilities, Name, nameof(inputs.FakeProbabilities)), Splits);
        return new MetricResult
        {
            Name = Name, Value = mean, Std = std, Protocol = inputs.Protocol,
            Extras = new Dictionary<string, double> { ["splits"] = Splits },
        };
    }

    /// <summary>IS mean and std of class probabilities (N, C).</summary>
    public static (double Mean, double Std) Of(FeatureMatrix probabilities, int splits = 10)
    {
        int n = probabilities.Rows, c = probabilities.Cols;
        if (splits < 1 || n < splits)
            throw new ArgumentException($"InceptionScore: {splits} splits of probabilities ({n},{c}) leaves an empty split");
        var scores = new double[splits];
        var py = new double[c];
        for (int s = 0; s < splits; s++)
        {
            int i0 = s * n / splits, i1 = (s + 1) * n / splits;
            Array.Clear(py);
            for (int i = i0; i < i1; i++)
            {
                var p = probabilities.Row(i);
                for (int k = 0; k < c; k++) py[k] += p[k];
            }
            for (int k = 0; k < c; k++) py[k] /= i1 - i0;
            double kl = 0;
            for (int i = i0; i < i1; i++)
            {
                var p = probabilities.Row(i);
                for (int k = 0; k < c; k++)
                    if (p[k] > 0) kl += p[k] * (Math.Log(p[k]) - Math.Log(py[k]));
            }
            scores[s] = Math.Exp(kl / (i1 - i0));
        }
        double mean = scores.Average();
        return (mean, Math.Sqrt(scores.Sum(v => (v - mean) * (v - mean)) / splits));
    }
}
