using GanForge.Kernels;

namespace GanForge.Functions;

// y = x viewed with a new shape (shares storage); dx = g reshaped back
internal sealed class Reshape : Function
{
    public static Tensor Apply(Tensor x, ReadOnlySpan<int> shape)
    {
        var s = Shapes.InferReshape(shape, x.Numel, x.ShapeSpan);
        return Record(new Reshape(), new Tensor(x.Storage, s), x);
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g.Reshape(Inputs[0].ShapeSpan)];
}

// y = x broadcast to shape (materialised); dx = sum_to(g, x.shape)
internal sealed class Expand : Function
{
    public static Tensor Apply(Tensor x, ReadOnlySpan<int> shape)
    {
        var target = shape.ToArray();
        int off = target.Length - x.Rank;
        if (off < 0) throw new ArgumentException($"Expand: cannot expand {Shapes.Format(x.ShapeSpan)} to fewer dims {Shapes.Format(shape)}");
        for (int i = 0; i < target.Length; i++)
        {
            if (i >= off && target[i] == -1) target[i] = x.ShapeSpan[i - off];
            if (i >= off && x.ShapeSpan[i - off] != 1 && x.ShapeSpan[i - off] != target[i])
                throw new ArgumentException($"Expand: cannot expand {Shapes.Format(x.ShapeSpan)} to {Shapes.Format(shape)}");
        }
        if (x.ShapeSpan.SequenceEqual(target)) return x;
        var y = new Tensor(target);
        Elementwise.BroadcastTo(x.Data, x.ShapeSpan, y.Data, target);
        return Record(new Expand(), y, x);
    }
    protected internal override Tensor?[] Backward(Tensor g) => [g.SumTo(Inputs[0].ShapeSpan)];
}

// y = x with dims permuted (materialised); dx = g permuted by the inverse
internal sealed class Permute(int[] perm) : Function
{
    public static Tensor Apply(Tensor x, ReadOnlySpan<int> dims)
    {
        int rank = x.Rank;
        if (dims.Length != rank)
            throw new ArgumentException($"Permute: {dims.Length} dims given for a tensor of rank {rank}");
        var perm = new int[rank];
        var seen = new bool[rank];
        for (int i = 0; i < rank; i++)
        {
            perm[i] = Shapes.NormalizeDim(dims[i], rank, "Permute");
            if (seen[perm[i]]) throw new ArgumentException($"Permute: dim {dims[i]} repeated in ({string.Join(",", dims.ToArray())})");
            seen[perm[i]] = true;
        }
        var outShape = new int[rank];
        for (int i = 0; i < rank; i++) outShape[i] = x.ShapeSpan[perm[i]];
        var y = Tensor.Uninitialized(outShape);
        PermuteCopy.Run(x.Storage, x.ShapeSpan, perm, y.Storage, x.Numel);
        return Record(new Permute(perm), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return [g.Permute(inverse)];
    }
}
