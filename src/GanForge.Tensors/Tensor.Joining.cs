namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>Concatenates along <paramref name="dim"/>; other dims must match (as torch.cat).</summary>
    public static Tensor Cat(Tensor[] tensors, int dim = 0) => Functions.Cat.Apply(tensors, dim);

    /// <summary>Stacks same-shaped tensors along a new dim (as torch.stack).</summary>
    public static Tensor Stack(Tensor[] tensors, int dim = 0)
    {
        if (tensors.Length == 0) throw new ArgumentException("Stack: expected at least one tensor");
        var first = tensors[0];
        for (int k = 1; k < tensors.Length; k++)
            if (!tensors[k].ShapeSpan.SequenceEqual(first.ShapeSpan))
                throw new ArgumentException($"Stack: tensor {k} has shape {Shapes.Format(tensors[k].ShapeSpan)} but tensor 0 has {Shapes.Format(first.ShapeSpan)}; all must match");
        int d = dim < 0 ? dim + first.Rank + 1 : dim;
        if (d < 0 || d > first.Rank)
            throw new ArgumentException($"Stack: dim {dim} is out of range for tensors of shape {Shapes.Format(first.ShapeSpan)}");
        return Functions.Cat.Apply(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Pieces of <paramref name="splitSize"/> along <paramref name="dim"/>; the last may be smaller (as torch.split).</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        int d = Shapes.NormalizeDim(dim, Rank, "Split");
        if (splitSize <= 0) throw new ArgumentException($"Split: split size must be positive, got {splitSize} for {Shapes.Format(ShapeSpan)}");
        int size = _shape[d];
        var pieces = new List<Tensor>();
        for (int start = 0; start < size || (size == 0 && pieces.Count == 0); start += splitSize)
            pieces.Add(Narrow(d, start, Math.Min(splitSize, size - start)));
        return pieces.ToArray();
    }

    /// <summary>Pieces with the given sizes along <paramref name="dim"/>, which must add up to the dim's size.</summary>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        int d = Shapes.NormalizeDim(dim, Rank, "Split");
        if (sizes.Any(s => s < 0) || sizes.Sum() != _shape[d])
            throw new ArgumentException($"Split: sizes ({string.Join(",", sizes)}) do not add up to dim {d} of {Shapes.Format(ShapeSpan)}");
        var pieces = new Tensor[sizes.Length];
        int start = 0;
        for (int k = 0; k < sizes.Length; k++) { pieces[k] = Narrow(d, start, sizes[k]); start += sizes[k]; }
        return pieces;
    }

    /// <summary>
    /// At most <paramref name="chunks"/> pieces of equal size ceil(n/chunks) along <paramref name="dim"/>, the last
    /// possibly smaller, so fewer pieces can come back (as torch.chunk).
    /// </summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new ArgumentException($"Chunk: chunks must be positive, got {chunks} for {Shapes.Format(ShapeSpan)}");
        int d = Shapes.NormalizeDim(dim, Rank, "Chunk");
        int size = _shape[d];
        return Split(Math.Max(1, (size + chunks - 1) / chunks), d);
    }

    /// <summary>Reverses the order of elements along each of <paramref name="dims"/> (copies).</summary>
    public Tensor Flip(params int[] dims) => Functions.Flip.Apply(this, dims);
}
