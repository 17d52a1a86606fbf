using GanForge.Kernels;

namespace GanForge.Functions;

// qkv: (N, L, 3E) batch first or (L, N, 3E), each row q | k | v with H heads of d = E/H -> (N, L, E) or (L, N, E):
// per sequence and head softmax(scale·q kᵀ) v, the heads side by side. Backward: one kernel pass without a graph,
// recomputing the probabilities from each query's saved max and sum; with one (a gradient penalty's gradient of a gradient),
// the same derivatives written with differentiable ops.
internal sealed class SelfAttention(AttentionLayout layout, float scale) : Function
{
    float[]? _stats;   // each query's max score and 1/Σ exp, for backward

    public static Tensor Apply(Tensor qkv, int heads, bool batchFirst, float scale)
    {
        var layout = Check(qkv, heads, batchFirst);
        var output = Tensor.Uninitialized([qkv.Size(0), qkv.Size(1), layout.Embed]);
        var stats = new float[Attention.StatsLength(layout)];
        Attention.Forward(qkv.Storage, output.Storage, stats, layout, scale);
        return Record(new SelfAttention(layout, scale) { _stats = stats }, output, qkv);
    }

    static AttentionLayout Check(Tensor qkv, int heads, bool batchFirst)
    {
        if (qkv.Rank != 3 || heads < 1 || qkv.Size(2) % (3 * heads) != 0 || qkv.Numel == 0)
            throw new ArgumentException($"SelfAttention: packed projections {Shapes.Format(qkv.ShapeSpan)} should be " +
                $"({(batchFirst ? "N, L" : "L, N")}, 3E) with E divisible by {heads} heads");
        var (n, l) = batchFirst ? (qkv.Size(0), qkv.Size(1)) : (qkv.Size(1), qkv.Size(0));
        return new AttentionLayout(n, l, heads, qkv.Size(2) / (3 * heads), batchFirst);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var qkv = Inputs[0];
        if (!GradMode.IsEnabled)
        {
            var dqkv = Tensor.Uninitialized(qkv.ShapeSpan);
            Attention.Backward(qkv.Storage, g.Storage, _stats!, dqkv.Storage, layout, scale);
            return [dqkv];
        }
        var (q, k, v) = (Part(qkv, 0), Part(qkv, 1), Part(qkv, 2));
        var prob = (q.MatMul(k, transposeOther: true) * scale).Softmax(-1);           // (N·H, L, L)
        var gOut = Heads(g);                                                                  // (N·H, L, d)
        var gProb = gOut.MatMul(v, transposeOther: true);
        var gScores = prob * (gProb - (gProb * prob).Sum(-1, keepDim: true));
        var dq = gScores.MatMul(k) * scale;
        var dk = gScores.MatMul(q, transposeThis: true) * scale;
        var dv = prob.MatMul(gOut, transposeThis: true);
        return [Pack(dq, dk, dv, qkv.ShapeSpan)];
    }

    // The token dims of a (tokens, tokens, ·) tensor seen as (a0, a1, H, d), and the order that makes them (N, H, L, d).
    int[] TokenDims => layout.BatchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3];

    // Part 0, 1 or 2 (q, k, v) of the packed rows as (N·H, L, d).
    Tensor Part(Tensor qkv, int part) =>
        Heads(qkv.Reshape(qkv.Size(0), qkv.Size(1), 3, layout.Embed).Narrow(2, part, 1));

    // (a0, a1, [1,] E) -> (N·H, L, d).
    Tensor Heads(Tensor rows) =>
        rows.Reshape(rows.Size(0), rows.Size(1), layout.Heads, layout.HeadDim).Permute(TokenDims)
            .Reshape(layout.Pairs, layout.Length, layout.HeadDim);

    // Three (N·H, L, d) gradients back into the packed (a0, a1, 3E) rows.
    Tensor Pack(Tensor dq, Tensor dk, Tensor dv, ReadOnlySpan<int> shape)
    {
        var (n, h, l, d) = (layout.Batch, layout.Heads, layout.Length, layout.HeadDim);
        var stacked = Tensor.Stack([dq.Reshape(n, h, l, d), dk.Reshape(n, h, l, d), dv.Reshape(n, h, l, d)], 0);   // (3, N, H, L, d)
        int[] order = layout.BatchFirst ? [1, 3, 0, 2, 4] : [3, 1, 0, 2, 4];
        return stacked.Permute(order).Reshape(shape.ToArray());
    }

    protected internal override void ReleaseSaved() => _stats = null;
}
