using GanForge.Kernels;

namespace GanForge.Functions;

// qkv: (N, L, 3E) batch first or (L, N, 3E), each row q | k | v with H heads of d = E/H -> (N, L, E) or (L, N, E):
// per sequence and head softmax(scale·q kᵀ) v, the heads side by side. Backward: one kernel pass without a graph,
// recomputing the probabilities from each query's saved max and sum; with one (a gradient penalty's gradient of a
// gradient), the fused SelfAttentionGrad below, itself differentiable.
internal sealed class SelfAttention(AttentionLayout layout, float scale) : Function
{
    SavedStatistics? _stats;   // each query's max score and 1/Σ exp, for backward

    protected internal override string ProfileName => $"SelfAttention {layout.Batch}x{layout.Length} {layout.Heads}x{layout.HeadDim}";

    public static Tensor Apply(Tensor qkv, int heads, bool batchFirst, float scale)
    {
        var layout = Check(qkv, heads, batchFirst);
        var output = Tensor.Uninitialized([qkv.Size(0), qkv.Size(1), layout.Embed]);
        // From the pool, back when the node is done (the forward writes every entry, the padded queries' too).
        var stats = new SavedStatistics(Attention.StatsLength(layout));
        Attention.Forward(qkv.Storage, output.Storage, stats[0], layout, scale);
        var fn = new SelfAttention(layout, scale) { _stats = stats };
        Record(fn, output, qkv);
        if (!ReferenceEquals(output.GradFn, fn)) fn.ReleaseSaved();   // not recorded: nothing will read them
        return output;
    }

    static AttentionLayout Check(Tensor qkv, int heads, bool batchFirst)
    {
        if (qkv.Rank != 3 || heads < 1 || qkv.Size(2) % (3 * heads) != 0 || qkv.Numel == 0)
            throw new ArgumentException($"SelfAttention: packed projections {Shapes.Format(qkv.ShapeSpan)} should be " +
                $"({(batchFirst ? "N, L" : "L, N")}, 3E) with E divisible by {heads} heads");
        var (n, l) = batchFirst ? (qkv.Size(0), qkv.Size(1)) : (qkv.Size(1), qkv.Size(0));
        return new AttentionLayout(n, l, heads, qkv.Size(2) / (3 * heads), batchFirst);
    }

    // With a graph the SelfAttentionGrad node holds the statistics too, for the gradient's own backward.
    protected internal override Tensor?[] Backward(Tensor g) => [SelfAttentionGrad.Apply(Inputs[0], g, _stats!, layout, scale)];

    protected internal override void ReleaseSaved() => SavedStatistics.Release(ref _stats);
}

// dqkv = the gradient of SelfAttention given qkv and its output's gradient g, as an op of both (a gradient penalty
// differentiates it again). Backward: the second-order kernel without a graph; with one (a third derivative), the same
// formulas (Attention.SecondOrder's) written with differentiable ops.
internal sealed class SelfAttentionGrad(AttentionLayout layout, float scale, float[] stats) : Function
{
    // The forward's statistics, held (and released) by this node where it was recorded.
    SavedStatistics? _held;

    public static Tensor Apply(Tensor qkv, Tensor g, SavedStatistics saved, AttentionLayout layout, float scale)
    {
        var dqkv = Tensor.Uninitialized(qkv.ShapeSpan);
        Attention.Backward(qkv.Storage, g.Storage, saved[0], dqkv.Storage, layout, scale);
        var fn = new SelfAttentionGrad(layout, scale, saved[0]);
        Record(fn, dqkv, qkv, g);
        // Recorded (a backward with a graph): this node keeps the statistics for the gradient's own backward.
        fn._held = saved.HandOnIfRecorded(dqkv, fn);
        return dqkv;
    }

    protected internal override void ReleaseSaved() => SavedStatistics.Release(ref _held);

