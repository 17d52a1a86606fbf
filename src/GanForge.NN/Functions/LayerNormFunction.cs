using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>
/// Layer normalisation with its affine as one Function: x (*, len) seen as (rows, len), each row normalised by its own
/// mean and biased variance, then y = x̂·w + b with w and b (len).
/// </summary>
/// <remarks>
/// dx = invstd·(gw − mean(gw) − x̂·mean(gw·x̂)) with gw = g·w, per row; dw = Σ g·x̂, db = Σ g over the rows. Without a
/// graph the backward is one kernel pass; with one (a gradient penalty's gradient of a gradient) dx is the fused
/// <see cref="LayerNormInputGrad"/> op and dw, db are written with differentiable ops, so derivatives of any order work.
/// </remarks>
internal sealed class LayerNormFunction(int len, float eps, bool hasWeight, bool hasBias) : Function
{
    SavedStatistics? _stats;   // each row's mean and 1/std
    int _rows;

    protected internal override string ProfileName => $"LayerNorm {_rows}x{len}";

    public static Tensor Apply(Tensor x, Tensor? weight, Tensor? bias, int len, float eps)
    {
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias") })
            if (p != null && p.Numel != len)
                throw new ArgumentException($"LayerNorm: {name} {Shapes.Format(p.ShapeSpan)} does not match rows of {len} in input {Shapes.Format(x.ShapeSpan)}");
        int rows = x.Numel / len;
        // Per-row statistics from the pool (a transformer's rows run to tens of thousands), back when the node is done.
        var stats = new SavedStatistics(rows, rows);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.LayerNorm.Forward(x.Storage, y.Storage, rows, len, weight?.Storage, bias?.Storage, eps, stats[0], stats[1]);
        Tensor[] inputs = weight != null && bias != null ? [x, weight, bias] : weight != null ? [x, weight] : bias != null ? [x, bias] : [x];
        var fn = new LayerNormFunction(len, eps, weight != null, bias != null) { _stats = stats, _rows = rows };
        Record(fn, y, inputs);
        if (!ReferenceEquals(y.GradFn, fn)) fn.ReleaseSaved();   // not recorded: nothing will read them
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var weight = hasWeight ? Inputs[1] : null;
        int biasAt = hasWeight ? 2 : 1;
        bool wantX = NeedsGrad(0), wantW = hasWeight && NeedsGrad(1), wantB = hasBias && NeedsGrad(biasAt);
        Tensor? dx, dw, db;
        if (!GradMode.IsEnabled)
        {
            int rows = x.Numel / len;
            dx = wantX ? Tensor.Uninitialized(x.ShapeSpan) : null;
            dw = wantW ? Tensor.Uninitialized(weight!.ShapeSpan) : null;
            db = wantB ? Tensor.Uninitialized(Inputs[biasAt].ShapeSpan) : null;
            Kernels.LayerNorm.Backward(x.Storage, g.Storage, rows, len, weight?.Storage, _stats![0], _stats[1], dx?.Storage, dw?.Storage, db?.Storage);
        }
        else
        {
            // dx as the fused LayerNormInputGrad (a gradient penalty differentiates it again; it keeps the statistics
            // for that backward); dw and db composed
            dx = wantX ? LayerNormInputGrad.Apply(x, weight, g, len, eps, _stats!) : null;
            var g2 = g.Reshape(-1, len);
            dw = wantW ? (g2 * Xhat(x.Reshape(-1, len), eps)).Sum(0).Reshape(weight!.ShapeSpan) : null;
            db = wantB ? g2.Sum(0).Reshape(Inputs[biasAt].ShapeSpan) : null;
        }
        var grads = new List<Tensor?> { dx };
        if (hasWeight) grads.Add(dw);
        if (hasBias) grads.Add(db);
        return [.. grads];
    }

    protected internal override void ReleaseSaved() => SavedStatistics.Release(ref _stats);

    /// <summary>(x − mean)·invstd per row of (rows, len), with differentiable ops.</summary>
    internal static Tensor Xhat(Tensor x2, float eps)
    {
        var xc = x2 - x2.Mean(1, keepDim: true);
        return xc * (xc.Square().Mean(1, keepDim: true) + eps).Pow(-0.5f);
    }
}

