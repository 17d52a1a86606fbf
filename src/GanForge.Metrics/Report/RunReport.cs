using System.Globalization;
using System.Text;
using GanForge.Gan.Training;
using GanForge.Serialization;

namespace GanForge.Metrics.Report;

/// <summary>
/// Writes a run folder's report.html: one self-contained file (inline SVG charts, sample grids as
/// base64 data URIs, warnings, config) that opens anywhere without network access or scripts.
/// </summary>
public static class RunReport
{
    /// <summary>The charts, from the statistics registry; each is drawn when one of its fields is in metrics.jsonl.</summary>
    static IReadOnlyList<ChartDefinition> Charts => Stats.Charts;

    /// <summary>Reads <paramref name="runFolder"/> and writes the report (default: runFolder/report.html) atomically; returns its path.</summary>
    public static string Write(string runFolder, string? outputPath = null)
    {
        var html = Render(RunData.Load(runFolder));
        var path = outputPath ?? Path.Combine(runFolder, "report.html");
        AtomicFile.WriteAllText(path, html);
        return path;
    }

    /// <summary>The report as an HTML document that is also well-formed XML.</summary>
    public static string Render(RunData run)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(run.Folder)));
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>");
        sb.Append($"<title>GanForge run {Html.Escape(name)}</title><style>{Css}</style></head>\n<body>\n");
        sb.Append($"<header><h1>GanForge run <span class=\"run\">{Html.Escape(name)}</span></h1>");
        sb.Append($"<p class=\"sub\">{Html.Escape(Path.GetFullPath(run.Folder))}</p></header>\n");

        AppendSummary(sb, run);

        sb.Append("<section><h2>Training curves</h2>\n");
        var charts = ChartSvgs(run);
        if (charts.Count == 0) sb.Append("<p class=\"empty\">metrics.jsonl is missing or has no known fields.</p>\n");
        else
        {
            sb.Append("<div class=\"charts\">\n");
            foreach (var (_, svg) in charts) sb.Append("<div class=\"chartbox\">").Append(svg).Append("</div>\n");
            sb.Append("</div>\n");
        }
        sb.Append("</section>\n");

        sb.Append($"<section><h2>Samples</h2>\n");
        if (run.Samples.Count == 0) sb.Append("<p class=\"empty\">No sample grids (samples/epoch_NNN.png).</p>\n");
        else
        {
            sb.Append("<div class=\"samples\">\n");
            foreach (var s in run.Samples.Reverse())
                sb.Append($"<figure><img src=\"data:image/png;base64,{Convert.ToBase64String(s.Png)}\" alt=\"samples after epoch {s.Epoch}\"/>")
                  .Append($"<figcaption>epoch {s.Epoch}</figcaption></figure>\n");
            sb.Append("</div>\n");
        }
        sb.Append("</section>\n");

        sb.Append($"<section><h2>Warnings ({run.Warnings.Count})</h2>\n");
        if (run.Warnings.Count == 0) sb.Append("<p class=\"empty\">No warnings.</p>\n");
        else
        {
            sb.Append("<table class=\"warnings\"><thead><tr><th>step</th><th>kind</th><th>message</th></tr></thead><tbody>\n");
            foreach (var w in run.Warnings)
                sb.Append($"<tr><td class=\"num\">{(w.Step >= 0 ? w.Step.ToString(CultureInfo.InvariantCulture) : "")}</td><td><span class=\"kind\">{Html.Escape(w.Kind)}</span></td><td>{Html.Escape(w.Message)}</td></tr>\n");
            sb.Append("</tbody></table>\n");
        }
        sb.Append("</section>\n");

        sb.Append("<section><h2>Configuration</h2>\n");
        sb.Append(run.Config == null ? "<p class=\"empty\">No config.yaml.</p>\n" : $"<pre class=\"config\">{Html.Escape(run.Config)}</pre>\n");
        sb.Append("</section>\n");

        if (run.Problems.Count > 0)
        {
            sb.Append("<section><h2>Problems reading the run</h2><ul class=\"problems\">\n");
            foreach (var p in run.Problems) sb.Append($"<li>{Html.Escape(p)}</li>\n");
            sb.Append("</ul></section>\n");
        }
        sb.Append("<footer>Written by GanForge. Self-contained: no scripts, no network access.</footer>\n</body></html>\n");
        return sb.ToString();
    }

    /// <summary>
    /// The run's charts as inline SVG, each with its definition from <see cref="Stats.Charts"/>: those of which at
    /// least one statistic was logged, in registry order. The report and the web dashboard both draw these.
    /// </summary>
    public static IReadOnlyList<(ChartDefinition Definition, string Svg)> ChartSvgs(RunData run) =>
        Charts.Where(c => c.Lines.Any(l => run.Metrics.Any(m => m.ContainsKey(l.Name))))
              .Select(c => (c, Chart(c, run).ToSvg())).ToList();

    static void AppendSummary(StringBuilder sb, RunData run)
    {
        sb.Append("<section class=\"summary\"><dl>\n");
        foreach (var (k, v) in Summary(run)) sb.Append($"<div><dt>{Html.Escape(k)}</dt><dd>{Html.Escape(v)}</dd></div>\n");
        sb.Append("</dl></section>\n");
    }

    /// <summary>The run's headline facts as (label, value) text: last step and epoch, final losses, median speed, FIDs, counts.</summary>
    public static IReadOnlyList<(string Label, string Value)> Summary(RunData run)
    {
        var facts = new List<(string, string)>();
        var last = run.Metrics.Count > 0 ? run.Metrics[^1] : null;
        string F(double v, string fmt = "G4") => v.ToString(fmt, CultureInfo.InvariantCulture);
        if (last != null)
        {
            if (last.TryGetValue("step", out var step)) facts.Add(("last step", F(step, "F0")));
            if (last.TryGetValue("epoch", out var epoch)) facts.Add(("last epoch", F(epoch, "F0")));
            if (last.TryGetValue(Stats.LossD.Name, out var ld)) facts.Add(("final D loss", F(ld)));
            if (last.TryGetValue(Stats.LossG.Name, out var lg)) facts.Add(("final G loss", F(lg)));
            if (last.TryGetValue(Stats.Wasserstein.Name, out var w)) facts.Add(("final W estimate", F(w)));
        }
        var speeds = run.Metrics.Where(m => m.TryGetValue(Stats.ImagesPerSecond.Name, out var v) && double.IsFinite(v)).Select(m => m[Stats.ImagesPerSecond.Name]).Order().ToList();
        if (speeds.Count > 0) facts.Add(("median images/s", F(speeds[speeds.Count / 2], "F1")));
        string fid = Stats.Fid.Name;
        var fids = run.Metrics.Where(m => m.TryGetValue(fid, out var v) && double.IsFinite(v)).ToList();
        if (fids.Count > 0)
        {
            var best = fids.MinBy(m => m[fid])!;
            facts.Add(("best FID", F(best[fid]) + (best.TryGetValue("step", out var s) ? $" (step {F(s, "F0")})" : "")));
            facts.Add(("last FID", F(fids[^1][fid])));
        }
        var covered = run.Metrics.LastOrDefault(m => m.ContainsKey(Stats.ClassesCovered.Name));
        if (covered != null) facts.Add(("classes covered", F(covered[Stats.ClassesCovered.Name], "F0")));
        facts.Add(("metric rows", run.Metrics.Count.ToString(CultureInfo.InvariantCulture)));
        facts.Add(("warnings", run.Warnings.Count.ToString(CultureInfo.InvariantCulture)));
        facts.Add(("sample grids", run.Samples.Count.ToString(CultureInfo.InvariantCulture)));
        return facts;
    }

    /// <summary>Longer series are thinned to about this many points: more cannot be told apart at chart width and would bloat the file.</summary>
    internal const int MaxPointsPerSeries = 1500;

    // Mean of each run of consecutive points (x and y), so noise is averaged rather than aliased; gaps stay gaps.
    static List<(double, double)> Decimate(List<(double X, double Y)> pts, int target)
    {
        int per = (pts.Count + target - 1) / target;
        var outPts = new List<(double, double)>(target + 1);
        for (int s = 0; s < pts.Count; s += per)
        {
            int e = Math.Min(pts.Count, s + per);
            double sx = 0, sy = 0;
            for (int i = s; i < e; i++) { sx += pts[i].X; sy += pts[i].Y; }
            outPts.Add((sx / (e - s), sy / (e - s)));
        }
        return outPts;
    }

    static SvgLineChart Chart(ChartDefinition spec, RunData run)
    {
        var series = new List<ChartSeries>();
        int color = 0;
        foreach (var stat in spec.Lines)
        {
            var (legend, field) = (stat.Label, stat.Name);
            var pts = new List<(double, double)>();
            for (int i = 0; i < run.Metrics.Count; i++)
            {
                var m = run.Metrics[i];
                if (!m.TryGetValue(field, out var y)) continue;
                pts.Add((m.TryGetValue("step", out var x) ? x : i, y));
            }
            if (pts.Count > MaxPointsPerSeries) pts = Decimate(pts, MaxPointsPerSeries);
            if (pts.Count > 0) series.Add(new ChartSeries(legend, pts, SvgLineChart.Palette[color % SvgLineChart.Palette.Length]));
            color++;
        }
        return new SvgLineChart
        {
            Title = spec.Title, YLabel = spec.YLabel, Series = series, YPercent = spec.Percent, YRange = spec.Range,
            References = spec.Reference is { } r ? [new ReferenceLine(r.Value, r.Label)] : [],
        };
    }

    const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#222;background:#f6f7f9}
        h1{font-size:24px;margin:8px 0 2px}h1 .run{color:#1f77b4}
        h2{font-size:18px;margin:26px 0 10px;border-bottom:1px solid #d0d4da;padding-bottom:4px}
        .sub{color:#666;font-size:12px;margin:0 0 12px;word-break:break-all}
        .summary dl{display:flex;flex-wrap:wrap;gap:10px;margin:0}
        .summary dl div{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:8px 12px;min-width:110px}
        .summary dt{font-size:11px;color:#666;text-transform:uppercase;letter-spacing:.04em}
        .summary dd{margin:2px 0 0;font-size:18px;font-weight:600}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
        .chartbox{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:4px}
        svg.chart{width:100%;height:auto;display:block}
        svg .title{font-size:15px;font-weight:600;fill:#222}
        svg .tick{font-size:11px;fill:#555}
        svg .label{font-size:12px;fill:#333}
        svg .legend{font-size:12px;fill:#333}
        svg .note{font-size:13px;fill:#888}
        svg .grid{stroke:#e6e8eb;stroke-width:1}
        svg .axis{stroke:#444;stroke-width:1.2}
        svg .ref{stroke:#555;stroke-width:1.2;stroke-dasharray:6 4}
        svg .reflabel{font-size:11px;fill:#555}
        .samples{display:flex;flex-wrap:wrap;gap:14px}
        figure{margin:0;background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:8px;text-align:center}
        figure img{width:224px;height:auto;image-rendering:pixelated;display:block}
        figcaption{font-size:12px;color:#555;margin-top:4px}
        table.warnings{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
        table.warnings th,table.warnings td{border:1px solid #dde1e6;padding:5px 8px;text-align:left;vertical-align:top}
        table.warnings th{background:#eef0f3}
        td.num{text-align:right;font-variant-numeric:tabular-nums;width:70px}
        .kind{background:#fff3cd;border:1px solid #e0c46c;border-radius:4px;padding:1px 6px;font-family:monospace;font-size:12px}
        pre.config{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 12px;font-size:12.5px;overflow-x:auto}
        .empty{color:#888;font-style:italic}
        .problems{color:#a33;font-size:13px}
        footer{color:#888;font-size:11px;margin:30px 0 10px}
        """;
}
