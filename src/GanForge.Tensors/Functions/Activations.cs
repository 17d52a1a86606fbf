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

// PReLU: y = x > 0 ? x : a·x with one slope a, or one a channel (dimension 1); dx = g·(x > 0 ? 1 : a), da = Σ g·x over
// x ≤ 0 (a channel's). Backward: one kernel pass without a graph; with one (a gradient of a gradient), the same
// derivatives written with differentiable ops.
internal sealed class PRelu(int channels, int inner) : Function
{
    public static Tensor Apply(Tensor x, Tensor weight)
    {
        var (channels, inner) = Check(x, weight);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.Activation.PRelu(x.Storage, weight.Storage, y.Storage, x.Numel, channels, inner);
        return Record(new PRelu(channels, inner), y, x, weight);
    }

    // The slopes (1, or C of x's dimension 1) and the elements a channel holds (the product of x's sizes after dimension 1).
    static (int Channels, int Inner) Check(Tensor x, Tensor weight)
    {
        int channels = weight.Rank == 1 ? weight.Size(0) : -1;
        if (channels != 1 && (channels < 1 || x.Rank < 2 || x.Size(1) != channels))
            throw new ArgumentException($"PRelu: weight {Shapes.Format(weight.ShapeSpan)} must hold one slope, or one per channel of the input " +
                $"{Shapes.Format(x.ShapeSpan)} (its dimension 1)");
        int inner = 1;
        for (int d = 2; d < x.Rank; d++) inner *= x.Size(d);
        return (channels, inner);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (x, weight) = (Inputs[0], Inputs[1]);
        if (!GradMode.IsEnabled)
        {
            var dx = Tensor.Uninitialized(x.ShapeSpan);
            var dWeight = new Tensor(channels);
            Kernels.Activation.PReluBackward(x.Storage, g.Storage, weight.Storage, dx.Storage, dWeight.Storage, x.Numel, channels, inner);
            if (!NeedsGrad(0)) { dx.ReturnToPool(); dx = null; }
            return [dx, NeedsGrad(1) ? dWeight : null];
        }
        var slope = channels == 1 ? weight : weight.Reshape([1, channels, .. Enumerable.Repeat(1, x.Rank - 2)]);
        var positive = LeakyRelu.Mask(x, 0f, 1f);        // 1 where x > 0, else 0: a constant
        var negative = 1f - positive;
        var gNegative = g * x * negative;
        return [NeedsGrad(0) ? g * (positive + negative * slope) : null,
                NeedsGrad(1) ? (channels == 1 ? gNegative.Sum().Reshape(1) : gNegative.Sum([0, .. Enumerable.Range(2, x.Rank - 2)])) : null];
    }
}

// y = x·scale[c] + shift[c] over x (N, C, *) with scale and shift constants: eval-mode batch norm by fixed statistics and
// frozen parameters, in the arithmetic its pass without a graph uses (Kernels.BatchNorm.Affine), so the two give the same
// bits. dx = g·scale[c], linear in g, so a gradient of any order runs the same pass.
internal sealed class ChannelAffine(float[] scale) : Function
{
    public static Tensor Apply(Tensor x, float[] scale, float[] shift)
    {
        if (x.Rank < 2 || x.Size(1) != scale.Length || shift.Length != scale.Length)
            throw new ArgumentException($"ChannelAffine: input {Shapes.Format(x.ShapeSpan)} needs one scale and one shift per channel (dimension 1), " +
                $"got {scale.Length} and {shift.Length}");
        int n = x.Size(0), c = x.Size(1), inner = x.Numel / Math.Max(n * c, 1);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.BatchNorm.Affine(x.Storage, y.Storage, n, c, inner, scale, shift);
        return Record(new ChannelAffine(scale), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [Apply(g, scale, new float[scale.Length])];
}
