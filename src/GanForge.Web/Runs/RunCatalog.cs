using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GanForge.Gan.Training;
using GanForge.Metrics.Report;

namespace GanForge.Web.Runs;

/// <summary>One run in the dashboard's list.</summary>
/// <param name="Name">The run folder's name under the runs folder.</param>
/// <param name="Model">The zoo variant from config.yaml, or null when it cannot be read.</param>
/// <param name="Data">The data spec from config.yaml, or null.</param>
/// <param name="Steps">The last logged generator step, or null before the first metrics line.</param>
/// <param name="LastFid">The last FID: eval.json's when the run was evaluated, else the last one logged; null when none.</param>
/// <param name="Warnings">Lines of warnings.jsonl.</param>
/// <param name="HasCheckpoint">True when checkpoint.safetensors is there (the explorer and the Turing test need it).</param>
/// <param name="Updated">When metrics.jsonl (or the folder) last changed, UTC.</param>
public sealed record RunSummary(string Name, string? Model, string? Data, long? Steps, double? LastFid, int Warnings, bool HasCheckpoint, DateTime Updated);

/// <summary>
/// The runs under one folder (what `ganforge train --out DIR` writes), by name. Every name that comes from a
/// request goes through <see cref="Resolve"/>, which refuses anything that could reach outside the folder.
/// </summary>
public sealed partial class RunCatalog
{
    /// <summary>The runs folder, as a full path.</summary>
    public string Root { get; }

    /// <summary>A catalog of the runs directly under <paramref name="root"/> (created when missing).</summary>
    public RunCatalog(string root)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        Directory.CreateDirectory(Root);
    }

    /// <summary>Run names: letters, digits, '.', '_' and '-', not starting with '.', at most 100 characters.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();

    /// <summary>True when <paramref name="name"/> has the form of a run name (it may still not exist).</summary>
    public static bool IsValidName(string? name) => name != null && NamePattern().IsMatch(name) && !name.Contains("..");

    /// <summary>
    /// The folder of run <paramref name="name"/>. An <see cref="ArgumentException"/> for a name that is not a plain
    /// folder name or that leads (through a link too) outside the runs folder; a <see cref="DirectoryNotFoundException"/>
    /// when there is no such run.
    /// </summary>
    public string Resolve(string? name)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"run name '{Shorten(name)}' is not valid: use the folder's name (letters, digits, '.', '_', '-')");
        var path = Path.Combine(Root, name!);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"no run '{name}' under the runs folder");
        // A symbolic link may point anywhere: follow it and check where it lands.
        var target = Directory.ResolveLinkTarget(path, returnFinalTarget: true);
        if (target != null && !IsInside(target.FullName))
            throw new ArgumentException($"run '{name}' is a link that leads outside the runs folder");
        return path;
    }

    bool IsInside(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// A file of run <paramref name="name"/>: <paramref name="relative"/> is one of the names the server hands out
    /// (checked by the caller), joined here and checked again to stay inside the run.
    /// </summary>
    public string FileOf(string name, string relative)
    {
        var run = Resolve(name);
        var path = Path.GetFullPath(Path.Combine(run, relative));
        if (!path.StartsWith(Path.GetFullPath(run) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"'{Shorten(relative)}' is not a file of run '{name}'");
        return path;
    }

    /// <summary>The runs: folders directly under the root that hold config.yaml, metrics.jsonl or a checkpoint, newest first.</summary>
    public IReadOnlyList<RunSummary> List()
    {
        var runs = new List<RunSummary>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(dir);
            if (!IsValidName(name) || !LooksLikeRun(dir)) continue;
            try { Resolve(name); } catch (ArgumentException) { continue; }
            runs.Add(Summarize(name, dir));
        }
        return runs.OrderByDescending(r => r.Updated).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    static bool LooksLikeRun(string dir) =>
        File.Exists(Path.Combine(dir, "config.yaml")) || File.Exists(Path.Combine(dir, "metrics.jsonl")) || File.Exists(Path.Combine(dir, Checkpoint.FileName));

    /// <summary>The summary of run <paramref name="name"/>.</summary>
    public RunSummary Summary(string name) => Summarize(name, Resolve(name));

    // The dashboard polls the list every few seconds; a run's files are read again only when one of them changed.
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Version, RunSummary Summary)> _summaries = new();

    RunSummary Summarize(string name, string dir)
    {
        var version = RunView.Version(dir) + File.Exists(Path.Combine(dir, Checkpoint.FileName));
        if (_summaries.TryGetValue(name, out var cached) && cached.Version == version) return cached.Summary;
        var summary = Read(name, dir);
        _summaries[name] = (version, summary);
        return summary;
    }

    static RunSummary Read(string name, string dir)
    {
        var (model, data) = ReadConfig(dir);
        long? steps = null;
        double? fid = null;
        var metrics = Path.Combine(dir, "metrics.jsonl");
        if (File.Exists(metrics))
            foreach (var line in File.ReadLines(metrics))
            {
                if (Field(line, "step") is { } s) steps = (long)s;
                if (Field(line, Stats.Fid.Name) is { } f && double.IsFinite(f)) fid = f;
            }
        fid = EvaluatedFid(dir) ?? fid;
        var warningsPath = Path.Combine(dir, "warnings.jsonl");
        int warnings = File.Exists(warningsPath) ? File.ReadLines(warningsPath).Count(l => !string.IsNullOrWhiteSpace(l)) : 0;
        var updated = File.Exists(metrics) ? File.GetLastWriteTimeUtc(metrics) : Directory.GetLastWriteTimeUtc(dir);
        return new RunSummary(name, model, data, steps, fid, warnings, File.Exists(Path.Combine(dir, Checkpoint.FileName)), updated);
    }

    /// <summary>The model and data of config.yaml; nulls when it is missing or unreadable (a run being written).</summary>
    static (string? Model, string? Data) ReadConfig(string dir)
    {
        var path = Path.Combine(dir, "config.yaml");
        if (!File.Exists(path)) return (null, null);
        try
        {
            var config = TrainConfig.FromYaml(File.ReadAllText(path), path);
            return (config.Model, config.Data);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or InvalidOperationException)
        {
            return (null, null);
        }
    }

    /// <summary>summary.fid.value of the run's eval.json (`ganforge eval --json RUN/eval.json`), or null.</summary>
    internal static double? EvaluatedFid(string dir)
    {
        var path = Path.Combine(dir, "eval.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("summary", out var s) && s.TryGetProperty("fid", out var f)
                && f.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        }
        catch (Exception e) when (e is JsonException or IOException) { return null; }
    }

    static double? Field(string line, string name)
    {
        if (string.IsNullOrWhiteSpace(line) || !line.Contains('"' + name + '"', StringComparison.Ordinal)) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(name, out var v)) return null;
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble()
                : v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
        }
        catch (JsonException) { return null; }   // the torn last line of a run being written
    }

    /// <summary>A name as it may be quoted in a one-line error: control characters dropped, at most 60 characters.</summary>
    internal static string Shorten(string? s)
    {
        if (s == null) return "";
        var clean = new string(s.Where(c => !char.IsControl(c)).ToArray());
        return clean.Length <= 60 ? clean : clean[..57] + "...";
    }
}
