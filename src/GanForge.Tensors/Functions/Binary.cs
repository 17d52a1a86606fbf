using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>Shared forward of broadcasting binary ops.</summary>
internal static class Binary
{
    public static Tensor Forward<TOp>(Tensor a, Tensor b, string op) where TOp : struct, IBinaryOp
    {
        var shape = Shapes.Broadcast(a.ShapeSpan, b.ShapeSpan, op);
        var y = new Tensor(shape);
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
        [NeedsGrad(0) ? g.SumTo(Inputs[0].ShapeSpan) : null, NeedsGrad(1) ? (-g).SumTo(Inputs[1].ShapeSpan) : null];
}

// y = a * b; da = g * b, db = g * a
internal sealed class Mul : Function
{
    public static Tensor Apply(Tensor a, Tensor b) => Record(new Mul(), Binary.Forward<MulOp>(a, b, "Mul"), a, b);

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        return [NeedsGrad(0) ? (g * b).SumTo(a.ShapeSpan) : null, NeedsGrad(1) ? (g * a).SumTo(b.ShapeSpan) : null];
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
                NeedsGrad(1) ? (-g * a / (b * b)).SumTo(b.ShapeSpan) : null];
    }
}
