using System.Numerics;
using System.Runtime.InteropServices;

namespace GanForge.Kernels;

/// <summary>
/// One Adam update of a parameter in a single pass (no AMSGrad), element by element in the same
/// order of float operations as the multi-pass form, split across threads when large.
/// p, g, m, v: (numel).
/// Vector.FusedMultiplyAdd and TensorPrimitives.FusedMultiplyAdd both round once, so results match the reference bit for bit
/// where the hardware has FMA.
/// </summary>
public static class AdamStep
{
    const int ParallelThreshold = 1 << 16;

    /// <summary>
    /// g' = g + wd·p; m = β1·m + c1·g'; v = β2·v + (c2·g')·g'; p += (-stepSize·m) / (√v / bc2 + eps),
    /// with c1 = 1-β1 and c2 = 1-β2 as the caller rounds them.
    /// </summary>
    public static unsafe void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2,
        float c1, float c2, float weightDecay, float stepSize, float biasCorrection2Sqrt, float eps)
    {
        int count = p.Length;
        if (count < ParallelThreshold || Threading.Threads == 1)
        {
            Range(p, g, m, v, beta1, beta2, c1, c2, weightDecay, stepSize, biasCorrection2Sqrt, eps);
            return;
        }
        fixed (float* pp = p, pg = g, pm = m, pv = v)
            Parallel((nint)pp, (nint)pg, (nint)pm, (nint)pv, count, beta1, beta2, c1, c2, weightDecay, stepSize, biasCorrection2Sqrt, eps);
    }

    // Separate from Update so that the closure is allocated only when the update is split (the
    // optimizer's small steps stay allocation-free).
    static unsafe void Parallel(nint P, nint G, nint M, nint V, int count, float beta1, float beta2,
        float c1, float c2, float weightDecay, float stepSize, float biasCorrection2Sqrt, float eps) =>
        Threading.ForRanges(count, (_, s, e) =>
            Range(new Span<float>((float*)P + s, e - s), new ReadOnlySpan<float>((float*)G + s, e - s),
                new Span<float>((float*)M + s, e - s), new Span<float>((float*)V + s, e - s),
                beta1, beta2, c1, c2, weightDecay, stepSize, biasCorrection2Sqrt, eps),
            ParallelThreshold / 2);

    /// <summary>The multi-pass reference (the form Adam used before, one TensorPrimitives call per step).</summary>
    public static void UpdateNaive(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2,
        float c1, float c2, float weightDecay, float stepSize, float biasCorrection2Sqrt, float eps)
    {
        var gg = g.ToArray(); var tmp = new float[p.Length]; var denom = new float[p.Length];
        if (weightDecay != 0) System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(p, weightDecay, gg, gg);
        System.Numerics.Tensors.TensorPrimitives.Multiply(m, beta1, m);
        System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(gg, c1, m, m);
        System.Numerics.Tensors.TensorPrimitives.Multiply(v, beta2, v);
        System.Numerics.Tensors.TensorPrimitives.Multiply(gg, c2, tmp);
        System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(tmp, gg, v, v);
        System.Numerics.Tensors.TensorPrimitives.Sqrt(v, denom);
        System.Numerics.Tensors.TensorPrimitives.Divide(denom, biasCorrection2Sqrt, denom);
        System.Numerics.Tensors.TensorPrimitives.Add(denom, eps, denom);
        System.Numerics.Tensors.TensorPrimitives.Multiply(m, -stepSize, tmp);
        System.Numerics.Tensors.TensorPrimitives.Divide(tmp, denom, tmp);
        System.Numerics.Tensors.TensorPrimitives.Add(p, tmp, p);
    }

    /// <summary>One step's scalars, as <see cref="Update"/> takes them, for kernels that apply the step where they make the gradient.</summary>
    public readonly record struct Scalars(float Beta1, float Beta2, float C1, float C2, float WeightDecay, float StepSize,
        float BiasCorrection2Sqrt, float Eps);

    /// <summary>The step on a run of weights, given their gradient, on the calling thread.</summary>
    internal static void Range(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in Scalars s) =>
        Range(p, g, m, v, s.Beta1, s.Beta2, s.C1, s.C2, s.WeightDecay, s.StepSize, s.BiasCorrection2Sqrt, s.Eps);

    static void Range(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2,
        float cm, float cv, float wd, float stepSize, float bc2, float eps)
    {
        ref float pr = ref MemoryMarshal.GetReference(p);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        int i = 0, w = Vector<float>.Count;
        Vector<float> b1 = new(beta1), b2 = new(beta2), c1 = new(cm), c2 = new(cv), vwd = new(wd),
            vbc2 = new(bc2), veps = new(eps), vstep = new(-stepSize);
        for (; i <= p.Length - w; i += w)
        {
            var pv = Vector.LoadUnsafe(ref pr, (nuint)i);
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            if (wd != 0f) gv = Vector.FusedMultiplyAdd(pv, vwd, gv);
            var mv = Vector.FusedMultiplyAdd(gv, c1, Vector.LoadUnsafe(ref mr, (nuint)i) * b1);
            var vv = Vector.FusedMultiplyAdd(gv * c2, gv, Vector.LoadUnsafe(ref vr, (nuint)i) * b2);
            var denom = Vector.SquareRoot(vv) / vbc2 + veps;
            mv.StoreUnsafe(ref mr, (nuint)i);
            vv.StoreUnsafe(ref vr, (nuint)i);
            (pv + mv * vstep / denom).StoreUnsafe(ref pr, (nuint)i);
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i];
            if (wd != 0f) gi = MathF.FusedMultiplyAdd(p[i], wd, gi);
            m[i] = MathF.FusedMultiplyAdd(gi, cm, m[i] * beta1);
            v[i] = MathF.FusedMultiplyAdd(gi * cv, gi, v[i] * beta2);
            p[i] += m[i] * -stepSize / (MathF.Sqrt(v[i]) / bc2 + eps);
        }
    }
}
