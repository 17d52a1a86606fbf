namespace GanForge.Metrics;

/// <summary>
/// A dense (N, D) matrix of features in double precision, row-major: the common input of every
/// metric. Evaluator activations arrive as float32 tensors; the statistics are computed in double
/// because covariance sums over thousands of rows lose digits in float.
/// </summary>
public sealed class FeatureMatrix
{
    /// <summary>The values, row-major: element (i, j) is at i * Cols + j.</summary>
    public double[] Data { get; }

    /// <summary>Number of samples N.</summary>
    public int Rows { get; }

    /// <summary>Feature dimension D.</summary>
    public int Cols { get; }

    /// <summary>Wraps <paramref name="data"/> (no copy) as a (rows, cols) matrix.</summary>
    public FeatureMatrix(double[] data, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != data.Length)
            throw new ArgumentException($"FeatureMatrix: {data.Length} values do not fill shape ({rows},{cols})");
        Data = data;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>Row <paramref name="i"/> as a span.</summary>
    public ReadOnlySpan<double> Row(int i) => Data.AsSpan(i * Cols, Cols);

    /// <summary>Element (i, j).</summary>
    public double this[int i, int j] => Data[i * Cols + j];

    /// <summary>Copies a tensor of shape (N, D), or (N, ...) flattened to (N, prod(...)) as for images.</summary>
    public static FeatureMatrix From(Tensor t)
    {
        if (t.Rank < 1)
            throw new ArgumentException($"FeatureMatrix: expected a tensor (N, D) or (N, ...), got shape {Shapes.Format(t.ShapeSpan)}");
        int rows = t.Size(0);
        int cols = rows == 0 ? 0 : t.Numel / rows;
        var data = new double[t.Numel];
        var src = t.Data;
        for (int i = 0; i < data.Length; i++) data[i] = src[i];
        return new FeatureMatrix(data, rows, cols);
    }

    /// <summary>Copies a float[N, D] array.</summary>
    public static FeatureMatrix From(float[,] a)
    {
        int rows = a.GetLength(0), cols = a.GetLength(1);
        var data = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) data[i * cols + j] = a[i, j];
        return new FeatureMatrix(data, rows, cols);
    }

    /// <summary>Copies a double[N, D] array.</summary>
    public static FeatureMatrix From(double[,] a)
    {
        int rows = a.GetLength(0), cols = a.GetLength(1);
        var data = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) data[i * cols + j] = a[i, j];
        return new FeatureMatrix(data, rows, cols);
    }

    /// <summary>The matrix made of the given rows, in order (used to draw KID subsets).</summary>
    public FeatureMatrix SelectRows(ReadOnlySpan<int> rows)
    {
        var data = new double[rows.Length * Cols];
        for (int r = 0; r < rows.Length; r++)
        {
            if ((uint)rows[r] >= (uint)Rows)
                throw new ArgumentException($"FeatureMatrix.SelectRows: row {rows[r]} out of range for ({Rows},{Cols})");
            Row(rows[r]).CopyTo(data.AsSpan(r * Cols, Cols));
        }
        return new FeatureMatrix(data, rows.Length, Cols);
    }

    internal static void CheckSameDim(FeatureMatrix a, FeatureMatrix b, string op)
    {
        if (a.Cols != b.Cols)
            throw new ArgumentException($"{op}: real features ({a.Rows},{a.Cols}) and fake features ({b.Rows},{b.Cols}) differ in dimension");
    }

    internal static void CheckRows(FeatureMatrix a, int min, string op, string what)
    {
        if (a.Rows < min)
            throw new ArgumentException($"{op}: {what} ({a.Rows},{a.Cols}) needs at least {min} rows");
    }
}
