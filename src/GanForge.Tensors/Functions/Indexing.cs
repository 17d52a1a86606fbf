using System.Buffers;
using GanForge.Kernels;

namespace GanForge.Functions;

// y = x[..., start:start+count*step:step, ...] along dim; dx = slice_scatter(g) (zeros elsewhere)
internal sealed class Slice(int dim, int start, int step) : Function
{
    public static Tensor Apply(Tensor x, int dim, int start, int count, int step)
    {
        var shape = x.Shape;
        var (outer, size, inner) = Indexing.Split(shape, dim);
        shape[dim] = count;
        var y = Tensor.Uninitialized(shape);   // every value written below
        Indexing.Strided(x.Data, outer, size, inner, start, step, count, y.Data, scatter: false);
        return Record(new Slice(dim, start, step), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [SliceScatter.Apply(g, Inputs[0].Shape, dim, start, step)];
}

// y = zeros(shape) with y[..., start::step, ...] = src along dim (the adjoint of Slice); dsrc = slice(g)
internal sealed class SliceScatter(int dim, int start, int step) : Function
{
    public static Tensor Apply(Tensor src, int[] shape, int dim, int start, int step)
    {
        var y = new Tensor(shape);
        var (outer, size, inner) = Indexing.Split(shape, dim);
        Indexing.Strided(y.Data, outer, size, inner, start, step, src.Size(dim), src.Data, scatter: true);
        return Record(new SliceScatter(dim, start, step), y, src);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [Slice.Apply(g, dim, start, Inputs[0].Size(dim), step)];
}

// y = x.index_select(dim, index); dx = index_add(zeros, dim, index, g)
internal sealed class IndexSelect(int dim, int[] index) : Function
{
    public static Tensor Apply(Tensor x, int dim, int[] index)
    {
        var shape = x.Shape;
        var (outer, size, inner) = Indexing.Split(shape, dim);
        CheckIndex("IndexSelect", x, dim, index);
        shape[dim] = index.Length;
        var y = new Tensor(shape);
        Indexing.IndexSelect(x.Data, outer, size, inner, index, y.Data);
        return Record(new IndexSelect(dim, index), y, x);
    }

    internal static void CheckIndex(string op, Tensor x, int dim, int[] index)
    {
        foreach (int i in index)
            if ((uint)i >= (uint)x.Size(dim))
                throw new IndexOutOfRangeException($"{op}: index {i} is out of range for dim {dim} of size {x.Size(dim)} in {Shapes.Format(x.ShapeSpan)}");
    }

    protected internal override Tensor?[] Backward(Tensor g) => [IndexAdd.Apply(Tensor.ZerosLike(Inputs[0]), dim, index, g)];
}

// y = self.index_add(dim, index, src); dself = g, dsrc = g.index_select(dim, index)
internal sealed class IndexAdd(int dim, int[] index) : Function
{
    public static Tensor Apply(Tensor self, int dim, int[] index, Tensor src)
    {
        var y = self.Clone();
        var (outer, size, inner) = Indexing.Split(self.ShapeSpan, dim);
        Indexing.IndexAdd(y.Data, outer, size, inner, index, src.Data);
        return Record(new IndexAdd(dim, index), y, self, src);
    }

    protected internal override Tensor?[] Backward(Tensor g) =>
        [NeedsGrad(0) ? g : null, NeedsGrad(1) ? IndexSelect.Apply(g, dim, index) : null];
}

// y[i..] = x[i.. with dim replaced by index[i..]] (torch.gather); dx = scatter_add(zeros, dim, index, g)
internal sealed class Gather(int dim, Tensor index) : Function
{
    public static Tensor Apply(Tensor x, int dim, Tensor index)
    {
        var offsets = Offsets("Gather", x, dim, index);
        var y = new Tensor(index.Shape);
        var xs = x.Data; var ys = y.Data;
        for (int p = 0; p < ys.Length; p++) ys[p] = xs[offsets[p]];
        ArrayPool<int>.Shared.Return(offsets);
        return Record(new Gather(dim, index), y, x);
    }

    /// <summary>
    /// Validates a gather/scatter index against the target and returns flat target offsets, the first index.Numel of a
    /// pooled array: the caller returns it to <see cref="ArrayPool{T}.Shared"/>.
    /// </summary>
    internal static int[] Offsets(string op, Tensor target, int dim, Tensor index)
    {
        if (index.Rank != target.Rank)
            throw new ArgumentException($"{op}: index {Shapes.Format(index.ShapeSpan)} must have the same rank as input {Shapes.Format(target.ShapeSpan)}");
        for (int d = 0; d < target.Rank; d++)
            if (d != dim && index.ShapeSpan[d] > target.ShapeSpan[d])
                throw new ArgumentException($"{op}: index {Shapes.Format(index.ShapeSpan)} is larger than input {Shapes.Format(target.ShapeSpan)} in dim {d}");
        var offsets = ArrayPool<int>.Shared.Rent(index.Numel);
        int bad = Indexing.GatherOffsets(index.Data, index.ShapeSpan, target.ShapeSpan, dim, offsets);
        if (bad < 0) return offsets;
        ArrayPool<int>.Shared.Return(offsets);
        throw new IndexOutOfRangeException($"{op}: index value {index.Data[bad]} is out of range for dim {dim} of size {target.Size(dim)} in {Shapes.Format(target.ShapeSpan)}");
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var zeros = Tensor.ZerosLike(Inputs[0]);
        if (!GradMode.IsEnabled)
        {
            // The gradient is the zeros scattered into in place (no copy of them): the engine owns it from here.
            ScatterAdd.Into(zeros, dim, index, g, "Gather");
            return [zeros];
        }
        var grad = ScatterAdd.Apply(zeros, dim, index, g);
        Intermediates.Release(zeros, grad);   // the scatter's copy of them was its only reader
        return [grad];
    }
}

// y = self; y[i.. with dim replaced by index[i..]] += src[i..] (torch.scatter_add); dself = g, dsrc = gather(g, dim, index)
internal sealed class ScatterAdd(int dim, Tensor index) : Function
{
    public static Tensor Apply(Tensor self, int dim, Tensor index, Tensor src)
    {
        if (!index.ShapeSpan.SequenceEqual(src.ShapeSpan))
            throw new ArgumentException($"ScatterAdd: index {Shapes.Format(index.ShapeSpan)} and src {Shapes.Format(src.ShapeSpan)} must have the same shape");
        var y = self.Clone();
        Into(y, dim, index, src, "ScatterAdd");
        return Record(new ScatterAdd(dim, index), y, self, src);
    }

    /// <summary>target[i.. with dim replaced by index[i..]] += src[i..] in place, in src's order (no graph); <paramref name="op"/> names the caller in errors.</summary>
    internal static void Into(Tensor target, int dim, Tensor index, Tensor src, string op)
    {
        var offsets = Gather.Offsets(op, target, dim, index);
        var ts = target.Data; var ss = src.Data;
        for (int p = 0; p < ss.Length; p++) ts[offsets[p]] += ss[p];
        ArrayPool<int>.Shared.Return(offsets);
    }

    protected internal override Tensor?[] Backward(Tensor g) =>
        [NeedsGrad(0) ? g : null, NeedsGrad(1) ? Gather.Apply(g, dim, index) : null];
}
