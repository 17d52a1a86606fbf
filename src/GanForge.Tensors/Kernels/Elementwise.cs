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
        if (aShape.SequenceEqual(outShape) && bShape.SequenceEqual(outShape))
        {
            if (y.Length < ParallelElements || Threading.Threads == 1) TOp.Apply(a, b, y);
            else SameShapeInParallel<TOp>(a, b, y);
            return;
        }
        if (b.Length == 1 && aShape.SequenceEqual(outShape)) { TOp.Apply(a, b[0], y); return; }
        if (a.Length == 1 && bShape.SequenceEqual(outShape)) { TOp.Apply(a[0], b, y); return; }

        int rank = outShape.Length;
        var sa = Shapes.BroadcastStrides(aShape, outShape);
        var sb = Shapes.BroadcastStrides(bShape, outShape);
        int inner = rank == 0 ? 1 : outShape[rank - 1];
        int rows = inner == 0 ? 0 : y.Length / inner;
        int ia = rank == 0 ? 0 : sa[rank - 1], ib = rank == 0 ? 0 : sb[rank - 1];
        var idx = new int[Math.Max(rank - 1, 0)];
        int offA = 0, offB = 0;
        for (int r = 0; r < rows; r++)
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
                if (idx[d] < outShape[d]) break;
                offA -= sa[d] * outShape[d]; offB -= sb[d] * outShape[d]; idx[d] = 0;
            }
        }
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
