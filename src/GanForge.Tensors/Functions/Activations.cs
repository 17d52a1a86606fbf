using System.Numerics.Tensors;

namespace GanForge.Functions;

/// <summary>Scalar maths the activations share (double precision where float loses the tail).</summary>
internal static class ActivationMath
{
    public const double InvSqrt2 = 0.70710678118654752440;
    public const double InvSqrt2Pi = 0.39894228040143267794;
    public const float TanhC = 0.7978845608028654f; // sqrt(2/pi)
    public const float TanhK = 0.044715f;

    /// <summary>
    /// Complementary error function with relative error below 1.2e-7 everywhere (a Chebyshev fit,
    /// Numerical Recipes' erfcc), so Phi(x) = erfc(-x/sqrt2)/2 stays accurate deep in the left tail.
    /// </summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2.0 - r;
    }

    /// <summary>Standard normal CDF.</summary>
    public static double Phi(double x) => 0.5 * Erfc(-x * InvSqrt2);
}

// exact: y = x * Phi(x); dx = g * (Phi(x) + x * phi(x))
// tanh:  y = 0.5 x (1 + tanh(u)), u = c (x + k x^3); dx = g * (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2))
internal sealed class Gelu(bool tanhApproximation) : Function
{
    public static Tensor Apply(Tensor x, bool tanhApproximation)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        var xs = x.Data; var ys = y.Data;
        if (tanhApproximation)
            for (int i = 0; i < xs.Length; i++)
            {
                float v = xs[i];
                ys[i] = 0.5f * v * (1f + MathF.Tanh(ActivationMath.TanhC * (v + ActivationMath.TanhK * v * v * v)));
            }
        else
            Kernels.GeluKernel.Forward(x.Storage, y.Storage, x.Numel);
        var fn = new Gelu(tanhApproximation);
        Record(fn, y, x);
        if (!tanhApproximation) fn._y = y;
        return y;
    }

    // The exact form's output, from which the backward outside a graph reads Φ(x) = y/x.
    Tensor? _y;

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (!tanhApproximation && !GradMode.IsEnabled)
        {
            if (!Kernels.GeluKernel.BackwardReadsOutput) return [GeluDerivative.Times(x, g, Kernels.GeluKernel.Of.Derivative)];
            var dx = Tensor.Uninitialized(x.ShapeSpan);
            Kernels.GeluKernel.BackwardFromOutput(x.Storage, _y!.Storage, g.Storage, dx.Storage, x.Numel);
            return [dx];
        }
        if (!tanhApproximation)
        {
            // The derivative is read by the product alone: its buffer goes back after its own node's backward.
            var derivative = GeluDerivative.Apply(x);
            var dx = g * derivative;
            if (derivative.GradFn != null) derivative.RecycleAfterBackward = true;
            return [dx];
        }
        var t = ((x + x * x * x * ActivationMath.TanhK) * ActivationMath.TanhC).Tanh();
        var du = (x * x * (3f * ActivationMath.TanhK) + 1f) * ActivationMath.TanhC;
        return [g * ((t + 1f) * 0.5f + x * 0.5f * (1f - t * t) * du)];
    }

    protected internal override void ReleaseSaved() => _y = null;
}

// y = Phi(x) + x phi(x) (the exact GELU's derivative); dx = g * phi(x) * (2 - x^2)
internal sealed class GeluDerivative : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.GeluKernel.Derivative(x.Storage, y.Storage, x.Numel);
        return Record(new GeluDerivative(), y, x);
    }

    /// <summary>g·f(x) in one kernel pass, outside the graph (a backward's chain rule).</summary>
    internal static Tensor Times(Tensor x, Tensor g, Kernels.GeluKernel.Of f)
    {
        var dx = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.GeluKernel.Run(f, x.Storage, g.Storage, dx.Storage, x.Numel);
        return dx;
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (!GradMode.IsEnabled) return [Times(x, g, Kernels.GeluKernel.Of.Curvature)];
        var x2 = x * x;
        var pdf = (x2 * -0.5f).Exp() * (float)ActivationMath.InvSqrt2Pi;
        return [g * pdf * (2f - x2)];
    }
}

// y = x * sigmoid(x); dx = g * s * (1 + x (1 - s)), s = sigmoid(x)
internal sealed class Silu : Function
{
    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        TensorPrimitives.Sigmoid(x.Data, y.Data);
        TensorPrimitives.Multiply(x.Data, y.Data, y.Data);
        return Record(new Silu(), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        var s = x.Sigmoid();
        return [g * s * (x * (1f - s) + 1f)];
    }
}

// y = beta x > threshold ? x : log(1 + exp(beta x)) / beta; dx = g * (beta x > threshold ? 1 : sigmoid(beta x))
internal sealed class Softplus(float beta, float threshold) : Function
{
    public static Tensor Apply(Tensor x, float beta, float threshold)
    {
        var y = Tensor.Uninitialized(x.ShapeSpan);
        var xs = x.Data; var ys = y.Data;
        for (int i = 0; i < xs.Length; i++)
        {
            float bx = beta * xs[i];
            // log1p(exp(bx)) = max(bx, 0) + log1p(exp(-|bx|)) never overflows.
            ys[i] = bx > threshold ? xs[i] : (MathF.Max(bx, 0f) + (float)Math.Log(1.0 + Math.Exp(-Math.Abs((double)bx)))) / beta;
        }
        return Record(new Softplus(beta, threshold), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        // The branch mask is a constant of x; the linear branch has slope 1 and curvature 0.
        var linear = Tensor.Uninitialized(x.ShapeSpan);
        var xs = x.Data; var m = linear.Data;
        for (int i = 0; i < xs.Length; i++) m[i] = beta * xs[i] > threshold ? 1f : 0f;
        return [g * (linear + (1f - linear) * (x * beta).Sigmoid())];
    }
}