/// <summary>
/// Layer norm's input gradient dx = invstd·(h − mean(h) − x̂·mean(h·x̂)), h = g·w, as an op of x, w and g: what a
/// gradient penalty through a transformer critic differentiates again.
/// </summary>
/// <remarks>
/// Without a graph its backward is <see cref="Kernels.LayerNorm.SecondOrder(float[], float[], float[], int, int, float[], float[], float[], float[], float[], float[])"/>, one pass; with one (a third
/// derivative) the same formulas with differentiable ops. Composed of ops instead, the penalty's path through one
/// norm cost about twenty times the norm's own backward.
/// </remarks>
internal sealed class LayerNormInputGrad(int len, float eps, float[] mean, float[] invstd, bool hasWeight) : Function
{
    // The forward's statistics, held (and released) by this node where it was recorded.
    SavedStatistics? _held;

    public static Tensor Apply(Tensor x, Tensor? weight, Tensor g, int len, float eps, SavedStatistics saved)
    {
        var (mean, invstd) = (saved[0], saved[1]);
        var dx = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.LayerNorm.Backward(x.Storage, g.Storage, x.Numel / len, len, weight?.Storage, mean, invstd, dx.Storage, null, null);
        var fn = new LayerNormInputGrad(len, eps, mean, invstd, weight != null);
        if (weight != null) Record(fn, dx, x, weight, g); else Record(fn, dx, x, g);
        // Recorded (a backward with a graph): this node keeps the statistics for the gradient's own backward.
        fn._held = saved.HandOnIfRecorded(dx, fn);
        return dx;
    }

    protected internal override void ReleaseSaved() => SavedStatistics.Release(ref _held);

    protected internal override Tensor?[] Backward(Tensor u)
    {
        var x = Inputs[0];
        var weight = hasWeight ? Inputs[1] : null;
        var g = Inputs[^1];
        int gAt = Inputs.Count - 1;
        bool wantX = NeedsGrad(0), wantW = hasWeight && NeedsGrad(1), wantG = NeedsGrad(gAt);
        Tensor? dx, dw, dg;
        if (!GradMode.IsEnabled)
        {
            (dx, dg) = (Tensor.Uninitialized(x.ShapeSpan), Tensor.Uninitialized(g.ShapeSpan));
            dw = wantW ? Tensor.Uninitialized(weight!.ShapeSpan) : null;
            Kernels.LayerNorm.SecondOrder(x.Storage, g.Storage, u.Storage, x.Numel / len, len, weight?.Storage, mean, invstd,
                dx.Storage, dg.Storage, dw?.Storage);
        }
        else
        {
            var (x2, g2, u2) = (x.Reshape(-1, len), g.Reshape(-1, len), u.Reshape(-1, len));
            float n = len;
            var y = x2 - x2.Mean(1, keepDim: true);
            var a = (y.Square().Mean(1, keepDim: true) + eps).Pow(-0.5f);
            var h = weight != null ? g2 * weight.Reshape(len) : g2;
            var meanU = u2.Mean(1, keepDim: true);
            var p = (u2 * h).Sum(1, keepDim: true) - n * h.Mean(1, keepDim: true) * meanU;
            var q = (u2 * y).Sum(1, keepDim: true);
            var s = (h * y).Sum(1, keepDim: true);
            var a3n = a.Pow(3f) * (1f / n);
            var t = -a3n * ((p - 3f / n * a.Square() * q * s) * y + s * u2 + q * h);
            var dh = a * (u2 - meanU) - a3n * q * y;
            dx = (t - t.Mean(1, keepDim: true)).Reshape(x.ShapeSpan);
            dg = (weight != null ? dh * weight.Reshape(len) : dh).Reshape(g.ShapeSpan);
            dw = wantW ? (dh * g2).Sum(0).Reshape(weight!.ShapeSpan) : null;
        }
        var grads = new List<Tensor?> { wantX ? dx : null };
        if (hasWeight) grads.Add(dw);
        grads.Add(wantG ? dg : null);
        return [.. grads];
    }
}
