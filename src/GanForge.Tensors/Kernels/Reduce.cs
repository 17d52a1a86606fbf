using System.Numerics.Tensors;

namespace GanForge.Kernels;

/// <summary>Reductions over a set of dims of a contiguous tensor.</summary>
public static class Reduce
{
    /// <summary>
    /// Splits a shape around the reduced dims so a reduction becomes loops over
    /// (outer, reduced, inner) when the reduced dims are adjacent; returns false otherwise.
    /// </summary>
    public static bool TryContiguousSplit(ReadOnlySpan<int> shape, ReadOnlySpan<int> dims, out int outer, out int reduced, out int inner)
    {
        outer = reduced = inner = 1;
        for (int i = 1; i < dims.Length; i++) if (dims[i] != dims[i - 1] + 1) return false;
        int first = dims.Length == 0 ? shape.Length : dims[0], last = dims.Length == 0 ? shape.Length - 1 : dims[^1];
        for (int d = 0; d < shape.Length; d++)
        {
            if (d < first) outer *= shape[d];
            else if (d > last) inner *= shape[d];
            else reduced *= shape[d];
        }
        return true;
    }

    /// <summary>
    /// Splits a shape whose kept dims are adjacent (reduced dims before and after them, in ascending order) into
    /// (before, kept, after); false otherwise.
    /// </summary>
    static bool TryKeptBlock(ReadOnlySpan<int> shape, ReadOnlySpan<int> dims, out int before, out int kept, out int after)
    {
        before = kept = after = 1;
        int firstKept = -1, lastKept = -1;
        for (int d = 0; d < shape.Length; d++)
            if (!dims.Contains(d)) { if (firstKept < 0) firstKept = d; lastKept = d; }
        if (firstKept < 0) return false;
        for (int i = 1; i < dims.Length; i++) if (dims[i] <= dims[i - 1]) return false;
        for (int d = 0; d < shape.Length; d++)
        {
            if (d < firstKept) before *= shape[d];
            else if (d > lastKept) after *= shape[d];
            else if (dims.Contains(d)) return false;   // a reduced dim between kept ones
            else kept *= shape[d];
        }
        return true;
    }

    /// <summary>x: shape -> y: shape with dims set to 1 (y.Length = product of kept dims); y = sum over dims.</summary>
    public static void Sum(ReadOnlySpan<float> x, ReadOnlySpan<int> shape, ReadOnlySpan<int> dims, Span<float> y)
    {
        if (TryContiguousSplit(shape, dims, out int outer, out int reduced, out int inner))
        {
            if (inner == 1)
            {
                for (int o = 0; o < outer; o++) y[o] = TensorPrimitives.Sum(x.Slice(o * reduced, reduced));
                return;
            }
            y.Clear();
            for (int o = 0; o < outer; o++)
            {
                var yo = y.Slice(o * inner, inner);
                for (int r = 0; r < reduced; r++) TensorPrimitives.Add(yo, x.Slice((o * reduced + r) * inner, inner), yo);
            }
            return;
        }
        if (TryKeptBlock(shape, dims, out int before, out int kept, out int after))
        {
            // Reduced dims around one block of kept ones (a bias gradient's sum of NCHW over N, H and W): each kept
            // index sums its contiguous runs of `after`, read where they lie.
            y.Clear();
            for (int o = 0; o < before; o++)
                for (int k = 0; k < kept; k++) y[k] += TensorPrimitives.Sum(x.Slice((o * kept + k) * after, after));
            return;
        }
        // General case: reduce one dim at a time, last first (the first from x itself).
        var curShape = shape.ToArray();
        ReadOnlySpan<float> cur = x;
        for (int k = dims.Length - 1; k >= 0; k--)
        {
            int d = dims[k];
            TryContiguousSplit(curShape, [d], out int o2, out int r2, out int i2);
            var next = new float[o2 * i2];
            Sum(cur, curShape, [d], next);
            cur = next; curShape[d] = 1;
        }
        cur[..y.Length].CopyTo(y);
    }
}
