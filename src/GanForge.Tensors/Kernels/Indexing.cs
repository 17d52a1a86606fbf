namespace GanForge.Kernels;

/// <summary>
/// Copies along one dim of contiguous tensors. A shape is split around the dim as
/// (outer, size, inner), so moving index k of that dim moves a block of <c>inner</c> floats.
/// </summary>
public static class Indexing
{
    /// <summary>(outer, size, inner) of <paramref name="shape"/> around <paramref name="dim"/>.</summary>
    public static (int Outer, int Size, int Inner) Split(ReadOnlySpan<int> shape, int dim)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= shape[d];
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[dim], inner);
    }

    /// <summary>
    /// x: (outer, xSize, inner) -> y: (outer, count, inner); y[o,k,i] = x[o, start + k*step, i].
    /// With <paramref name="scatter"/> the copy runs the other way (y is the source, x the target).
    /// </summary>
    public static void Strided(Span<float> x, int outer, int xSize, int inner, int start, int step, int count, Span<float> y, bool scatter)
    {
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < count; k++)
            {
                var xs = x.Slice((o * xSize + start + k * step) * inner, inner);
                var ys = y.Slice((o * count + k) * inner, inner);
                if (scatter) ys.CopyTo(xs); else xs.CopyTo(ys);
            }
    }

    /// <summary>x: (outer, xSize, inner), index: (n) -> y: (outer, n, inner); y[o,k,i] = x[o, index[k], i].</summary>
    public static void IndexSelect(ReadOnlySpan<float> x, int outer, int xSize, int inner, ReadOnlySpan<int> index, Span<float> y)
    {
        int n = index.Length;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < n; k++)
                x.Slice((o * xSize + index[k]) * inner, inner).CopyTo(y.Slice((o * n + k) * inner, inner));
    }

    /// <summary>y: (outer, ySize, inner), src: (outer, n, inner); y[o, index[k], i] += src[o,k,i] (repeats accumulate).</summary>
    public static void IndexAdd(Span<float> y, int outer, int ySize, int inner, ReadOnlySpan<int> index, ReadOnlySpan<float> src)
    {
        int n = index.Length;
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < n; k++)
            {
                var yr = y.Slice((o * ySize + index[k]) * inner, inner);
                var sr = src.Slice((o * n + k) * inner, inner);
                for (int i = 0; i < inner; i++) yr[i] += sr[i];
            }
    }

    /// <summary>
    /// Visits every element of an index tensor of shape <paramref name="indexShape"/> and returns, per element,
    /// the flat offset into a tensor of shape <paramref name="targetShape"/> with dim <paramref name="dim"/>
    /// replaced by the index value: target[i0.., index[i0..], ..]. Shared by gather and scatter-add. Returns -1, or the
    /// position of the first index value that is not a whole number in [0, targetShape[dim]) (the offsets before it written).
    /// </summary>
    /// <remarks>targetShape[d] &gt;= indexShape[d] for d != dim. One pass checks and places each value (a check over all
    /// values first, with <see cref="MathF.Floor"/>, took three times as long as placing them).</remarks>
    public static int GatherOffsets(ReadOnlySpan<float> index, ReadOnlySpan<int> indexShape, ReadOnlySpan<int> targetShape, int dim, Span<int> offsets)
    {
        int rank = indexShape.Length, size = targetShape[dim];
        var ts = Shapes.Strides(targetShape);
        int step = ts[dim];
        Span<int> idx = stackalloc int[rank];   // zeroed
        int baseOff = 0;
        for (int p = 0; p < index.Length; p++)
        {
            // (int) saturates (NaN to 0), so a value that is not a whole number in [0, size) differs from it or falls outside.
            float v = index[p];
            int i = (int)v;
            if ((uint)i >= (uint)size || i != v) return p;
            offsets[p] = baseOff + i * step;
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++;
                if (d != dim) baseOff += ts[d];
                if (idx[d] < indexShape[d]) break;
                if (d != dim) baseOff -= ts[d] * indexShape[d];
                idx[d] = 0;
            }
        }
        return -1;
    }

    /// <summary>x: (outer, size, inner) -> y reversed along the dim.</summary>
    public static void Flip(ReadOnlySpan<float> x, int outer, int size, int inner, Span<float> y)
    {
        for (int o = 0; o < outer; o++)
            for (int k = 0; k < size; k++)
                x.Slice((o * size + k) * inner, inner).CopyTo(y.Slice((o * size + size - 1 - k) * inner, inner));
    }

    /// <summary>
    /// Arg-extremum along a dim, x: (outer, size, inner) -> index: (outer, inner). Ties give the first
    /// index and NaN wins (as PyTorch on CPU).
    /// </summary>
    public static void ArgExtremum(ReadOnlySpan<float> x, int outer, int size, int inner, bool max, Span<float> index)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x[o * size * inner + i];
                for (int k = 1; k < size && !float.IsNaN(bv); k++)
                {
                    float v = x[(o * size + k) * inner + i];
                    if (float.IsNaN(v) || (max ? v > bv : v < bv)) { best = k; bv = v; }
                }
                index[o * inner + i] = best;
            }
    }
}
