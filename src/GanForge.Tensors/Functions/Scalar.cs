using System.Numerics.Tensors;

namespace GanForge.Functions;

// y = x + s; dx = g
internal sealed class AddScalar : Function
{
    public static Tensor Apply(Tensor x, float s)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Add(x.Data, s, y.Data);
        return Record(new AddScalar(), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [g];
}

// y = x * s; dx = g * s
internal sealed class MulScalar(float s) : Function
{
    public static Tensor Apply(Tensor x, float s)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Multiply(x.Data, s, y.Data);
        return Record(new MulScalar(s), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [g * s];
}

// y = x ^ p; dx = g * p * x^(p-1)
internal sealed class PowScalar(float p) : Function
{
    public static Tensor Apply(Tensor x, float p)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        if (p == 2f) TensorPrimitives.Multiply(x.Data, x.Data, y.Data);
        else TensorPrimitives.Pow(x.Data, p, y.Data);
        return Record(new PowScalar(p), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (GradMode.IsEnabled) return [p == 2f ? g * x * 2f : g * x.Pow(p - 1f) * p];
        // Without a graph: the same products in the same order, in one new buffer instead of three.
        var dx = p == 2f ? g * x : x.Pow(p - 1f);
        if (p == 2f) TensorPrimitives.Multiply(dx.Data, 2f, dx.Data);
        else
        {
            TensorPrimitives.Multiply(g.Data, dx.Data, dx.Data);
            TensorPrimitives.Multiply(dx.Data, p, dx.Data);
        }
        return [dx];
    }
}

// y = -x; dx = -g
internal sealed class Neg : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Negate(x.Data, y.Data);
        return Record(new Neg(), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [-g];
}
