using GanForge.Kernels;

namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>The largest element, a scalar; the gradient is shared evenly among ties (as torch.max()).</summary>
    public Tensor Max() => Functions.ExtremumAll.Apply(this, max: true);

    /// <summary>The smallest element, a scalar; the gradient is shared evenly among ties (as torch.min()).</summary>
    public Tensor Min() => Functions.ExtremumAll.Apply(this, max: false);

    /// <summary>
    /// Largest values along <paramref name="dim"/> and their positions (as torch.max(x, dim)). The values are
    /// differentiable, the gradient going to the chosen position; ties pick the first index. Indices are floats.
    /// </summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => ExtremumDim(dim, keepDim, max: true, "Max");

    /// <summary>Smallest values along <paramref name="dim"/> and their positions; see <see cref="Max(int, bool)"/>.</summary>
    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => ExtremumDim(dim, keepDim, max: false, "Min");

    /// <summary>Position of the largest element along <paramref name="dim"/>, or in the flattened tensor when dim is null.</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => ArgExtremum(dim, keepDim, max: true, "ArgMax");

    /// <summary>Position of the smallest element along <paramref name="dim"/>, or in the flattened tensor when dim is null.</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) => ArgExtremum(dim, keepDim, max: false, "ArgMin");

    (Tensor, Tensor) ExtremumDim(int dim, bool keepDim, bool max, string op)
    {
        int d = Shapes.NormalizeDim(dim, Rank, op);
        if (Rank == 0) return (Reshape([]), Scalar(0f));
        var index = ArgIndex(d, max, op);
        // Gathering at the chosen positions routes the gradient back to exactly those positions.
        var values = Gather(d, index);
        return keepDim ? (values, index) : (values.Squeeze(d), index.Squeeze(d));
    }

    Tensor ArgExtremum(int? dim, bool keepDim, bool max, string op)
    {
        if (dim is int dd)
        {
            int d = Shapes.NormalizeDim(dd, Rank, op);
            var index = ArgIndex(d, max, op);
            return keepDim ? index : index.Detach().Reshape(_shape.Where((_, i) => i != d).ToArray());
        }
        if (Numel == 0) throw new ArgumentException($"{op}: cannot reduce an empty tensor {Shapes.Format(ShapeSpan)}");
        var flat = new Tensor(keepDim ? Enumerable.Repeat(1, Rank).ToArray() : []);
        Indexing.ArgExtremum(Data, 1, Numel, 1, max, flat.Data);
        return flat;
    }

    /// <summary>Arg-extremum along d with the dim kept (size 1), as floats.</summary>
    Tensor ArgIndex(int d, bool max, string op)
    {
        if (Rank == 0) return Scalar(0f);
        var (outer, size, inner) = Indexing.Split(ShapeSpan, d);
        if (size == 0) throw new ArgumentException($"{op}: cannot reduce dim {d} of size 0 in {Shapes.Format(ShapeSpan)}");
        var shape = Shape; shape[d] = 1;
        var index = new Tensor(shape);
        Indexing.ArgExtremum(Data, outer, size, inner, max, index.Data);
        return index;
    }

    /// <summary>Variance over <paramref name="dims"/> (all when null), with Bessel's correction when <paramref name="unbiased"/>.</summary>
    /// <remarks>var = sum((x - mean)^2) / (n - 1) (or / n). Built from differentiable ops, so it has every derivative.</remarks>
    public Tensor Var(int[]? dims = null, bool unbiased = true, bool keepDim = false)
    {
        var nd = Shapes.NormalizeDims(dims ?? [], Rank, "Var");
        int n = 1;
        foreach (int d in nd) n *= _shape[d];
        var mean = Mean(nd, keepDim: true);
        var centered = this - mean;
        Intermediates.Release(mean, centered);
        var squared = centered * centered;
        Intermediates.Release(centered, squared);
        var sum = squared.Sum(nd, keepDim);
        Intermediates.Release(squared, sum);
        var variance = sum * (1f / Math.Max(unbiased ? n - 1 : n, 0));
        if (!sum.SharesBufferWith(squared)) Intermediates.Release(sum, variance);
        return variance;
    }

    public Tensor Var(int dim, bool unbiased = true, bool keepDim = false) => Var([dim], unbiased, keepDim);

    /// <summary>Standard deviation: sqrt of <see cref="Var(int[], bool, bool)"/>.</summary>
    public Tensor Std(int[]? dims = null, bool unbiased = true, bool keepDim = false) => Var(dims, unbiased, keepDim).Sqrt();

    public Tensor Std(int dim, bool unbiased = true, bool keepDim = false) => Var([dim], unbiased, keepDim).Sqrt();

    /// <summary>log(sum(exp(x))) over <paramref name="dims"/> (all when null), computed stably.</summary>
    /// <remarks>y = m + log(sum(exp(x - m))) with m the max; dy/dx = exp(x - y), the softmax.</remarks>
    public Tensor LogSumExp(int[]? dims = null, bool keepDim = false) => Functions.LogSumExp.Apply(this, dims ?? [], keepDim);

    public Tensor LogSumExp(int dim, bool keepDim = false) => Functions.LogSumExp.Apply(this, [dim], keepDim);

    /// <summary>The p-norm (sum |x|^p)^(1/p) over <paramref name="dims"/> (all when null); p &gt;= 1.</summary>
    /// <remarks>The gradient x |x|^(p-2) / y^(p-1) is taken as 0 where the norm is 0, as PyTorch does.</remarks>
    public Tensor Norm(float p = 2f, int[]? dims = null, bool keepDim = false) => Functions.Norm.Apply(this, p, dims ?? [], keepDim);
}
