using System.Numerics.Tensors;
using GanForge.Functions;

namespace GanForge;

public sealed partial class Tensor
{
    public Tensor Add(Tensor other) => Functions.Add.Apply(this, other);
    public Tensor Sub(Tensor other) => Functions.Sub.Apply(this, other);
    public Tensor Mul(Tensor other) => Functions.Mul.Apply(this, other);
    public Tensor Div(Tensor other) => Functions.Div.Apply(this, other);
    public Tensor Neg() => Functions.Neg.Apply(this);
    public Tensor Pow(float exponent) => Functions.PowScalar.Apply(this, exponent);
    public Tensor Square() => Functions.PowScalar.Apply(this, 2f);
    public Tensor Exp() => Functions.Exp.Apply(this);
    public Tensor Log() => Functions.Log.Apply(this);
    public Tensor Sqrt() => Functions.Sqrt.Apply(this);
    public Tensor Tanh() => Functions.Tanh.Apply(this);
    public Tensor Sigmoid() => Functions.Sigmoid.Apply(this);
    public Tensor Relu() => Functions.LeakyRelu.Apply(this, 0f);
    public Tensor LeakyRelu(float negativeSlope = 0.01f) => Functions.LeakyRelu.Apply(this, negativeSlope);
    /// <summary>
    /// PReLU in one pass, forward and backward: x for x &gt; 0, else a·x, with <paramref name="weight"/> (1) one slope for
    /// all, or (C) one per channel of dimension 1; differentiable in both, to any order.
    /// </summary>
    public Tensor PRelu(Tensor weight) => Functions.PRelu.Apply(this, weight);
    /// <summary>
    /// StyleGAN2's layer epilogue in one pass, forward and backward: gain·LeakyReLU(y·scale[n,c] + strength[c]·noise + bias[c])
    /// for y (N,C,H,W), the demodulation scale (N,C), the noise strength (C), the noise (N,1,H,W) or (1,1,H,W), a constant
    /// (no gradient flows to it), and the bias (C). Equal to the composition of those ops, derivatives of any order included.
    /// With <paramref name="overwriteY"/>, where no graph is recorded, the result is y itself, overwritten (for a caller
    /// that owns y and reads it no more: one map of the layer's size fewer at once).
    /// </summary>
    public static Tensor StyleEpilogue(Tensor y, Tensor scale, Tensor strength, Tensor noise, Tensor bias, float negativeSlope, float gain,
        bool overwriteY = false) =>
        Functions.StyleEpilogue.Apply(y, scale, strength, noise, bias, negativeSlope, gain, overwriteY);

    /// <summary>gain · LeakyReLU(x) in one pass, forward and backward (StyleGAN's activation: slope 0.2, gain sqrt 2).</summary>
    public Tensor LeakyRelu(float negativeSlope, float gain) => Functions.LeakyRelu.Apply(this, negativeSlope, gain);
    public Tensor Abs() => Functions.Abs.Apply(this);

    /// <summary>-1, 0 or 1 per element; not differentiable (its gradient is zero).</summary>
    public Tensor Sign()
    {
        var y = new Tensor(Shape);
        var x = Data; var d = y.Data;
        for (int i = 0; i < x.Length; i++) d[i] = x[i] > 0 ? 1f : x[i] < 0 ? -1f : 0f;
        return y;
    }

    // In-place updates on raw data (outside autograd), for optimizers and initialisers.

    /// <summary>this += alpha * other, in place, outside autograd.</summary>
    public Tensor AddInPlace(Tensor other, float alpha = 1f)
    {
        CheckSameShape(other, "AddInPlace");
        TensorPrimitives.MultiplyAdd(other.Data, alpha, Data, Data);
        return this;
    }

    /// <summary>this *= s, in place, outside autograd.</summary>
    public Tensor MulInPlace(float s)
    {
        TensorPrimitives.Multiply(Data, s, Data);
        return this;
    }

    /// <summary>Fills with a value, in place, outside autograd.</summary>
    public Tensor Fill(float value) { Data.Fill(value); return this; }

    /// <summary>Sets every element to zero, in place, outside autograd.</summary>
    public Tensor Zero() { Data.Clear(); return this; }

    /// <summary>Copies the values of <paramref name="source"/> in place, outside autograd.</summary>
    public Tensor CopyFrom(Tensor source)
    {
        CheckSameShape(source, "CopyFrom");
        source.Data.CopyTo(Data);
        return this;
    }

    internal void CheckSameShape(Tensor other, string op)
    {
        if (!ShapeSpan.SequenceEqual(other.ShapeSpan))
            throw new ArgumentException($"{op}: shapes {Shapes.Format(ShapeSpan)} and {Shapes.Format(other.ShapeSpan)} differ");
    }
}
