namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>Elements start..start+length-1 along <paramref name="dim"/> (as torch.narrow; copies).</summary>
    /// <remarks>A negative <paramref name="start"/> counts from the end of the dim.</remarks>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = Shapes.NormalizeDim(dim, Rank, "Narrow");
        int size = _shape[d];
        int s = start < 0 ? start + size : start;
        if (s < 0 || s > size || length < 0 || s + length > size)
            throw new ArgumentException($"Narrow: start {start} and length {length} exceed dim {d} of size {size} in {Shapes.Format(ShapeSpan)}");
        return Functions.Slice.Apply(this, d, s, length, 1);
    }

    /// <summary>
    /// x[..., start:end:step, ...] along <paramref name="dim"/> with Python slice rules: negative bounds count
    /// from the end and out-of-range bounds are clamped. <paramref name="end"/> null means the end of the dim.
    /// </summary>
    public Tensor Slice(int dim, int start, int? end = null, int step = 1)
    {
        int d = Shapes.NormalizeDim(dim, Rank, "Slice");
        if (step <= 0) throw new ArgumentException($"Slice: step must be positive, got {step} for {Shapes.Format(ShapeSpan)}");
        int size = _shape[d];
        int Clip(int i) => Math.Clamp(i < 0 ? i + size : i, 0, size);
        int s = Clip(start), e = Clip(end ?? size);
        int count = e > s ? (e - s + step - 1) / step : 0;
        return Functions.Slice.Apply(this, d, s, count, step);
    }

    /// <summary>The sub-tensor at <paramref name="index"/> of <paramref name="dim"/>, which is removed (as torch.select).</summary>
    public Tensor Select(int dim, int index)
    {
        int d = Shapes.NormalizeDim(dim, Rank, "Select");
        int size = _shape[d];
        int i = index < 0 ? index + size : index;
        if ((uint)i >= (uint)size)
            throw new IndexOutOfRangeException($"Select: index {index} is out of range for dim {d} of size {size} in {Shapes.Format(ShapeSpan)}");
        var shape = _shape.Where((_, k) => k != d).ToArray();
        return Functions.Slice.Apply(this, d, i, 1, 1).Reshape(shape);
    }

    /// <summary>Rows of <paramref name="dim"/> picked by <paramref name="indices"/> (repeats allowed; negative count from the end).</summary>
    public Tensor IndexSelect(int dim, params int[] indices)
    {
        int d = Shapes.NormalizeDim(dim, Rank, "IndexSelect");
        var idx = indices.Select(i => i < 0 ? i + _shape[d] : i).ToArray();
        Functions.IndexSelect.CheckIndex("IndexSelect", this, d, idx);
        return Functions.IndexSelect.Apply(this, d, idx);
    }

    /// <summary>As <see cref="IndexSelect(int, int[])"/> with a 1-D tensor of integer values.</summary>
    public Tensor IndexSelect(int dim, Tensor indices)
    {
        if (indices.Rank > 1)
            throw new ArgumentException($"IndexSelect: indices must be 0-D or 1-D, got {Shapes.Format(indices.ShapeSpan)} for input {Shapes.Format(ShapeSpan)}");
        return IndexSelect(dim, ToIndices("IndexSelect", indices));
    }

    /// <summary>
    /// y[i][j][k] = x[index[i][j][k]][j][k] for dim 0, and likewise for other dims (as torch.gather).
    /// <paramref name="index"/> holds integer values and has the rank of this tensor.
    /// </summary>
    public Tensor Gather(int dim, Tensor index) =>
        Functions.Gather.Apply(this, Shapes.NormalizeDim(dim, Rank, "Gather"), index);

    /// <summary>
    /// A copy of this tensor with <paramref name="src"/> added at the positions <paramref name="index"/> names along
    /// <paramref name="dim"/> (as torch.scatter_add): y[index[i][j]][j] += src[i][j] for dim 0. Repeats accumulate.
    /// </summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor src) =>
        Functions.ScatterAdd.Apply(this, Shapes.NormalizeDim(dim, Rank, "ScatterAdd"), index, src);

    /// <summary>This tensor with <paramref name="value"/> where <paramref name="mask"/> is nonzero; the mask broadcasts to this shape.</summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        var shape = Shapes.Broadcast(mask.ShapeSpan, ShapeSpan, "MaskedFill");
        if (!shape.AsSpan().SequenceEqual(ShapeSpan))
            throw new ArgumentException($"MaskedFill: mask {Shapes.Format(mask.ShapeSpan)} does not broadcast to input {Shapes.Format(ShapeSpan)}");
        return Functions.Where.Apply(mask, Scalar(value), this);
    }

    static int[] ToIndices(string op, Tensor t)
    {
        var idx = new int[t.Numel];
        var d = t.Data;
        for (int i = 0; i < idx.Length; i++)
        {
            if (d[i] != MathF.Floor(d[i]) || !float.IsFinite(d[i]))
                throw new ArgumentException($"{op}: index {d[i]} is not an integer");
            idx[i] = (int)d[i];
        }
        return idx;
    }
}
