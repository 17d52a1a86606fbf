using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

// Heads of one to four floats (TransGAN's generator at 16 x 16 and 32 x 32 tokens: heads of 4 and 2), sixteen queries on
// a vector's lanes and the keys as broadcasts read in place from the packed rows: the forward in one pass over the keys
// with no table of scores, the backward in two, where AVX-512 is. The second order keeps the table form.
public static partial class Attention
{
    /// <summary>Whether heads of at most four floats take the forward in one pass over the keys (the default) or through a table of scores (the bench's switch narrow-one-pass).</summary>
    internal static bool NarrowHeadsInOnePass { get; set; } = true;

    // Written on Vector512: without AVX-512 the table form on two AVX2 vectors ran in about 0.6 of its time (one thread,
    // DOTNET_EnableAVX512=0: 1.55-2.09 ms against 2.6-3.7 at G's 16 x 16 tokens, 2.43-3.59 against 4.0-5.5 at 32 x 32).
    static bool InOnePass(int d) => NarrowHeadsInOnePass && d <= 4 && Vector512.IsHardwareAccelerated;

    /// <summary>Whether heads of at most four floats take the backward with their queries on the lanes (the default) or in the table form (the bench's switch narrow-backward).</summary>
    internal static bool NarrowBackwardOnLanes { get; set; } = true;

    // Written on Vector512 and larger than the forward: without AVX-512, in software, it ran 10x as long as the table
    // form (one thread, DOTNET_EnableAVX512=0: 33-40 ms against 3.3-4.5 at G's 32 x 32 tokens).
    static bool BackwardOnLanes(int d) => NarrowBackwardOnLanes && d <= 4 && Vector512.IsHardwareAccelerated;

    // A vector's Σ exp below this says its bound overshot its max score so far that its largest terms lost bits: the
    // vector is taken again from its max. At 2^-60 the largest term is a normal float and the terms past the normal
    // range (under 2^-126) are under 2^-66 of it.
    const float SmallestSum = 8.6736174e-19f;   // 2^-60

    /// <summary>The head widths the narrow kernels are compiled for: a constant in each, so their loops over a head's floats are written out.</summary>
    interface IHeadWidth { static abstract int Floats { get; } }
    readonly struct OneFloat : IHeadWidth { public static int Floats => 1; }
    readonly struct TwoFloats : IHeadWidth { public static int Floats => 2; }
    readonly struct ThreeFloats : IHeadWidth { public static int Floats => 3; }
    readonly struct FourFloats : IHeadWidth { public static int Floats => 4; }

