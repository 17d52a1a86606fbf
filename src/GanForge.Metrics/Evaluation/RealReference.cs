using System.Globalization;
using System.Security.Cryptography;
using GanForge.Data;
using GanForge.Metrics.Evaluators;
using GanForge.Serialization;

namespace GanForge.Metrics.Evaluation;

/// <summary>
/// Evaluator outputs of a set of real images — the reference side of every metric — with the
/// Gaussian statistics FID needs. Computing them is the slow part of an evaluation, so they are
/// cached on disk, keyed by evaluator weights, data and count.
/// </summary>
public sealed class RealReference
{
    /// <summary>Features (N, D).</summary>
    public required FeatureMatrix Features { get; init; }

    /// <summary>Class probabilities (N, C), or null when the evaluator is not a classifier.</summary>
    public FeatureMatrix? Probabilities { get; init; }

    /// <summary>Labels of the images when the data has them.</summary>
    public int[]? Labels { get; init; }

    /// <summary>Mean and covariance of <see cref="Features"/>.</summary>
    public required FeatureStatistics Statistics { get; init; }

    /// <summary>Number of images.</summary>
    public int Count => Features.Rows;

    /// <summary>Runs <paramref name="extractor"/> on <paramref name="images"/> (N,C,H,W) in [-1, 1].</summary>
    public static RealReference Compute(IFeatureExtractor extractor, Tensor images, int[]? labels = null, int batchSize = 256)
    {
        var (features, probs) = extractor.Extract(images, batchSize);
        return new RealReference
        {
            Features = features,
            Probabilities = probs == null ? null : FeatureMatrix.From(probs),
            Labels = labels,
            Statistics = FeatureStatistics.Compute(features),
        };
    }

    /// <summary>
    /// As <see cref="Compute"/>, reading and writing a cache file in <paramref name="cacheFolder"/> named by
    /// the evaluator, a hash of its weights, <paramref name="dataKey"/> and the count. A null folder disables the cache.
    /// </summary>
    public static RealReference LoadOrCompute(IFeatureExtractor extractor, Func<(Tensor Images, int[]? Labels)> load,
        string dataKey, int count, string? cacheFolder, int batchSize = 256)
    {
        string? path = cacheFolder == null ? null
            : Path.Combine(cacheFolder, $"{Sanitize(extractor.Name)}-{WeightsTag(extractor)}-{Sanitize(dataKey)}-{count}.safetensors");
        if (path != null && File.Exists(path))
        {
            try { return Read(path); }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException) { /* a stale or torn cache is recomputed */ }
        }
        var (images, labels) = load();
        var reference = Compute(extractor, images, labels, batchSize);
        if (path != null)
        {
            Directory.CreateDirectory(cacheFolder!);
            Write(reference, path);
        }
        return reference;
    }

    /// <summary>The default cache folder: $GANFORGE_CACHE, else ~/.cache/ganforge/reference.</summary>
    public static string DefaultCacheFolder =>
        Environment.GetEnvironmentVariable("GANFORGE_CACHE") is { Length: > 0 } env ? Path.Combine(env, "reference")
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ganforge", "reference");

    static string Sanitize(string s) => new(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());

    /// <summary>First 12 hex digits of SHA-256 over the evaluator's weights, so retrained weights never reuse a stale cache.</summary>
    static string WeightsTag(IFeatureExtractor extractor)
    {
        if (extractor is not NetworkFeatureExtractor n) return "custom";
        using var sha = SHA256.Create();
        foreach (var (name, t) in n.Network.Module.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
            sha.TransformBlock(nameBytes, 0, nameBytes.Length, null, 0);
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Data).ToArray();
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexString(sha.Hash!)[..12].ToLowerInvariant();
    }

    static void Write(RealReference r, string path)
    {
        var tensors = new Dictionary<string, Tensor> { ["features"] = ToTensor(r.Features) };
        if (r.Probabilities != null) tensors["probabilities"] = ToTensor(r.Probabilities);
        if (r.Labels != null) tensors["labels"] = Tensor.FromArray(r.Labels.Select(l => (float)l).ToArray(), r.Labels.Length);
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["count"] = r.Count.ToString(CultureInfo.InvariantCulture) });
    }

    static RealReference Read(string path)
    {
        var t = SafeTensors.Load(path);
        if (!t.TryGetValue("features", out var f) || f.Rank != 2)
            throw new InvalidDataException($"RealReference: cache '{path}' has no (N, D) 'features'");
        var features = FeatureMatrix.From(f);
        return new RealReference
        {
            Features = features,
            Probabilities = t.TryGetValue("probabilities", out var p) ? FeatureMatrix.From(p) : null,
            Labels = t.TryGetValue("labels", out var l) ? l.Data.ToArray().Select(v => (int)v).ToArray() : null,
            Statistics = FeatureStatistics.Compute(features),
        };
    }

    static Tensor ToTensor(FeatureMatrix m)
    {
        var t = new Tensor(m.Rows, m.Cols);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = (float)m.Data[i];
        return t;
    }
}
