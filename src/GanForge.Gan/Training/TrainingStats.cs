namespace GanForge.Gan.Training;

/// <summary>
/// Named statistics of training, averaged over a logging window: losses, D(x), D(G(z)) and the
/// discriminator's accuracy on real and on generated samples (≈ 50% at equilibrium).
/// </summary>
public sealed class TrainingStats
{
    readonly Dictionary<string, (double Sum, int Count)> _window = new();

    public void Add(string name, double value)
    {
        _window.TryGetValue(name, out var s);
        _window[name] = (s.Sum + value, s.Count + 1);
    }

    /// <summary>Window means by name, then clears the window.</summary>
    public Dictionary<string, double> Flush()
    {
        var means = _window.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);
        _window.Clear();
        return means;
    }

    /// <summary>Mean of sigmoid(logits): the discriminator's probability that its inputs are real.</summary>
    public static double MeanProbability(Tensor logits)
    {
        double s = 0;
        foreach (float l in logits.Data) s += 1 / (1 + Math.Exp(-l));
        return s / logits.Numel;
    }

    /// <summary>Fraction of logits on the correct side of 0 (real: > 0, fake: &lt; 0).</summary>
    public static double Accuracy(Tensor logits, bool real)
    {
        int ok = 0;
        foreach (float l in logits.Data) if (real ? l > 0 : l < 0) ok++;
        return (double)ok / logits.Numel;
    }
}
