using System.Numerics.Tensors;

namespace GanForge.Optim;

/// <summary>Gradient clipping (as torch.nn.utils.clip_grad_norm_ and clip_grad_value_).</summary>
public static class Clip
{
    /// <summary>
    /// Scales all gradients together so that their joint norm is at most <paramref name="maxNorm"/>, and
    /// returns the norm before clipping. Parameters without a gradient are ignored.
    /// </summary>
    /// <remarks>
    /// total = ‖(‖g₁‖ₚ, …, ‖gₙ‖ₚ)‖ₚ (max |g| for p = ∞); every gradient is multiplied by
    /// min(1, maxNorm / (total + 1e-6)) in float32, as PyTorch does (including the multiply by 1).
    /// </remarks>
    /// <param name="parameters">The tensors whose gradients are clipped.</param>
    /// <param name="maxNorm">The most the joint norm may be after clipping.</param>
    /// <param name="normType">p of the norm: any p &gt; 0, or <see cref="double.PositiveInfinity"/>.</param>
    /// <param name="errorIfNonfinite">Throw instead of clipping when the total norm is NaN or infinite.</param>
    public static float GradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false)
    {
        if (!(normType > 0))
            throw new ArgumentException($"Clip.GradNorm: norm type must be positive or infinity, got {normType}");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0f;

        float total;
        if (double.IsPositiveInfinity(normType))
            total = grads.Max(g => g.Numel == 0 ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(g.Data)));
        else
        {
            // As PyTorch: each gradient's norm is a float32 result, then the norm of those norms.
            var norms = grads.Select(g => PNorm(g.Data, normType)).ToArray();
            total = PNorm(norms, normType);
        }
        if (errorIfNonfinite && !float.IsFinite(total))
            throw new InvalidOperationException($"Clip.GradNorm: the total norm of order {normType} of {grads.Count} gradients is non-finite ({total})");

        float coef = (float)maxNorm / (total + 1e-6f);
        coef = MathF.Min(coef, 1f);
        foreach (var g in grads) TensorPrimitives.Multiply(g.Data, coef, g.Data);
        return total;
    }

    /// <summary>The p-norm of one gradient, accumulated in double and rounded to float as a float32 tensor result.</summary>
    static float PNorm(ReadOnlySpan<float> x, double p)
    {
        double acc = 0;
        if (p == 2) { foreach (float v in x) acc += (double)v * v; return (float)Math.Sqrt(acc); }
        if (p == 1) { foreach (float v in x) acc += Math.Abs(v); return (float)acc; }
        foreach (float v in x) acc += Math.Pow(Math.Abs(v), p);
        return (float)Math.Pow(acc, 1 / p);
    }

    /// <summary>Clamps every gradient element to [-clipValue, clipValue] in place.</summary>
    public static void GradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        if (!(clipValue >= 0))
            throw new ArgumentException($"Clip.GradValue: clip value must be >= 0, got {clipValue}");
        float c = (float)clipValue;
        foreach (var p in parameters)
        {
            if (p.Grad is not { } g) continue;
            var d = g.Data;
            TensorPrimitives.Min(d, c, d);
            TensorPrimitives.Max(d, -c, d);
        }
    }
}
