using System.Numerics.Tensors;

namespace GanForge.Functions;

// y = exp(x); dx = g * y
internal sealed class Exp : Function
{
    Tensor? _y;
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.Transcendental.Exp(x.Data, y.Data);
        var fn = new Exp();
        Record(fn, y, x);
        fn._y = y;
        return y;
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g * _y!];
    protected internal override void ReleaseSaved() => _y = null;
}

// y = log(x); dx = g / x
internal sealed class Log : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Log(x.Data, y.Data);
        return Record(new Log(), y, x);
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g / Inputs[0]];
}

// y = sqrt(x); dx = g / (2 y)
internal sealed class Sqrt : Function
{
    Tensor? _y;
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Sqrt(x.Data, y.Data);
        var fn = new Sqrt();
        Record(fn, y, x);
        fn._y = y;
        return y;
    }
    protected internal override Tensor?[] Backward(Tensor g)
    {
        if (GradMode.IsEnabled) return [g / (_y! * 2f)];
        // Without a graph: the same operations into one new buffer instead of two.
        var dx = _y! * 2f;
        TensorPrimitives.Divide(g.Data, dx.Data, dx.Data);
        return [dx];
    }
    protected internal override void ReleaseSaved() => _y = null;
}

// y = tanh(x); dx = g * (1 - y^2)
internal sealed class Tanh : Function
{
    Tensor? _y;
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.Transcendental.Tanh(x.Storage, y.Storage, x.Numel);
        var fn = new Tanh();
        Record(fn, y, x);
        fn._y = y;
        return y;
    }
    protected internal override Tensor?[] Backward(Tensor g)
    {
        if (GradMode.IsEnabled) return [g * (1f - _y! * _y!)];
        var dx = Tensor.Uninitialized(g.ShapeSpan);
        Kernels.Transcendental.TanhBackward(_y!.Storage, g.Storage, dx.Storage, g.Numel);
        return [dx];
    }
    protected internal override void ReleaseSaved() => _y = null;
}

// y = 1 / (1 + exp(-x)); dx = g * y * (1 - y)
internal sealed class Sigmoid : Function
{
    Tensor? _y;
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Sigmoid(x.Data, y.Data);
        var fn = new Sigmoid();
        Record(fn, y, x);
        fn._y = y;
        return y;
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g * _y! * (1f - _y!)];
    protected internal override void ReleaseSaved() => _y = null;
}

// y = x > 0 ? x : slope * x (ReLU when slope = 0); dx = g * (x > 0 ? 1 : slope)
internal sealed class LeakyRelu(float slope, float gain) : Function
{
    public static Tensor Apply(Tensor x, float slope, float gain = 1f)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.Activation.LeakyRelu(x.Storage, y.Storage, x.Numel, slope, gain);
        return Record(new LeakyRelu(slope, gain), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (!GradMode.IsEnabled)
        {
            var dx = Tensor.Uninitialized(x.ShapeSpan);
            Kernels.Activation.LeakyReluBackward(x.Storage, g.Storage, dx.Storage, x.Numel, slope, gain);
            return [dx];
        }
        return [LeakyReluGrad.Apply(x, g, slope, gain)];
    }

    /// <summary>
    /// The derivative of gain·LeakyReLU at x, gain where x &gt; 0 and gain·slope elsewhere, as a constant tensor: its own
    /// derivative is zero almost everywhere, so a backward with a graph multiplies by it.
    /// </summary>
    internal static Tensor Mask(Tensor x, float slope, float gain)
    {
        var mask = Tensor.Uninitialized(x.ShapeSpan);
        var xs = x.Data; var m = mask.Data;
        float pos = gain, neg = slope * gain;
        for (int i = 0; i < m.Length; i++) m[i] = xs[i] > 0f ? pos : neg;
        return mask;
    }
}

// dx = g·(gain where x > 0, else gain·slope): LeakyReLU's gradient as an op of g, x a constant (the slope's derivative in
// x is zero almost everywhere). Linear in g with the same mask, so its own backward is itself: gradients of any order
// (a gradient penalty's) run the one kernel pass, where g times a mask tensor was a scalar pass and a product.
internal sealed class LeakyReluGrad(Tensor x, float slope, float gain) : Function
{
    public static Tensor Apply(Tensor x, Tensor g, float slope, float gain)
    {
        var dx = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.Activation.LeakyReluBackward(x.Storage, g.Storage, dx.Storage, x.Numel, slope, gain);
        return Record(new LeakyReluGrad(x, slope, gain), dx, g);
    }

    protected internal override Tensor?[] Backward(Tensor u) => [Apply(x, u, slope, gain)];
}

// y = |x|; dx = g * sign(x)
internal sealed class Abs : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Abs(x.Data, y.Data);
        return Record(new Abs(), y, x);
    }
    protected internal override Tensor?[] Backward(Tensor g)
    {
        var sign = Inputs[0].Sign();
        var dx = g * sign;
        Intermediates.Release(sign, dx);   // read by the product alone: back after its node's backward, or at once
        return [dx];
    }
}
