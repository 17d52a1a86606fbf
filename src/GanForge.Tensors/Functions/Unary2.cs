using System.Numerics.Tensors;
using GanForge.Kernels;

namespace GanForge.Functions;

// y = sin(x); dx = g * cos(x)
internal sealed class Sin : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Sin(x.Data, y.Data);
        return Record(new Sin(), y, x);
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g * Inputs[0].Cos()];
}

// y = cos(x); dx = -g * sin(x)
internal sealed class Cos : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Cos(x.Data, y.Data);
        return Record(new Cos(), y, x);
    }
    protected internal override Tensor?[] Backward(Tensor g) => [-g * Inputs[0].Sin()];
}

// y = 1 / sqrt(x); dx = -g * y^3 / 2
internal sealed class Rsqrt : Function
{
    Tensor? _y;
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.ReciprocalSqrt(x.Data, y.Data);
        var fn = new Rsqrt();
        Record(fn, y, x);
        fn._y = y;
        return y;
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g * _y!.Pow(3f) * -0.5f];
    protected internal override void ReleaseSaved() => _y = null;
}

// y = 1 / x; dx = -g * y^2
internal sealed class Reciprocal : Function
{
    Tensor? _y;
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Reciprocal(x.Data, y.Data);
        var fn = new Reciprocal();
        Record(fn, y, x);
        fn._y = y;
        return y;
    }
    protected internal override Tensor?[] Backward(Tensor g) => [-g * _y! * _y!];
    protected internal override void ReleaseSaved() => _y = null;
}

// y = log(1 + x); dx = g / (1 + x)
internal sealed class Log1p : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.LogP1(x.Data, y.Data);
        return Record(new Log1p(), y, x);
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g / (Inputs[0] + 1f)];
}

// y = a ^ b (broadcast); da = g * b * a^(b-1) (0 where b = 0), db = g * y * log(a) (0 where a = 0 and b >= 0)
internal sealed class Pow : Function
{
    public static Tensor Apply(Tensor a, Tensor b) => Record(new Pow(), Binary.Forward<PowOp>(a, b, "Pow"), a, b);

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        Tensor? da = null, db = null;
        if (NeedsGrad(0))
        {
            // The masks are constants of the inputs, as in PyTorch's pow_backward.
            var bZero = b.Eq(0f);
            da = Tensor.Where(bZero, Tensor.Scalar(0f), g * b * Apply(a, b - 1f)).SumTo(a.ShapeSpan);
        }
        if (NeedsGrad(1))
        {
            var shape = Shapes.Broadcast(a.ShapeSpan, b.ShapeSpan, "Pow");
            var skip = new Tensor(shape);
            var aZero = a.Eq(0f); var bNonNeg = b.Ge(0f);
            Elementwise.Binary<MulOp>(aZero.Data, aZero.ShapeSpan, bNonNeg.Data, bNonNeg.ShapeSpan, skip.Data, shape);
            // log(a) is only taken where it is used, so a = 0 does not leak NaN through the mask.
            var safeA = Tensor.Where(aZero, Tensor.Scalar(1f), a);
            db = Tensor.Where(skip, Tensor.Scalar(0f), g * Apply(a, b) * safeA.Log()).SumTo(b.ShapeSpan);
        }
        return [da, db];
    }
}
