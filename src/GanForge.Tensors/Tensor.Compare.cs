using GanForge.Kernels;

namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>1 where this == other, else 0 (broadcast; outside autograd).</summary>
    public Tensor Eq(Tensor other) => Compare<EqOp>(other, "Eq");
    /// <summary>1 where this != other, else 0 (broadcast; outside autograd).</summary>
    public Tensor Ne(Tensor other) => Compare<NeOp>(other, "Ne");
    /// <summary>1 where this &gt; other, else 0 (broadcast; outside autograd).</summary>
    public Tensor Gt(Tensor other) => Compare<GtOp>(other, "Gt");
    /// <summary>1 where this &gt;= other, else 0 (broadcast; outside autograd).</summary>
    public Tensor Ge(Tensor other) => Compare<GeOp>(other, "Ge");
    /// <summary>1 where this &lt; other, else 0 (broadcast; outside autograd).</summary>
    public Tensor Lt(Tensor other) => Compare<LtOp>(other, "Lt");
    /// <summary>1 where this &lt;= other, else 0 (broadcast; outside autograd).</summary>
    public Tensor Le(Tensor other) => Compare<LeOp>(other, "Le");

    public Tensor Eq(float value) => Compare<EqOp>(Scalar(value), "Eq");
    public Tensor Ne(float value) => Compare<NeOp>(Scalar(value), "Ne");
    public Tensor Gt(float value) => Compare<GtOp>(Scalar(value), "Gt");
    public Tensor Ge(float value) => Compare<GeOp>(Scalar(value), "Ge");
    public Tensor Lt(float value) => Compare<LtOp>(Scalar(value), "Lt");
    public Tensor Le(float value) => Compare<LeOp>(Scalar(value), "Le");

    Tensor Compare<TOp>(Tensor other, string op) where TOp : struct, IBinaryOp
    {
        var shape = Shapes.Broadcast(ShapeSpan, other.ShapeSpan, op);
        var y = new Tensor(shape);
        Elementwise.Binary<TOp>(Data, ShapeSpan, other.Data, other.ShapeSpan, y.Data, shape);
        return y;
    }

    /// <summary>
    /// <paramref name="a"/> where <paramref name="condition"/> is nonzero, else <paramref name="b"/>; all three broadcast
    /// (as torch.where). Differentiable in a and b.
    /// </summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => Functions.Where.Apply(condition, a, b);

    /// <summary>Limits every element to [min, max]; either bound may be omitted (as torch.clamp).</summary>
    /// <remarks>The gradient is passed where min &lt;= x &lt;= max, bounds included, as PyTorch does.</remarks>
    public Tensor Clamp(float? min = null, float? max = null) => Functions.Clamp.Apply(this, min, max);

    /// <summary>Elementwise maximum with broadcasting (as torch.maximum); ties split the gradient evenly.</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Functions.Extremum.Apply(a, b, max: true);

    /// <summary>Elementwise minimum with broadcasting (as torch.minimum); ties split the gradient evenly.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Functions.Extremum.Apply(a, b, max: false);
}
