using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GanForge.Metrics.Report;

/// <summary>One line of warnings.jsonl: something the trainer noticed (collapse, divergence, NaN).</summary>
public sealed record RunWarning(long Step, string Kind, string Message);

/// <summary>One sample grid: samples/epoch_NNN.png.</summary>
public sealed record SampleGrid(int Epoch, string Path, byte[] Png);

/// <summary>
/// What a training run left in its folder, read leniently: a run killed mid-write still gets a
/// report, and every line that could not be read is listed in <see cref="Problems"/> with its place.
/// </summary>
public sealed partial class RunData
{
    /// <summary>The run folder.</summary>
    public required string Folder { get; init; }

    /// <summary>metrics.jsonl rows: every numeric field by name ("step", "loss_d", ...), in file order.</summary>
    public required IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics { get; init; }

    /// <summary>warnings.jsonl rows.</summary>
    public required IReadOnlyList<RunWarning> Warnings { get; init; }

    /// <summary>config.yaml as text, or null when absent.</summary>
    public string? Config { get; init; }

    /// <summary>Sample grids by epoch.</summary>
    public required IReadOnlyList<SampleGrid> Samples { get; init; }

    /// <summary>Lines or files that could not be read, as "file:line: why".</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>Reads metrics.jsonl, warnings.jsonl, config.yaml and samples/epoch_*.png from <paramref name="folder"/>.</summary>
    public static RunData Load(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"RunReport: run folder '{folder}' does not exist");
        var problems = new List<string>();
        var metrics = new List<IReadOnlyDictionary<string, double>>();
        foreach (var (line, no, file) in JsonLines(folder, "metrics.jsonl"))
        {
            var row = ParseObject(line, file, no, problems);
            if (row == null) continue;
            var values = new Dictionary<string, double>();
            foreach (var p in row.RootElement.EnumerateObject())
                if (Number(p.Value) is double v) values[p.Name] = v;
            row.Dispose();
            metrics.Add(values);
        }
        var warnings = new List<RunWarning>();
        foreach (var (line, no, file) in JsonLines(folder, "warnings.jsonl"))
        {
            using var doc = ParseObject(line, file, no, problems);
            if (doc == null) continue;
            var r = doc.RootElement;
            long step = r.TryGetProperty("step", out var s) && Number(s) is double d ? (long)d : -1;
            string kind = r.TryGetProperty("kind", out var k) ? k.ToString() : "";
            string message = r.TryGetProperty("message", out var m) ? m.ToString() : "";
            warnings.Add(new RunWarning(step, kind, message));
        }
        var configPath = Path.Combine(folder, "config.yaml");
        string? config = File.Exists(configPath) ? File.ReadAllText(configPath) : null;

        var samples = new List<SampleGrid>();
        var samplesDir = Path.Combine(folder, "samples");
        if (Directory.Exists(samplesDir))
            foreach (var path in Directory.GetFiles(samplesDir, "epoch_*.png"))
            {
                var match = EpochName().Match(Path.GetFileName(path));
                if (!match.Success) { problems.Add($"{path}: name is not epoch_NNN.png, skipped"); continue; }
                var bytes = File.ReadAllBytes(path);
                if (bytes.Length < 8 || bytes[0] != 0x89 || bytes[1] != (byte)'P' || bytes[2] != (byte)'N' || bytes[3] != (byte)'G')
                { problems.Add($"{path}: not a PNG file, skipped"); continue; }
                samples.Add(new SampleGrid(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), path, bytes));
            }
        samples.Sort((a, b) => a.Epoch.CompareTo(b.Epoch));
        return new RunData { Folder = folder, Metrics = metrics, Warnings = warnings, Config = config, Samples = samples, Problems = problems };
    }

    [GeneratedRegex(@"^epoch_(\d+)\.png$")]
    private static partial Regex EpochName();

    static IEnumerable<(string Line, int No, string File)> JsonLines(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (!File.Exists(path)) yield break;
        int no = 0;
        foreach (var line in File.ReadLines(path))
        {
            no++;
            if (!string.IsNullOrWhiteSpace(line)) yield return (line, no, name);
        }
    }

    static JsonDocument? ParseObject(string line, string file, int no, List<string> problems)
    {
        try
        {
            var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
            doc.Dispose();
            problems.Add($"{file}:{no}: not a JSON object, skipped");
        }
        catch (JsonException e) { problems.Add($"{file}:{no}: not valid JSON ({e.Message}), skipped"); }
        return null;
    }

    /// <summary>A JSON number, or a string holding one ("NaN", "Infinity" included, as a diverged loss may be written).</summary>
    static double? Number(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
        _ => null,
    };
}
