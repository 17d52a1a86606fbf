namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>Sum over all elements, a scalar.</summary>
    public Tensor Sum() => Functions.Sum.Apply(this, [], false);

    /// <summary>Sum over <paramref name="dims"/> (negative dims count from the end).</summary>
    public Tensor Sum(int[] dims, bool keepDim = false) => Functions.Sum.Apply(this, dims, keepDim);

    public Tensor Sum(int dim, bool keepDim = false) => Functions.Sum.Apply(this, [dim], keepDim);

    /// <summary>Mean over all elements, a scalar.</summary>
    public Tensor Mean() => Functions.Sum.Apply(this, [], false) * (1f / Math.Max(Numel, 1));

    /// <summary>Mean over <paramref name="dims"/>.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        var nd = Shapes.NormalizeDims(dims, Rank, "Mean");
        int count = 1;
        foreach (int d in nd) count *= _shape[d];
        var sum = Functions.Sum.Apply(this, nd, keepDim);
        var mean = sum * (1f / Math.Max(count, 1));
        // The sum is the mean's own intermediate: its buffer goes back once the scaling has read it (with a graph,
        // once the sum's node has run its backward).
        if (!sum.SharesBufferWith(this)) Intermediates.Release(sum, mean);
        return mean;
    }

    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/> (the adjoint of broadcasting).</summary>
    public Tensor SumTo(ReadOnlySpan<int> shape)
    {
        if (ShapeSpan.SequenceEqual(shape)) return this;
        int off = Rank - shape.Length;
        if (off < 0) throw new ArgumentException($"SumTo: cannot sum {Shapes.Format(ShapeSpan)} to the larger rank {Shapes.Format(shape)}");
        var dims = new List<int>();
        for (int i = 0; i < Rank; i++)
            if (i < off || (shape[i - off] == 1 && _shape[i] != 1)) dims.Add(i);
            else if (shape[i - off] != _shape[i])
                throw new ArgumentException($"SumTo: cannot sum {Shapes.Format(ShapeSpan)} to {Shapes.Format(shape)}");
        var summed = dims.Count > 0 ? Functions.Sum.Apply(this, dims.ToArray(), true) : this;
        return summed.Reshape(shape);
    }
}
