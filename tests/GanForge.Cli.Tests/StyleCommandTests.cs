using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>The commands of style-based models: sample --truncation and --latents (styles), mix, project; and their errors.</summary>
public class StyleCommandTests : CliTestBase
{
    /// <summary>Two steps of a tiny stylegan (8 pixels, width 4, w of 8) on 64 embedded images.</summary>
    string TrainStyle()
    {
        var (code, output) = Run("train", "--model", "stylegan", "--limit", "64", "--batch-size", "16", "--max-steps", "2", "--image-size", "8",
            "--set", "width=4", "--set", "w-dim=8", "--set", "mapping-layers=2", "--out", P("style"), "--log-every", "1");
        Assert.True(code == 0, output);
        return P("style");
    }

    [Fact]
    public void Sample_TruncationZero_EveryImageIsTheAverageOne()
    {
        var run = TrainStyle();
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "5", "--truncation", "0", "--out", P("x.npy"));
        Assert.True(code == 0, output);
        var x = Npy.Load(P("x.npy"));
        Assert.Equal([5, 1, 8, 8], x.Shape);
        // The same w for every row; the batched kernels may round rows differently in the last bit.
        var first = x.Select(0, 0).ToArray();
        for (int i = 1; i < 5; i++) Assert.All(x.Select(0, i).ToArray().Zip(first), p => Assert.InRange(p.First - p.Second, -1e-5f, 1e-5f));
        (code, output) = Run("sample", "--checkpoint", run, "--count", "5", "--truncation", "0.7", "--out", P("y.npy"));
        Assert.True(code == 0, output);
        Assert.NotEqual(Npy.Load(P("y.npy")).Select(0, 0).ToArray(), Npy.Load(P("y.npy")).Select(0, 1).ToArray());
    }

    [Theory]
    [InlineData("sample", "--truncation", "0.5")]
    [InlineData("mix", null, null)]
    [InlineData("noise", null, null)]
    public void StyleCommands_ModelWithoutStyles_SayWhatTheyNeed(string command, string? flag, string? value)
    {
        var run = TrainTiny();
        string[] args = command == "sample" ? ["sample", "--checkpoint", run, "--out", P("x.png"), flag!, value!] : [command, "--checkpoint", run, "--out", P("grid.png")];
        var (code, output) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains($"model 'gan' has no styles (no mapping network or w); it needs a style-based model (stylegan)", output);
    }

    [Fact]
    public void Export_StyleGanWithTruncation_WritesTheGraph()
    {
        var run = TrainStyle();
        var (code, output) = Run("export", "--checkpoint", run, "--onnx", P("g.onnx"), "--truncation", "0.7");
        Assert.True(code == 0, output);
        Assert.Contains("generator of stylegan", output);
        Assert.True(new FileInfo(P("g.onnx")).Length > 1000);
        (code, output) = Run("export", "--checkpoint", TrainTiny(), "--onnx", P("mlp.onnx"), "--truncation", "0.7");
        Assert.Equal(2, code);
        Assert.Contains("--truncation: model 'gan' has no styles", output);
    }

    [Fact]
    public void Sample_TruncationOutOfRange_IsRefused()
    {
        var run = TrainStyle();
        var (code, output) = Run("sample", "--checkpoint", run, "--out", P("x.png"), "--truncation", "1.2");
        Assert.Equal(2, code);
        Assert.Contains("--truncation: ψ must be in [0, 1], got 1.2", output);
    }

    [Fact]
    public void Mix_WritesAGridOfRowsPlusOneByColumnsPlusOne()
    {
        var run = TrainStyle();
        var (code, output) = Run("mix", "--checkpoint", run, "--out", P("mix.png"), "--rows", "3", "--columns", "5");
        Assert.True(code == 0, output);
        Assert.Contains("Wrote a 4 x 6 style-mixing grid", output);
        var png = ImageFile.Load(P("mix.png"));
        Assert.Equal((6 * (8 + 2) + 2, 4 * (8 + 2) + 2), (png.Width, png.Height));     // 8-pixel images, 2-pixel borders
        (code, output) = Run("mix", "--checkpoint", run, "--out", P("mix.jpg"));
        Assert.Equal(2, code);
        Assert.Contains("--out '" + P("mix.jpg") + "': the grid is written as .png", output);
    }

    [Fact]
    public void Noise_WritesRowsByNoiseDrawsPlusTheSpread()
    {
        var run = TrainStyle();
        var (code, output) = Run("noise", "--checkpoint", run, "--out", P("noise.png"), "--rows", "2", "--columns", "4");
        Assert.True(code == 0, output);
        Assert.Contains("Wrote a 2 x 5 noise grid", output);
        var png = ImageFile.Load(P("noise.png"));
        Assert.Equal((5 * (8 + 2) + 2, 2 * (8 + 2) + 2), (png.Width, png.Height));
        (code, output) = Run("noise", "--checkpoint", run, "--out", P("n.png"), "--columns", "1");
        Assert.Equal(2, code);
        Assert.Contains("noise: --rows must be at least 1 and --columns at least 2, got 4 and 1", output);
    }

    [Fact]
    public void Project_WritesStylesAndImage_SampleLatentsRegeneratesIt()
    {
        var run = TrainStyle();
        // A target: one sample of the model, written as a PNG.
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "1", "--seed", "9", "--out", P("target.png"));
        Assert.True(code == 0, output);
        (code, output) = Run("project", "--checkpoint", run, "--image", P("target.png"), "--out", P("w.npy"), "--steps", "40");
        Assert.True(code == 0, output);
        var line = output.Split('\n').Single(l => l.StartsWith("pixel MSE"));
        var numbers = line.Split(' ').Select(t => double.TryParse(t.TrimEnd(','), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : double.NaN)
                          .Where(double.IsFinite).ToArray();
        Assert.True(numbers[1] < numbers[0], line);                                  // pixel MSE fell from w_avg's
        Assert.Contains("a random w: pixel MSE ", output);                          // the baseline it is judged against
        var ws = Npy.Load(P("w.npy"));
        Assert.Equal([1, 4, 8], ws.Shape);                                            // (1, layers, w_dim) at 8 pixels
        Assert.True(File.Exists(P("w.png")));
        (code, output) = Run("sample", "--checkpoint", run, "--latents", P("w.npy"), "--out", P("again.png"));
        Assert.True(code == 0, output);
        Assert.Equal(File.ReadAllBytes(P("w.png")), File.ReadAllBytes(P("again.png")));
    }

    [Theory]
    [InlineData("--steps", "0", "project: --steps must be at least 1, got 0")]
    [InlineData("--feature-weight", "-1", "project: --feature-weight must be non-negative, got -1")]
    [InlineData("--out", "w.txt", "': the styles are written as .npy")]
    [InlineData("--image", "missing.png", "missing.png': no such file")]
    public void Project_BadInput_OneClearLine(string flag, string value, string expected)
    {
        var run = TrainStyle();
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "1", "--out", P("target.png")).Code);
        var args = new Dictionary<string, string> { ["--image"] = P("target.png"), ["--out"] = P("w.npy") };
        args[flag] = flag is "--out" or "--image" ? P(value) : value;
        var (code, output) = Run(["project", "--checkpoint", run, .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.Equal(2, code);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void Sample_StylesOfAnotherShape_NamesTheShapes()
    {
        var run = TrainStyle();
        Npy.Save(P("bad.npy"), Tensor.Zeros(2, 3, 8));
        var (code, output) = Run("sample", "--checkpoint", run, "--latents", P("bad.npy"), "--out", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("--latents: styles (2,3,8) do not fit model 'stylegan', which reads (n,4,8)", output);
    }

    /// <summary>
    /// A user's own folder of RGB images of mixed sizes trains the growing, style-based and transformer variants at
    /// 64 × 64 without code changes (centre crop and resize), and their samples are 64 × 64 RGB.
    /// </summary>
    [Theory]
    [InlineData("progan", new[] { "width=4", "phase-images=8" })]
    [InlineData("stylegan", new[] { "width=4", "w-dim=8", "mapping-layers=2" })]
    [InlineData("transgan", new[] { "width=64", "g-depth=1", "d-width=16", "d-depth=1", "patch=8", "heads=1" })]
    public void Train_UserRgbFolderAt64_SamplesAre64PixelRgb(string model, string[] options)
    {
        Directory.CreateDirectory(P("photos"));
        for (int i = 0; i < 8; i++)
        {
            int w = i % 2 == 0 ? 80 : 66, h = i % 2 == 0 ? 70 : 96;
            var px = new byte[w * h * 3];
            for (int row = 0; row < h; row++)
                for (int col = 0; col < w; col++)
                    for (int c = 0; c < 3; c++)
                        px[(row * w + col) * 3 + c] = (byte)((col * (c + 1) + row * 2 + i * 30) % 256);
            PngEncoder.Save(Path.Combine(P("photos"), $"{i:D2}.png"), new ByteImage(w, h, 3, px));
        }
        string[] args = ["train", "--model", model, "--data", P("photos"), "--image-size", "64", "--batch-size", "4", "--max-steps", "2",
            "--log-every", "1", "--out", P(model), .. options.SelectMany(o => new[] { "--set", o })];
        var (code, output) = Run(args);
        Assert.True(code == 0, output);
        var config = File.ReadAllText(Path.Combine(P(model), "config.yaml"));
        Assert.Contains("image-size: 64", config);
        Assert.Contains("channels: 3", config);
        (code, output) = Run("sample", "--checkpoint", P(model), "--count", "3", "--out", P("x.npy"));
        Assert.True(code == 0, output);
        var samples = Npy.Load(P("x.npy"));
        Assert.Equal([3, 3, 64, 64], samples.Shape);
        Assert.All(samples.ToArray(), v => Assert.True(float.IsFinite(v) && v >= -1.0001f && v <= 1.0001f, $"sample value {v}"));
    }
}
