using System.Numerics.Tensors;

namespace GanForge.Optim;

/// <summary>Adam (Kingma and Ba, 2015) with optional L2 weight decay and AMSGrad (as torch.optim.Adam).</summary>
/// <remarks>
/// g = ±grad + wd·p; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; v̂ = amsgrad ? max(v̂, v) : v;
/// p = p - (lr / (1-β1ᵗ)) · m / (√v̂ / √(1-β2ᵗ) + eps).
/// </remarks>
public class Adam : Optimizer
{
    /// <summary>Creates Adam over <paramref name="parameters"/> (one group).</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, maximize)) { }

    /// <summary>True for AdamW: weight decay shrinks the parameter instead of adding to the gradient.</summary>
    protected virtual bool DecoupledWeightDecay => false;

    protected override void Validate(OptimizerOptions options)
    {
        var o = (AdamOptions)options;
        if (!(o.Beta1 >= 0 && o.Beta1 < 1)) throw new ArgumentException($"{TypeName}: invalid beta1 {o.Beta1} (expected 0 <= beta1 < 1)");
        if (!(o.Beta2 >= 0 && o.Beta2 < 1)) throw new ArgumentException($"{TypeName}: invalid beta2 {o.Beta2} (expected 0 <= beta2 < 1)");
        if (!(o.Eps >= 0)) throw new ArgumentException($"{TypeName}: invalid eps {o.Eps} (expected >= 0)");
        if (!(o.WeightDecay >= 0)) throw new ArgumentException($"{TypeName}: invalid weight_decay {o.WeightDecay} (expected >= 0)");
    }

    // Whether a step is the one-pass kernel's (AdamStep): everything but AMSGrad, maximize and AdamW's decay.
    bool OnePass(AdamOptions o) => !o.Amsgrad && !o.Maximize && !DecoupledWeightDecay;

    // Step t's scalars as the kernels take them: the hyperparameters' arithmetic in double, each cast to float once.
    static Kernels.AdamStep.Scalars Scalars(AdamOptions o, double lr, long t) => new(
        (float)o.Beta1, (float)o.Beta2, (float)(1 - o.Beta1), (float)(1 - o.Beta2), (float)o.WeightDecay,
        (float)(lr / (1 - Math.Pow(o.Beta1, t))), (float)Math.Sqrt(1 - Math.Pow(o.Beta2, t)), (float)o.Eps);

    /// <summary>The one-pass step, applied in the product that makes a 2-D parameter's gradient where the kernel can.</summary>
    protected override FusedStep? FusedStepFor(ParamGroup group, Tensor param) =>
        param.Rank == 2 && OnePass((AdamOptions)group.Options) ? (_fused.TryGetValue(param, out var f) ? f : _fused[param] = new InProduct(this, group, param)) : null;

    readonly Dictionary<Tensor, InProduct> _fused = new(ReferenceEqualityComparer.Instance);

    sealed class InProduct(Adam adam, ParamGroup group, Tensor param) : FusedStep
    {
        public override bool TryStepWithProduct(bool transA, bool transB, int m, int n, int k, float alpha,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb)
        {
            if (m != param.Size(0) || n != param.Size(1))
                throw new ArgumentException($"Adam: a gradient of {m} x {n} for parameter {param.Name ?? ""}{Shapes.Format(param.ShapeSpan)}");
            var state = adam.StateOf(param);
            var s = Scalars((AdamOptions)group.Options, group.Lr, state.Step + 1);
            if (!Kernels.Gemm.TrySgemmAdam(transA, transB, m, n, k, alpha, a, lda, b, ldb, param.Data,
                    state.Buffer("exp_avg", param), state.Buffer("exp_avg_sq", param), s))
                return false;
            state.Step++;
            return true;
        }
    }

    protected override void Update(ParamGroup group, Tensor param, ReadOnlySpan<float> grad, ParamState state)
    {
        var o = (AdamOptions)group.Options;
        double lr = group.Lr;
        if (OnePass(o))
        {
            // One fused pass over p, grad, m and v instead of a dozen.
            var s = Scalars(o, lr, ++state.Step);
            Kernels.AdamStep.Update(param.Data, grad, state.Buffer("exp_avg", param), state.Buffer("exp_avg_sq", param),
                s.Beta1, s.Beta2, s.C1, s.C2, s.WeightDecay, s.StepSize, s.BiasCorrection2Sqrt, s.Eps);
            return;
        }
        var p = param.Data;
        var g = Scratch(0, p.Length);
        var tmp = Scratch(1, p.Length);
        var denom = Scratch(2, p.Length);
        var m = state.Buffer("exp_avg", param);
        var v = state.Buffer("exp_avg_sq", param);
        long step = ++state.Step;

        if (o.Maximize) TensorPrimitives.Negate(grad, g); else grad.CopyTo(g);
        if (DecoupledWeightDecay) TensorPrimitives.Multiply(p, (float)(1 - lr * o.WeightDecay), p);
        else if (o.WeightDecay != 0) TensorPrimitives.FusedMultiplyAdd(p, (float)o.WeightDecay, g, g);

        TensorPrimitives.Multiply(m, (float)o.Beta1, m);
        TensorPrimitives.FusedMultiplyAdd(g, (float)(1 - o.Beta1), m, m);
        // addcmul_: v + (value·g)·g, fused like the compiled scalar kernel of PyTorch on x86-64
        TensorPrimitives.Multiply(v, (float)o.Beta2, v);
        TensorPrimitives.Multiply(g, (float)(1 - o.Beta2), tmp);
        TensorPrimitives.FusedMultiplyAdd(tmp, g, v, v);

        double biasCorrection1 = 1 - Math.Pow(o.Beta1, step);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(o.Beta2, step));
        double stepSize = lr / biasCorrection1;
        Span<float> second = v;
        if (o.Amsgrad)
        {
            second = state.Buffer("max_exp_avg_sq", param);
            TensorPrimitives.Max(second, v, second);
        }
        TensorPrimitives.Sqrt(second, denom);
        TensorPrimitives.Divide(denom, (float)biasCorrection2Sqrt, denom);
        TensorPrimitives.Add(denom, (float)o.Eps, denom);
        // addcdiv_: p + (value·m)/denom
        TensorPrimitives.Multiply(m, (float)-stepSize, tmp);
        TensorPrimitives.Divide(tmp, denom, tmp);
        TensorPrimitives.Add(p, tmp, p);
    }
}

/// <summary>Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as torch.optim.AdamW.</summary>
/// <remarks>p = p·(1 - lr·wd) before the Adam update, which then sees the raw gradient.</remarks>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW over <paramref name="parameters"/> (one group); weight decay defaults to 0.01 as in PyTorch.</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    protected override bool DecoupledWeightDecay => true;
}
