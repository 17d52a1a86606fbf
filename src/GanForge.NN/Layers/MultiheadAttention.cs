namespace GanForge.NN;

/// <summary>
/// Multi-head scaled dot-product attention (as torch.nn.MultiheadAttention with equal q/k/v dims and no
/// dropout): parameters in_proj_weight (3E,E) xavier-uniform, in_proj_bias (3E) zero, out_proj (Linear E->E,
/// bias zero). Inputs are (L,N,E), or (N,L,E) with batchFirst.
/// </summary>
/// <remarks>attention = softmax(q k^T / sqrt(E/H) + mask) v per head; heads are concatenated and projected.</remarks>
public sealed class MultiheadAttention : Module, IPureLayer
{
    public int EmbedDim { get; }
    public int NumHeads { get; }
    public bool BatchFirst { get; }
    public Tensor InProjWeight { get; }
    public Tensor? InProjBias { get; }
    public Linear OutProj { get; }

    public MultiheadAttention(int embedDim, int numHeads, bool bias = true, bool batchFirst = false, Generator? generator = null)
    {
        if (numHeads <= 0 || embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim {embedDim} must be divisible by num_heads {numHeads}");
        EmbedDim = embedDim; NumHeads = numHeads; BatchFirst = batchFirst;
        InProjWeight = RegisterParameter("in_proj_weight", Init.XavierUniform(new Tensor(3 * embedDim, embedDim), generator: generator));
        if (bias) InProjBias = RegisterParameter("in_proj_bias", Tensor.Zeros(3 * embedDim));
        else RegisterNullParameter("in_proj_bias");
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, generator));
        OutProj.Bias?.Zero();
    }

    /// <summary>Self-attention: query = key = value = <paramref name="input"/>.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, input, input).Output;

    /// <summary>
    /// Attends from <paramref name="query"/> (L,N,E) to <paramref name="key"/>/<paramref name="value"/> (S,N,E)
    /// (batch first: (N,L,E), (N,S,E)). <paramref name="attnMask"/> is added to the scores, (L,S) or (N*H,L,S),
    /// use -inf to forbid a position; <paramref name="keyPaddingMask"/> (N,S) is nonzero where a key is padding.
    /// Returns the output with the query's layout and, with <paramref name="needWeights"/>, the attention weights
    /// (N,L,S) averaged over heads, or (N,H,L,S) when <paramref name="averageAttnWeights"/> is false.
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true)
    {
        if (query.Rank != 3 || key.Rank != 3 || value.Rank != 3 || query.Size(-1) != EmbedDim || key.Size(-1) != EmbedDim || value.Size(-1) != EmbedDim)
            throw new ArgumentException($"MultiheadAttention: expected 3-D query/key/value with embed dim {EmbedDim}, got {Shapes.Format(query.ShapeSpan)}, {Shapes.Format(key.ShapeSpan)}, {Shapes.Format(value.ShapeSpan)}");
        var weight = ForwardParameter("in_proj_weight")!;
        var bias = ForwardParameter("in_proj_bias");
        if (!needWeights && attnMask == null && keyPaddingMask == null && ReferenceEquals(query, key) && ReferenceEquals(key, value))
        {
            // Self-attention, the transformer block's case: one projection to q | k | v per token, and the fused op
            // (no transposes of the tokens, no (L, L) scores kept).
            var qkv = F.Linear(query, weight, bias);
            var attended = Tensor.SelfAttention(qkv, NumHeads, BatchFirst);
            Release(qkv);
            var projected = OutProj.Forward(attended);
            Release(attended);
            return (projected, null);
        }
        if (BatchFirst) { query = query.Transpose(0, 1); key = key.Transpose(0, 1); value = value.Transpose(0, 1); }
        int l = query.Size(0), n = query.Size(1), s = key.Size(0), h = NumHeads, d = EmbedDim / NumHeads;

        // (seq,N,E) -> (N*H, seq, D)
        Tensor Project(Tensor x, int part, int len) =>
            F.Linear(x, Block(weight, part), bias == null ? null : Block(bias, part)).Reshape(len, n * h, d).Transpose(0, 1);
        var q = Project(query, 0, l) * (1f / MathF.Sqrt(d));
        var k = Project(key, 1, s);
        var v = Project(value, 2, s);

        var scores = q.MatMul(k, transposeOther: true); // (N*H, L, S)
        if (attnMask != null) scores = scores + attnMask;
        if (keyPaddingMask != null)
        {
            if (keyPaddingMask.Rank != 2 || keyPaddingMask.Size(0) != n || keyPaddingMask.Size(1) != s)
                throw new ArgumentException($"MultiheadAttention: key_padding_mask {Shapes.Format(keyPaddingMask.ShapeSpan)} should be ({n},{s})");
            var additive = new Tensor(n, 1, 1, s);
            var km = keyPaddingMask.Data; var a = additive.Data;
            for (int i = 0; i < km.Length; i++) a[i] = km[i] != 0f ? float.NegativeInfinity : 0f;
            scores = (scores.Reshape(n, h, l, s) + additive).Reshape(n * h, l, s);
        }
        var attention = scores.Softmax(-1);
        var context = attention.MatMul(v).Transpose(0, 1).Reshape(l * n, EmbedDim); // (L*N, E)
        var output = OutProj.Forward(context).Reshape(l, n, EmbedDim);
        if (BatchFirst) output = output.Transpose(0, 1);

        Tensor? weights = null;
        if (needWeights)
        {
            weights = attention.Reshape(n, h, l, s);
            if (averageAttnWeights) weights = weights.Mean(1);
        }
        return (output, weights);
    }

    // Rows [part*E, (part+1)*E) of a packed (3E,...) tensor, differentiably: an embedding lookup of row
    // `part` in the (3, E*...) view (core ops have no slicing yet).
    Tensor Block(Tensor packed, int part)
    {
        var rows = packed.Reshape(3, -1);
        var picked = F.Embedding(Tensor.FromArray([(float)part]), rows);
        return packed.Rank == 2 ? picked.Reshape(EmbedDim, packed.Size(1)) : picked.Reshape(EmbedDim);
    }

    protected override string ExtraRepr() => $"embed_dim={EmbedDim}, num_heads={NumHeads}, batch_first={BatchFirst}";
}
