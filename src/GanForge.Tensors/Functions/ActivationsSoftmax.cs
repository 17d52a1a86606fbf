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

    // x: (outer,n,inner) -> y: (outer,n,inner); y = x - max - log(sum(exp(x - max))) when log, else softmax.
    // The max is taken from the data (a constant of the graph), so large logits do not overflow.
    public static void SoftmaxForward(ReadOnlySpan<float> x, Span<float> y, int outer, int n, int inner, bool log)
    {
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
}

// y = exp(x - max) / sum(exp(x - max)) along dim; dx = y * (g - sum(g * y, dim))
internal sealed class Softmax(int dim) : Function
{
    Tensor? _y;

    public static Tensor Apply(Tensor x, int dim)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank, "Softmax");
        var (outer, n, inner) = DimRows.Split(x.ShapeSpan, d);
        var y = new Tensor(x.Shape);
        DimRows.SoftmaxForward(x.Data, y.Data, outer, n, inner, log: false);
        var fn = new Softmax(d);
        Record(fn, y, x);
        fn._y = y;
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var y = _y!;
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
        var y = new Tensor(x.Shape);
        DimRows.SoftmaxForward(x.Data, y.Data, outer, n, inner, log: true);
        var fn = new LogSoftmax(d);
        Record(fn, y, x);
        fn._y = y;
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g) => [g - _y!.Exp() * g.Sum(dim, keepDim: true)];

    protected internal override void ReleaseSaved() => _y = null;
}
