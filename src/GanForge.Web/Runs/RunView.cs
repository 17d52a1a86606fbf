using System.Globalization;
using System.Text.RegularExpressions;
using GanForge.Metrics.Report;

namespace GanForge.Web.Runs;

/// <summary>A chart of a run's page: its title and the SVG the HTML report draws.</summary>
public sealed record ChartView(string Title, string Svg);

/// <summary>A warning of a run.</summary>
public sealed record WarningView(long Step, string Kind, string Message);

/// <summary>A label and value of a run's summary.</summary>
public sealed record Fact(string Label, string Value);

/// <summary>
/// A run's page as data: the report's summary and charts, the warnings, the sample grids, and a
/// <see cref="Version"/> that changes whenever a file the page shows changes (the page polls with it).
/// </summary>
public sealed record RunDetail(string Name, string Version, bool Changed, RunSummary? Summary, IReadOnlyList<Fact> Facts,
    IReadOnlyList<ChartView> Charts, IReadOnlyList<WarningView> Warnings, IReadOnlyList<int> SampleEpochs, IReadOnlyList<string> Problems);

/// <summary>Builds <see cref="RunDetail"/>s from run folders.</summary>
public static partial class RunView
{
    /// <summary>
    /// Run <paramref name="name"/>'s page; when <paramref name="since"/> is its current version, only the version
    /// (with <see cref="RunDetail.Changed"/> false) so a poll that finds nothing new costs a few file stats.
    /// </summary>
    public static RunDetail Detail(RunCatalog runs, string name, string? since = null)
    {
        var dir = runs.Resolve(name);
        var version = Version(dir);
        if (since == version) return new RunDetail(name, version, false, null, [], [], [], [], []);
        var data = RunData.Load(dir);
        var charts = RunReport.ChartSvgs(data).Select(c => new ChartView(c.Definition.Title, c.Svg)).ToList();
        return new RunDetail(name, version, true, runs.Summary(name),
            RunReport.Summary(data).Select(f => new Fact(f.Label, f.Value)).ToList(), charts,
            data.Warnings.Select(w => new WarningView(w.Step, w.Kind, w.Message)).ToList(),
            data.Samples.Select(s => s.Epoch).ToList(), data.Problems.Select(p => p.Replace(dir, name, StringComparison.Ordinal)).ToList());
    }

    /// <summary>The sizes and times of the files a run page shows, as one short string.</summary>
    internal static string Version(string dir)
    {
        long Stamp(string path) => File.Exists(path) ? new FileInfo(path).Length ^ File.GetLastWriteTimeUtc(path).Ticks : 0;
        long v = Stamp(Path.Combine(dir, "metrics.jsonl")) * 31 + Stamp(Path.Combine(dir, "warnings.jsonl"));
        v = v * 31 + Stamp(Path.Combine(dir, "eval.json"));
        v = v * 31 + Stamp(Path.Combine(dir, "config.yaml"));
        var samples = Path.Combine(dir, "samples");
        if (Directory.Exists(samples))
            foreach (var f in Directory.EnumerateFiles(samples, "epoch_*.png")) v = v * 31 + Stamp(f);
        return v.ToString("x", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^(epoch_\d{1,6}\.png|samples\.png)$")]
    private static partial Regex SampleName();

    /// <summary>The path of sample grid <paramref name="file"/> of run <paramref name="name"/> ("latest" for the newest epoch's grid).</summary>
    public static string SampleFile(RunCatalog runs, string name, string file)
    {
        var dir = runs.Resolve(name);
        if (file == "latest")
        {
            var latest = Directory.Exists(Path.Combine(dir, "samples"))
                ? Directory.GetFiles(Path.Combine(dir, "samples"), "epoch_*.png").Where(f => SampleName().IsMatch(Path.GetFileName(f)))
                    .MaxBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)["epoch_".Length..], CultureInfo.InvariantCulture))
                : null;
            return latest ?? throw new FileNotFoundException($"run '{name}' has no sample grid yet");
        }
        if (!SampleName().IsMatch(file)) throw new ArgumentException($"'{RunCatalog.Shorten(file)}' is not a sample grid name (epoch_NNN.png, samples.png or latest)");
        var path = runs.FileOf(name, file == "samples.png" ? file : Path.Combine("samples", file));
        return File.Exists(path) ? path : throw new FileNotFoundException($"run '{name}' has no {file}");
    }
}
