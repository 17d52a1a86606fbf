namespace GanForge.Functions;

/// <summary>Shared checks and row copies for the embedding lookup and its adjoint.</summary>
internal static class EmbeddingRows
{
    public static int[] Indices(Tensor indices, int count, string op)
    {
        var d = indices.Data;
        var result = new int[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            int k = (int)d[i];
            if (k != d[i] || k < 0 || k >= count)
                throw new ArgumentException($"{op}: index {d[i]} at position {i} is not an integer in [0, {count})");
            result[i] = k;
        }
        return result;
    }
}

// w: (V,D), idx: (*) integer-valued -> y: (*,D); y[j] = w[idx[j]]; dw = scatter_add(g, idx)
internal sealed class Embedding(int[] idx, Tensor indices) : Function
{
    public static Tensor Apply(Tensor weight, Tensor indices)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"Embedding: weight must be (num_embeddings, dim), got {Shapes.Format(weight.ShapeSpan)}");
        int v = weight.Size(0), dim = weight.Size(1);
        var idx = EmbeddingRows.Indices(indices, v, "Embedding");
        var y = new Tensor([.. indices.ShapeSpan, dim]);
        var w = weight.Data; var ys = y.Data;
        for (int j = 0; j < idx.Length; j++) w.Slice(idx[j] * dim, dim).CopyTo(ys.Slice(j * dim, dim));
        return Record(new Embedding(idx, indices), y, weight);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [EmbeddingScatter.Apply(g, idx, indices, Inputs[0].Size(0))];
}

// g: (*,D), idx: (*) -> y: (V,D); y[idx[j]] += g[j]; dg = gather(gg, idx)
internal sealed class EmbeddingScatter(Tensor indices) : Function
{
    public static Tensor Apply(Tensor g, int[] idx, Tensor indices, int count)
    {
        int dim = g.Size(-1);
        var y = new Tensor(count, dim);
        var gs = g.Data; var ys = y.Data;
        for (int j = 0; j < idx.Length; j++)
        {
            var row = ys.Slice(idx[j] * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(row, gs.Slice(j * dim, dim), row);
        }
        return Record(new EmbeddingScatter(indices), y, g);
    }

    protected internal override Tensor?[] Backward(Tensor gg) => [Embedding.Apply(gg, indices)];
}
