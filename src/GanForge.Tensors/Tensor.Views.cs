namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>The same elements with a new shape (one dim may be -1); shares storage.</summary>
    public Tensor Reshape(params int[] shape) => Functions.Reshape.Apply(this, shape);

    public Tensor Reshape(ReadOnlySpan<int> shape) => Functions.Reshape.Apply(this, shape);

    /// <summary>Alias of <see cref="Reshape(int[])"/> (storage is always contiguous).</summary>
    public Tensor View(params int[] shape) => Functions.Reshape.Apply(this, shape);

    /// <summary>Flattens dims startDim..endDim into one.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shapes.NormalizeDim(startDim, Rank, "Flatten"), e = Shapes.NormalizeDim(endDim, Rank, "Flatten");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(_shape[i]);
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= _shape[i];
        shape.Add(merged);
        for (int i = e + 1; i < Rank; i++) shape.Add(_shape[i]);
        return Reshape(shape.ToArray());
    }

    /// <summary>Broadcasts to <paramref name="shape"/> (copies; -1 keeps a dim).</summary>
    public Tensor Expand(params int[] shape) => Functions.Expand.Apply(this, shape);

    public Tensor Expand(ReadOnlySpan<int> shape) => Functions.Expand.Apply(this, shape);

    public Tensor ExpandAs(Tensor other) => Functions.Expand.Apply(this, other.ShapeSpan);

    /// <summary>Reorders dims (copies).</summary>
    public Tensor Permute(params int[] dims) => Functions.Permute.Apply(this, dims);

    /// <summary>Swaps two dims (copies).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var perm = Enumerable.Range(0, Rank).ToArray();
        int a = Shapes.NormalizeDim(dim0, Rank, "Transpose"), b = Shapes.NormalizeDim(dim1, Rank, "Transpose");
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return a == b ? this : Permute(perm);
    }

    /// <summary>Transpose of a 2-D tensor.</summary>
    public Tensor T
    {
        get
        {
            if (Rank != 2) throw new InvalidOperationException($"T: expected a 2-D tensor, got {Shapes.Format(ShapeSpan)}");
            return Transpose(0, 1);
        }
    }

    /// <summary>Inserts a dim of size 1.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw new ArgumentException($"Unsqueeze: dim {dim} out of range for rank {Rank}");
        var s = _shape.ToList();
        s.Insert(d, 1);
        return Reshape(s.ToArray());
    }

    /// <summary>Removes dims of size 1 (all, or the one given).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        if (dim is int dd)
        {
            int d = Shapes.NormalizeDim(dd, Rank, "Squeeze");
            if (_shape[d] != 1) return this;
            return Reshape(_shape.Where((_, i) => i != d).ToArray());
        }
        return Reshape(_shape.Where(s => s != 1).ToArray());
    }
}
