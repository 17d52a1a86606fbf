using GanForge.Kernels;

namespace GanForge.Functions;

// y = cat(xs, dim); dx_k = narrow(g, dim, offset_k, size_k)
internal sealed class Cat(int dim) : Function
{
    public static Tensor Apply(Tensor[] xs, int dim)
    {
        if (xs.Length == 0) throw new ArgumentException("Cat: expected at least one tensor");
        var first = xs[0];
        if (first.Rank == 0) throw new ArgumentException("Cat: zero-dimensional tensors cannot be concatenated; use Stack");
        int d = Shapes.NormalizeDim(dim, first.Rank, "Cat");
        var shape = first.Shape;
        shape[d] = 0;
        for (int k = 0; k < xs.Length; k++)
        {
            var s = xs[k].ShapeSpan;
            bool ok = s.Length == first.Rank;
            for (int i = 0; ok && i < s.Length; i++) ok = i == d || s[i] == first.ShapeSpan[i];
            if (!ok)
                throw new ArgumentException(
                    $"Cat: tensor {k} has shape {Shapes.Format(s)} but tensor 0 has {Shapes.Format(first.ShapeSpan)}; sizes must match except in dim {d}");
            shape[d] += s[d];
        }
        var y = Tensor.Uninitialized(shape);   // every element is written below
        var (outer, total, inner) = Indexing.Split(shape, d);
        int offset = 0;
        foreach (var x in xs)
        {
            int size = x.Size(d);
            Indexing.Strided(y.Data, outer, total, inner, offset, 1, size, x.Data, scatter: true);
            offset += size;
        }
        return Record(new Cat(d), y, xs);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var grads = new Tensor?[Inputs.Count];
        int offset = 0;
        for (int k = 0; k < grads.Length; k++)
        {
            int size = Inputs[k].Size(dim);
            if (NeedsGrad(k)) grads[k] = Slice.Apply(g, dim, offset, size, 1);
            offset += size;
        }
        return grads;
    }
}

// y = x reversed along each of dims; dx = flip(g, dims)
internal sealed class Flip(int[] dims) : Function
{
    public static Tensor Apply(Tensor x, int[] dims)
    {
        var nd = Shapes.NormalizeDims(dims, x.Rank, "Flip");
        if (dims.Length == 0) nd = [];
        var y = x.Clone();
        foreach (int d in nd)
        {
            var (outer, size, inner) = Indexing.Split(x.ShapeSpan, d);
            var next = Tensor.Uninitialized(x.ShapeSpan);
            Indexing.Flip(y.Data, outer, size, inner, next.Data);
            y = next;
        }
        return Record(new Flip(nd), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [Apply(g, dims)];
}
