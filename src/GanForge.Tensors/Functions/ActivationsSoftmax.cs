using System.Numerics.Tensors;

namespace GanForge.Functions;

/// <summary>
/// Row helpers for ops along one dim: a contiguous tensor seen as (outer, n, inner), where
/// element k of row (o, i) sits at (o * n + k) * inner + i.
/// </summary>
internal static class DimRows
{
    public static (int Outer, int N, int Inner) Split(ReadOnlySpan<int> shape, int dim)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= shape[d];
        for (int d = dim + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape.Length == 0 ? 1 : shape[dim], inner);
    }

    // Rows per parallel chunk: about 32k elements, so small tensors stay on one thread.
    static int MinRowsPerChunk(int n) => Math.Max(1, 32768 / Math.Max(n, 1));

    // x: (outer,n,inner) -> y: (outer,n,inner); y = x - max - log(sum(exp(x - max))) when log, else softmax.
    // The max is taken from the data (a constant of the graph), so large logits do not overflow.
    // Along the last dim (inner 1: attention's rows, a classifier's logits) each row is a few vector passes, rows
    // split over threads; along another dim, one strided scalar pass.
    public static void SoftmaxForward(float[] x, float[] y, int outer, int n, int inner, bool log)
    {
        if (inner == 1 && n > 0)
        {
            Threading.ForRanges(outer, (_, r0, r1) =>
            {
                for (int r = r0; r < r1; r++) SoftmaxRow(x.AsSpan(r * n, n), y.AsSpan(r * n, n), log);
            }, MinRowsPerChunk(n));
            return;
        }
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * n * inner + i;
                float max = float.NegativeInfinity;
                for (int k = 0; k < n; k++) max = MathF.Max(max, x[b + k * inner]);
                if (float.IsNegativeInfinity(max)) max = 0f;
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    float e = MathF.Exp(x[b + k * inner] - max);
                    if (!log) y[b + k * inner] = e;
                    sum += e;
                }
                if (log)
                {
                    float lse = max + (float)Math.Log(sum);
                    for (int k = 0; k < n; k++) y[b + k * inner] = x[b + k * inner] - lse;
                }
                else
                {
                    float inv = (float)(1.0 / sum);
                    for (int k = 0; k < n; k++) y[b + k * inner] *= inv;
                }
            }
    }

    static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max)) max = 0f;
        TensorPrimitives.Subtract(x, max, y);
        Kernels.Transcendental.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        if (log) TensorPrimitives.Subtract(x, max + MathF.Log(sum), y);
        else TensorPrimitives.Multiply(y, 1f / sum, y);
    }

    /// <summary>dx of softmax or log-softmax along the last dim of <paramref name="y"/>, one kernel pass (no graph).</summary>
    public static Tensor BackwardWithoutGraph(Tensor y, Tensor g, bool log)
    {
        var dx = Tensor.Uninitialized(y.ShapeSpan);
        int n = y.Size(-1);   // callers come here for the last dim only, so y has one
        SoftmaxBackwardRows(y.Storage, g.Storage, dx.Storage, n == 0 ? 0 : y.Numel / n, n, log);
        return dx;
    }

    /// <summary>
    /// The backward of softmax (y = softmax) or log-softmax (y = log_softmax) along the last dim without a graph, row by
    /// row: dx = y·(g − Σ g·y), or dx = g − exp(y)·Σ g.
    /// </summary>
    public static void SoftmaxBackwardRows(float[] y, float[] g, float[] dx, int rows, int n, bool log) =>
        Threading.ForRanges(rows, (_, r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var ys = y.AsSpan(r * n, n); var gs = g.AsSpan(r * n, n); var ds = dx.AsSpan(r * n, n);
                if (log)
                {
                    float sum = TensorPrimitives.Sum(gs);
                    Kernels.Transcendental.Exp(ys, ds);
                    TensorPrimitives.MultiplyAdd(ds, -sum, gs, ds);
                }
                else
                {
                    TensorPrimitives.Subtract(gs, TensorPrimitives.Dot(gs, ys), ds);
                    TensorPrimitives.Multiply(ds, ys, ds);
                }
            }
        }, MinRowsPerChunk(n));
}

// y = exp(x - max) / sum(exp(x - max)) along dim; dx = y * (g - sum(g * y, dim))
internal sealed class Softmax(int dim) : Function
{
    Tensor? _y;

    public static Tensor Apply(Tensor x, int dim)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Softmax");
        var (outer, n, inner) = DimRows.Split(x.ShapeSpan, d);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        DimRows.SoftmaxForward(x.Storage, y.Storage, outer, n, inner, log: false);
        var fn = new Softmax(d);
        Record(fn, y, x);
        fn._y = y;
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var y = _y!;
        if (!GradMode.IsEnabled && dim == y.Rank - 1) return [DimRows.BackwardWithoutGraph(y, g, log: false)];
        return [y * (g - (g * y).Sum(dim, keepDim: true))];
    }

    protected internal override void ReleaseSaved() => _y = null;
}

// y = x - max - log(sum(exp(x - max))) along dim; dx = g - exp(y) * sum(g, dim)
internal sealed class LogSoftmax(int dim) : Function
{
    Tensor? _y;

    public static Tensor Apply(Tensor x, int dim)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "LogSoftmax");
        var (outer, n, inner) = DimRows.Split(x.ShapeSpan, d);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        DimRows.SoftmaxForward(x.Storage, y.Storage, outer, n, inner, log: true);
        var fn = new LogSoftmax(d);
        Record(fn, y, x);
        fn._y = y;
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g) =>
        !GradMode.IsEnabled && dim == _y!.Rank - 1 ? [DimRows.BackwardWithoutGraph(_y, g, log: true)]
            : [g - _y!.Exp() * g.Sum(dim, keepDim: true)];

    protected internal override void ReleaseSaved() => _y = null;
}
