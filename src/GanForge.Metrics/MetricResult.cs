using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanForge.Metrics;

/// <summary>One score with its spread, its secondary values and the protocol it was measured under.</summary>
public sealed record MetricResult
{
    /// <summary>Registry name of the metric ("fid", "kid", ...).</summary>
    public required string Name { get; init; }

    /// <summary>The headline value (e.g. FID, KID mean, precision).</summary>
    public required double Value { get; init; }

    /// <summary>Standard deviation over subsets or splits, where the metric has one.</summary>
    public double? Std { get; init; }

    /// <summary>Further named values (e.g. recall beside precision, per-class counts).</summary>
    public IReadOnlyDictionary<string, double> Extras { get; init; } = new Dictionary<string, double>();

    /// <summary>How the score was measured.</summary>
    public Protocol? Protocol { get; init; }

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>One line of JSON (for metrics files written as JSON lines).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Parses what <see cref="ToJson()"/> wrote.</summary>
    public static MetricResult FromJson(string json) =>
        JsonSerializer.Deserialize<MetricResult>(json, Options)
        ?? throw new InvalidDataException("MetricResult: JSON is null");

    /// <summary>Serialises several results as a JSON array.</summary>
    public static string ToJson(IEnumerable<MetricResult> results) => JsonSerializer.Serialize(results, Options);
}
