using System.Numerics.Tensors;

namespace GanForge.Kernels;

/// <summary>A binary elementwise op usable both per element and over spans.</summary>
public interface IBinaryOp
{
    static abstract float Apply(float a, float b);
    static abstract void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);
    static abstract void Apply(ReadOnlySpan<float> a, float b, Span<float> y);
    static abstract void Apply(float a, ReadOnlySpan<float> b, Span<float> y);
}

public struct AddOp : IBinaryOp
{
    public static float Apply(float a, float b) => a + b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(b, a, y);
}

public struct SubOp : IBinaryOp
{
    public static float Apply(float a, float b) => a - b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
}

public struct MulOp : IBinaryOp
{
    public static float Apply(float a, float b) => a * b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);
}

public struct DivOp : IBinaryOp
{
    public static float Apply(float a, float b) => a / b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
}

/// <summary>Elementwise kernels over contiguous buffers with NumPy broadcasting.</summary>
public static class Elementwise
{
    /// <summary>
    /// y = op(a, b) where a and b broadcast to <paramref name="outShape"/>.
    /// a: aShape, b: bShape -> y: outShape (all contiguous).
    /// </summary>
    public static void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape,
        Span<float> y, ReadOnlySpan<int> outShape) where TOp : struct, IBinaryOp
    {
        if (aShape.SequenceEqual(outShape) && bShape.SequenceEqual(outShape)) { SameShape<TOp>(a, b, y); return; }
        if (b.Length == 1 && aShape.SequenceEqual(outShape)) { TOp.Apply(a, b[0], y); return; }
        if (a.Length == 1 && bShape.SequenceEqual(outShape)) { TOp.Apply(a[0], b, y); return; }

        var (shape, sa, sb) = Coalesce(outShape, Shapes.BroadcastStrides(aShape, outShape), Shapes.BroadcastStrides(bShape, outShape));
        int rank = shape.Length;
        int inner = rank == 0 ? 1 : shape[rank - 1];
        int rows = inner == 0 ? 0 : y.Length / inner;
        int ia = rank == 0 ? 0 : sa[rank - 1], ib = rank == 0 ? 0 : sb[rank - 1];
        // A short row vector against a matrix (a bias or a norm's weight of a few channels): the vector tiled to a
        // few hundred elements, so each call covers many rows.
        if (rank == 2 && inner < TiledRow && rows > 1)
        {
            if (ia == 1 && ib == 1 && sa[0] == inner && sb[0] == 0) { RowsAgainstTiled<TOp>(a, b[..inner], y, inner, vectorFirst: false); return; }
            if (ia == 1 && ib == 1 && sa[0] == 0 && sb[0] == inner) { RowsAgainstTiled<TOp>(b, a[..inner], y, inner, vectorFirst: true); return; }
        }
        if (y.Length >= ParallelElements && Threading.Threads > 1 && rows > 1) BroadcastRowsInParallel<TOp>(a, b, y, shape, sa, sb, rows);
        else BroadcastRows<TOp>(a, b, y, shape, sa, sb, 0, rows);
    }

    // Rows [r0, r1) of a broadcast op on the coalesced shape: each row one span call (a row of a against a row or an
    // element of b, or the reverse), the operands' offsets stepped like a multi-index over the leading dims.
    static void BroadcastRows<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int[] shape, int[] sa, int[] sb,
        int r0, int r1) where TOp : struct, IBinaryOp
    {
        int rank = shape.Length, inner = rank == 0 ? 1 : shape[rank - 1];
        int ia = rank == 0 ? 0 : sa[rank - 1], ib = rank == 0 ? 0 : sb[rank - 1];
        var idx = new int[Math.Max(rank - 1, 0)];
        int offA = 0, offB = 0;
        for (int d = rank - 2, rest = r0; d >= 0; d--)
        {
            idx[d] = rest % shape[d]; rest /= shape[d];
            offA += idx[d] * sa[d]; offB += idx[d] * sb[d];
        }
        for (int r = r0; r < r1; r++)
        {
            var yr = y.Slice(r * inner, inner);
            if (ia == 1 && ib == 1) TOp.Apply(a.Slice(offA, inner), b.Slice(offB, inner), yr);
            else if (ia == 1 && ib == 0) TOp.Apply(a.Slice(offA, inner), b[offB], yr);
            else if (ia == 0 && ib == 1) TOp.Apply(a[offA], b.Slice(offB, inner), yr);
            else { float v = TOp.Apply(a[offA], b[offB]); yr.Fill(v); }
            // Advance the multi-index over the leading rank-1 dims.
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++; offA += sa[d]; offB += sb[d];
                if (idx[d] < shape[d]) break;
                offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]; idx[d] = 0;
            }
        }
    }

    // The rows in contiguous ranges over the threads (StyleGAN's modulation x·s, (N,C,H,W) by (N,C,1,1), was one
    // thread's loop); the spans pinned for the call, as in SameShapeInParallel.
    static unsafe void BroadcastRowsInParallel<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int[] shape,
        int[] sa, int[] sb, int rows) where TOp : struct, IBinaryOp
    {
        int la = a.Length, lb = b.Length, ly = y.Length, inner = ly / rows;
        fixed (float* pa = a, pb = b, py = y)
        {
            nint A = (nint)pa, B = (nint)pb, Y = (nint)py;
            Threading.ForRanges(rows, (_, r0, r1) => BroadcastRows<TOp>(new ReadOnlySpan<float>((float*)A, la),
                new ReadOnlySpan<float>((float*)B, lb), new Span<float>((float*)Y, ly), shape, sa, sb, r0, r1),
                Math.Max(1, ParallelElements / 2 / Math.Max(inner, 1)));
        }
    }

    const int TiledRow = 64;

    /// <summary>
    /// Merges neighbouring dims that both operands step through as one (a's and b's stride of the outer dim is the
    /// inner dim's stride times its size, broadcast dims included), so rows are as long as the layouts allow:
    /// (B,T,D) + (T,D) becomes (B, T·D) + (T·D).
    /// </summary>
    static (int[] Shape, int[] Sa, int[] Sb) Coalesce(ReadOnlySpan<int> shape, int[] sa, int[] sb)
    {
        // The merged dims are written over the arrays from the back: dim `top` is the outermost kept so far.
        var size = shape.ToArray();
        int rank = size.Length, top = rank - 1;
        for (int d = rank - 2; d >= 0; d--)
        {
            if (sa[d] == sa[top] * size[top] && sb[d] == sb[top] * size[top]) { size[top] *= size[d]; continue; }
            top--;
            (size[top], sa[top], sb[top]) = (size[d], sa[d], sb[d]);
        }
        return top <= 0 ? (size, sa, sb) : (size[top..], sa[top..], sb[top..]);
    }

    // y = op(m, v) (or op(v, m) when vectorFirst) for a matrix m of rows of `length` and one row v, many rows a call.
    static void RowsAgainstTiled<TOp>(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> y, int length, bool vectorFirst)
        where TOp : struct, IBinaryOp
    {
        int perCall = Math.Max(1, 512 / length);
        Span<float> tile = stackalloc float[perCall * length];
        for (int k = 0; k < perCall; k++) v.CopyTo(tile.Slice(k * length, length));
        int rows = y.Length / length;
        for (int r = 0; r < rows; r += perCall)
        {
            int n = Math.Min(perCall, rows - r) * length;
            var ms = m.Slice(r * length, n); var ys = y.Slice(r * length, n); var ts = tile[..n];
            if (vectorFirst) TOp.Apply(ts, ms, ys); else TOp.Apply(ms, ts, ys);
        }
    }

    /// <summary>
    /// y = a + b on equal lengths (y may be a or b), split over the threads from <see cref="ParallelElements"/> on as the
    /// same-shape ops are: the autograd engine's sums of the gradients that meet at a tensor read by several ops.
    /// </summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => SameShape<AddOp>(a, b, y);

    // y = op(a, b) on equal lengths: on the calling thread below ParallelElements, else in ranges over the threads.
    static void SameShape<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinaryOp
    {
        if (y.Length < ParallelElements || Threading.Threads == 1) TOp.Apply(a, b, y);
        else SameShapeInParallel<TOp>(a, b, y);
    }

    // Elements from which a same-shape op is split over threads (PyTorch's grain is 32k too).
    const int ParallelElements = 1 << 15;

    // y = op(a, b) on equal lengths, in contiguous ranges over the threads (spans cannot be captured: their addresses
    // are, for the call's duration, which the fixed statement pins).
    static unsafe void SameShapeInParallel<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinaryOp
    {
        fixed (float* pa = a, pb = b, py = y)
        {
            nint A = (nint)pa, B = (nint)pb, Y = (nint)py;
            Threading.ForRanges(y.Length, (_, s, e) =>
                TOp.Apply(new ReadOnlySpan<float>((float*)A + s, e - s), new ReadOnlySpan<float>((float*)B + s, e - s),
                    new Span<float>((float*)Y + s, e - s)), ParallelElements / 2);
        }
    }

    /// <summary>Copies x (shape xShape) broadcast into y (shape outShape).</summary>
    public static void BroadcastTo(ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, Span<float> y, ReadOnlySpan<int> outShape)
    {
        if (xShape.SequenceEqual(outShape)) { x.CopyTo(y); return; }
        if (x.Length == 1) { y.Fill(x[0]); return; }
        int rank = outShape.Length;
        var sx = Shapes.BroadcastStrides(xShape, outShape);
        int inner = outShape[rank - 1];
        int rows = inner == 0 ? 0 : y.Length / inner;
        int ix = sx[rank - 1];
        var idx = new int[rank - 1];
        int off = 0;
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * inner, inner);
            if (ix == 1) x.Slice(off, inner).CopyTo(yr); else yr.Fill(x[off]);
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++; off += sx[d];
                if (idx[d] < outShape[d]) break;
                off -= sx[d] * outShape[d]; idx[d] = 0;
            }
        }
    }
}
