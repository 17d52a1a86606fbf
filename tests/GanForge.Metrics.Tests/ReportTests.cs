using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using GanForge.Metrics.Report;

namespace GanForge.Metrics.Tests;

public class ReportTests
{
    /// <summary>Builds a small synthetic run folder: 60 metric rows, FID every 10 steps, 2 warnings, config, 3 sample grids.</summary>
    static string MakeRun(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "samples"));
        var g = new Generator(5);
        var metrics = new StringBuilder();
        for (int i = 1; i <= 60; i++)
        {
            int step = i * 50;
            double t = i / 60.0;
            var row = new Dictionary<string, object>
            {
                ["step"] = step, ["epoch"] = (i - 1) / 20, ["images_per_s"] = 800 + 40 * g.NextDouble(),
                ["loss_d"] = 1.3 - 0.3 * t + 0.05 * g.NextNormal(), ["loss_g"] = 0.8 + 0.6 * t + 0.08 * g.NextNormal(),
                ["d_real"] = 0.55 + 0.15 * t, ["d_fake"] = 0.45 - 0.15 * t,
                ["acc_real"] = 0.6 + 0.2 * t, ["acc_fake"] = 0.55 + 0.3 * t, ["acc"] = 0.575 + 0.25 * t, ["diversity"] = 0.9 - 0.1 * t,
            };
            if (i % 10 == 0) { row["fid"] = 120 * Math.Exp(-2 * t) + 15; row["classes_covered"] = Math.Min(10, 6 + i / 10); }
            metrics.AppendLine(System.Text.Json.JsonSerializer.Serialize(row));
        }
        metrics.AppendLine("{\"step\": 3050, \"loss_d\": 0.9, \"loss_g"); // a line torn by a killed run
        File.WriteAllText(Path.Combine(folder, "metrics.jsonl"), metrics.ToString());
        File.WriteAllText(Path.Combine(folder, "warnings.jsonl"),
            "{\"step\":1200,\"kind\":\"d_overpowering\",\"message\":\"D accuracy > 0.9 for 200 steps & G loss < rising\"}\n" +
            "{\"step\":2500,\"kind\":\"low_diversity\",\"message\":\"pairwise distance of samples fell to 0.31\"}\n");
        File.WriteAllText(Path.Combine(folder, "config.yaml"), "gan: dcgan\nloss: non_saturating\nbatch_size: 64\nlr: 0.0002\nbetas: [0.5, 0.999]\n");
        for (int epoch = 0; epoch < 3; epoch++)
            File.WriteAllBytes(Path.Combine(folder, "samples", $"epoch_{epoch:D3}.png"), GridPng(4, 16, epoch));
        return folder;
    }

    [Fact]
    public void RunReport_SyntheticRun_IsSelfContainedAndWellFormed()
    {
        var keep = Environment.GetEnvironmentVariable("GANFORGE_KEEP_REPORT"); // set to a folder to look at the report
        var folder = keep ?? Path.Combine(Path.GetTempPath(), $"ganforge-run-{Guid.NewGuid():N}");
        try
        {
            MakeRun(folder);
            var path = RunReport.Write(folder);
            Assert.Equal(Path.Combine(folder, "report.html"), path);
            var html = File.ReadAllText(path);

            // One <svg> per chart that has data (losses, D outputs, accuracy, FID, classes, diversity, throughput).
            var svgs = Regex.Matches(html, "<svg.*?</svg>", RegexOptions.Singleline);
            Assert.Equal(7, svgs.Count);
            foreach (Match svg in svgs)
            {
                var x = XElement.Parse(svg.Value);
                Assert.Equal("svg", x.Name.LocalName);
                Assert.Contains(x.Descendants(), e => e.Name.LocalName == "polyline");
            }
            Assert.Contains("Discriminator accuracy", html);
            Assert.Contains("50%: D cannot tell", html);
            Assert.Contains("FID (lower is better)", html);

            // Sample grids are embedded, newest first, and decode to the PNG files.
            var images = Regex.Matches(html, "src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
            Assert.Equal(3, images.Count);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "samples", "epoch_002.png")), Convert.FromBase64String(images[0].Groups[1].Value));

            // Warnings (escaped), config, and the torn line reported with its place.
            Assert.Contains("d_overpowering", html);
            Assert.Contains("200 steps &amp; G loss &lt; rising", html);
            Assert.Contains("non_saturating", html);
            Assert.Contains("metrics.jsonl:61", html);

            // Nothing fetched at view time: no scripts, no external URLs.
            Assert.DoesNotContain("<script", html);
            Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);

            // The whole document is well-formed XML too.
            using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
            var doc = XDocument.Load(reader);
            Assert.Equal("html", doc.Root!.Name.LocalName);
        }
        finally { if (keep == null && Directory.Exists(folder)) Directory.Delete(folder, true); }
    }

    [Fact]
    public void RunReport_LongRun_ThinsSeriesToBoundedPoints()
    {
        var rows = Enumerable.Range(0, 20000).Select(i => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>
            { ["step"] = i, ["loss_d"] = 1 + (i % 2) }).ToList();
        var run = new RunData { Folder = "long", Metrics = rows, Warnings = [], Samples = [], Problems = [] };
        var svg = Regex.Match(RunReport.Render(run), "<svg.*?</svg>", RegexOptions.Singleline).Value;
        var line = XElement.Parse(svg).Descendants().Single(e => e.Name.LocalName == "polyline");
        var points = line.Attribute("points")!.Value.Split(' ');
        Assert.InRange(points.Length, 100, RunReport.MaxPointsPerSeries);
        // Alternating 1, 2 averages to 1.5: every thinned point sits at the same height.
        Assert.Single(points.Select(p => p.Split(',')[1]).Distinct());
    }

    [Fact]
    public void RunReport_EmptyFolder_SaysWhatIsMissing()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ganforge-run-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var html = RunReport.Render(RunData.Load(folder));
            Assert.DoesNotContain("<svg", html);
            Assert.Contains("metrics.jsonl is missing", html);
            Assert.Contains("No warnings.", html);
            Assert.Contains("No config.yaml.", html);
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void RunData_MissingFolder_Throws()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => RunData.Load("/nonexistent/ganforge-run"));
        Assert.Contains("/nonexistent/ganforge-run", e.Message);
    }

    [Fact]
    public void SvgLineChart_NonFiniteValues_BreakTheLine()
    {
        var chart = new SvgLineChart
        {
            Title = "t", YLabel = "y",
            Series = [new ChartSeries("a", [(0, 1), (1, 2), (2, double.NaN), (3, 1), (4, 3)], "#000")],
        };
        var x = XElement.Parse(chart.ToSvg());
        Assert.Equal(2, x.Descendants().Count(e => e.Name.LocalName == "polyline"));
    }

    [Theory]
    [InlineData(0, 1, new double[] { 0, 0.2, 0.4, 0.6, 0.8, 1 })]
    [InlineData(50, 3000, new double[] { 0, 500, 1000, 1500, 2000, 2500, 3000 })]
    [InlineData(0.83, 1.41, new double[] { 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5 })]
    public void Ticks_Range_AreRoundAndCover(double lo, double hi, double[] expected)
    {
        var t = SvgLineChart.Ticks(lo, hi, 5);
        Assert.Equal(expected.Length, t.Length);
        for (int i = 0; i < t.Length; i++) Assert.Equal(expected[i], t[i], 1e-9);
    }

    // A grayscale 8-bit PNG of an n x n grid of cell x cell blobs, whose look changes with the epoch.
    static byte[] GridPng(int n, int cell, int epoch)
    {
        int size = n * cell;
        var raw = new byte[size * (size + 1)];
        for (int y = 0; y < size; y++)
        {
            raw[y * (size + 1)] = 0; // filter: none
            for (int x = 0; x < size; x++)
            {
                double cx = x % cell - cell / 2.0 + 0.5, cy = y % cell - cell / 2.0 + 0.5;
                double r = Math.Sqrt(cx * cx + cy * cy) / (cell / 2.0);
                double sharp = 1 + 3 * epoch;
                double v = Math.Clamp(1 - Math.Pow(r, sharp) + 0.15 * ((x / cell + y / cell) % 3), 0, 1);
                raw[y * (size + 1) + 1 + x] = (byte)(255 * v);
            }
        }
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        WriteBE(ihdr, 0, (uint)size); WriteBE(ihdr, 4, (uint)size);
        ihdr[8] = 8; ihdr[9] = 0; // bit depth 8, grayscale
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4]; WriteBE(len, 0, (uint)data.Length); s.Write(len);
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(body);
        var crc = new byte[4]; WriteBE(crc, 0, Crc32(body)); s.Write(crc);
    }

    static void WriteBE(byte[] b, int o, uint v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }

    static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFF;
    }
}
