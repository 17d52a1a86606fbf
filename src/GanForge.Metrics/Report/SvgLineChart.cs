using System.Globalization;
using System.Text;

namespace GanForge.Metrics.Report;

/// <summary>One named line of a chart: points (x, y) in x order; non-finite y values leave a gap.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color);

/// <summary>A horizontal reference line (e.g. the 50% accuracy a balanced discriminator sits at).</summary>
public sealed record ReferenceLine(double Y, string Label);

/// <summary>
/// A line chart drawn as inline SVG by our own code: title, axes with "nice" ticks (1, 2, 5 x 10^k),
/// grid, axis labels, legend and optional reference lines. No scripts, no external resources.
/// </summary>
public sealed class SvgLineChart
{
    /// <summary>Colours of successive series, distinguishable for common colour-vision deficiencies.</summary>
    public static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    const double Width = 560, Height = 320;
    const double Left = 64, Right = 18, Top = 58, Bottom = 48;

    /// <summary>Chart title.</summary>
    public required string Title { get; init; }

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "step";

    /// <summary>Label of the y axis.</summary>
    public required string YLabel { get; init; }

    /// <summary>The lines.</summary>
    public required IReadOnlyList<ChartSeries> Series { get; init; }

    /// <summary>Dashed horizontal reference lines.</summary>
    public IReadOnlyList<ReferenceLine> References { get; init; } = [];

    /// <summary>Fixed y range (e.g. [0, 1] for accuracies); null fits the data.</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>Show y tick labels as percentages (0.5 -> 50%).</summary>
    public bool YPercent { get; init; }

    /// <summary>The chart as an &lt;svg&gt; element (well-formed XML).</summary>
    public string ToSvg()
    {
        var pts = Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var sb = new StringBuilder();
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Html.Escape(Title)}\">"));
        sb.Append(Inv($"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>"));
        sb.Append(Inv($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" class=\"title\">{Html.Escape(Title)}</text>"));
        if (pts.Count == 0)
        {
            sb.Append(Inv($"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\" class=\"note\">no data</text></svg>"));
            return sb.ToString();
        }

        double xMin = pts.Min(p => p.X), xMax = pts.Max(p => p.X);
        double yMin = pts.Min(p => p.Y), yMax = pts.Max(p => p.Y);
        foreach (var r in References) { yMin = Math.Min(yMin, r.Y); yMax = Math.Max(yMax, r.Y); }
        if (YRange is { } yr) { yMin = Math.Min(yr.Min, yMin); yMax = Math.Max(yr.Max, yMax); }
        var xTicks = Ticks(xMin, xMax, 6);
        var yTicks = Ticks(yMin, yMax, 5);
        double x0 = xTicks[0], x1 = xTicks[^1], y0 = yTicks[0], y1 = yTicks[^1];
        double pw = Width - Left - Right, ph = Height - Top - Bottom;
        double Px(double x) => Left + (x - x0) / (x1 - x0) * pw;
        double Py(double y) => Top + ph - (y - y0) / (y1 - y0) * ph;

        // Grid and tick labels.
        int yDecimals = YPercent ? Decimals((yTicks[1] - yTicks[0]) * 100) : Decimals(yTicks[1] - yTicks[0]);
        foreach (var t in yTicks)
        {
            double y = Py(t);
            sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Left + pw}\" y2=\"{y:F1}\" class=\"grid\"/>"));
            string label = YPercent ? (t * 100).ToString("F" + yDecimals, CultureInfo.InvariantCulture) + "%" : FormatTick(t, yDecimals);
            sb.Append(Inv($"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\" class=\"tick\">{label}</text>"));
        }
        int xDecimals = Decimals(xTicks[1] - xTicks[0]);
        foreach (var t in xTicks)
        {
            double x = Px(t);
            sb.Append(Inv($"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{Top + ph}\" class=\"grid\"/>"));
            sb.Append(Inv($"<text x=\"{x:F1}\" y=\"{Top + ph + 16}\" text-anchor=\"middle\" class=\"tick\">{FormatTick(t, xDecimals)}</text>"));
        }
        // Axes.
        sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{Top + ph}\" x2=\"{Left + pw}\" y2=\"{Top + ph}\" class=\"axis\"/>"));
        sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + ph}\" class=\"axis\"/>"));
        sb.Append(Inv($"<text x=\"{Left + pw / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\" class=\"label\">{Html.Escape(XLabel)}</text>"));
        sb.Append(Inv($"<text x=\"16\" y=\"{Top + ph / 2}\" text-anchor=\"middle\" class=\"label\" transform=\"rotate(-90 16 {Top + ph / 2})\">{Html.Escape(YLabel)}</text>"));

        foreach (var r in References)
        {
            double y = Py(r.Y);
            sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Left + pw}\" y2=\"{y:F1}\" class=\"ref\"/>"));
            sb.Append(Inv($"<text x=\"{Left + pw - 4}\" y=\"{y - 4:F1}\" text-anchor=\"end\" class=\"reflabel\">{Html.Escape(r.Label)}</text>"));
        }

        // Lines, broken where a value is missing or not finite; dots when there are few points.
        foreach (var s in Series)
        {
            var run = new List<string>();
            void Flush()
            {
                if (run.Count > 1) sb.Append($"<polyline fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"{string.Join(' ', run)}\"/>");
                run.Clear();
            }
            bool dots = s.Points.Count <= 40;
            foreach (var (x, y) in s.Points)
            {
                if (!double.IsFinite(x) || !double.IsFinite(y)) { Flush(); continue; }
                run.Add(Inv($"{Px(x):F1},{Py(y):F1}"));
                if (dots) sb.Append(Inv($"<circle cx=\"{Px(x):F1}\" cy=\"{Py(y):F1}\" r=\"2.5\" fill=\"{s.Color}\"/>"));
            }
            Flush();
        }

        // Legend: one row under the title, swatch then name.
        double lx = Left;
        foreach (var s in Series)
        {
            sb.Append(Inv($"<line x1=\"{lx:F1}\" y1=\"40\" x2=\"{lx + 18:F1}\" y2=\"40\" stroke=\"{s.Color}\" stroke-width=\"3\"/>"));
            sb.Append(Inv($"<text x=\"{lx + 23:F1}\" y=\"44\" class=\"legend\">{Html.Escape(s.Name)}</text>"));
            lx += 23 + 7 * s.Name.Length + 18;
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>Evenly spaced round values covering [lo, hi], about <paramref name="target"/> intervals.</summary>
    internal static double[] Ticks(double lo, double hi, int target)
    {
        if (!(hi > lo))
        {
            double pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1;
            lo -= pad; hi += pad;
        }
        double raw = (hi - lo) / target;
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double f = raw / mag;
        double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
        double start = Math.Floor(lo / step + 1e-9) * step, end = Math.Ceiling(hi / step - 1e-9) * step;
        int n = (int)Math.Round((end - start) / step);
        if (n < 1) n = 1;
        return Enumerable.Range(0, n + 1).Select(i => start + i * step).ToArray();
    }

    static int Decimals(double step) => step >= 1 ? 0 : Math.Min(6, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));

    static string FormatTick(double v, int decimals)
    {
        if (Math.Abs(v) < 1e-12) v = 0; // no "-0"
        if (decimals == 0 && Math.Abs(v) >= 10000 && v % 1000 == 0) return (v / 1000).ToString("F0", CultureInfo.InvariantCulture) + "k";
        return v.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
