using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>
    /// y[j] = Σ_r x[r·cols + j] over the <paramref name="rows"/> rows of a row-major (rows × cols) block, each column summed
    /// in row order from 0 (a Linear layer's bias gradient, the sum of its output gradient over the batch's rows).
    /// </summary>
    /// <remarks>
    /// With at least a vector of columns and as many rows as columns, up to eight vectors of columns at a time, their sums
    /// held in registers down all the rows, split over the threads by columns above 32k floats: the same additions in the
    /// same order as adding each row into y in turn (the way left for the other shapes), which made a span call a row and
    /// read and wrote y with each, on one thread only. One thread, alternating in one process (fortieth pass): 2,080 rows
    /// of 64 columns 14.9 -> 7.5 us, of 256 37.1 -> 25.0, 8,192 of 16 44.2 -> 4.6; on two threads 18.6 -> 7.3 and 38.3 -> 22.7.
    /// Fewer columns than a vector summed a column at a time ran longer (32,768 rows of 12: 211 -> 268 us), as did 64 rows
    /// of 1,024 (2.0 -> 3.0).
    /// </remarks>
    public static void ColumnSums(ReadOnlySpan<float> x, int rows, int cols, Span<float> y)
    {
        if (x.Length < (long)rows * cols || y.Length < cols)
            throw new ArgumentException($"Reduce.ColumnSums: {x.Length} values and {y.Length} sums for {rows} x {cols}");
        int width = FloatLanes.Widest;
        if (cols < width || rows < cols)
        {
            var sums = y[..cols];
            sums.Clear();
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, x.Slice(r * cols, cols), sums);
            return;
        }
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int step = ColumnsPerGroup(width), groups = (cols + step - 1) / step;
        if ((long)rows * cols < ParallelColumnSums || groups == 1 || Threading.Threads == 1) { ColumnRange(ref xr, rows, cols, 0, cols, ref yr, width); return; }
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint X = (nint)px, Y = (nint)py;
                Threading.ForRanges(groups, (_, g0, g1) =>
                    ColumnRange(ref *(float*)X, rows, cols, g0 * step, Math.Min(cols, g1 * step), ref *(float*)Y, width));
            }
        }
    }

    const int ParallelColumnSums = 1 << 15;

    // Columns a thread's share is counted in: two vectors, so that 64 columns of sixteen lanes split over two threads.
    static int ColumnsPerGroup(int width) => 2 * width;

    static void ColumnRange(ref float x, int rows, int cols, int c0, int c1, ref float y, int width)
    {
        int c = width == 16 ? ColumnVectors<Lanes512>(ref x, rows, cols, c0, c1, ref y) : ColumnVectors<Lanes256>(ref x, rows, cols, c0, c1, ref y);
        for (; c < c1; c++)
        {
            float s = 0f;
            for (int r = 0; r < rows; r++) s += Unsafe.Add(ref x, (nint)r * cols + c);
            Unsafe.Add(ref y, c) = s;
        }
    }

    // Whole vectors of columns from c0 towards c1, eight, two or one at a time; returns where the scalar rest begins.
    // A method of its own, so that its lane operations are inlined into it (see GeluKernel.Lanes).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int ColumnVectors<V>(ref float x, int rows, int cols, int c0, int c1, ref float y) where V : struct, IFloatLanes<V>
    {
        nuint w = (nuint)V.Count;
        int c = c0;
        for (; c + 8 * V.Count <= c1; c += 8 * V.Count)
        {
            V a0 = V.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            ref float row = ref Unsafe.Add(ref x, c);
            for (int r = 0; r < rows; r++, row = ref Unsafe.Add(ref row, cols))
            {
                (a0, a1, a2, a3) = (a0 + V.Load(ref row, 0), a1 + V.Load(ref row, w), a2 + V.Load(ref row, 2 * w), a3 + V.Load(ref row, 3 * w));
                (a4, a5, a6, a7) = (a4 + V.Load(ref row, 4 * w), a5 + V.Load(ref row, 5 * w), a6 + V.Load(ref row, 6 * w), a7 + V.Load(ref row, 7 * w));
            }
            ref float yc = ref Unsafe.Add(ref y, c);
            a0.Store(ref yc, 0); a1.Store(ref yc, w); a2.Store(ref yc, 2 * w); a3.Store(ref yc, 3 * w);
            a4.Store(ref yc, 4 * w); a5.Store(ref yc, 5 * w); a6.Store(ref yc, 6 * w); a7.Store(ref yc, 7 * w);
        }
        for (; c + 2 * V.Count <= c1; c += 2 * V.Count)
        {
            V a0 = V.Zero, a1 = a0;
            ref float row = ref Unsafe.Add(ref x, c);
            for (int r = 0; r < rows; r++, row = ref Unsafe.Add(ref row, cols)) (a0, a1) = (a0 + V.Load(ref row, 0), a1 + V.Load(ref row, w));
            a0.Store(ref Unsafe.Add(ref y, c), 0); a1.Store(ref Unsafe.Add(ref y, c), w);
        }
        for (; c + V.Count <= c1; c += V.Count)
        {
            V a0 = V.Zero;
            ref float row = ref Unsafe.Add(ref x, c);
            for (int r = 0; r < rows; r++, row = ref Unsafe.Add(ref row, cols)) a0 += V.Load(ref row, 0);
            a0.Store(ref Unsafe.Add(ref y, c), 0);
        }
        return c;
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
            for (int o = 0; o < outer; o++) ColumnSums(x.Slice(o * reduced * inner, reduced * inner), reduced, inner, y.Slice(o * inner, inner));
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