    // One pair's forward for heads of d ≤ 4 floats: per vector of sixteen queries i, o_i = Σ_j e_ij v_j / Σ_j e_ij with
    // e_ij = 2^(log2(e)·s_ij − m_i), both sums taken as the keys go, the keys and values read in place from the packed rows
    // (q, k and v: token 0's head floats, `stride` floats from one token to the next). The table form writes each vector's
    // scores, finds their max, reads them back for the exponentials and again for each float of the product with V, and
    // copies the keys and values first: with two floats a head those passes cost about as much as the arithmetic
    // (docs/performance.md, fifty-sixth pass). Here m_i needs no pass of its own: it is log2(e) times a bound of query i's
    // scores from the keys' ranges, Σ_c max(q_ic·max_j k_jc, q_ic·min_j k_jc) ≥ max_j s_ij, so no term exceeds 1;
    // softmax is the same for any m_i, and backward and the second order recompute the probabilities from the m_i saved
    // here. Where the bound overshoots the max so far that Σ exp falls under 2^-60 (scores spread over some 40 nats), the
    // vector is taken again with m_i from its max. qt (d × lp) and ot (d × 16) are the pair's scratch.
    static void ForwardNarrow(ref float q, ref float k, ref float v, int stride, ref float outputRows, int outputStride,
        ref float qt, ref float ot, ref float rowStats, int l, int lp, int d, float scale)
    {
        switch (d)
        {
            case 1: ForwardNarrow<OneFloat>(ref q, ref k, ref v, stride, ref outputRows, outputStride, ref qt, ref ot, ref rowStats, l, lp, scale); break;
            case 2: ForwardNarrow<TwoFloats>(ref q, ref k, ref v, stride, ref outputRows, outputStride, ref qt, ref ot, ref rowStats, l, lp, scale); break;
            case 3: ForwardNarrow<ThreeFloats>(ref q, ref k, ref v, stride, ref outputRows, outputStride, ref qt, ref ot, ref rowStats, l, lp, scale); break;
            default: ForwardNarrow<FourFloats>(ref q, ref k, ref v, stride, ref outputRows, outputStride, ref qt, ref ot, ref rowStats, l, lp, scale); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ForwardNarrow<D>(ref float q, ref float k, ref float v, int stride, ref float outputRows, int outputStride,
        ref float qt, ref float ot, ref float rowStats, int l, int lp, float scale) where D : struct, IHeadWidth
    {
        int d = D.Floats;
        // scale·q transposed (d × lp, zeros past L), and the keys' range in each float of the head
        LoadLanes<D>(ref q, ref qt, l, lp, stride, scale);
        var (high, low) = (Vector128.Create(float.NegativeInfinity), Vector128.Create(float.PositiveInfinity));
        ref float kj = ref k;
        for (int j = 0; j < l; j++, kj = ref Unsafe.Add(ref kj, stride))
        {
            var key = HeadFloats<D>(ref kj);
            (high, low) = (Vector128.MaxNative(high, key), Vector128.MinNative(low, key));
        }
        for (int i0 = 0; i0 < l; i0 += W)
        {
            var (q0, q1, q2, q3) = Queries<D>(ref qt, i0, lp);
            var bound = Vector512.MaxNative(q0 * high.GetElement(0), q0 * low.GetElement(0));
            if (d > 1) bound += Vector512.MaxNative(q1 * high.GetElement(1), q1 * low.GetElement(1));
            if (d > 2) bound += Vector512.MaxNative(q2 * high.GetElement(2), q2 * low.GetElement(2));
            if (d > 3) bound += Vector512.MaxNative(q3 * high.GetElement(3), q3 * low.GetElement(3));
            var m = bound * Transcendental.Log2E;
            var sums = Sums<D>(ref k, ref v, stride, q0, q1, q2, q3, m, l);
            if (Vector512.LessThanAny(sums.Total, Vector512.Create(SmallestSum)))
            {
                m = MaxScore<D>(ref k, stride, q0, q1, q2, q3, l) * Transcendental.Log2E;
                sums = Sums<D>(ref k, ref v, stride, q0, q1, q2, q3, m, l);
            }
            var inv = Vector512<float>.One / sums.Total;
            m.StoreUnsafe(ref rowStats, (nuint)i0);
            inv.StoreUnsafe(ref rowStats, (nuint)(lp + i0));
            StoreLanes<D>(sums.O0, sums.O1, sums.O2, sums.O3, inv, ref ot, ref Unsafe.Add(ref outputRows, i0 * outputStride),
                Math.Min(W, l - i0), outputStride);
        }
    }

    // Floats 0..d-1 of sixteen queries (x0..x3, a query a lane) times `factor` into the first `count` queries' rows,
    // `stride` floats apart, through t (d × 16).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreLanes<D>(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3, Vector512<float> factor,
        ref float t, ref float row, int count, int stride) where D : struct, IHeadWidth
    {
        (x0 * factor).StoreUnsafe(ref t, 0);
        if (D.Floats > 1) (x1 * factor).StoreUnsafe(ref t, W);
        if (D.Floats > 2) (x2 * factor).StoreUnsafe(ref t, 2 * W);
        if (D.Floats > 3) (x3 * factor).StoreUnsafe(ref t, 3 * W);
        for (int i = 0; i < count; i++, row = ref Unsafe.Add(ref row, stride))
        {
            row = Unsafe.Add(ref t, i);
            if (D.Floats > 1) Unsafe.Add(ref row, 1) = Unsafe.Add(ref t, W + i);
            if (D.Floats > 2) Unsafe.Add(ref row, 2) = Unsafe.Add(ref t, 2 * W + i);
            if (D.Floats > 3) Unsafe.Add(ref row, 3) = Unsafe.Add(ref t, 3 * W + i);
        }
    }

    // The first `count` rows' d floats (`stride` apart) into t transposed (d × lp, a row a lane) times scale, zeros from
    // count to lp.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void LoadLanes<D>(ref float row, ref float t, int count, int lp, int stride, float scale) where D : struct, IHeadWidth
    {
        int j = 0;
        for (; j < count; j++, row = ref Unsafe.Add(ref row, stride))
        {
            Unsafe.Add(ref t, j) = scale * row;
            if (D.Floats > 1) Unsafe.Add(ref t, lp + j) = scale * Unsafe.Add(ref row, 1);
            if (D.Floats > 2) Unsafe.Add(ref t, 2 * lp + j) = scale * Unsafe.Add(ref row, 2);
            if (D.Floats > 3) Unsafe.Add(ref t, 3 * lp + j) = scale * Unsafe.Add(ref row, 3);
        }
        for (; j < lp; j++)
            for (int c = 0; c < D.Floats; c++) Unsafe.Add(ref t, c * lp + j) = 0f;
    }

    // Backward for pairs p0..p1 of heads of d ≤ 4 floats, queries on the lanes as in ForwardNarrow: per vector of sixteen
    // queries, a first pass over the keys recomputes p_ij and takes dp_ij = g_i·v_j and D_i = Σ_j p_ij dp_ij, keeping p and
    // dp in two tables (L × 16 each); a second takes ds_ij = p_ij (dp_ij − D_i), dq_i = scale·Σ_j ds_ij k_j in registers,
    // and the keys' and values' gradients Σ_i ds_ij (scale·q_i) and Σ_i p_ij g_i lane by lane into a vector a key and float,
    // summed across their lanes once the pair's last vector is in. The table form (four query rows at a time on the keys'
    // lanes, then register-tiled products for dk and dv) gathered q, k, v and g and scattered dq, dk and dv a float at a time
    // and worked on products of two to four floats; this reads and writes the packed rows in place.
    static void BackwardNarrow(float[] qkv, float[] gradOut, float[] stats, float[] dqkv, AttentionLayout a, float scale, int p0, int p1)
    {
        switch (a.HeadDim)
        {
            case 1: BackwardNarrow<OneFloat>(qkv, gradOut, stats, dqkv, a, scale, p0, p1); break;
            case 2: BackwardNarrow<TwoFloats>(qkv, gradOut, stats, dqkv, a, scale, p0, p1); break;
            case 3: BackwardNarrow<ThreeFloats>(qkv, gradOut, stats, dqkv, a, scale, p0, p1); break;
            default: BackwardNarrow<FourFloats>(qkv, gradOut, stats, dqkv, a, scale, p0, p1); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void BackwardNarrow<D>(float[] qkv, float[] gradOut, float[] stats, float[] dqkv, AttentionLayout a, float scale, int p0, int p1)
        where D : struct, IHeadWidth
    {
        int d = D.Floats, l = a.Length, lp = Padded(l), e = a.Embed, e3 = 3 * e, stride = a.TokenStride * e3, gStride = a.TokenStride * e;
        // scale·q and g transposed (d × lp each), a vector's p and dp (L × 16 each), the keys' and values' gradients by lane
        // (L × d × 16 each), a vector's dq (d × 16)
        int sums = l * d * W;
        var work = Scratch(2 * d * lp + 2 * l * W + 2 * sums + d * W);
        ref float qt = ref work[0];
        ref float gt = ref work[d * lp];
        ref float probs = ref work[2 * d * lp];
        ref float dps = ref work[2 * d * lp + l * W];
        ref float dkLanes = ref work[2 * d * lp + 2 * l * W];
        ref float dvLanes = ref work[2 * d * lp + 2 * l * W + sums];
        ref float ot = ref work[2 * d * lp + 2 * l * W + 2 * sums];
        var log2e = Vector512.Create(Transcendental.Log2E);
        for (int p = p0; p < p1; p++)
        {
            int b = p / a.Heads, head = p % a.Heads;
            ref float k = ref FirstToken(qkv, e3, e + head * d, a, b);
            ref float v = ref FirstToken(qkv, e3, 2 * e + head * d, a, b);
            LoadLanes<D>(ref FirstToken(qkv, e3, head * d, a, b), ref qt, l, lp, stride, scale);
            LoadLanes<D>(ref FirstToken(gradOut, e, head * d, a, b), ref gt, l, lp, gStride, 1f);
            work.Slice(2 * d * lp + 2 * l * W, 2 * sums).Clear();
            for (int i0 = 0; i0 < l; i0 += W)
            {
                var (q0, q1, q2, q3) = Queries<D>(ref qt, i0, lp);
                var (g0, g1, g2, g3) = Queries<D>(ref gt, i0, lp);
                var m = Vector512.LoadUnsafe(ref stats[p * 2 * lp], (nuint)i0);
                // queries past L: p_ij = 0, whatever their statistics hold
                var inv = Masked(new Lanes512(Vector512.LoadUnsafe(ref stats[p * 2 * lp + lp], (nuint)i0)), i0, l).Vector;
                // p_ij, dp_ij = g_i·v_j and D_i = Σ_j p_ij dp_ij, two keys at a time
                Vector512<float> sumA = default, sumB = default;
                ref float kj = ref k, vj = ref v;
                int j = 0;
                for (; j + 2 <= l; j += 2, kj = ref Unsafe.Add(ref kj, 2 * stride), vj = ref Unsafe.Add(ref vj, 2 * stride))
                {
                    var (pa, pb) = Transcendental.Exp2Vectors(
                        Vector512.FusedMultiplyAdd(Score<D>(ref kj, q0, q1, q2, q3), log2e, -m),
                        Vector512.FusedMultiplyAdd(Score<D>(ref Unsafe.Add(ref kj, stride), q0, q1, q2, q3), log2e, -m));
                    (pa, pb) = (pa * inv, pb * inv);
                    var (dpa, dpb) = (Score<D>(ref vj, g0, g1, g2, g3), Score<D>(ref Unsafe.Add(ref vj, stride), g0, g1, g2, g3));
                    pa.StoreUnsafe(ref probs, (nuint)(j * W));
                    pb.StoreUnsafe(ref probs, (nuint)((j + 1) * W));
                    dpa.StoreUnsafe(ref dps, (nuint)(j * W));
                    dpb.StoreUnsafe(ref dps, (nuint)((j + 1) * W));
                    (sumA, sumB) = (Vector512.FusedMultiplyAdd(pa, dpa, sumA), Vector512.FusedMultiplyAdd(pb, dpb, sumB));
                }
                if (j < l)
                {
                    var pa = Transcendental.Exp2Vector(Vector512.FusedMultiplyAdd(Score<D>(ref kj, q0, q1, q2, q3), log2e, -m)) * inv;
                    var dpa = Score<D>(ref vj, g0, g1, g2, g3);
                    pa.StoreUnsafe(ref probs, (nuint)(j * W));
                    dpa.StoreUnsafe(ref dps, (nuint)(j * W));
                    sumA = Vector512.FusedMultiplyAdd(pa, dpa, sumA);
                }
                var rowSum = sumA + sumB;
                // ds_ij = p_ij (dp_ij − D_i): dq_i in registers, the keys' and values' gradients by lane
                Vector512<float> dq0 = default, dq1 = default, dq2 = default, dq3 = default;
                kj = ref k;
                for (j = 0; j < l; j++, kj = ref Unsafe.Add(ref kj, stride))
                {
                    var pj = Vector512.LoadUnsafe(ref probs, (nuint)(j * W));
                    var ds = pj * (Vector512.LoadUnsafe(ref dps, (nuint)(j * W)) - rowSum);
                    ref float dkj = ref Unsafe.Add(ref dkLanes, j * d * W);
                    ref float dvj = ref Unsafe.Add(ref dvLanes, j * d * W);
                    dq0 = Vector512.FusedMultiplyAdd(Vector512.Create(kj), ds, dq0);
                    Vector512.FusedMultiplyAdd(ds, q0, Vector512.LoadUnsafe(ref dkj)).StoreUnsafe(ref dkj);
                    Vector512.FusedMultiplyAdd(pj, g0, Vector512.LoadUnsafe(ref dvj)).StoreUnsafe(ref dvj);
                    if (d > 1)
                    {
                        dq1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref kj, 1)), ds, dq1);
                        Vector512.FusedMultiplyAdd(ds, q1, Vector512.LoadUnsafe(ref dkj, W)).StoreUnsafe(ref dkj, W);
                        Vector512.FusedMultiplyAdd(pj, g1, Vector512.LoadUnsafe(ref dvj, W)).StoreUnsafe(ref dvj, W);
                    }
                    if (d > 2)
                    {
                        dq2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref kj, 2)), ds, dq2);
                        Vector512.FusedMultiplyAdd(ds, q2, Vector512.LoadUnsafe(ref dkj, 2 * W)).StoreUnsafe(ref dkj, 2 * W);
                        Vector512.FusedMultiplyAdd(pj, g2, Vector512.LoadUnsafe(ref dvj, 2 * W)).StoreUnsafe(ref dvj, 2 * W);
                    }
                    if (d > 3)
                    {
                        dq3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref kj, 3)), ds, dq3);
                        Vector512.FusedMultiplyAdd(ds, q3, Vector512.LoadUnsafe(ref dkj, 3 * W)).StoreUnsafe(ref dkj, 3 * W);
                        Vector512.FusedMultiplyAdd(pj, g3, Vector512.LoadUnsafe(ref dvj, 3 * W)).StoreUnsafe(ref dvj, 3 * W);
                    }
                }
                StoreLanes<D>(dq0, dq1, dq2, dq3, Vector512.Create(scale), ref ot, ref Unsafe.Add(ref FirstToken(dqkv, e3, head * d, a, b), i0 * stride),
                    Math.Min(W, l - i0), stride);
            }
            // each key's gradients: its lanes summed
            SumLanes<D>(ref dkLanes, ref FirstToken(dqkv, e3, e + head * d, a, b), ref ot, l, stride);
            SumLanes<D>(ref dvLanes, ref FirstToken(dqkv, e3, 2 * e + head * d, a, b), ref ot, l, stride);
        }
    }

    // rows[j·stride + c] = Σ of the sixteen lanes of vector j·d + c of `lanes`, for the l keys j and d floats c: sixteen
    // vectors' sums at a time as one vector (Transpose.RowSums), through `sums` (16 floats).
    static void SumLanes<D>(ref float lanes, ref float rows, ref float sums, int l, int stride) where D : struct, IHeadWidth
    {
        int d = D.Floats, count = l * d, r = 0;
        if (Avx512F.IsSupported)
            for (; r + W <= count; r += W)
            {
                Transpose.RowSums(ref Unsafe.Add(ref lanes, r * W)).StoreUnsafe(ref sums);
                for (int t = 0; t < W; t++) Unsafe.Add(ref rows, (r + t) / d * stride + (r + t) % d) = Unsafe.Add(ref sums, t);
            }
        for (; r < count; r++)
            Unsafe.Add(ref rows, r / d * stride + r % d) = Lanes512.Sum(Lanes512.Load(ref lanes, (nuint)(r * W)));
    }

    // Σ_j e_ij and Σ_j e_ij v_jc for sixteen queries, e_ij = 2^(log2(e)·s_ij − m_i), s_ij = Σ_c q_ic k_jc in the table
    // form's order (so that backward's recomputed scores are the same floats).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static QuerySums Sums<D>(ref float k, ref float v, int stride, Vector512<float> q0, Vector512<float> q1, Vector512<float> q2,
        Vector512<float> q3, Vector512<float> m, int l) where D : struct, IHeadWidth
    {
        int d = D.Floats, j = 0;
        var log2e = Vector512.Create(Transcendental.Log2E);
        Vector512<float> sum = default, o0 = default, o1 = default, o2 = default, o3 = default;
        Vector512<float> sumB = default, b0 = default, b1 = default, b2 = default, b3 = default;
        ref float kj = ref k, vj = ref v;
        // two keys at a time, each with sums of its own, their exponentials interleaved
        for (; j + 2 <= l; j += 2, kj = ref Unsafe.Add(ref kj, 2 * stride), vj = ref Unsafe.Add(ref vj, 2 * stride))
        {
            ref float v1 = ref Unsafe.Add(ref vj, stride);
            var (e, f) = Transcendental.Exp2Vectors(
                Vector512.FusedMultiplyAdd(Score<D>(ref kj, q0, q1, q2, q3), log2e, -m),
                Vector512.FusedMultiplyAdd(Score<D>(ref Unsafe.Add(ref kj, stride), q0, q1, q2, q3), log2e, -m));
            (sum, sumB) = (sum + e, sumB + f);
            o0 = Vector512.FusedMultiplyAdd(Vector512.Create(vj), e, o0);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(v1), f, b0);
            if (d > 1)
            {
                o1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vj, 1)), e, o1);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref v1, 1)), f, b1);
            }
            if (d > 2)
            {
                o2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vj, 2)), e, o2);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref v1, 2)), f, b2);
            }
            if (d > 3)
            {
                o3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vj, 3)), e, o3);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref v1, 3)), f, b3);
            }
        }
        if (j < l)
        {
            var e = Transcendental.Exp2Vector(Vector512.FusedMultiplyAdd(Score<D>(ref kj, q0, q1, q2, q3), log2e, -m));
            sum += e;
            o0 = Vector512.FusedMultiplyAdd(Vector512.Create(vj), e, o0);
            if (d > 1) o1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vj, 1)), e, o1);
            if (d > 2) o2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vj, 2)), e, o2);
            if (d > 3) o3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vj, 3)), e, o3);
        }
        return new(sum + sumB, o0 + b0, o1 + b1, o2 + b2, o3 + b3);
    }

    readonly record struct QuerySums(Vector512<float> Total, Vector512<float> O0, Vector512<float> O1, Vector512<float> O2, Vector512<float> O3);

    // max_j s_ij for sixteen queries, the fallback's m_i.
    static Vector512<float> MaxScore<D>(ref float k, int stride, Vector512<float> q0, Vector512<float> q1, Vector512<float> q2,
        Vector512<float> q3, int l) where D : struct, IHeadWidth
    {
        var max = Vector512.Create(float.NegativeInfinity);
        for (int j = 0; j < l; j++, k = ref Unsafe.Add(ref k, stride)) max = Vector512.MaxNative(max, Score<D>(ref k, q0, q1, q2, q3));
        return max;
    }

    // s_ij = Σ_c q_ic k_jc for key j's d floats at k, as the table form sums them (c in order from 0).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Score<D>(ref float k, Vector512<float> q0, Vector512<float> q1, Vector512<float> q2, Vector512<float> q3)
        where D : struct, IHeadWidth
    {
        var s = Vector512.FusedMultiplyAdd(Vector512.Create(k), q0, Vector512<float>.Zero);
        if (D.Floats > 1) s = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 1)), q1, s);
        if (D.Floats > 2) s = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 2)), q2, s);
        if (D.Floats > 3) s = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref k, 3)), q3, s);
        return s;
    }

    // A head's d floats at x in the first lanes of a vector; the lanes past d repeat its first float (they are not read).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> HeadFloats<D>(ref float x) where D : struct, IHeadWidth => Vector128.Create(x,
        D.Floats > 1 ? Unsafe.Add(ref x, 1) : x, D.Floats > 2 ? Unsafe.Add(ref x, 2) : x, D.Floats > 3 ? Unsafe.Add(ref x, 3) : x);

    // Floats 0..d-1 of sixteen queries from i0 on, from a transposed table (d × lp); zeros past d.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Queries<D>(ref float t, int i0, int lp)
        where D : struct, IHeadWidth => (Vector512.LoadUnsafe(ref t, (nuint)i0),
        D.Floats > 1 ? Vector512.LoadUnsafe(ref t, (nuint)(lp + i0)) : default,
        D.Floats > 2 ? Vector512.LoadUnsafe(ref t, (nuint)(2 * lp + i0)) : default,
        D.Floats > 3 ? Vector512.LoadUnsafe(ref t, (nuint)(3 * lp + i0)) : default);
}
