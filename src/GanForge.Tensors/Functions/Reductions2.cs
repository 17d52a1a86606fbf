using System.Numerics.Tensors;
using GanForge.Kernels;

namespace GanForge.Functions;

// y = max(x) (or min) over all elements; dx = g * [x == y] / count (ties share evenly, as PyTorch)
internal sealed class ExtremumAll(bool max) : Function
{
    public static Tensor Apply(Tensor x, bool max)
    {
        string op = max ? "Max" : "Min";
        if (x.Numel == 0) throw new ArgumentException($"{op}: cannot reduce an empty tensor {Shapes.Format(x.ShapeSpan)}");
        var index = new float[1];
        Indexing.ArgExtremum(x.Data, 1, x.Numel, 1, max, index);
        var y = Tensor.Scalar(x.Data[(int)index[0]]);
        return Record(new ExtremumAll(max), y, x);
    }

    public override string Name => max ? "MaxBackward" : "MinBackward";

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var mask = new Tensor(x.Shape);
        var xs = x.Data; var m = mask.Data;
        var index = new float[1];
        Indexing.ArgExtremum(xs, 1, xs.Length, 1, max, index);
        float best = xs[(int)index[0]];
        int count = 0;
        for (int i = 0; i < m.Length; i++) if (xs[i] == best) { m[i] = 1f; count++; }
        return [g * (mask / Math.Max(count, 1))];
    }
}

// y = m + log(sum(exp(x - m))) over dims, m = max over dims (detached); dx = g * exp(x - y)
internal sealed class LogSumExp(int[] kept) : Function
{
    Tensor? _y;

    public static Tensor Apply(Tensor x, int[] dims, bool keepDim)
    {
        var nd = Shapes.NormalizeDims(dims, x.Rank, "LogSumExp");
        var kept = x.Shape;
        foreach (int d in nd) kept[d] = 1;
        var m = new Tensor(kept);
        ReduceMax(x, nd, m);
        // An all -inf (or inf) slice keeps its value instead of producing NaN from inf - inf.
        var ms = m.Data;
        for (int i = 0; i < ms.Length; i++) if (!float.IsFinite(ms[i])) ms[i] = 0f;
        var shifted = Tensor.Uninitialized(x.ShapeSpan);
        Elementwise.Binary<SubOp>(x.Data, x.ShapeSpan, ms, kept, shifted.Data, x.ShapeSpan);
        Kernels.Transcendental.Exp(shifted.Data, shifted.Data);
        var y = new Tensor(kept);
        Reduce.Sum(shifted.Data, x.ShapeSpan, nd, y.Data);
        var ys = y.Data;
        for (int i = 0; i < ys.Length; i++) ys[i] = MathF.Log(ys[i]) + ms[i];
        if (!keepDim) y = new Tensor(y.Storage, kept.Where((_, i) => !nd.Contains(i)).ToArray());
        var fn = new LogSumExp(kept);
        Record(fn, y, x);
        fn._y = y;
        return y;
    }

    /// <summary>m = max of x over dims nd (m has x's shape with those dims set to 1).</summary>
    static void ReduceMax(Tensor x, int[] nd, Tensor m)
    {
        // One dim at a time: the max over several dims is the max of maxes.
        var cur = x.Detach();
        foreach (int d in nd)
        {
            var (outer, size, inner) = Indexing.Split(cur.ShapeSpan, d);
            var shape = cur.Shape; shape[d] = 1;
            var next = new Tensor(shape);
            var cs = cur.Data; var ns = next.Data;
            ns.Fill(float.NegativeInfinity);
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < size; k++)
                    for (int i = 0; i < inner; i++)
                        ns[o * inner + i] = MathF.Max(ns[o * inner + i], cs[(o * size + k) * inner + i]);
            cur = next;
        }
        cur.Data.CopyTo(m.Data);
    }

    protected internal override Tensor?[] Backward(Tensor g) =>
        [g.Reshape(kept) * (Inputs[0] - _y!.Reshape(kept)).Exp()];

    protected internal override void ReleaseSaved() => _y = null;
}

// y = (sum |x|^p)^(1/p) over dims; dx = g * sign(x) |x|^(p-1) / y^(p-1), 0 where y = 0 (as PyTorch)
internal sealed class Norm(float p, int[] kept) : Function
{
    Tensor? _y;

    public static Tensor Apply(Tensor x, float p, int[] dims, bool keepDim)
    {
        if (!(p >= 1f) || float.IsInfinity(p))
            throw new ArgumentException($"Norm: p must be finite and >= 1, got {p} for input {Shapes.Format(x.ShapeSpan)}");
        var nd = Shapes.NormalizeDims(dims, x.Rank, "Norm");
        var kept = x.Shape;
        foreach (int d in nd) kept[d] = 1;
        // |x|^p into scratch from the pool (a gradient penalty's norm runs over a whole batch of images every step)
        var powered = StoragePool.Rent(x.Numel);
        var xs = x.Data;
        if (p == 2f) TensorPrimitives.Multiply(xs, xs, powered);
        else if (p == 1f) TensorPrimitives.Abs(xs, powered);
        else for (int i = 0; i < xs.Length; i++) powered[i] = MathF.Pow(MathF.Abs(xs[i]), p);
        var y = new Tensor(kept);
        Reduce.Sum(powered, x.ShapeSpan, nd, y.Data);
        StoragePool.Return(powered);
        var ys = y.Data;
        for (int i = 0; i < ys.Length; i++) ys[i] = p == 1f ? ys[i] : p == 2f ? MathF.Sqrt(ys[i]) : MathF.Pow(ys[i], 1f / p);
        if (!keepDim) y = new Tensor(y.Storage, kept.Where((_, i) => !nd.Contains(i)).ToArray());
        var fn = new Norm(p, kept);
        Record(fn, y, x);
        fn._y = y;
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var gk = g.Reshape(kept);
        if (p == 1f) return [gk * x.Sign()];
        var y = _y!.Reshape(kept);
        // Where the norm is 0 so is every |x|^(p-1): dividing by y + [y == 0] keeps the gradient at 0
        // without a 0/0 that would poison higher derivatives.
        var zero = y.Detach().Eq(0f);
        var safeY = y + zero;
        if (p == 2f)
        {
            var scaled = gk * x;
            var dx = scaled / safeY;
            // Without a graph the product is read by nothing but the division.
            if (!GradMode.IsEnabled) StoragePool.Return(scaled.Storage);
            return [dx];
        }
        return [gk * x.Sign() * x.Abs().Pow(p - 1f) / safeY.Pow(p - 1f)];
    }

    protected internal override void ReleaseSaved() => _y = null;
}
