namespace GanForge;

public sealed partial class Tensor
{
    public static Tensor Zeros(params int[] shape) => new(shape);

    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    public static Tensor Full(int[] shape, float value)
    {
        var t = new Tensor(shape);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>A one-element tensor of rank 0.</summary>
    public static Tensor Scalar(float value) => new(new[] { value }, []);

    public static Tensor ZerosLike(Tensor x) => new(x.Shape);
    public static Tensor OnesLike(Tensor x) => Full(x.Shape, 1f);
    public static Tensor FullLike(Tensor x, float value) => Full(x.Shape, value);

    /// <summary>A tensor over a copy of <paramref name="data"/> with the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        int n = Shapes.Numel(shape);
        if (data.Length != n)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Shapes.Format(shape)} ({n} elements)");
        return new Tensor(data.ToArray(), (int[])shape.Clone());
    }

    /// <summary>A 1-D tensor over a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data) => new(data.ToArray(), [data.Length]);

    /// <summary>A tensor that wraps <paramref name="data"/> without copying.</summary>
    public static Tensor Wrap(float[] data, params int[] shape) => new(data, (int[])shape.Clone());

    /// <summary>Values start, start+step, ... below end (as torch.arange).</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0f) throw new ArgumentException("Arange: step must be non-zero");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var t = new Tensor(n);
        for (int i = 0; i < n; i++) t.Storage[i] = start + i * step;
        return t;
    }

    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary><paramref name="steps"/> values evenly spaced from start to end inclusive (as torch.linspace).</summary>
    public static Tensor Linspace(float start, float end, int steps)
    {
        if (steps < 0) throw new ArgumentException($"Linspace: steps must be non-negative, got {steps}");
        var t = new Tensor(steps);
        if (steps == 1) t.Storage[0] = start;
        double step = steps > 1 ? ((double)end - start) / (steps - 1) : 0;
        // Fill from both ends as PyTorch does, so the endpoints are exact.
        int half = steps / 2;
        for (int i = 0; i < steps; i++)
            t.Storage[i] = i < half ? (float)(start + step * i) : (float)(end - step * (steps - 1 - i));
        return t;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = new Tensor(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = g.NextFloat();
        return t;
    }

    public static Tensor Rand(params int[] shape) => Rand(shape, null);

    /// <summary>Standard normal.</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = new Tensor(shape);
        g.FillNormal(t.Data);
        return t;
    }

    public static Tensor Randn(params int[] shape) => Randn(shape, null);

    /// <summary>Uniform in [low, high).</summary>
    public static Tensor Uniform(int[] shape, float low, float high, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = new Tensor(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = low + (high - low) * (float)g.NextDouble();
        return t;
    }

    /// <summary>Integers uniform in [low, high), stored as float.</summary>
    public static Tensor RandInt(int low, int high, int[] shape, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = new Tensor(shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = low + g.NextInt(high - low);
        return t;
    }
}
