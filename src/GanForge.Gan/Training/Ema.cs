using GanForge.NN;

namespace GanForge.Gan.Training;

/// <summary>
/// Exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et al. 2019):
/// θ_ema ← β_t·θ_ema + (1-β_t)·θ after generator step t; buffers (BatchNorm statistics) are copied.
/// The decay warms up as TensorFlow's ExponentialMovingAverage with num_updates does,
/// β_t = min(β, (1 + t) / (10 + t)): with a fixed β of 0.999 a run of a few thousand steps would still hold
/// 0.999^3000 ≈ 5% of the random initial weights in its average (measured: samples far worse than the raw
/// generator's); the warm-up forgets them within the first few hundred steps and changes nothing later.
/// </summary>
public sealed class Ema
{
    readonly Module _source;
    readonly float _beta;

    public Module Average { get; }

    public Ema(Module source, Module average, float beta)
    {
        _source = source; _beta = beta; Average = average;
        Average.LoadStateDict(source.StateDict());
        Average.RequiresGrad(false);
        Average.Eval();
    }

    /// <summary>The decay used at generator step <paramref name="step"/> (1 for the first update).</summary>
    public float DecayAt(long step) => Math.Min(_beta, (1f + step) / (10f + step));

    /// <summary>Averages in the source's weights after generator step <paramref name="step"/> (1 for the first).</summary>
    public void Update(long step)
    {
        float beta = DecayAt(step);
        var avg = Average.StateDict();
        foreach (var (name, p) in _source.NamedParameters())
        {
            var a = avg[name].Data;
            var s = p.Data;
            for (int i = 0; i < a.Length; i++) a[i] = beta * a[i] + (1 - beta) * s[i];
        }
        foreach (var (name, b) in _source.NamedBuffers()) b.Data.CopyTo(avg[name].Data);
    }
}
