namespace GanForge.Metrics;

/// <summary>
/// Which classes the generator produces, by the evaluator's argmax: the counts, how many classes
/// are covered, and KL(p_data || p_fake). Catches mode collapse onto a few classes that FID
/// only reports as "worse".
/// </summary>
/// <remarks>
/// p_data: the class frequencies of the real labels (or of the real probabilities' argmax), uniform
/// when neither is given. A class c is covered when count_c / N &gt;= <see cref="MinShareOfExpected"/> * p_data(c),
/// i.e. by default when it gets at least a tenth of its expected share; 1% (the other common choice) would count
/// a class as covered from a handful of stray samples. Classes with p_data(c) = 0 are not counted.
/// KL(p_data || p_fake) = sum_c p_data(c) log(p_data(c) / p_fake(c)) with add-one (Laplace) smoothing of the
/// fake counts, p_fake(c) = (count_c + 1) / (N + C), so a missing class gives a large but finite KL.
/// </remarks>
public sealed class ClassHistogram(double minShareOfExpected = 0.1) : IMetric
{
    /// <summary>Fraction of its expected share a class needs to count as covered.</summary>
    public double MinShareOfExpected { get; } = minShareOfExpected;

    /// <inheritdoc/>
    public string Name => "class_histogram";

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var probs = inputs.Require(inputs.FakeProbabilities, Name, nameof(inputs.FakeProbabilities));
        int c = probs.Cols;
        double[]? pData = null;
        if (inputs.RealLabels is { } labels) pData = Frequencies(labels, c);
        else if (inputs.RealProbabilities is { } rp) pData = Frequencies(Argmax(rp), c);
        var s = Of(Argmax(probs), c, pData, MinShareOfExpected);
        var extras = new Dictionary<string, double>
        {
            ["classes_covered"] = s.ClassesCovered,
            ["classes"] = c,
            ["kl_data_fake"] = s.KlDataFake,
        };
        for (int k = 0; k < c; k++) extras[$"count_{k}"] = s.Counts[k];
        return new MetricResult { Name = Name, Value = s.ClassesCovered, Extras = extras, Protocol = inputs.Protocol };
    }

    /// <summary>Result of <see cref="Of"/>.</summary>
    public sealed record Summary(int[] Counts, int ClassesCovered, double KlDataFake);

    /// <summary>Histogram summary of predicted classes; <paramref name="pData"/> null means uniform.</summary>
    public static Summary Of(ReadOnlySpan<int> predicted, int classes, double[]? pData = null, double minShareOfExpected = 0.1)
    {
        if (classes < 1) throw new ArgumentException($"ClassHistogram: {classes} classes");
        if (pData != null && pData.Length != classes)
            throw new ArgumentException($"ClassHistogram: p_data has {pData.Length} classes, probabilities have {classes}");
        var counts = new int[classes];
        foreach (var y in predicted)
        {
            if ((uint)y >= (uint)classes) throw new ArgumentException($"ClassHistogram: class {y} out of range [0,{classes})");
            counts[y]++;
        }
        int n = predicted.Length, covered = 0;
        double kl = 0;
        for (int k = 0; k < classes; k++)
        {
            double expected = pData?[k] ?? 1.0 / classes;
            if (expected <= 0) continue;
            if (n > 0 && (double)counts[k] / n >= minShareOfExpected * expected) covered++;
            double pFake = (counts[k] + 1.0) / (n + classes);
            kl += expected * Math.Log(expected / pFake);
        }
        return new Summary(counts, covered, kl);
    }

    /// <summary>Row-wise argmax (first maximum wins).</summary>
    public static int[] Argmax(FeatureMatrix probabilities)
    {
        var y = new int[probabilities.Rows];
        for (int i = 0; i < y.Length; i++)
        {
            var row = probabilities.Row(i);
            int best = 0;
            for (int k = 1; k < row.Length; k++) if (row[k] > row[best]) best = k;
            y[i] = best;
        }
        return y;
    }

    static double[] Frequencies(int[] labels, int classes)
    {
        var f = new double[classes];
        foreach (var y in labels)
        {
            if ((uint)y >= (uint)classes) throw new ArgumentException($"ClassHistogram: real label {y} out of range [0,{classes})");
            f[y]++;
        }
        for (int k = 0; k < classes; k++) f[k] /= Math.Max(1, labels.Length);
        return f;
    }
}
