using System.Numerics.Tensors;
using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>Shared forward of broadcasting binary ops.</summary>
internal static class Binary
{
    public static Tensor Forward<TOp>(Tensor a, Tensor b, string op) where TOp : struct, IBinaryOp
    {
        var shape = Shapes.Broadcast(a.ShapeSpan, b.ShapeSpan, op);
        var y = Tensor.Uninitialized(shape);   // every element is written
        Elementwise.Binary<TOp>(a.Data, a.ShapeSpan, b.Data, b.ShapeSpan, y.Data, shape);
        return y;
    }
}

// y = a + b (broadcast); da = sum_to(g), db = sum_to(g)
internal sealed class Add : Function
{
    public static Tensor Apply(Tensor a, Tensor b) => Record(new Add(), Binary.Forward<AddOp>(a, b, "Add"), a, b);

    protected internal override Tensor?[] Backward(Tensor g) =>
        [NeedsGrad(0) ? g.SumTo(Inputs[0].ShapeSpan) : null, NeedsGrad(1) ? g.SumTo(Inputs[1].ShapeSpan) : null];
}

// y = a - b; da = g, db = -g
internal sealed class Sub : Function
{
    public static Tensor Apply(Tensor a, Tensor b) => Record(new Sub(), Binary.Forward<SubOp>(a, b, "Sub"), a, b);

    protected internal override Tensor?[] Backward(Tensor g) =>
        [NeedsGrad(0) ? g.SumTo(Inputs[0].ShapeSpan) : null, NeedsGrad(1) ? NegatedSum(g, Inputs[1].ShapeSpan) : null];

    // -(Σg) is Σ(-g) bit for bit, without a negated copy of g where b was broadcast; the sum, where it is a new tensor,
    // goes back to the pool once negated (or, in a gradient's graph, once its node has run its backward)
    static Tensor NegatedSum(Tensor g, ReadOnlySpan<int> shape)
    {
        var sum = g.SumTo(shape);
        var negated = -sum;
        if (!sum.SharesBufferWith(g)) Intermediates.Release(sum, negated);
        return negated;
    }
}

// y = a * b; da = g * b, db = g * a
internal sealed class Mul : Function
{
    public static Tensor Apply(Tensor a, Tensor b) => Record(new Mul(), Binary.Forward<MulOp>(a, b, "Mul"), a, b);

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        return [NeedsGrad(0) ? ProductSumTo(g, b, a.ShapeSpan) : null, NeedsGrad(1) ? ProductSumTo(g, a, b.ShapeSpan) : null];
    }

    /// <summary>
    /// (g * other).SumTo(shape). Without a graph, where g and other have one shape and shape keeps its leading dims and
    /// sums the trailing ones (a per-channel scale's gradient: (N,C,H,W) to (N,C,1,1)), one dot product a row instead of
    /// the full-size product and a reduction over it.
    /// </summary>
    static Tensor ProductSumTo(Tensor g, Tensor other, ReadOnlySpan<int> shape)
    {
        if (GradMode.IsEnabled || !other.ShapeSpan.SequenceEqual(g.ShapeSpan) || !SumsTrailingDims(g.ShapeSpan, shape, out int rows))
            return (g * other).SumTo(shape);
        var y = Tensor.Uninitialized(shape);
        var (gs, os, ys) = (g.Storage, other.Storage, y.Storage);
        int inner = g.Numel / rows;
        Threading.ForRanges(rows, (_, r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                ys[r] = System.Numerics.Tensors.TensorPrimitives.Dot(gs.AsSpan(r * inner, inner), os.AsSpan(r * inner, inner));
        }, Math.Max(1, (1 << 14) / Math.Max(inner, 1)));
        return y;
    }

    // True when shape has the rank of full, equals it on dims [0, k) and is 1 on dims [k, rank) that full has larger
    // than 1 (some such dim, k >= 1); rows = the product of dims [0, k).
    static bool SumsTrailingDims(ReadOnlySpan<int> full, ReadOnlySpan<int> shape, out int rows)
    {
        rows = 1;
        if (shape.Length != full.Length) return false;
        int k = 0;
        while (k < full.Length && shape[k] == full[k]) rows *= shape[k++];
        if (k == 0 || k == full.Length) return false;
        for (int d = k; d < full.Length; d++)
            if (shape[d] != 1) return false;
        return true;
    }
}

// y = a / b; da = g / b, db = -g * a / b^2
internal sealed class Div : Function
{
    public static Tensor Apply(Tensor a, Tensor b) => Record(new Div(), Binary.Forward<DivOp>(a, b, "Div"), a, b);

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        return [NeedsGrad(0) ? (g / b).SumTo(a.ShapeSpan) : null,
                !NeedsGrad(1) ? null
                : !GradMode.IsEnabled && b.Numel == 1 && a.ShapeSpan.SequenceEqual(g.ShapeSpan) ? ScalarDivisorGradient(g, a, b)
                : (-g * a / (b * b)).SumTo(b.ShapeSpan)];
    }

    // -Σ g·a / b² for a divisor of one value (spectral norm's W / σ) without a graph: each term formed as the composition
    // above forms it ((-g)·a is -(g·a) exactly, and x / -y is -(x / y)), in one buffer from the pool and back, then
    // summed as its SumTo sums: the same bits. The composition made three maps of a's size a call, left to the GC
    // (sngan28: 4.3 MB a step, 6 ms of its 85).
    static Tensor ScalarDivisorGradient(Tensor g, Tensor a, Tensor b)
    {
        float square = b.Data[0] * b.Data[0];
        var terms = Tensor.Uninitialized(a.ShapeSpan);
        Elementwise.Binary<MulOp>(g.Data, g.ShapeSpan, a.Data, a.ShapeSpan, terms.Data, a.ShapeSpan);
        TensorPrimitives.Divide(terms.Data, -square, terms.Data);
        var sum = terms.SumTo(b.ShapeSpan);
        if (!ReferenceEquals(sum.Storage, terms.Storage)) terms.ReturnToPool();   // a one-value a's sum is terms itself
        return sum;
    }
}