    protected internal override Tensor?[] Backward(Tensor u)
    {
        var (qkv, g) = (Inputs[0], Inputs[1]);
        if (!GradMode.IsEnabled)
        {
            var (dqkv, dgOut) = (Tensor.Uninitialized(qkv.ShapeSpan), Tensor.Uninitialized(g.ShapeSpan));
            Attention.SecondOrder(qkv.Storage, g.Storage, u.Storage, stats, dqkv.Storage, dgOut.Storage, layout, scale);
            return [NeedsGrad(0) ? dqkv : null, NeedsGrad(1) ? dgOut : null];
        }
        var heads = new AttentionHeads(layout);
        var (q, k, v) = (heads.Part(qkv, 0), heads.Part(qkv, 1), heads.Part(qkv, 2));
        var (uq, uk, uv) = (heads.Part(u, 0), heads.Part(u, 1), heads.Part(u, 2));
        var gOut = heads.Split(g);
        var prob = (q.MatMul(k, transposeOther: true) * scale).Softmax(-1);                   // (N·H, L, L)
        var gProb = gOut.MatMul(v, transposeOther: true);
        var gProbCentred = gProb - (prob * gProb).Sum(-1, keepDim: true);
        var gScores = prob * gProbCentred;
        var w = (uq.MatMul(k, transposeOther: true) + q.MatMul(uk, transposeOther: true)) * scale;
        var wCentred = w - (w * prob).Sum(-1, keepDim: true);
        var y = prob * wCentred;
        var probBar = gOut.MatMul(uv, transposeOther: true) + wCentred * gProbCentred;
        var scoresBar = prob * (probBar - (probBar * prob).Sum(-1, keepDim: true));
        var dq = (gScores.MatMul(uk) + scoresBar.MatMul(k)) * scale;
        var dk = (gScores.MatMul(uq, transposeThis: true) + scoresBar.MatMul(q, transposeThis: true)) * scale;
        var dv = y.MatMul(gOut, transposeThis: true);
        var dg = prob.MatMul(uv) + y.MatMul(v);
        return [NeedsGrad(0) ? heads.Pack(dq, dk, dv, qkv.ShapeSpan) : null, NeedsGrad(1) ? heads.Merge(dg, g.ShapeSpan) : null];
    }
}

// The packed rows of an attention layout seen per (sequence, head) pair, with differentiable ops.
internal readonly struct AttentionHeads(AttentionLayout layout)
{
    // The token dims of a (a0, a1, H, d) tensor in the order that makes them (N, H, L, d), and back.
    int[] ToPairs => layout.BatchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3];
    int[] FromPairs => layout.BatchFirst ? [0, 2, 1, 3] : [2, 0, 1, 3];

    /// <summary>Part 0, 1 or 2 (q, k, v) of packed (a0, a1, 3E) rows as (N·H, L, d).</summary>
    public Tensor Part(Tensor packed, int part) => Split(packed.Narrow(2, part * layout.Embed, layout.Embed));

    /// <summary>(a0, a1, E) -> (N·H, L, d).</summary>
    public Tensor Split(Tensor rows) =>
        rows.Reshape(rows.Size(0), rows.Size(1), layout.Heads, layout.HeadDim).Permute(ToPairs)
            .Reshape(layout.Pairs, layout.Length, layout.HeadDim);

    /// <summary>(N·H, L, d) -> (a0, a1, E) of the given shape.</summary>
    public Tensor Merge(Tensor pairs, ReadOnlySpan<int> shape) =>
        pairs.Reshape(layout.Batch, layout.Heads, layout.Length, layout.HeadDim).Permute(FromPairs).Reshape(shape.ToArray());

    /// <summary>Three (N·H, L, d) gradients back into packed (a0, a1, 3E) rows.</summary>
    public Tensor Pack(Tensor dq, Tensor dk, Tensor dv, ReadOnlySpan<int> shape)
    {
        var e = layout.Embed;
        int[] rows = [shape[0], shape[1], e];
        return Tensor.Cat([Merge(dq, rows), Merge(dk, rows), Merge(dv, rows)], 2);
    }
}
