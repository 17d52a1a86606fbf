using GanForge.Kernels;

namespace GanForge.Functions;

// y = cond ? a : b (all three broadcast; cond is a constant 0/1 mask); da = sum_to(g * cond), db = sum_to(g * (1 - cond))
internal sealed class Where(Tensor cond) : Function
{
    public static Tensor Apply(Tensor cond, Tensor a, Tensor b)
    {
        var shape = Shapes.Broadcast(Shapes.Broadcast(cond.ShapeSpan, a.ShapeSpan, "Where"), b.ShapeSpan, "Where");
        var c = new float[Shapes.Numel(shape)];
        var av = new float[c.Length];
        var bv = new float[c.Length];
        Elementwise.BroadcastTo(cond.Data, cond.ShapeSpan, c, shape);
        Elementwise.BroadcastTo(a.Data, a.ShapeSpan, av, shape);
        Elementwise.BroadcastTo(b.Data, b.ShapeSpan, bv, shape);
        var y = new Tensor(shape);
        var ys = y.Data;
        for (int i = 0; i < ys.Length; i++) ys[i] = c[i] != 0f ? av[i] : bv[i];
        // A detached 0/1 copy of the condition, so any nonzero counts as true in backward too.
        var mask = new Tensor(cond.Shape);
        var ms = mask.Data; var cs = cond.Data;
        for (int i = 0; i < ms.Length; i++) ms[i] = cs[i] != 0f ? 1f : 0f;
        return Record(new Where(mask), y, a, b);
    }

    protected internal override Tensor?[] Backward(Tensor g) =>
        [NeedsGrad(0) ? (g * cond).SumTo(Inputs[0].ShapeSpan) : null,
         NeedsGrad(1) ? (g * (1f - cond)).SumTo(Inputs[1].ShapeSpan) : null];
}

// y = min(max(x, lo), hi); dx = g where lo <= x <= hi, else 0 (PyTorch's convention at the bounds)
internal sealed class Clamp(float lo, float hi) : Function
{
    public static Tensor Apply(Tensor x, float? min, float? max)
    {
        if (min == null && max == null) throw new ArgumentException($"Clamp: at least one of min and max is required (input {Shapes.Format(x.ShapeSpan)})");
        float lo = min ?? float.NegativeInfinity, hi = max ?? float.PositiveInfinity;
        var y = Tensor.Uninitialized(x.ShapeSpan);
        var xs = x.Data; var ys = y.Data;
        for (int i = 0; i < xs.Length; i++) ys[i] = float.IsNaN(xs[i]) ? xs[i] : MathF.Min(MathF.Max(xs[i], lo), hi);
        return Record(new Clamp(lo, hi), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0].Data;
        var mask = new Tensor(Inputs[0].Shape);
        var m = mask.Data;
        for (int i = 0; i < m.Length; i++) m[i] = x[i] >= lo && x[i] <= hi ? 1f : 0f;
        return [g * mask];
    }
}

// y = max(a, b) (or min); da = g * [a wins], db = g * [b wins], split in half on ties (as PyTorch)
internal sealed class Extremum(bool max) : Function
{
    public static Tensor Apply(Tensor a, Tensor b, bool max) =>
        Record(new Extremum(max), max ? Binary.Forward<MaxOp>(a, b, "Maximum") : Binary.Forward<MinOp>(a, b, "Minimum"), a, b);

    public override string Name => max ? "MaximumBackward" : "MinimumBackward";

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        var shape = Shapes.Broadcast(a.ShapeSpan, b.ShapeSpan, Name);
        var wins = new Tensor(shape);
        Elementwise.Binary<GtOp>(a.Data, a.ShapeSpan, b.Data, b.ShapeSpan, wins.Data, shape);
        var ties = new Tensor(shape);
        Elementwise.Binary<EqOp>(a.Data, a.ShapeSpan, b.Data, b.ShapeSpan, ties.Data, shape);
        // wa = share of the gradient a receives: 1 where a is chosen, 1/2 on ties.
        var wa = new Tensor(shape);
        var w = wa.Data; var gt = wins.Data; var eq = ties.Data;
        for (int i = 0; i < w.Length; i++) w[i] = eq[i] != 0f ? 0.5f : (gt[i] != 0f) == max ? 1f : 0f;
        var wb = new Tensor(shape);
        var v = wb.Data;
        for (int i = 0; i < v.Length; i++) v[i] = eq[i] != 0f ? 0.5f : 1f - w[i];
        return [NeedsGrad(0) ? (g * wa).SumTo(a.ShapeSpan) : null, NeedsGrad(1) ? (g * wb).SumTo(b.ShapeSpan) : null];
    }
}
