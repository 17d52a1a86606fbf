using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>
/// Layer normalisation with its affine as one Function: x (*, len) seen as (rows, len), each row normalised by its own
/// mean and biased variance, then y = x̂·w + b with w and b (len).
/// </summary>
/// <remarks>
/// dx = invstd·(gw − mean(gw) − x̂·mean(gw·x̂)) with gw = g·w, per row; dw = Σ g·x̂, db = Σ g over the rows. Without a
/// graph the backward is one kernel pass; with one (a gradient penalty's gradient of a gradient) the same formulas
/// with the statistics recomputed by differentiable ops, so derivatives of any order work.
/// </remarks>
internal sealed class LayerNormFunction(int len, float eps, bool hasWeight, bool hasBias) : Function
{
    float[]? _mean, _invstd;

    public static Tensor Apply(Tensor x, Tensor? weight, Tensor? bias, int len, float eps)
    {
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias") })
            if (p != null && p.Numel != len)
                throw new ArgumentException($"LayerNorm: {name} {Shapes.Format(p.ShapeSpan)} does not match rows of {len} in input {Shapes.Format(x.ShapeSpan)}");
        int rows = x.Numel / len;
        var (mean, invstd) = (new float[rows], new float[rows]);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.LayerNorm.Forward(x.Storage, y.Storage, rows, len, weight?.Storage, bias?.Storage, eps, mean, invstd);
        Tensor[] inputs = weight != null && bias != null ? [x, weight, bias] : weight != null ? [x, weight] : bias != null ? [x, bias] : [x];
        return Record(new LayerNormFunction(len, eps, weight != null, bias != null) { _mean = mean, _invstd = invstd }, y, inputs);
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
            Kernels.LayerNorm.Backward(x.Storage, g.Storage, rows, len, weight?.Storage, _mean!, _invstd!, dx?.Storage, dw?.Storage, db?.Storage);
        }
        else
        {
            var x2 = x.Reshape(-1, len);
            var g2 = g.Reshape(-1, len);
            var xc = x2 - x2.Mean(1, keepDim: true);
            var invstd = (xc.Square().Mean(1, keepDim: true) + eps).Pow(-0.5f);
            var xhat = xc * invstd;
            var gw = weight != null ? g2 * weight.Reshape(len) : g2;
            dx = wantX ? (invstd * (gw - gw.Mean(1, keepDim: true) - xhat * (gw * xhat).Mean(1, keepDim: true))).Reshape(x.ShapeSpan) : null;
            dw = wantW ? (g2 * xhat).Sum(0).Reshape(weight!.ShapeSpan) : null;
            db = wantB ? g2.Sum(0).Reshape(Inputs[biasAt].ShapeSpan) : null;
        }
        var grads = new List<Tensor?> { dx };
        if (hasWeight) grads.Add(dw);
        if (hasBias) grads.Add(db);
        return [.. grads];
    }

    protected internal override void ReleaseSaved() => (_mean, _invstd) = (null, null);
}
