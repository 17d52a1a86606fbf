using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Where multi-head self-attention finds its tokens: <see cref="Batch"/> sequences of <see cref="Length"/> tokens,
/// stored batch first (token t of sequence b in row b·L + t) or sequence first (row t·N + b); a row of the packed
/// projections holds q, k and v one after another (3E floats), a row of the output E, head h using floats
/// [h·d, (h+1)·d) of each part.
/// </summary>
public readonly record struct AttentionLayout(int Batch, int Length, int Heads, int HeadDim, bool BatchFirst)
{
    public int Embed => Heads * HeadDim;

    /// <summary>The row of token <paramref name="t"/> of sequence <paramref name="b"/>.</summary>
    public int Row(int b, int t) => BatchFirst ? b * Length + t : t * Batch + b;

    /// <summary>Rows from one token of a sequence to the next: 1 batch first, N sequence first.</summary>
    public int TokenStride => BatchFirst ? 1 : Batch;

    /// <summary>(sequence, head) pairs, each attended independently.</summary>
    public int Pairs => Batch * Heads;
}

/// <summary>
/// Multi-head self-attention from packed projections, one (sequence, head) pair at a time: the (N·H, L, L) score and
/// probability matrices are never written out. Forward computes a pair sixteen queries at a time and keeps each
/// query's max score and 1/Σ exp, from which backward (four rows of scores at a time) and the second-order pass (two)
/// recompute the probabilities (as FlashAttention does, without its tiling: a pair's keys and values, transposed and
/// padded to whole vectors, are a few kB here) into tables of the pair's own in the thread's scratch (L × 80 floats,
/// 21 kB each at 65 tokens), over which the gradients to the keys and values are then register-tiled products. Every
/// loop keeps several independent sums (four keys, eight of a head's floats, four or two rows), so that the FMAs do not
/// wait on one another: with one sum through all 65 keys of a ViT's sequence the kernels ran at half their speed or less
/// (docs/performance.md, tenth pass). Heads of at most four floats (TransGAN's generator at 16 x 16 and 32 x 32) take the
/// forward and backward with their queries on the lanes and the packed rows read in place, where AVX-512 is
/// (Attention.NarrowHeads.cs).
/// </summary>
/// <remarks>
/// Composed of batched products, a softmax and the permutes around them, the same attention wrote and read the
/// scores four times each way and made two copies of q, k and v; those were most of a TransGAN step. A row is a few
/// vectors (64 keys: four of sixteen lanes), so the loops are written out on vectors rather than as span calls, whose
/// fixed cost per call was most of the time at these lengths. The row kernels are written once over
/// <see cref="IFloatLanes{V}"/>, each a method of its own: on <see cref="Vector512{T}"/> in software (without AVX-512)
/// they overran the JIT's inlining budget and calls to Vector512's own methods were left in them (the backward 7-15x
/// slower with AVX-512 switched off; the forward, once as fast there as kernels written for AVX2, 20x once it had grown).
/// The forward's tables hold vectors of sixteen queries, so it runs on sixteen lanes (<see cref="Lanes512"/>, or
/// <see cref="Lanes256x2"/> without AVX-512); the backward and second order on the widest accelerated lanes. Every
/// table a kernel keeps (a pair's transposed keys and values, its rows of q and g, a block's probabilities) lies in one
/// per-thread buffer that starts on a cache line (<see cref="Scratch"/>), and each pair's rows are gathered and written
/// back once, not per block: with pooled arrays at whatever offset the allocation gave and per-block copies of each row,
/// the backward ran 1.45x as long (docs/performance.md, twenty-fifth pass).
/// </remarks>
public static partial class Attention
{
    const int W = 16;   // Vector512<float> lanes

    // Keys per row rounded up to whole vectors; the lanes past L hold zeros in the transposed keys and values.
    static int Padded(int l) => (l + W - 1) / W * W;


    /// <summary>
    /// Floats of the row statistics forward saves for backward: per pair, each query's max score times log2(e) (for heads of
    /// at most four floats a bound of it) and 1/Σ exp.
    /// </summary>
    public static int StatsLength(AttentionLayout a) => a.Pairs * 2 * Padded(a.Length);

    // qkv: rows of (q | k | v), 3E wide -> output: rows E wide; stats: per pair (m_i, 1/Σ_j exp(s_ij − max_i)), lp each,
    // m_i = log2(e)·max_i rounded to float (heads of at most four floats: a bound of it, see ForwardNarrow); every pass takes
    // e^(s − max) as 2^(log2(e)·s − m) from the same float s, so forward's probabilities and the recomputed ones agree to
    // the bit (Transcendental.Exp2: four instructions fewer than e^x's reduction).
    // Each pair is computed transposed, a vector of 16 queries at a time: row j of st holds s_ij for those queries, so the
    // softmax over keys runs down the rows (no sums across lanes) and the keys and values are read as broadcasts.
    public static void Forward(float[] qkv, float[] output, float[] stats, AttentionLayout a, float scale)
    {
        int l = a.Length, d = a.HeadDim, lp = Padded(l), e3 = 3 * a.Embed, step = a.TokenStride * a.Embed;
        bool sixteen = ForwardLanes == LaneKind.Sixteen;
        Threading.ForRanges(a.Pairs, (_, p0, p1) =>
        {
            // q transposed (d × lp), the scores of a vector of queries (L × 16), their outputs (d × 16), then the pair's k
            // and v rows (L × d each): read from the packed rows in the loops below, each key cost its row's offset (a
            // multiply and a layout test), and the forward ran 8-13% longer on transgan32's layouts (thirty-eighth pass).
            int rowQueries = QueriesInRows(l, d), vectorEnd = l - rowQueries, tables = d * lp + l * W + d * W + 2 * l * d;
            var scratch = Scratch(tables + (rowQueries > 0 ? d * lp + lp : 0));
            Span<float> qt = scratch[..(d * lp)], st = scratch.Slice(d * lp, l * W), ot = scratch.Slice(d * lp + l * W, d * W);
            Span<float> keys = scratch.Slice(d * lp + l * W + d * W, l * d), values = scratch.Slice(d * lp + l * W + d * W + l * d, l * d);
            ref float qtr = ref MemoryMarshal.GetReference(qt);
            ref float str = ref MemoryMarshal.GetReference(st);
            ref float kr = ref MemoryMarshal.GetReference(keys);
            ref float vr = ref MemoryMarshal.GetReference(values);
            for (int p = p0; p < p1; p++)
            {
                int b = p / a.Heads, head = p % a.Heads;
                ref float outputRows = ref FirstToken(output, a.Embed, head * d, a, b);
                if (InOnePass(d))
                {
                    ForwardNarrow(ref FirstToken(qkv, e3, head * d, a, b), ref FirstToken(qkv, e3, a.Embed + head * d, a, b),
                        ref FirstToken(qkv, e3, 2 * a.Embed + head * d, a, b), a.TokenStride * e3, ref outputRows, step,
                        ref qtr, ref MemoryMarshal.GetReference(ot), ref stats[p * 2 * lp], l, lp, d, scale);
                    continue;
                }
                Gather(qkv, qt, a, b, head, part: 0, lp, scale);
                GatherRows(qkv, e3, a.Embed + head * d, keys, d, a, b);
                GatherRows(qkv, e3, 2 * a.Embed + head * d, values, d, a, b);
                ref float otr = ref MemoryMarshal.GetReference(ot);
                for (int v = 0; v < vectorEnd; v += W)
                {
                    if (sixteen)
                        ForwardQueries<Lanes512>(ref qtr, ref kr, ref vr, ref str, ref otr, ref stats[p * 2 * lp], v, l, lp, d);
                    else
                        ForwardQueries<Lanes256x2>(ref qtr, ref kr, ref vr, ref str, ref otr, ref stats[p * 2 * lp], v, l, lp, d);
                    // the vector's queries back into their rows
                    ref float row = ref Unsafe.Add(ref outputRows, v * step);
                    if (v + W <= l && TransposesBlocks(d))
                        for (int c0 = 0; c0 < d; c0 += W) Transpose.Sixteen(ref Unsafe.Add(ref otr, c0 * W), W, ref Unsafe.Add(ref row, c0), step);
                    else
                        for (int i = 0; i < Math.Min(W, l - v); i++, row = ref Unsafe.Add(ref row, step))
                            for (int c = 0; c < d; c++) Unsafe.Add(ref row, c) = Unsafe.Add(ref otr, c * W + i);
                }
                if (rowQueries > 0)
                {
                    Span<float> kt = scratch.Slice(tables, d * lp), e = scratch.Slice(tables + d * lp, lp);
                    Gather(qkv, kt, a, b, head, part: 1, lp);
                    for (int i = vectorEnd; i < l; i++)
                        if (sixteen)
                            ForwardRow<Lanes512>(ref qtr, ref MemoryMarshal.GetReference(kt), ref vr, ref MemoryMarshal.GetReference(e),
                                ref Unsafe.Add(ref outputRows, i * step), ref stats[p * 2 * lp], i, l, lp, d);
                        else
                            ForwardRow<Lanes256x2>(ref qtr, ref MemoryMarshal.GetReference(kt), ref vr, ref MemoryMarshal.GetReference(e),
                                ref Unsafe.Add(ref outputRows, i * step), ref stats[p * 2 * lp], i, l, lp, d);
                    // The lanes past L as a vector's lanes would leave them, finite: backward and the second order compute rows
                    // past L (their blocks' spare rows) but leave them out of every sum.
                    stats.AsSpan(p * 2 * lp + l, lp - l).Clear();
                    stats.AsSpan(p * 2 * lp + lp + l, lp - l).Clear();
                }
            }
        }, MinPairsPerChunk(a));
    }

    /// <summary>
    /// The lanes of the forward's vectors of sixteen queries: <see cref="LaneKind.Sixteen"/> where AVX-512 is, else
    /// <see cref="LaneKind.EightTwice"/> (two AVX2 vectors); tests run both on any processor.
    /// </summary>
    internal static LaneKind ForwardLanes { get; set; } = Vector512.IsHardwareAccelerated ? LaneKind.Sixteen : LaneKind.EightTwice;

    /// <summary>Whether one or two queries past the last whole vector are computed a row at a time (the default; the bench's switch query-rows).</summary>
    internal static bool LeftoverQueriesInRows { get; set; } = true;

