namespace GanForge.Metrics;

/// <summary>
/// How well a generator's conditions show in its images, read by the evaluator's classifier: the share of samples
/// of class k that the evaluator calls k (cGAN, AC-GAN), and the agreement between InfoGAN's categorical code and
/// the evaluator's class (purity and normalised mutual information).
/// </summary>
public static class ConditionalScores
{
    /// <summary>
    /// "class_accuracy": mean over classes of the share of samples made for class k that the evaluator's argmax
    /// calls k; Extras acc_k per class. <paramref name="probabilities"/> (N, C) from the evaluator.
    /// </summary>
    public static MetricResult ClassAccuracy(FeatureMatrix probabilities, int[] intended, Protocol? protocol = null)
    {
        var predicted = ClassHistogram.Argmax(probabilities);
        int classes = probabilities.Cols;
        if (intended.Length != predicted.Length)
            throw new ArgumentException($"class_accuracy: {intended.Length} intended classes for {predicted.Length} samples");
        var right = new int[classes];
        var total = new int[classes];
        for (int i = 0; i < intended.Length; i++)
        {
            if ((uint)intended[i] >= (uint)classes)
                throw new ArgumentException($"class_accuracy: intended class {intended[i]} of sample {i} is outside the evaluator's {classes} classes");
            total[intended[i]]++;
            if (predicted[i] == intended[i]) right[intended[i]]++;
        }
        var extras = new Dictionary<string, double>();
        var shares = new List<double>();
        for (int k = 0; k < classes; k++)
            if (total[k] > 0)
            {
                double share = (double)right[k] / total[k];
                extras[$"acc_{k}"] = share;
                shares.Add(share);
            }
        return new MetricResult { Name = "class_accuracy", Value = shares.Average(), Extras = extras, Protocol = protocol };
    }

    /// <summary>
    /// "code_agreement": normalised mutual information between the categorical code and the evaluator's class,
    /// NMI = I(U; V) / ((H(U) + H(V)) / 2) (1: one determines the other; 0: independent), and purity
    /// (Σ over code values of the count of its most frequent class, over N; 1 also when every image falls in one class,
    /// which NMI gives as 0, so read the two together).
    /// </summary>
    public static MetricResult CodeAgreement(int[] codes, int[] predicted, Protocol? protocol = null)
    {
        if (codes.Length != predicted.Length || codes.Length == 0)
            throw new ArgumentException($"code_agreement: {codes.Length} codes for {predicted.Length} predictions");
        int n = codes.Length, ku = codes.Max() + 1, kv = predicted.Max() + 1;
        var joint = new double[ku, kv];
        var pu = new double[ku];
        var pv = new double[kv];
        for (int i = 0; i < n; i++) { joint[codes[i], predicted[i]] += 1.0 / n; pu[codes[i]] += 1.0 / n; pv[predicted[i]] += 1.0 / n; }
        double mi = 0, hu = 0, hv = 0, purity = 0;
        for (int u = 0; u < ku; u++)
        {
            double best = 0;
            for (int v = 0; v < kv; v++)
            {
                if (joint[u, v] > 0) mi += joint[u, v] * Math.Log(joint[u, v] / (pu[u] * pv[v]));
                best = Math.Max(best, joint[u, v]);
            }
            purity += best;
            if (pu[u] > 0) hu -= pu[u] * Math.Log(pu[u]);
        }
        for (int v = 0; v < kv; v++) if (pv[v] > 0) hv -= pv[v] * Math.Log(pv[v]);
        mi = Math.Max(mi, 0);   // rounding can leave -1e-16 for independent labelings
        double nmi = hu + hv > 0 ? mi / ((hu + hv) / 2) : 1;
        return new MetricResult
        {
            Name = "code_agreement", Value = nmi, Protocol = protocol,
            Extras = new Dictionary<string, double> { ["nmi"] = nmi, ["purity"] = purity, ["mutual_information"] = mi },
        };
    }
}
