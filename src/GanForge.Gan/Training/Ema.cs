using GanForge.NN;

namespace GanForge.Gan.Training;

/// <summary>
/// Exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et al. 2019):
/// θ_ema ← β·θ_ema + (1-β)·θ after each generator step; buffers (BatchNorm statistics) are copied.
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

    public void Update()
    {
        var avg = Average.StateDict();
        foreach (var (name, p) in _source.NamedParameters())
        {
            var a = avg[name].Data;
            var s = p.Data;
            for (int i = 0; i < a.Length; i++) a[i] = _beta * a[i] + (1 - _beta) * s[i];
        }
        foreach (var (name, b) in _source.NamedBuffers()) b.Data.CopyTo(avg[name].Data);
    }
}
