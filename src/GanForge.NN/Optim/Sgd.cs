using System.Numerics.Tensors;

namespace GanForge.Optim;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay (as torch.optim.SGD).</summary>
/// <remarks>
/// g = ±grad + wd·p; buf = g on the first step, then buf = momentum·buf + (1 - dampening)·g;
/// d = nesterov ? g + momentum·buf : buf (or g without momentum); p = p - lr·d.
/// </remarks>
public sealed class Sgd : Optimizer
{
    /// <summary>Creates SGD over <paramref name="parameters"/> (one group).</summary>
    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0,
        bool nesterov = false, double weightDecay = 0, bool maximize = false)
        : base(parameters, lr, new SgdOptions(momentum, dampening, nesterov, weightDecay, maximize)) { }

    public override string TypeName => "SGD";

    protected override void Validate(OptimizerOptions options)
    {
        var o = (SgdOptions)options;
        if (!(o.Momentum >= 0)) throw new ArgumentException($"SGD: invalid momentum {o.Momentum} (expected >= 0)");
        if (!(o.WeightDecay >= 0)) throw new ArgumentException($"SGD: invalid weight_decay {o.WeightDecay} (expected >= 0)");
        if (o.Nesterov && (o.Momentum <= 0 || o.Dampening != 0))
            throw new ArgumentException($"SGD: nesterov needs momentum > 0 and dampening = 0 (got momentum {o.Momentum}, dampening {o.Dampening})");
    }

    protected override void Update(ParamGroup group, Tensor param, ReadOnlySpan<float> grad, ParamState state)
    {
        var o = (SgdOptions)group.Options;
        var p = param.Data;
        var d = Scratch(0, p.Length);
        if (o.Maximize) TensorPrimitives.Negate(grad, d); else grad.CopyTo(d);
        if (o.WeightDecay != 0) TensorPrimitives.FusedMultiplyAdd(p, (float)o.WeightDecay, d, d);
        if (o.Momentum != 0)
        {
            bool first = !state.Buffers.ContainsKey("momentum_buffer");
            var buf = state.Buffer("momentum_buffer", param);
            if (first) d.CopyTo(buf);
            else
            {
                TensorPrimitives.Multiply(buf, (float)o.Momentum, buf);
                TensorPrimitives.FusedMultiplyAdd(d, (float)(1 - o.Dampening), buf, buf);
            }
            if (o.Nesterov) TensorPrimitives.FusedMultiplyAdd(buf, (float)o.Momentum, d, d);
            else buf.CopyTo(d);
        }
        TensorPrimitives.FusedMultiplyAdd(d, (float)-group.Lr, p, p);
        state.Step++;
    }
}
