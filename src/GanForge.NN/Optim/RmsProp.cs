using System.Numerics.Tensors;

namespace GanForge.Optim;

/// <summary>RMSprop (Hinton's lecture 6e) with optional centering and momentum, as torch.optim.RMSprop.</summary>
/// <remarks>
/// g = ±grad + wd·p; s = α·s + (1-α)·g²; centered: ḡ = α·ḡ + (1-α)·g, a = √(s - ḡ²) + eps, else a = √s + eps;
/// momentum: buf = μ·buf + g/a, p = p - lr·buf; otherwise p = p - lr·g/a.
/// </remarks>
public sealed class RmsProp : Optimizer
{
    /// <summary>Creates RMSprop over <paramref name="parameters"/> (one group).</summary>
    public RmsProp(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(parameters, lr, new RmsPropOptions(alpha, eps, weightDecay, momentum, centered, maximize)) { }

    public override string TypeName => "RMSprop";

    protected override void Validate(OptimizerOptions options)
    {
        var o = (RmsPropOptions)options;
        if (!(o.Alpha >= 0)) throw new ArgumentException($"RMSprop: invalid alpha {o.Alpha} (expected >= 0)");
        if (!(o.Eps >= 0)) throw new ArgumentException($"RMSprop: invalid eps {o.Eps} (expected >= 0)");
        if (!(o.Momentum >= 0)) throw new ArgumentException($"RMSprop: invalid momentum {o.Momentum} (expected >= 0)");
        if (!(o.WeightDecay >= 0)) throw new ArgumentException($"RMSprop: invalid weight_decay {o.WeightDecay} (expected >= 0)");
    }

    protected override void Update(ParamGroup group, Tensor param, ReadOnlySpan<float> grad, ParamState state)
    {
        var o = (RmsPropOptions)group.Options;
        var p = param.Data;
        var g = Scratch(0, p.Length);
        var tmp = Scratch(1, p.Length);
        var avg = Scratch(2, p.Length);
        var square = state.Buffer("square_avg", param);
        state.Step++;

        if (o.Maximize) TensorPrimitives.Negate(grad, g); else grad.CopyTo(g);
        if (o.WeightDecay != 0) TensorPrimitives.FusedMultiplyAdd(p, (float)o.WeightDecay, g, g);

        TensorPrimitives.Multiply(square, (float)o.Alpha, square);
        TensorPrimitives.Multiply(g, (float)(1 - o.Alpha), tmp);
        TensorPrimitives.FusedMultiplyAdd(tmp, g, square, square);

        if (o.Centered)
        {
            var gradAvg = state.Buffer("grad_avg", param);
            TensorPrimitives.Multiply(gradAvg, (float)o.Alpha, gradAvg);
            TensorPrimitives.FusedMultiplyAdd(g, (float)(1 - o.Alpha), gradAvg, gradAvg);
            TensorPrimitives.Negate(gradAvg, tmp);
            TensorPrimitives.FusedMultiplyAdd(tmp, gradAvg, square, avg);
            TensorPrimitives.Sqrt(avg, avg);
        }
        else TensorPrimitives.Sqrt(square, avg);
        TensorPrimitives.Add(avg, (float)o.Eps, avg);

        if (o.Momentum > 0)
        {
            var buf = state.Buffer("momentum_buffer", param);
            TensorPrimitives.Multiply(buf, (float)o.Momentum, buf);
            TensorPrimitives.Divide(g, avg, tmp);
            TensorPrimitives.Add(buf, tmp, buf);
            TensorPrimitives.FusedMultiplyAdd(buf, (float)-group.Lr, p, p);
        }
        else
        {
            TensorPrimitives.Multiply(g, (float)-group.Lr, tmp);
            TensorPrimitives.Divide(tmp, avg, tmp);
            TensorPrimitives.Add(p, tmp, p);
        }
    }
}