    // Queries past the last whole vector of sixteen that the forward computes one at a time (ForwardRow) rather than as a
    // vector of sixteen lanes: one or two of them (D's class token after 64 patches), with heads of whole vectors; at three
    // a row at a time cost as much as the vector (one thread, 32 sequences of 67 tokens, four heads of 16 floats).
    static int QueriesInRows(int l, int d) =>
        LeftoverQueriesInRows && l > W && l % W is >= 1 and <= 2 && d % W == 0 ? l % W : 0;

    // One query i of a pair against all its keys, the keys along the lanes (kt: the keys transposed, d × lp, zeros past L),
    // for the queries past the last whole vector: as one lane of a vector of queries (sixteen lanes run for one), D's class
    // token took a tenth of the forward (one thread, 32 sequences of 65 tokens, four heads of 16 floats: 0.51 ms against
    // 0.46 with it in a row; 64 tokens 0.41-0.44). The scores are the same sums in the same order as the vector's (and
    // backward's), so the row's max and m are the same to the bit; Σ exp and the output's sums over the keys are taken in
    // another order (across lanes, and four keys' partial sums). Writes the query's output row (d floats) and its m and
    // 1/Σ exp at i and lp + i of its pair's stats.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ForwardRow<V>(ref float qtr, ref float kt, ref float values, ref float e, ref float outputRow, ref float stats,
        int i, int l, int lp, int d) where V : struct, IFloatLanes<V>
    {
        var max = V.Of(float.NegativeInfinity);
        int v = 0;
        for (; v + 2 * W <= lp; v += 2 * W)   // two vectors of keys at a time: two independent sums share each broadcast of q
        {
            V s0 = V.Zero, s1 = s0;
            for (int c = 0; c < d; c++)
            {
                var qc = V.Of(Unsafe.Add(ref qtr, c * lp + i));
                s0 = V.Fma(qc, V.Load(ref kt, (nuint)(c * lp + v)), s0);
                s1 = V.Fma(qc, V.Load(ref kt, (nuint)(c * lp + v + W)), s1);
            }
            s0.Store(ref e, (nuint)v);
            s1.Store(ref e, (nuint)(v + W));
            max = V.Max(max, V.Max(Masked(s0, v, l, float.NegativeInfinity), Masked(s1, v + W, l, float.NegativeInfinity)));
        }
        for (; v < lp; v += W)
        {
            var s0 = V.Zero;
            for (int c = 0; c < d; c++)
                s0 = V.Fma(V.Of(Unsafe.Add(ref qtr, c * lp + i)), V.Load(ref kt, (nuint)(c * lp + v)), s0);
            s0.Store(ref e, (nuint)v);
            max = V.Max(max, Masked(s0, v, l, float.NegativeInfinity));
        }
        float m = V.Largest(max) * Transcendental.Log2E;
        var (log2e, sum) = (V.Of(Transcendental.Log2E), V.Zero);
        for (v = 0; v < lp; v += W)
        {
            var ev = Masked(Transcendental.Exp2(V.Fma(V.Load(ref e, (nuint)v), log2e, V.Of(-m))), v, l, 0f);
            ev.Store(ref e, (nuint)v);
            sum += ev;
        }
        float inv = 1f / V.Sum(sum);
        Unsafe.Add(ref stats, i) = m;
        Unsafe.Add(ref stats, lp + i) = inv;
        // o_c = Σ_j e_j v_jc over four keys' partial sums, then times 1/Σ exp
        for (int c0 = 0; c0 < d; c0 += W)
        {
            V o0 = V.Zero, o1 = o0, o2 = o0, o3 = o0;
            ref float vj = ref Unsafe.Add(ref values, c0);
            int j = 0;
            for (; j + 4 <= l; j += 4, vj = ref Unsafe.Add(ref vj, 4 * d))
            {
                o0 = V.Fma(V.Load(ref vj, 0), V.Of(Unsafe.Add(ref e, j)), o0);
                o1 = V.Fma(V.Load(ref vj, (nuint)d), V.Of(Unsafe.Add(ref e, j + 1)), o1);
                o2 = V.Fma(V.Load(ref vj, (nuint)(2 * d)), V.Of(Unsafe.Add(ref e, j + 2)), o2);
                o3 = V.Fma(V.Load(ref vj, (nuint)(3 * d)), V.Of(Unsafe.Add(ref e, j + 3)), o3);
            }
            for (; j < l; j++, vj = ref Unsafe.Add(ref vj, d))
                o0 = V.Fma(V.Load(ref vj, 0), V.Of(Unsafe.Add(ref e, j)), o0);
            ((o0 + o1 + (o2 + o3)) * V.Of(inv)).Store(ref outputRow, (nuint)c0);
        }
    }

    // Forward for the vector of sixteen queries from v (V: sixteen lanes, Lanes512, or Lanes256x2 without AVX-512): their
    // scores and then exponentials into st (L × 16, a key's row of the vector's queries), their m and 1/Σ exp into the
    // pair's stats at v and lp + v, their outputs into ot (d × 16). A method of its own, so that its vector operations are
    // inlined into it: written in the forward's loop on Vector512, without AVX-512 the JIT left calls to Vector512's
    // methods in it, and D's forward ran 20x its AVX-512 time (fifty-eighth pass).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ForwardQueries<V>(ref float qtr, ref float keys, ref float values, ref float st, ref float ot, ref float stats,
        int v, int l, int lp, int d) where V : struct, IFloatLanes<V>
    {
        // s_ij = Σ_c (scale·q_ic) k_jc for the 16 queries i of this vector
        var max = V.Of(float.NegativeInfinity);
        int j = 0;
        for (; j + 4 <= l; j += 4)   // four keys at a time: four independent sums share each load of q
        {
            ref float sj = ref Unsafe.Add(ref st, j * W);
            FourRowsOneVector<V>(ref Unsafe.Add(ref keys, j * d), ref qtr, v, d, lp, ref sj, W);
            max = V.Max(max, V.Max(V.Max(V.Load(ref sj, 0), V.Load(ref sj, W)), V.Max(V.Load(ref sj, 2 * W), V.Load(ref sj, 3 * W))));
        }
        for (; j < l; j++)
        {
            ref float k = ref Unsafe.Add(ref keys, j * d);
            var acc = V.Zero;
            for (int c = 0; c < d; c++)
                acc = V.Fma(V.Of(Unsafe.Add(ref k, c)), V.Load(ref qtr, (nuint)(c * lp + v)), acc);
            acc.Store(ref st, (nuint)(j * W));
            max = V.Max(max, acc);
        }
        // e^(s − max) as 2^(log2(e)·s − m), m = log2(e)·max: the product exact in the multiply-add, m's rounding the
        // same for the whole row (it cancels in the normalisation), the rest as e^x's argument (see Transcendental.Exp2).
        var (log2e, m) = (V.Of(Transcendental.Log2E), max * V.Of(Transcendental.Log2E));
        var sum = V.Zero;
        for (j = 0; j < l; j++)
        {
            var ej = Transcendental.Exp2(V.Fma(V.Load(ref st, (nuint)(j * W)), log2e, -m));
            ej.Store(ref st, (nuint)(j * W));
            sum += ej;
        }
        var inv = V.Of(1f) / sum;
        m.Store(ref stats, (nuint)v);
        inv.Store(ref stats, (nuint)(lp + v));
        // o_ic = Σ_j p_ij v_jc, eight floats c at a time (eight independent sums share each load of p), then one
        int c8 = 0;
        for (; c8 + 8 <= d; c8 += 8)
        {
            V o0 = V.Zero, o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
            for (j = 0; j < l; j++)
            {
                var pj = V.Load(ref st, (nuint)(j * W));
                ref float vj = ref Unsafe.Add(ref values, j * d + c8);
                o0 = V.Fma(V.Of(vj), pj, o0);
                o1 = V.Fma(V.Of(Unsafe.Add(ref vj, 1)), pj, o1);
                o2 = V.Fma(V.Of(Unsafe.Add(ref vj, 2)), pj, o2);
                o3 = V.Fma(V.Of(Unsafe.Add(ref vj, 3)), pj, o3);
                o4 = V.Fma(V.Of(Unsafe.Add(ref vj, 4)), pj, o4);
                o5 = V.Fma(V.Of(Unsafe.Add(ref vj, 5)), pj, o5);
                o6 = V.Fma(V.Of(Unsafe.Add(ref vj, 6)), pj, o6);
                o7 = V.Fma(V.Of(Unsafe.Add(ref vj, 7)), pj, o7);
            }
            (o0 * inv).Store(ref ot, (nuint)(c8 * W));
            (o1 * inv).Store(ref ot, (nuint)((c8 + 1) * W));
            (o2 * inv).Store(ref ot, (nuint)((c8 + 2) * W));
            (o3 * inv).Store(ref ot, (nuint)((c8 + 3) * W));
            (o4 * inv).Store(ref ot, (nuint)((c8 + 4) * W));
            (o5 * inv).Store(ref ot, (nuint)((c8 + 5) * W));
            (o6 * inv).Store(ref ot, (nuint)((c8 + 6) * W));
            (o7 * inv).Store(ref ot, (nuint)((c8 + 7) * W));
        }
        for (int c = c8; c < d; c++)   // the rest, four keys at a time into four sums
        {
            V o0 = V.Zero, o1 = o0, o2 = o0, o3 = o0;
            for (j = 0; j + 4 <= l; j += 4)
            {
                ref float vj = ref Unsafe.Add(ref values, j * d + c);
                o0 = V.Fma(V.Of(vj), V.Load(ref st, (nuint)(j * W)), o0);
                o1 = V.Fma(V.Of(Unsafe.Add(ref vj, d)), V.Load(ref st, (nuint)((j + 1) * W)), o1);
                o2 = V.Fma(V.Of(Unsafe.Add(ref vj, 2 * d)), V.Load(ref st, (nuint)((j + 2) * W)), o2);
                o3 = V.Fma(V.Of(Unsafe.Add(ref vj, 3 * d)), V.Load(ref st, (nuint)((j + 3) * W)), o3);
            }
            for (; j < l; j++)
                o0 = V.Fma(V.Of(Unsafe.Add(ref values, j * d + c)), V.Load(ref st, (nuint)(j * W)), o0);
            ((o0 + o1 + (o2 + o3)) * inv).Store(ref ot, (nuint)(c * W));
        }
    }

    // dq_i = scale·Σ_j ds_ij k_j, dk_j = scale·Σ_i ds_ij q_i, dv_j = Σ_i p_ij g_i, with p_ij = exp(scale·q_i·k_j − max_i)/Σ_i
    // and ds_ij = p_ij (g_i·v_j − Σ_j' p_ij' g_i·v_j'). gradOut: rows E wide -> dqkv: rows 3E wide, every float written.
    public static void Backward(float[] qkv, float[] gradOut, float[] stats, float[] dqkv, AttentionLayout a, float scale) =>
        Backward(qkv, gradOut, stats, dqkv, a, scale, FloatLanes.Widest);

    /// <summary>The same with the row kernels on vectors of <paramref name="width"/> lanes (16 or 8): tests run both.</summary>
    internal static void Backward(float[] qkv, float[] gradOut, float[] stats, float[] dqkv, AttentionLayout a, float scale, int width)
    {
        int l = a.Length, d = a.HeadDim, lp = Padded(l);
        Threading.ForRanges(a.Pairs, (_, p0, p1) =>
        {
            if (BackwardOnLanes(d))
            {
                BackwardNarrow(qkv, gradOut, stats, dqkv, a, scale, p0, p1);
                return;
            }
            // k, v, their gradients (each d × lp, transposed), then the pair's probabilities and ds (lq × lp each, lq = L
            // rounded up to whole blocks of four rows), then its rows of scale·q, g and dq (lq × d each, zeros past L). The
            // tables lie a cache line apart past multiples of 4 kB (at 64 keys and d = 16 each is exactly 4 kB; read at
            // equal offsets, tables 4 kB apart share L1 sets).
            int stride = d * lp + 16, lq = (l + 3) / 4 * 4, square = lq * lp + 16, rowTables = 4 * stride + 2 * square;
            bool keyRows = d % width == 0;
            // Keys past the last whole vector taken as columns over the queries (FewKeys): the vectors end at vectorEnd.
            int vectorEnd = keyRows && FewKeys(l, width) ? l / width * width : lp, tail = l - Math.Min(l, vectorEnd);
            int lqv = (l + width - 1) / width * width;
            var work = Scratch(rowTables + 4 * lq * d + 2 * tail * lqv + d + (tail > 0 ? d * lp : 0));
            Span<float> kt = work.Slice(0, d * lp), vt = work.Slice(stride, d * lp), dkt = work.Slice(2 * stride, d * lp), dvt = work.Slice(3 * stride, d * lp);
            Span<float> qs = work.Slice(rowTables, lq * d), gs = work.Slice(rowTables + lq * d, lq * d), dq = work.Slice(rowTables + 2 * lq * d, lq * d);
            Span<float> keys = work.Slice(rowTables + 3 * lq * d, lq * d);
            Span<float> columns = work.Slice(rowTables + 4 * lq * d, 2 * tail * lqv), tailValue = work.Slice(rowTables + 4 * lq * d + 2 * tail * lqv, d);
            Span<float> qt = work.Slice(rowTables + 4 * lq * d + 2 * tail * lqv + d, tail > 0 ? d * lp : 0);
            ref float probs = ref work[4 * stride];
            ref float ds = ref work[4 * stride + square];
            for (int p = p0; p < p1; p++)
            {
                int b = p / a.Heads, head = p % a.Heads;
                Gather(qkv, kt, a, b, head, part: 1, lp);
                Gather(qkv, vt, a, b, head, part: 2, lp);
                // Rows past L (the last block's) hold q = g = 0: their ds and their terms in dk and dv are 0.
                GatherRows(qkv, 3 * a.Embed, head * d, qs, d, a, b, scale);
                GatherRows(gradOut, a.Embed, head * d, gs, d, a, b);
                if (keyRows) GatherRows(qkv, 3 * a.Embed, a.Embed + head * d, keys, d, a, b);
                ReadOnlySpan<float> pairStats = stats.AsSpan(p * 2 * lp, 2 * lp);
                if (tail > 0) TransposeRows(qs, d, qt, lp, l);
                for (int t = 0; t < tail; t++)
                {
                    // key j's p_ij and g_i·v_j over the queries (its value row from the transposed table); sixteen lanes,
                    // the only width FewKeys takes
                    int j = vectorEnd + t;
                    for (int c = 0; c < d; c++) tailValue[c] = vt[c * lp + j];
                    Span<float> pj = columns.Slice(2 * t * lqv, lqv), gvj = columns.Slice((2 * t + 1) * lqv, lqv);
                    ProbabilityColumn<Lanes512>(qt, keys.Slice(j * d, d), pairStats, pj, l, lp);
                    DotColumn<Lanes512>(gs, d, tailValue, gvj, l);
                }
                for (int i0 = 0; i0 < l; i0 += 4)
                {
                    ReadOnlySpan<float> rowMax = pairStats.Slice(i0, 4), rowInv = pairStats.Slice(lp + i0, 4);
                    ref float pi = ref Unsafe.Add(ref probs, i0 * lp);
                    ref float dsi = ref Unsafe.Add(ref ds, i0 * lp);
                    var tailColumns = new TailColumns(ref MemoryMarshal.GetReference(columns), i0, lqv, vectorEnd, tail);
                    if (width == Lanes512.Count)
                        BackwardRows<Lanes512>(ref work[0], ref work[stride], ref pi, ref dsi,
                            ref qs[i0 * d], ref gs[i0 * d], rowMax, rowInv, ref dq[i0 * d], l, lp, d, ref keyRows ? ref keys[0] : ref Unsafe.NullRef<float>(), tailColumns);
                    else
                        BackwardRows<Lanes256>(ref work[0], ref work[stride], ref pi, ref dsi,
                            ref qs[i0 * d], ref gs[i0 * d], rowMax, rowInv, ref dq[i0 * d], l, lp, d, ref keyRows ? ref keys[0] : ref Unsafe.NullRef<float>(), tailColumns);
                }
                // dk_j = Σ_i ds_ij (scale·q_i), dv_j = Σ_i p_ij g_i over the pair's rows, transposed.
                if (width == Lanes512.Count)
                {
                    TransposedProduct<Lanes512>(ref qs[0], ref ds, ref work[2 * stride], l, lp, d, d);
                    TransposedProduct<Lanes512>(ref gs[0], ref probs, ref work[3 * stride], l, lp, d, d);
                }
                else
                {
                    TransposedProduct<Lanes256>(ref qs[0], ref ds, ref work[2 * stride], l, lp, d, d);
                    TransposedProduct<Lanes256>(ref gs[0], ref probs, ref work[3 * stride], l, lp, d, d);
                }
                ScatterRows(dq, dqkv, 3 * a.Embed, head * d, a, b, scale);
                Scatter(dkt, dqkv, a, b, head, part: 1, lp);
                Scatter(dvt, dqkv, a, b, head, part: 2, lp);
            }
        }, MinPairsPerChunk(a));
    }

    /// <summary>
    /// Whether the backward takes the keys of a last vector that holds only a few (<see cref="FewKeys"/>) as columns over
    /// the queries (the default) or in that vector with the rest (the bench's switch key-columns; tests run both).
    /// </summary>
    internal static bool FewKeysAsColumns { get; set; } = true;

    // Whether the last vector of a pair's keys holds at most a quarter of its lanes' keys (D's class token after 64 patches:
    // one key in sixteen lanes), the keys TransposedProduct then takes a key at a time (KeyColumns). As the rest of a
    // vector, each such key cost a whole vector's scores, exponentials and ds in every block of four rows (RowProducts'
    // last vector alone ran at a third of its speed on the other four); as a column over the queries, once a pair, its
    // probabilities take a vector of queries at a time (ProbabilityColumn), its g·v a product across a head's floats a
    // query (DotColumn), and each block of rows reads them (TailColumns). On sixteen lanes only: on eight (without AVX-512,
    // where the queries' transposes are a float at a time) D's backward ran 3-22% slower with the columns. The second
    // order, which takes two rows at a time over every key, ran no faster with such columns (fifty-ninth pass): it keeps
    // the vector.
    static bool FewKeys(int l, int width) =>
        FewKeysAsColumns && KeysAtATime && width == W && l % width != 0 && 4 * (l % width) <= width;

    // p_ij = 2^(log2(e)·s_ij − m_i)/Σ_i of one key for FewKeys into p, s_ij = scale·q_i·k_j, a vector of queries at a time
    // from them transposed (qt: scale·q, d × lp, anything past L) with the multiply-adds over c from 0 of the forward's
    // and RowProducts' lanes: the same floats, so the same p (summed across lanes instead, the few keys' probabilities
    // left Σ_j p_ij off 1 by a few ulps of the dominant one, which dq's cancelling sum carried to 1e-5 of its largest
    // gradient at peaked rows). Past L to the end of p (whole vectors) from s = 0 and the stats as the forward left them,
    // finite (those rows' g is 0, so they add nothing to any gradient).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ProbabilityColumn<V>(ReadOnlySpan<float> qt, ReadOnlySpan<float> key, ReadOnlySpan<float> stats, Span<float> p, int l, int lp)
        where V : struct, IFloatLanes<V>
    {
        int d = key.Length;
        _ = qt[(d - 1) * lp + p.Length - 1];
        _ = stats[lp + p.Length - 1];
        ref float q = ref MemoryMarshal.GetReference(qt);
        ref float k = ref MemoryMarshal.GetReference(key);
        ref float pr = ref MemoryMarshal.GetReference(p);
        ref float m = ref MemoryMarshal.GetReference(stats);
        ref float inv = ref Unsafe.Add(ref m, lp);
        var log2e = V.Of(Transcendental.Log2E);
        for (int i = 0; i < p.Length; i += V.Count)
        {
            var s = V.Zero;
            for (int c = 0; c < d; c++) s = V.Fma(V.Of(Unsafe.Add(ref k, c)), V.Load(ref q, (nuint)(c * lp + i)), s);
            (Transcendental.Exp2(V.Fma(Masked(s, i, l), log2e, -V.Load(ref m, (nuint)i))) * V.Load(ref inv, (nuint)i)).Store(ref pr, (nuint)i);
        }
    }

    // output[i] = Σ_c rows[i·stride + c] x[c] for the rows i < L (x: d floats, whole vectors), a head's floats in vectors
    // and then across lanes; zeros past L to the end of output.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void DotColumn<V>(ReadOnlySpan<float> rows, int stride, ReadOnlySpan<float> x, Span<float> output, int l) where V : struct, IFloatLanes<V>
    {
        int d = x.Length;
        _ = rows[(l - 1) * stride + d - 1];
        ref float r = ref MemoryMarshal.GetReference(rows);
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (int i = 0; i < l; i++)
        {
            var sum = V.Zero;
            for (int c = 0; c < d; c += V.Count) sum = V.Fma(V.Load(ref r, (nuint)(i * stride + c)), V.Load(ref xr, (nuint)c), sum);
            output[i] = V.Sum(sum);
        }
        output[l..].Clear();
    }

    // t[c·lp + i] = rows[i·d + c] for the L rows of d floats (TransposeTokenBlocks, then a float at a time); t past L left
    // as it was.
    static void TransposeRows(ReadOnlySpan<float> rows, int d, Span<float> t, int lp, int l)
    {
        _ = rows[l * d - 1];
        _ = t[(d - 1) * lp + l - 1];
        ref float src = ref MemoryMarshal.GetReference(rows);
        ref float dst = ref MemoryMarshal.GetReference(t);
        for (int i = TransposeTokenBlocks(ref src, d, ref dst, lp, l, d); i < l; i++)
            for (int c = 0; c < d; c++) Unsafe.Add(ref dst, c * lp + i) = Unsafe.Add(ref src, i * d + c);
    }

    // Backward's columns of FewKeys' keys over the queries for a block of rows from `row`: for key VectorEnd + t, its p_ij
    // and then its g_i·v_j, `length` floats each (ProbabilityColumn, DotColumn), one key after another; Count keys (none
    // where the vectors reach every key).
    readonly ref struct TailColumns
    {
        readonly ref float _columns;
        readonly int _length;

        public TailColumns(ref float columns, int row, int length, int vectorEnd, int count)
        {
            _columns = ref Unsafe.Add(ref columns, row);
            (_length, VectorEnd, Count) = (length, vectorEnd, count);
        }

        /// <summary>Where the keys in vectors end.</summary>
        public int VectorEnd { get; }

        /// <summary>The keys past them.</summary>
        public int Count { get; }

        /// <summary>
        /// Row r's Σ_j p_ij g_i·v_j over the vectors, <paramref name="sum"/>, with these keys' terms added; their p and
        /// ds_ij = p_ij (g_i·v_j − Σ) into the row's tables (from VectorEnd on). Returns the whole sum.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Complete(int r, float sum, ref float p, ref float ds)
        {
            for (int t = 0; t < Count; t++) sum += P(t, r) * Gv(t, r);
            for (int t = 0; t < Count; t++)
                (Unsafe.Add(ref p, VectorEnd + t), Unsafe.Add(ref ds, VectorEnd + t)) = (P(t, r), P(t, r) * (Gv(t, r) - sum));
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        float P(int t, int r) => Unsafe.Add(ref _columns, 2 * t * _length + r);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        float Gv(int t, int r) => Unsafe.Add(ref _columns, (2 * t + 1) * _length + r);
    }

    // Backward for four query rows of a pair: their p and ds rows into probs and ds (4 × lp each, rows lp apart), and
    // Σ_j ds_ij k_j into dq (4 × d), from the keys' rows where given (heads of whole vectors), else from kt. Four rows at
    // a time, every load of k and v serves four independent sums; the keys in vectors up to columns.VectorEnd, those past
    // it (FewKeys) from their columns. A method of its own, so that its vector operations are inlined into it (see
    // GeluKernel.Lanes).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void BackwardRows<V>(ref float kt, ref float vt, ref float probs, ref float ds, ref float q, ref float g,
        ReadOnlySpan<float> rowMax, ReadOnlySpan<float> rowInv, ref float dq, int l, int lp, int d, ref float keys, TailColumns columns) where V : struct, IFloatLanes<V>
    {
        int end = columns.VectorEnd;
        ref float p0 = ref probs;
        ref float p1 = ref Unsafe.Add(ref probs, lp);
        ref float p2 = ref Unsafe.Add(ref probs, 2 * lp);
        ref float p3 = ref Unsafe.Add(ref probs, 3 * lp);
        ref float ds0 = ref ds;
        ref float ds1 = ref Unsafe.Add(ref ds, lp);
        ref float ds2 = ref Unsafe.Add(ref ds, 2 * lp);
        ref float ds3 = ref Unsafe.Add(ref ds, 3 * lp);
        // s_ij = scale·q_i·k_j into the p rows and g_i·v_j into the ds rows, then p_ij = exp(s_ij − max_i)/Σ_i in place.
        RowProducts<V>(ref q, ref kt, ref p0, d, lp, end);
        RowProducts<V>(ref g, ref vt, ref ds0, d, lp, end);
        V pdp0 = V.Zero, pdp1 = pdp0, pdp2 = pdp0, pdp3 = pdp0;
        for (int v = 0; v < end; v += V.Count)
        {
            pdp0 += Probability<V>(rowMax[0], rowInv[0], ref p0, ref ds0, v, l);
            pdp1 += Probability<V>(rowMax[1], rowInv[1], ref p1, ref ds1, v, l);
            pdp2 += Probability<V>(rowMax[2], rowInv[2], ref p2, ref ds2, v, l);
            pdp3 += Probability<V>(rowMax[3], rowInv[3], ref p3, ref ds3, v, l);
        }
        // ds_ij = p_ij (g_i·v_j − Σ_j' p_ij' g_i·v_j')
        var (sum0, sum1, sum2, sum3) = (V.Of(columns.Complete(0, V.Sum(pdp0), ref p0, ref ds0)), V.Of(columns.Complete(1, V.Sum(pdp1), ref p1, ref ds1)),
            V.Of(columns.Complete(2, V.Sum(pdp2), ref p2, ref ds2)), V.Of(columns.Complete(3, V.Sum(pdp3), ref p3, ref ds3)));
        for (int v = 0; v < end; v += V.Count)
        {
            (V.Load(ref p0, (nuint)v) * (V.Load(ref ds0, (nuint)v) - sum0)).Store(ref ds0, (nuint)v);
            (V.Load(ref p1, (nuint)v) * (V.Load(ref ds1, (nuint)v) - sum1)).Store(ref ds1, (nuint)v);
            (V.Load(ref p2, (nuint)v) * (V.Load(ref ds2, (nuint)v) - sum2)).Store(ref ds2, (nuint)v);
            (V.Load(ref p3, (nuint)v) * (V.Load(ref ds3, (nuint)v) - sum3)).Store(ref ds3, (nuint)v);
        }
        if (!Unsafe.IsNullRef(ref keys)) QueryGradientsFromRows<V>(ref keys, ref ds, ref dq, l, lp, d);
        else QueryGradients<V>(ref kt, ref ds, ref dq, lp, d);
    }

    // dq_i = Σ_j ds_ij k_j (added to dq with add) for four rows of ds (lp apart) against the transposed keys: four
    // independent sums share each load of k, each summed across its lanes at the end.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void QueryGradients<V>(ref float kt, ref float ds, ref float dq, int lp, int d, bool add = false) where V : struct, IFloatLanes<V>
    {
        ref float ds1 = ref Unsafe.Add(ref ds, lp);
        ref float ds2 = ref Unsafe.Add(ref ds, 2 * lp);
        ref float ds3 = ref Unsafe.Add(ref ds, 3 * lp);
        for (int c = 0; c < d; c++)
        {
            V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0;
            ref float kc = ref Unsafe.Add(ref kt, c * lp);
            for (int v = 0; v < lp; v += V.Count)
            {
                var k = V.Load(ref kc, (nuint)v);
                a0 = V.Fma(V.Load(ref ds, (nuint)v), k, a0);
                a1 = V.Fma(V.Load(ref ds1, (nuint)v), k, a1);
                a2 = V.Fma(V.Load(ref ds2, (nuint)v), k, a2);
                a3 = V.Fma(V.Load(ref ds3, (nuint)v), k, a3);
            }
            var (s0, s1, s2, s3) = (V.Sum(a0), V.Sum(a1), V.Sum(a2), V.Sum(a3));
            if (add) (s0, s1, s2, s3) = (s0 + Unsafe.Add(ref dq, c), s1 + Unsafe.Add(ref dq, d + c), s2 + Unsafe.Add(ref dq, 2 * d + c), s3 + Unsafe.Add(ref dq, 3 * d + c));
            (Unsafe.Add(ref dq, c), Unsafe.Add(ref dq, d + c), Unsafe.Add(ref dq, 2 * d + c), Unsafe.Add(ref dq, 3 * d + c)) = (s0, s1, s2, s3);
        }
    }

    // dq_i = Σ_j ds_ij k_j (added to dq with add) for four rows of ds (lp apart) against the keys' rows (l × d, d whole
    // vectors): per key one load of its row serves the four rows' sums, each fed by a broadcast of its ds_ij; two sums a
    // row (even and odd keys), so that the FMAs do not wait on one another. It has none of the form above's sums across
    // lanes (four a head float): in D's backward on one thread, 10.7k -> 3.9k cycles a pair (parts switched off in turn).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void QueryGradientsFromRows<V>(ref float keys, ref float ds, ref float dq, int l, int lp, int d, bool add = false) where V : struct, IFloatLanes<V>
    {
        ref float ds1 = ref Unsafe.Add(ref ds, lp);
        ref float ds2 = ref Unsafe.Add(ref ds, 2 * lp);
        ref float ds3 = ref Unsafe.Add(ref ds, 3 * lp);
        for (int c = 0; c < d; c += V.Count)
        {
            V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            if (add) (a0, a1, a2, a3) = (V.Load(ref dq, (nuint)c), V.Load(ref dq, (nuint)(d + c)), V.Load(ref dq, (nuint)(2 * d + c)), V.Load(ref dq, (nuint)(3 * d + c)));
            ref float kj = ref Unsafe.Add(ref keys, c);
            int j = 0;
            for (; j + 2 <= l; j += 2, kj = ref Unsafe.Add(ref kj, 2 * d))
            {
                var (k, k1) = (V.Load(ref kj, 0), V.Load(ref kj, (nuint)d));
                a0 = V.Fma(V.Of(Unsafe.Add(ref ds, j)), k, a0);
                a1 = V.Fma(V.Of(Unsafe.Add(ref ds1, j)), k, a1);
                a2 = V.Fma(V.Of(Unsafe.Add(ref ds2, j)), k, a2);
                a3 = V.Fma(V.Of(Unsafe.Add(ref ds3, j)), k, a3);
                b0 = V.Fma(V.Of(Unsafe.Add(ref ds, j + 1)), k1, b0);
                b1 = V.Fma(V.Of(Unsafe.Add(ref ds1, j + 1)), k1, b1);
                b2 = V.Fma(V.Of(Unsafe.Add(ref ds2, j + 1)), k1, b2);
                b3 = V.Fma(V.Of(Unsafe.Add(ref ds3, j + 1)), k1, b3);
            }
            if (j < l)
            {
                var k = V.Load(ref kj, 0);
                a0 = V.Fma(V.Of(Unsafe.Add(ref ds, j)), k, a0);
                a1 = V.Fma(V.Of(Unsafe.Add(ref ds1, j)), k, a1);
                a2 = V.Fma(V.Of(Unsafe.Add(ref ds2, j)), k, a2);
                a3 = V.Fma(V.Of(Unsafe.Add(ref ds3, j)), k, a3);
            }
            (a0 + b0).Store(ref dq, (nuint)c);
            (a1 + b1).Store(ref dq, (nuint)(d + c));
            (a2 + b2).Store(ref dq, (nuint)(2 * d + c));
            (a3 + b3).Store(ref dq, (nuint)(3 * d + c));
        }
    }

    // t[c, j] = Σ_{i<l} rows[i·stride + c] m[i·lp + j] for c < d and j < lp, written over t (d × lp), or added to it with
    // add: the transposed product rowsᵀ m of a pair's rows (l of d floats, stride apart) and a table of its rows (l × lp),
    // the keys' gradients from ds and the values' from p.
    // Tiles of four floats c by four vectors of j keep sixteen sums in registers through all l rows, each row's four
    // broadcasts and four loads serving sixteen FMAs (where the per-block form loaded and stored dk and dv for every four
    // rows); the vectors past the last four take tiles of eight floats by one vector, or a key at a time where they hold
    // few keys (KeyColumns: there t past L is not written).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void TransposedProduct<V>(ref float rows, ref float m, ref float t, int l, int lp, int d, int stride, bool add = false) where V : struct, IFloatLanes<V>
    {
        nuint w = (nuint)V.Count;
        int v = 0;
        for (; v + 4 * V.Count <= lp; v += 4 * V.Count)
        {
            int c = 0;
            for (; c + 4 <= d; c += 4)
            {
                ref float t0 = ref Unsafe.Add(ref t, c * lp + v);
                ref float t1 = ref Unsafe.Add(ref t0, lp);
                ref float t2 = ref Unsafe.Add(ref t0, 2 * lp);
                ref float t3 = ref Unsafe.Add(ref t0, 3 * lp);
                V a00 = V.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                V a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
                if (add)
                {
                    (a00, a01, a02, a03) = (V.Load(ref t0, 0), V.Load(ref t0, w), V.Load(ref t0, 2 * w), V.Load(ref t0, 3 * w));
                    (a10, a11, a12, a13) = (V.Load(ref t1, 0), V.Load(ref t1, w), V.Load(ref t1, 2 * w), V.Load(ref t1, 3 * w));
                    (a20, a21, a22, a23) = (V.Load(ref t2, 0), V.Load(ref t2, w), V.Load(ref t2, 2 * w), V.Load(ref t2, 3 * w));
                    (a30, a31, a32, a33) = (V.Load(ref t3, 0), V.Load(ref t3, w), V.Load(ref t3, 2 * w), V.Load(ref t3, 3 * w));
                }
                ref float mi = ref Unsafe.Add(ref m, v);
                ref float ri = ref Unsafe.Add(ref rows, c);
                for (int i = 0; i < l; i++)
                {
                    var (m0, m1, m2, m3) = (V.Load(ref mi, 0), V.Load(ref mi, w), V.Load(ref mi, 2 * w), V.Load(ref mi, 3 * w));
                    var x = V.Of(ri);
                    (a00, a01, a02, a03) = (V.Fma(x, m0, a00), V.Fma(x, m1, a01), V.Fma(x, m2, a02), V.Fma(x, m3, a03));
                    x = V.Of(Unsafe.Add(ref ri, 1));
                    (a10, a11, a12, a13) = (V.Fma(x, m0, a10), V.Fma(x, m1, a11), V.Fma(x, m2, a12), V.Fma(x, m3, a13));
                    x = V.Of(Unsafe.Add(ref ri, 2));
                    (a20, a21, a22, a23) = (V.Fma(x, m0, a20), V.Fma(x, m1, a21), V.Fma(x, m2, a22), V.Fma(x, m3, a23));
                    x = V.Of(Unsafe.Add(ref ri, 3));
                    (a30, a31, a32, a33) = (V.Fma(x, m0, a30), V.Fma(x, m1, a31), V.Fma(x, m2, a32), V.Fma(x, m3, a33));
                    mi = ref Unsafe.Add(ref mi, lp);
                    ri = ref Unsafe.Add(ref ri, stride);
                }
                a00.Store(ref t0, 0); a01.Store(ref t0, w); a02.Store(ref t0, 2 * w); a03.Store(ref t0, 3 * w);
                a10.Store(ref t1, 0); a11.Store(ref t1, w); a12.Store(ref t1, 2 * w); a13.Store(ref t1, 3 * w);
                a20.Store(ref t2, 0); a21.Store(ref t2, w); a22.Store(ref t2, 2 * w); a23.Store(ref t2, 3 * w);
                a30.Store(ref t3, 0); a31.Store(ref t3, w); a32.Store(ref t3, 2 * w); a33.Store(ref t3, 3 * w);
            }
            for (; c < d; c++)
            {
                ref float tc = ref Unsafe.Add(ref t, c * lp + v);
                V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0;
                if (add) (a0, a1, a2, a3) = (V.Load(ref tc, 0), V.Load(ref tc, w), V.Load(ref tc, 2 * w), V.Load(ref tc, 3 * w));
                ref float mi = ref Unsafe.Add(ref m, v);
                for (int i = 0; i < l; i++, mi = ref Unsafe.Add(ref mi, lp))
                {
                    var x = V.Of(Unsafe.Add(ref rows, i * stride + c));
                    (a0, a1, a2, a3) = (V.Fma(x, V.Load(ref mi, 0), a0), V.Fma(x, V.Load(ref mi, w), a1), V.Fma(x, V.Load(ref mi, 2 * w), a2), V.Fma(x, V.Load(ref mi, 3 * w), a3));
                }
                a0.Store(ref tc, 0); a1.Store(ref tc, w); a2.Store(ref tc, 2 * w); a3.Store(ref tc, 3 * w);
            }
        }
        for (; v < lp; v += V.Count)
        {
            if (KeysAtATime && 4 * (l - v) <= V.Count && d % V.Count == 0)   // a vector of a few keys (D's class token): a key at a time
            {
                KeyColumns<V>(ref rows, ref m, ref t, v, l, lp, d, stride, add);
                continue;
            }
            int c = 0;
            for (; c + 8 <= d; c += 8)
            {
                ref float tc = ref Unsafe.Add(ref t, c * lp + v);
                V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                if (add)
                {
                    (a0, a1, a2, a3) = (V.Load(ref tc, 0), V.Load(ref tc, (nuint)lp), V.Load(ref tc, (nuint)(2 * lp)), V.Load(ref tc, (nuint)(3 * lp)));
                    (a4, a5, a6, a7) = (V.Load(ref tc, (nuint)(4 * lp)), V.Load(ref tc, (nuint)(5 * lp)), V.Load(ref tc, (nuint)(6 * lp)), V.Load(ref tc, (nuint)(7 * lp)));
                }
                ref float mi = ref Unsafe.Add(ref m, v);
                ref float ri = ref Unsafe.Add(ref rows, c);
                for (int i = 0; i < l; i++)
                {
                    var mv = V.Load(ref mi, 0);
                    (a0, a1, a2, a3) = (V.Fma(V.Of(ri), mv, a0), V.Fma(V.Of(Unsafe.Add(ref ri, 1)), mv, a1), V.Fma(V.Of(Unsafe.Add(ref ri, 2)), mv, a2), V.Fma(V.Of(Unsafe.Add(ref ri, 3)), mv, a3));
                    (a4, a5, a6, a7) = (V.Fma(V.Of(Unsafe.Add(ref ri, 4)), mv, a4), V.Fma(V.Of(Unsafe.Add(ref ri, 5)), mv, a5), V.Fma(V.Of(Unsafe.Add(ref ri, 6)), mv, a6), V.Fma(V.Of(Unsafe.Add(ref ri, 7)), mv, a7));
                    mi = ref Unsafe.Add(ref mi, lp);
                    ri = ref Unsafe.Add(ref ri, stride);
                }
                a0.Store(ref tc, 0); a1.Store(ref tc, (nuint)lp); a2.Store(ref tc, (nuint)(2 * lp)); a3.Store(ref tc, (nuint)(3 * lp));
                a4.Store(ref tc, (nuint)(4 * lp)); a5.Store(ref tc, (nuint)(5 * lp)); a6.Store(ref tc, (nuint)(6 * lp)); a7.Store(ref tc, (nuint)(7 * lp));
            }
            for (; c < d; c++)
            {
                V a0 = add ? V.Load(ref t, (nuint)(c * lp + v)) : V.Zero, a1 = V.Zero;
                ref float mi = ref Unsafe.Add(ref m, v);
                int i = 0;
                for (; i + 2 <= l; i += 2, mi = ref Unsafe.Add(ref mi, 2 * lp))
                {
                    a0 = V.Fma(V.Of(Unsafe.Add(ref rows, i * stride + c)), V.Load(ref mi, 0), a0);
                    a1 = V.Fma(V.Of(Unsafe.Add(ref rows, (i + 1) * stride + c)), V.Load(ref mi, (nuint)lp), a1);
                }
                if (i < l) a0 = V.Fma(V.Of(Unsafe.Add(ref rows, i * stride + c)), V.Load(ref mi, 0), a0);
                (a0 + a1).Store(ref t, (nuint)(c * lp + v));
            }
        }
    }

    /// <summary>Whether a last vector of a few keys takes its keys' gradients a key at a time (the default) or as a vector (the bench's switch few-keys).</summary>
    internal static bool KeysAtATime { get; set; } = true;

    // TransposedProduct's t[c, j] for the keys v ≤ j < l of a last vector that holds at most a quarter of its lanes' keys
    // (D's class token after 64 patches: one key in sixteen lanes), a key at a time on vectors of c: Σ_i m[i·lp + j]
    // rows[i·stride + c] in four sums (rows i mod 4), then the lanes into t's column j. As a vector of keys, the one key
    // took eight floats c by the whole vector over all l rows, twice for a 16-float head: D's backward on one thread
    // 1.50-1.62 ms -> 1.40-1.46 on a Zen 4 (forty-sixth pass). Entries of t past L are left as they were (Scatter reads
    // none).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void KeyColumns<V>(ref float rows, ref float m, ref float t, int v, int l, int lp, int d, int stride, bool add) where V : struct, IFloatLanes<V>
    {
        Span<float> lanes = stackalloc float[V.Count];
        ref float sums = ref MemoryMarshal.GetReference(lanes);
        for (int j = v; j < l; j++)
            for (int c0 = 0; c0 < d; c0 += V.Count)
            {
                V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0;
                ref float mi = ref Unsafe.Add(ref m, j);
                ref float ri = ref Unsafe.Add(ref rows, c0);
                int i = 0;
                for (; i + 4 <= l; i += 4, mi = ref Unsafe.Add(ref mi, 4 * lp), ri = ref Unsafe.Add(ref ri, 4 * stride))
                {
                    a0 = V.Fma(V.Of(mi), V.Load(ref ri, 0), a0);
                    a1 = V.Fma(V.Of(Unsafe.Add(ref mi, lp)), V.Load(ref ri, (nuint)stride), a1);
                    a2 = V.Fma(V.Of(Unsafe.Add(ref mi, 2 * lp)), V.Load(ref ri, (nuint)(2 * stride)), a2);
                    a3 = V.Fma(V.Of(Unsafe.Add(ref mi, 3 * lp)), V.Load(ref ri, (nuint)(3 * stride)), a3);
                }
                for (; i < l; i++, mi = ref Unsafe.Add(ref mi, lp), ri = ref Unsafe.Add(ref ri, stride))
                    a0 = V.Fma(V.Of(mi), V.Load(ref ri, 0), a0);
                (a0 + a1 + (a2 + a3)).Store(ref sums, 0);
                ref float column = ref Unsafe.Add(ref t, c0 * lp + j);
                for (int c = 0; c < V.Count; c++, column = ref Unsafe.Add(ref column, lp))
                    column = add ? column + Unsafe.Add(ref sums, c) : Unsafe.Add(ref sums, c);
            }
    }

    // One row's probabilities p = exp(s − max)/Σ on a vector of keys from v (0 in lanes past the L keys), in place of its
    // scores s; returns p·(g·v) (its g·v read from ds), the row sum's share.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V Probability<V>(float max, float inv, ref float p, ref float ds, int v, int l) where V : struct, IFloatLanes<V>
    {
        var prob = Masked(Transcendental.Exp2(V.Fma(V.Load(ref p, (nuint)v), V.Of(Transcendental.Log2E), V.Of(-max))) * V.Of(inv), v, l);
        prob.Store(ref p, (nuint)v);
        return prob * V.Load(ref ds, (nuint)v);
    }

    // out_r = Σ_c rows_rc t_c for four rows (rows: 4 × d, row-major) against the transposed table t (d × lp): lp floats
    // each into out (4 × lp, row-major). Four vectors of keys at a time: sixteen independent sums, each load of t serving
    // four rows and each broadcast of a row's float four vectors; then single vectors for the rest.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void RowProducts<V>(ref float rows, ref float t, ref float output, int d, int lp, int end) where V : struct, IFloatLanes<V>
    {
        ref float r1 = ref Unsafe.Add(ref rows, d);
        ref float r2 = ref Unsafe.Add(ref rows, 2 * d);
        ref float r3 = ref Unsafe.Add(ref rows, 3 * d);
        ref float o1 = ref Unsafe.Add(ref output, lp);
        ref float o2 = ref Unsafe.Add(ref output, 2 * lp);
        ref float o3 = ref Unsafe.Add(ref output, 3 * lp);
        nuint w = (nuint)V.Count;
        int v = 0;
        for (; v + 4 * V.Count <= end; v += 4 * V.Count)
        {
            V a00 = V.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            V a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int c = 0; c < d; c++)
            {
                ref float tc = ref Unsafe.Add(ref t, c * lp + v);
                var (t0, t1, t2, t3) = (V.Load(ref tc, 0), V.Load(ref tc, w), V.Load(ref tc, 2 * w), V.Load(ref tc, 3 * w));
                var x = V.Of(Unsafe.Add(ref rows, c));
                (a00, a01, a02, a03) = (V.Fma(x, t0, a00), V.Fma(x, t1, a01), V.Fma(x, t2, a02), V.Fma(x, t3, a03));
                x = V.Of(Unsafe.Add(ref r1, c));
                (a10, a11, a12, a13) = (V.Fma(x, t0, a10), V.Fma(x, t1, a11), V.Fma(x, t2, a12), V.Fma(x, t3, a13));
                x = V.Of(Unsafe.Add(ref r2, c));
                (a20, a21, a22, a23) = (V.Fma(x, t0, a20), V.Fma(x, t1, a21), V.Fma(x, t2, a22), V.Fma(x, t3, a23));
                x = V.Of(Unsafe.Add(ref r3, c));
                (a30, a31, a32, a33) = (V.Fma(x, t0, a30), V.Fma(x, t1, a31), V.Fma(x, t2, a32), V.Fma(x, t3, a33));
            }
            nuint at = (nuint)v;
            a00.Store(ref output, at); a01.Store(ref output, at + w); a02.Store(ref output, at + 2 * w); a03.Store(ref output, at + 3 * w);
            a10.Store(ref o1, at); a11.Store(ref o1, at + w); a12.Store(ref o1, at + 2 * w); a13.Store(ref o1, at + 3 * w);
            a20.Store(ref o2, at); a21.Store(ref o2, at + w); a22.Store(ref o2, at + 2 * w); a23.Store(ref o2, at + 3 * w);
            a30.Store(ref o3, at); a31.Store(ref o3, at + w); a32.Store(ref o3, at + 2 * w); a33.Store(ref o3, at + 3 * w);
        }
        for (; v < end; v += V.Count)
            FourRowsOneVector<V>(ref rows, ref t, v, d, lp, ref Unsafe.Add(ref output, v), lp);
    }

    // out_r = Σ_c rows_rc t_c for four rows (rows: 4 × d, row-major) against one vector of the transposed table t (d × lp)
    // from v, stored `stride` apart from `output`: four independent sums, each load of t serving the four rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void FourRowsOneVector<V>(ref float rows, ref float t, int v, int d, int lp, ref float output, int stride) where V : struct, IFloatLanes<V>
    {
        ref float r1 = ref Unsafe.Add(ref rows, d);
        ref float r2 = ref Unsafe.Add(ref rows, 2 * d);
        ref float r3 = ref Unsafe.Add(ref rows, 3 * d);
        V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < d; c++)
        {
            var tc = V.Load(ref t, (nuint)(c * lp + v));
            a0 = V.Fma(V.Of(Unsafe.Add(ref rows, c)), tc, a0);
            a1 = V.Fma(V.Of(Unsafe.Add(ref r1, c)), tc, a1);
            a2 = V.Fma(V.Of(Unsafe.Add(ref r2, c)), tc, a2);
            a3 = V.Fma(V.Of(Unsafe.Add(ref r3, c)), tc, a3);
        }
        a0.Store(ref output, 0); a1.Store(ref output, (nuint)stride); a2.Store(ref output, (nuint)(2 * stride)); a3.Store(ref output, (nuint)(3 * stride));
    }

    // x with the lanes past the L keys zeroed, for the vector of keys from v.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V Masked<V>(V x, int v, int l) where V : struct, IFloatLanes<V> =>
        v + V.Count <= l ? x : x & KeysBelow<V>(v, l);

    // The same with the lanes past the L keys set to `past` (ForwardRow's max takes -∞ there).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V Masked<V>(V x, int v, int l, float past) where V : struct, IFloatLanes<V> =>
        v + V.Count <= l ? x : V.Select(KeysBelow<V>(v, l), x, V.Of(past));

    // All bits set in the lanes of keys v + lane below l.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static V KeysBelow<V>(int v, int l) where V : struct, IFloatLanes<V> => V.LessThan(V.Indices + V.Of(v), V.Of(l));

    // The derivatives of Backward's dqkv = B(qkv, g) against a cotangent u of it (packed like qkv: uq | uk | uv), for a
    // gradient penalty's second backward. Per pair, with P the probabilities, dP = g vᵀ, D = rowsum(P∘dP), dS = P∘(dP − D):
    //   W = scale·(uq kᵀ + q ukᵀ), r = rowsum(W∘P), Y = P∘(W − r), P̄ = g uvᵀ + (W − r)∘(dP − D), S̄ = P∘(P̄ − rowsum(P̄∘P)),
    //   d/dq = scale·(dS uk + S̄ k), d/dk = scale·(dSᵀ uq + S̄ᵀ q), d/dv = Yᵀ g, d/dg = P uv + Y v.
    // -> dqkv2: rows 3E wide, dg: rows E wide, every float of both written.
    public static void SecondOrder(float[] qkv, float[] gradOut, float[] u, float[] stats, float[] dqkv2, float[] dg, AttentionLayout a, float scale) =>
        SecondOrder(qkv, gradOut, u, stats, dqkv2, dg, a, scale, FloatLanes.Widest);

    /// <summary>The same with the row kernels on vectors of <paramref name="width"/> lanes (16 or 8): tests run both.</summary>
    internal static void SecondOrder(float[] qkv, float[] gradOut, float[] u, float[] stats, float[] dqkv2, float[] dg, AttentionLayout a, float scale, int width)
    {
        int l = a.Length, d = a.HeadDim, lp = Padded(l), e3 = 3 * a.Embed;
        Threading.ForRanges(a.Pairs, (_, p0, p1) =>
        {
            // k, v, uk, uv and the gradients to k and v (each d × lp, transposed, a cache line apart past multiples of 4 kB
            // as in Backward), then the pair's P, dP/dS, W/Y and P̄/S̄ (lq × lp each, lq = L rounded up to whole blocks of
            // four rows); then its rows (zeros past L): scale·q, scale·uq and g side by side (3d each), the gradients to q
            // and g (d each), and k, uk, v and uv in rows (d each) where the rows' gradients are taken from them.
            int stride = d * lp + 16, lq = (l + 3) / 4 * 4, square = lq * lp + 16, rowTables = 6 * stride + 4 * square;
            bool keyRows = d % width == 0;
            var work = Scratch(rowTables + 9 * lq * d);
            Span<float> kt = work.Slice(0, d * lp), vt = work.Slice(stride, d * lp), ukt = work.Slice(2 * stride, d * lp),
                uvt = work.Slice(3 * stride, d * lp), gkt = work.Slice(4 * stride, d * lp), gvt = work.Slice(5 * stride, d * lp);
            Span<float> rows = work.Slice(rowTables, 3 * lq * d), gq = work.Slice(rowTables + 3 * lq * d, lq * d), gg = work.Slice(rowTables + 4 * lq * d, lq * d);
            Span<float> keys = work.Slice(rowTables + 5 * lq * d, lq * d), ukeys = work.Slice(rowTables + 6 * lq * d, lq * d);
            Span<float> values = work.Slice(rowTables + 7 * lq * d, lq * d), uvalues = work.Slice(rowTables + 8 * lq * d, lq * d);
            ref float probs = ref work[6 * stride];
            ref float ds = ref work[6 * stride + square];
            ref float y = ref work[6 * stride + 2 * square];
            ref float sbar = ref work[6 * stride + 3 * square];
            for (int p = p0; p < p1; p++)
            {
                int b = p / a.Heads, head = p % a.Heads;
                Gather(qkv, kt, a, b, head, part: 1, lp);
                Gather(qkv, vt, a, b, head, part: 2, lp);
                Gather(u, ukt, a, b, head, part: 1, lp);
                Gather(u, uvt, a, b, head, part: 2, lp);
                // A row past L (the last block's, for odd L) holds q = uq = g = 0, so it adds nothing.
                GatherRows(qkv, e3, head * d, rows, 3 * d, a, b, scale);
                GatherRows(u, e3, head * d, rows[d..], 3 * d, a, b, scale);
                GatherRows(gradOut, a.Embed, head * d, rows[(2 * d)..], 3 * d, a, b);
                if (keyRows)
                {
                    GatherRows(qkv, e3, a.Embed + head * d, keys, d, a, b);
                    GatherRows(u, e3, a.Embed + head * d, ukeys, d, a, b);
                    GatherRows(qkv, e3, 2 * a.Embed + head * d, values, d, a, b);
                    GatherRows(u, e3, 2 * a.Embed + head * d, uvalues, d, a, b);
                }
                for (int i0 = 0; i0 < l; i0 += 2)
                {
                    ReadOnlySpan<float> rowMax = stats.AsSpan(p * 2 * lp + i0, 2), rowInv = stats.AsSpan(p * 2 * lp + lp + i0, 2);
                    int at = i0 * lp;
                    if (width == Lanes512.Count)
                        SecondOrderRows<Lanes512>(ref work[0], ref work[stride], ref work[2 * stride], ref work[3 * stride],
                            ref Unsafe.Add(ref probs, at), ref Unsafe.Add(ref ds, at), ref Unsafe.Add(ref y, at), ref Unsafe.Add(ref sbar, at),
                            ref rows[3 * i0 * d], rowMax, rowInv, l, lp, d);
                    else
                        SecondOrderRows<Lanes256>(ref work[0], ref work[stride], ref work[2 * stride], ref work[3 * stride],
                            ref Unsafe.Add(ref probs, at), ref Unsafe.Add(ref ds, at), ref Unsafe.Add(ref y, at), ref Unsafe.Add(ref sbar, at),
                            ref rows[3 * i0 * d], rowMax, rowInv, l, lp, d);
                }
                if (width == Lanes512.Count)
                    SecondOrderProducts<Lanes512>(work, stride, ref probs, ref ds, ref y, ref sbar, rows, gq, gg, keyRows, keys, ukeys, values, uvalues, l, lp, d);
                else
                    SecondOrderProducts<Lanes256>(work, stride, ref probs, ref ds, ref y, ref sbar, rows, gq, gg, keyRows, keys, ukeys, values, uvalues, l, lp, d);
                ScatterRows(gq, dqkv2, e3, head * d, a, b, scale);
                ScatterRows(gg, dg, a.Embed, head * d, a, b);
                Scatter(gkt, dqkv2, a, b, head, part: 1, lp);
                Scatter(gvt, dqkv2, a, b, head, part: 2, lp);
            }
        }, MinPairsPerChunk(a));
    }

    // SecondOrder's gradients from a pair's whole P, dS, Y and S̄ (lq × lp each, lp apart): to k and v, transposed,
    // Σ_i (scale·uq_i dS_ij + scale·q_i S̄_ij) and Σ_i g_i Y_ij; to q and g, for four rows at a time, Σ_j (dS_ij uk_j +
    // S̄_ij k_j) and Σ_j (P_ij uv_j + Y_ij v_j), from the keys' and values' rows where they are whole vectors, else from
    // their transposed tables.
    static void SecondOrderProducts<V>(Span<float> work, int stride, ref float probs, ref float ds, ref float y, ref float sbar, Span<float> rows,
        Span<float> gq, Span<float> gg, bool keyRows, Span<float> keys, Span<float> ukeys, Span<float> values, Span<float> uvalues, int l, int lp, int d)
        where V : struct, IFloatLanes<V>
    {
        TransposedProduct<V>(ref rows[d], ref ds, ref work[4 * stride], l, lp, d, 3 * d);
        TransposedProduct<V>(ref rows[0], ref sbar, ref work[4 * stride], l, lp, d, 3 * d, add: true);
        TransposedProduct<V>(ref rows[2 * d], ref y, ref work[5 * stride], l, lp, d, 3 * d);
        for (int i0 = 0; i0 < l; i0 += 4)
        {
            int at = i0 * lp;
            ref float q = ref gq[i0 * d];
            ref float g = ref gg[i0 * d];
            if (keyRows)
            {
                QueryGradientsFromRows<V>(ref ukeys[0], ref Unsafe.Add(ref ds, at), ref q, l, lp, d);
                QueryGradientsFromRows<V>(ref keys[0], ref Unsafe.Add(ref sbar, at), ref q, l, lp, d, add: true);
                QueryGradientsFromRows<V>(ref uvalues[0], ref Unsafe.Add(ref probs, at), ref g, l, lp, d);
                QueryGradientsFromRows<V>(ref values[0], ref Unsafe.Add(ref y, at), ref g, l, lp, d, add: true);
            }
            else
            {
                QueryGradients<V>(ref work[2 * stride], ref Unsafe.Add(ref ds, at), ref q, lp, d);
                QueryGradients<V>(ref work[0], ref Unsafe.Add(ref sbar, at), ref q, lp, d, add: true);
                QueryGradients<V>(ref work[3 * stride], ref Unsafe.Add(ref probs, at), ref g, lp, d);
                QueryGradients<V>(ref work[stride], ref Unsafe.Add(ref y, at), ref g, lp, d, add: true);
            }
        }
    }

    // SecondOrder for two query rows of a pair (the formulas above): their P, dS, Y and S̄ rows into the pair's tables
    // (pr0, ds0, y0, sb0; row 1 lp floats after row 0); rows holds each row's scale·q, scale·uq and g. Two rows at a
    // time, every load of the transposed tables serves both. A method of its own, so that its vector operations are
    // inlined into it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void SecondOrderRows<V>(ref float kt, ref float vt, ref float ukt, ref float uvt, ref float pr0, ref float ds0, ref float y0, ref float sb0,
        ref float rows, ReadOnlySpan<float> rowMax, ReadOnlySpan<float> rowInv, int l, int lp, int d)
        where V : struct, IFloatLanes<V>
    {
        ref float pr1 = ref Unsafe.Add(ref pr0, lp);
        ref float ds1 = ref Unsafe.Add(ref ds0, lp);
        ref float y1 = ref Unsafe.Add(ref y0, lp);
        ref float sb1 = ref Unsafe.Add(ref sb0, lp);
        ref float q0 = ref rows;
        ref float uq0 = ref Unsafe.Add(ref rows, d);
        ref float g0 = ref Unsafe.Add(ref rows, 2 * d);
        ref float q1 = ref Unsafe.Add(ref rows, 3 * d);
        ref float uq1 = ref Unsafe.Add(ref rows, 4 * d);
        ref float g1 = ref Unsafe.Add(ref rows, 5 * d);
        V pdp0 = V.Zero, wp0 = pdp0, pdp1 = pdp0, wp1 = pdp0;
        for (int v = 0; v < lp; v += V.Count)
        {
            // s = scale·q·k, w = scale·(uq·k + q·uk), dP = g·v, z = g·uv for a vector of keys j
            V s0 = V.Zero, w0 = s0, dp0 = s0, z0 = s0, s1 = s0, w1 = s0, dp1 = s0, z1 = s0;
            for (int c = 0; c < d; c++)
            {
                nuint at = (nuint)(c * lp + v);
                var (kc, ukc, vc, uvc) = (V.Load(ref kt, at), V.Load(ref ukt, at), V.Load(ref vt, at), V.Load(ref uvt, at));
                var (qc0, qc1) = (V.Of(Unsafe.Add(ref q0, c)), V.Of(Unsafe.Add(ref q1, c)));
                var (gc0, gc1) = (V.Of(Unsafe.Add(ref g0, c)), V.Of(Unsafe.Add(ref g1, c)));
                s0 = V.Fma(qc0, kc, s0);
                s1 = V.Fma(qc1, kc, s1);
                w0 = V.Fma(qc0, ukc, V.Fma(V.Of(Unsafe.Add(ref uq0, c)), kc, w0));
                w1 = V.Fma(qc1, ukc, V.Fma(V.Of(Unsafe.Add(ref uq1, c)), kc, w1));
                dp0 = V.Fma(gc0, vc, dp0);
                dp1 = V.Fma(gc1, vc, dp1);
                z0 = V.Fma(gc0, uvc, z0);
                z1 = V.Fma(gc1, uvc, z1);
            }
            var prob0 = Masked(Transcendental.Exp2(V.Fma(s0, V.Of(Transcendental.Log2E), V.Of(-rowMax[0]))) * V.Of(rowInv[0]), v, l);
            var prob1 = Masked(Transcendental.Exp2(V.Fma(s1, V.Of(Transcendental.Log2E), V.Of(-rowMax[1]))) * V.Of(rowInv[1]), v, l);
            prob0.Store(ref pr0, (nuint)v); dp0.Store(ref ds0, (nuint)v); w0.Store(ref y0, (nuint)v); z0.Store(ref sb0, (nuint)v);
            prob1.Store(ref pr1, (nuint)v); dp1.Store(ref ds1, (nuint)v); w1.Store(ref y1, (nuint)v); z1.Store(ref sb1, (nuint)v);
            pdp0 += prob0 * dp0; wp0 += w0 * prob0;
            pdp1 += prob1 * dp1; wp1 += w1 * prob1;
        }
        SecondOrderRow<V>(ref pr0, ref ds0, ref y0, ref sb0, V.Sum(pdp0), V.Sum(wp0), lp);
        SecondOrderRow<V>(ref pr1, ref ds1, ref y1, ref sb1, V.Sum(pdp1), V.Sum(wp1), lp);
    }

    // One row of SecondOrder after its sums: with D = Σ P∘dP and r = Σ W∘P, P̄ = g uvᵀ + (W − r)∘(dP − D); dP becomes
    // dS = P∘(dP − D), W becomes Y = P∘(W − r) and P̄ becomes S̄ = P∘(P̄ − Σ P̄∘P).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SecondOrderRow<V>(ref float pr, ref float dsr, ref float yr, ref float sr, float rowD, float rowR, int lp) where V : struct, IFloatLanes<V>
    {
        var (d, r) = (V.Of(rowD), V.Of(rowR));
        var pbp = V.Zero;
        for (int v = 0; v < lp; v += V.Count)
        {
            var prob = V.Load(ref pr, (nuint)v);
            var dpc = V.Load(ref dsr, (nuint)v) - d;
            var wc = V.Load(ref yr, (nuint)v) - r;
            var pbar = V.Fma(wc, dpc, V.Load(ref sr, (nuint)v));
            (prob * dpc).Store(ref dsr, (nuint)v);
            (prob * wc).Store(ref yr, (nuint)v);
            pbar.Store(ref sr, (nuint)v);
            pbp += pbar * prob;
        }
        var rowPb = V.Of(V.Sum(pbp));
        for (int v = 0; v < lp; v += V.Count)
            (V.Load(ref pr, (nuint)v) * (V.Load(ref sr, (nuint)v) - rowPb)).Store(ref sr, (nuint)v);
    }

    // A thread's work floats for the kernels above, the first on a 64-byte boundary: pinned, so it stays there, and every
    // table the kernels keep in it starts a whole number of vectors in, so no vector load straddles two cache lines. (In a
    // pooled array the boundary fell where the allocation put it, and the same kernel ran at different speeds from one
    // process to the next.) The kernels run one at a time on a thread and do not call one another.
    [ThreadStatic] static float[]? t_scratch;

    internal static unsafe Span<float> Scratch(int length)
    {
        var array = t_scratch;
        if (array == null || array.Length < length + W)
            t_scratch = array = GC.AllocateUninitializedArray<float>(Math.Max(length + W, 1 << 14), pinned: true);
        int past = (int)((nuint)Unsafe.AsPointer(ref array[0]) % 64) / sizeof(float);
        return array.AsSpan((W - past) % W, length);
    }

    // About 64k floats of scores a chunk, so a small attention stays on one thread.
    static int MinPairsPerChunk(AttentionLayout a) => Math.Max(1, 65536 / Math.Max(1, a.Length * a.Length));

    // Token 0 of sequence b's rows in `packed` (rows `width` floats wide), at float `offset` of its row, the last token's d
    // floats there checked in bounds: the copies below step a.TokenStride · width floats from one token to the next through
    // references, per float a load, a multiply and a store.
    static ref float FirstToken(float[] packed, int width, int offset, AttentionLayout a, int b)
    {
        _ = packed[a.Row(b, a.Length - 1) * width + offset + a.HeadDim - 1];
        return ref packed[a.Row(b, 0) * width + offset];
    }

    // Whether a head's floats move between the packed rows and a pair's transposed tables sixteen tokens by sixteen floats
    // at a time, in registers (AVX-512, heads of whole vectors): a float at a time, those copies were a third of the
    // backward at D's 65 tokens of 16-float heads (thirty-eighth pass).
    static bool TransposesBlocks(int d) => BlockTransposes && Avx512F.IsSupported && d % W == 0;

    /// <summary>Heads of whole vectors copied in transposed blocks (the default) or a float at a time (the bench's switch attention-blocks).</summary>
    internal static bool BlockTransposes { get; set; } = true;

    // t[c·lp + j] = src[j·stride + c] for the L tokens' d floats in whole blocks of sixteen tokens by sixteen floats,
    // transposed in registers, where TransposesBlocks (else none); returns the tokens it took.
    static int TransposeTokenBlocks(ref float src, int stride, ref float dst, int lp, int l, int d)
    {
        if (!TransposesBlocks(d)) return 0;
        int j = 0;
        for (; j + W <= l; j += W)
            for (int c0 = 0; c0 < d; c0 += W)
                Transpose.Sixteen(ref Unsafe.Add(ref src, j * stride + c0), stride, ref Unsafe.Add(ref dst, c0 * lp + j), lp);
        return j;
    }

    // t[c, j] = scale × part (0 q, 1 k, 2 v) of token j of sequence b, head `head`, float c: (L, d) strided -> (d, lp), zeros past L.
    static void Gather(float[] qkv, Span<float> t, AttentionLayout a, int b, int head, int part, int lp, float scale = 1f)
    {
        int l = a.Length, d = a.HeadDim, step = a.TokenStride * 3 * a.Embed;
        ref float src = ref FirstToken(qkv, 3 * a.Embed, part * a.Embed + head * d, a, b);
        _ = t[d * lp - 1];
        ref float dst = ref MemoryMarshal.GetReference(t);
        int j = TransposeTokenBlocks(ref src, step, ref dst, lp, l, d);
        src = ref Unsafe.Add(ref src, j * step);
        if (scale != 1f)   // the blocks' floats (Vector512: blocks are taken only where AVX-512 is)
            for (int c = 0; c < d; c++)
                for (int v = 0; v < j; v += W)
                    (Vector512.LoadUnsafe(ref dst, (nuint)(c * lp + v)) * scale).StoreUnsafe(ref dst, (nuint)(c * lp + v));
        for (; j < l; j++)
        {
            for (int c = 0; c < d; c++) Unsafe.Add(ref dst, c * lp + j) = scale * Unsafe.Add(ref src, c);
            src = ref Unsafe.Add(ref src, step);
        }
        for (int c = 0; c < d; c++) t.Slice(c * lp + l, lp - l).Clear();
    }

    // rows[j·stride + c] = scale × float c of head `head`'s d floats at `offset` in row j of sequence b of `from` (rows
    // `width` floats wide), for its L tokens; zeros in the rows after them to the end of the table.
    static void GatherRows(float[] from, int width, int offset, Span<float> rows, int stride, AttentionLayout a, int b, float scale = 1f)
    {
        int l = a.Length, d = a.HeadDim, step = a.TokenStride * width;
        ref float src = ref FirstToken(from, width, offset, a, b);
        _ = rows[(l - 1) * stride + d - 1];
        ref float dst = ref MemoryMarshal.GetReference(rows);
        for (int j = 0; j < l; j++)
        {
            CopyHead(ref src, ref dst, d, scale);
            src = ref Unsafe.Add(ref src, step);
            dst = ref Unsafe.Add(ref dst, stride);
        }
        for (int j = l; j * stride + d <= rows.Length; j++) rows.Slice(j * stride, d).Clear();
    }

    // The inverse of GatherRows for the L tokens' rows.
    static void ScatterRows(ReadOnlySpan<float> rows, float[] to, int width, int offset, AttentionLayout a, int b, float scale = 1f)
    {
        int l = a.Length, d = a.HeadDim, step = a.TokenStride * width;
        ref float dst = ref FirstToken(to, width, offset, a, b);
        ref float src = ref MemoryMarshal.GetReference(rows[..(l * d)]);
        for (int j = 0; j < l; j++)
        {
            CopyHead(ref src, ref dst, d, scale);
            src = ref Unsafe.Add(ref src, d);
            dst = ref Unsafe.Add(ref dst, step);
        }
    }

    // dst[c] = scale × src[c] for one token's d floats of a head: whole vectors where they fit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyHead(ref float src, ref float dst, int d, float scale)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; c + W <= d; c += W) (Vector512.LoadUnsafe(ref src, (nuint)c) * scale).StoreUnsafe(ref dst, (nuint)c);
        for (; c < d; c++) Unsafe.Add(ref dst, c) = scale * Unsafe.Add(ref src, c);
    }

    // The inverse of Gather, into the packed gradient.
    static void Scatter(ReadOnlySpan<float> t, float[] dqkv, AttentionLayout a, int b, int head, int part, int lp)
    {
        int l = a.Length, d = a.HeadDim, step = a.TokenStride * 3 * a.Embed, j = 0;
        ref float dst = ref FirstToken(dqkv, 3 * a.Embed, part * a.Embed + head * d, a, b);
        _ = t[d * lp - 1];
        ref float src = ref MemoryMarshal.GetReference(t);
        if (TransposesBlocks(d))
            for (; j + W <= l; j += W, dst = ref Unsafe.Add(ref dst, W * step))
                for (int c0 = 0; c0 < d; c0 += W)
                    Transpose.Sixteen(ref Unsafe.Add(ref src, c0 * lp + j), lp, ref Unsafe.Add(ref dst, c0), step);
        for (; j < l; j++)
        {
            for (int c = 0; c < d; c++) Unsafe.Add(ref dst, c) = Unsafe.Add(ref src, c * lp + j);
            dst = ref Unsafe.Add(ref dst, step);
        }
    }

    /// <summary>
    /// The reference for tests: the same attention with each pair's (L, L) score matrix written out, in double, one
    /// element at a time (softmax(scale·q kᵀ) v).
    /// </summary>
    public static void ForwardNaive(float[] qkv, float[] output, AttentionLayout a, float scale)
    {
        int l = a.Length, d = a.HeadDim, e = a.Embed;
        var p = new double[l];
        for (int b = 0; b < a.Batch; b++)
            for (int head = 0; head < a.Heads; head++)
                for (int i = 0; i < l; i++)
                {
                    int qi = a.Row(b, i) * 3 * e + head * d;
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < l; j++)
                    {
                        int kj = a.Row(b, j) * 3 * e + e + head * d;
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double)qkv[qi + c] * qkv[kj + c];
                        p[j] = scale * dot;
                        max = Math.Max(max, p[j]);
                    }
                    for (int j = 0; j < l; j++) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
                    for (int c = 0; c < d; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < l; j++) acc += p[j] * qkv[a.Row(b, j) * 3 * e + 2 * e + head * d + c];
                        output[a.Row(b, i) * e + head * d + c] = (float)(acc / sum);
                    }
                }
    }
}
