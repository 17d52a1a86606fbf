using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GanForge.Serialization;

namespace GanForge.Metrics;

/// <summary>
/// Mean and covariance of a feature set: all FID needs from the real side, so reference statistics
/// of a data split can be computed once and cached to a file.
/// </summary>
public sealed class FeatureStatistics
{
    /// <summary>Mean, length D.</summary>
    public double[] Mean { get; }

    /// <summary>Covariance, (D, D) row-major, normalised by N - 1 as numpy.cov and pytorch-fid.</summary>
    public double[] Covariance { get; }

    /// <summary>Feature dimension D.</summary>
    public int Dim => Mean.Length;

    /// <summary>Number of samples the statistics were computed from.</summary>
    public int Count { get; }

    /// <summary>Wraps given statistics (no copy).</summary>
    public FeatureStatistics(double[] mean, double[] covariance, int count)
    {
        if (covariance.Length != mean.Length * mean.Length)
            throw new ArgumentException($"FeatureStatistics: covariance of {covariance.Length} values does not match mean of length {mean.Length}");
        Mean = mean;
        Covariance = covariance;
        Count = count;
    }

    /// <summary>Fits mean and unbiased covariance to the rows of <paramref name="x"/>.</summary>
    /// <remarks>mu = (1/N) sum_i x_i;  S = (1/(N-1)) sum_i (x_i - mu)(x_i - mu)^T.</remarks>
    public static FeatureStatistics Compute(FeatureMatrix x)
    {
        FeatureMatrix.CheckRows(x, 2, "FeatureStatistics", "features");
        int n = x.Rows, d = x.Cols;
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            var row = x.Row(i);
            for (int j = 0; j < d; j++) mean[j] += row[j];
        }
        for (int j = 0; j < d; j++) mean[j] /= n;

        // MathNet stores column-major: column j of the centred (N, D) matrix is contiguous.
        var centered = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) centered[j * n + i] = x.Data[i * d + j] - mean[j];
        var c = MathNet.Numerics.LinearAlgebra.Double.DenseMatrix.OfColumnMajor(n, d, centered);
        var gram = c.TransposeThisAndMultiply(c);
        var cov = new double[d * d];
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) cov[a * d + b] = gram[a, b] / (n - 1);
        return new FeatureStatistics(mean, cov, n);
    }

    /// <summary>
    /// Writes the statistics as a safetensors file with F64 tensors "mu" (D) and "sigma" (D, D), the
    /// names pytorch-fid uses in its .npz caches, so Python tools can read them too. Atomic.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["count"] = Count.ToString() };
        long muBytes = Dim * 8L, sigmaBytes = (long)Dim * Dim * 8;
        var header = new Dictionary<string, object>
        {
            ["__metadata__"] = meta,
            ["mu"] = new { dtype = "F64", shape = new[] { Dim }, data_offsets = new[] { 0, muBytes } },
            ["sigma"] = new { dtype = "F64", shape = new[] { Dim, Dim }, data_offsets = new[] { muBytes, muBytes + sigmaBytes } },
        };
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int pad = (8 - json.Length % 8) % 8;
        AtomicFile.Write(path, s =>
        {
            var buf = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(buf, (ulong)(json.Length + pad));
            s.Write(buf);
            s.Write(json);
            for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
            foreach (var v in Mean) { BinaryPrimitives.WriteDoubleLittleEndian(buf, v); s.Write(buf); }
            foreach (var v in Covariance) { BinaryPrimitives.WriteDoubleLittleEndian(buf, v); s.Write(buf); }
        });
    }

    /// <summary>Reads what <see cref="Save"/> wrote, in full double precision.</summary>
    public static FeatureStatistics Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
            throw new InvalidDataException($"FeatureStatistics: '{path}' is {bytes.Length} bytes, too short for a header");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"FeatureStatistics: '{path}' declares a {headerLen}-byte header but is truncated");
        int start = 8 + (int)headerLen;
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLen));
        double[] Read(string name, int expectRank)
        {
            if (!doc.RootElement.TryGetProperty(name, out var e))
                throw new InvalidDataException($"FeatureStatistics: '{path}' has no tensor '{name}'");
            if (e.GetProperty("dtype").GetString() != "F64")
                throw new InvalidDataException($"FeatureStatistics: '{path}': '{name}' is {e.GetProperty("dtype").GetString()}, expected F64");
            var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var off = e.GetProperty("data_offsets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            long n = shape.Aggregate(1L, (a, b) => a * b);
            if (shape.Length != expectRank || off[1] - off[0] != n * 8 || start + off[1] > bytes.Length)
                throw new InvalidDataException($"FeatureStatistics: '{path}': '{name}' has shape {Shapes.Format(shape)} and bytes [{off[0]},{off[1]}), inconsistent or truncated");
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(start + (int)off[0] + i * 8));
            return v;
        }
        var mu = Read("mu", 1);
        var sigma = Read("sigma", 2);
        int count = 0;
        if (doc.RootElement.TryGetProperty("__metadata__", out var m) && m.TryGetProperty("count", out var c))
            int.TryParse(c.GetString(), out count);
        return new FeatureStatistics(mu, sigma, count);
    }
}
