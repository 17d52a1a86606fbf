using System.Text.Json;
using System.Text.Json.Nodes;

namespace GanForge.Metrics.Evaluation;

/// <summary>Scores of generated images and, beside them, the same scores of real images (the floor).</summary>
public sealed record EvaluationResult(Protocol Protocol, IReadOnlyList<MetricResult> Scores, IReadOnlyList<MetricResult>? Floor,
    string FloorDescription)
{
    /// <summary>JSON with the protocol, every score and its floor.</summary>
    public string ToJson()
    {
        var options = new JsonSerializerOptions { WriteIndented = true };
        var root = new JsonObject
        {
            ["protocol"] = JsonNode.Parse(JsonSerializer.Serialize(Protocol, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })),
            ["scores"] = JsonNode.Parse(MetricResult.ToJson(Scores)),
            ["floor_description"] = FloorDescription,
        };
        if (Floor != null) root["floor"] = JsonNode.Parse(MetricResult.ToJson(Floor));
        var headline = new JsonObject();
        foreach (var row in Rows()) headline[row.Key] = new JsonObject { ["value"] = Finite(row.Value), ["floor"] = row.Floor is { } f ? Finite(f) : null, ["better"] = row.Better };
        root["summary"] = headline;
        return root.ToJsonString(options);
    }

    static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(v.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>One headline number per row (precision and recall apart, etc.), with its floor, for tables.</summary>
    public IReadOnlyList<ScoreRow> Rows() => ScoreRow.From(Scores, Floor);
}

/// <summary>A headline number: its key ("recall"), value, real-vs-real floor and which direction is better.</summary>
public sealed record ScoreRow(string Key, double Value, double? Floor, string Better)
{
    // Memorisation carries its own floor (held-out test images against the same training images), so its
    // rows read the floor from the score itself: a train-split floor would find its own images in the training set.
    static readonly (string Metric, string Key, string? Extra, string Better, string? OwnFloor)[] Layout =
    [
        ("fid", "fid", null, "lower", null),
        ("kid", "kid", null, "lower", null),
        ("is", "is", null, "higher", null),
        ("precision_recall", "precision", "precision", "higher", null),
        ("precision_recall", "recall", "recall", "higher", null),
        ("density_coverage", "density", "density", "~1", null),
        ("density_coverage", "coverage", "coverage", "higher", null),
        ("class_histogram", "classes_covered", "classes_covered", "higher", null),
        ("class_histogram", "class_kl", "kl_data_fake", "lower", null),
        ("class_accuracy", "class_accuracy", null, "higher", null),
        ("code_agreement", "code_nmi", "nmi", "higher", null),
        ("code_agreement", "code_purity", "purity", "higher", null),
        ("memorisation", "nn_train_distance", "fake_mean", "~floor", "real_mean"),
        ("memorisation", "near_copies", "fake_fraction_below", "~floor", "real_fraction_below"),
    ];

    /// <summary>Rows of <paramref name="scores"/> in a fixed order; metrics not in the layout get one row of their value.</summary>
    public static IReadOnlyList<ScoreRow> From(IReadOnlyList<MetricResult> scores, IReadOnlyList<MetricResult>? floor)
    {
        double? Get(IReadOnlyList<MetricResult>? list, string metric, string? extra)
        {
            var r = list?.FirstOrDefault(s => s.Name == metric);
            if (r == null) return null;
            return extra == null ? r.Value : r.Extras.TryGetValue(extra, out var v) ? v : null;
        }
        var rows = new List<ScoreRow>();
        foreach (var (metric, key, extra, better, ownFloor) in Layout)
            if (Get(scores, metric, extra) is { } v)
                rows.Add(new ScoreRow(key, v, ownFloor != null ? Get(scores, metric, ownFloor) : Get(floor, metric, extra), better));
        foreach (var s in scores.Where(s => Layout.All(l => l.Metric != s.Name)))
            rows.Add(new ScoreRow(s.Name, s.Value, Get(floor, s.Name, null), ""));
        return rows;
    }
}
