using GanForge.Cli;
using GanForge.Data.Formats;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace GanForge.Cli.Tests;

/// <summary>The command line as a user meets it: exit codes, one-line errors, and the files written.</summary>
public class CliTests : CliTestBase
{
    [Fact]
    public void Train_UnknownModel_ExitsWithAOneLineError()
    {
        var (code, output) = Run("train", "--model", "nope", "--out", P("x"));
        Assert.Equal(2, code);
        Assert.Contains("error: Unknown model 'nope'", output);
        Assert.DoesNotContain("   at ", output);   // no stack trace
    }

    [Fact]
    public void Version_PrintsThePackageVersionAlone()
    {
        // A child process: in this one the option would report the test host, the entry assembly.
        using var child = CliHarness.Start("--version");
        Assert.Equal(0, child.WaitForExit());
        var version = typeof(CliApp).Assembly.GetName().Version!;
        Assert.Equal($"{version.Major}.{version.Minor}.{version.Build}", child.Output.Trim());   // no +commit suffix
    }

    [Fact]
    public void Train_UnknownFlag_IsAUsageError()
    {
        var (code, output) = Run("train", "--bogus", "3");
        Assert.NotEqual(0, code);
        Assert.Contains("--bogus", output);
    }

    [Fact]
    public void Train_MissingDataset_SaysNotFound()
    {
        var (code, output) = Run("train", "--data", P("nowhere"), "--out", P("x"));
        Assert.Equal(2, code);
        Assert.Contains("not found", output);
        Assert.False(Directory.Exists(P("x/samples")));
    }

    [Fact]
    public void Train_GarbledIdxFile_NamesTheFile()
    {
        var file = P("junk-images-idx3-ubyte");
        File.WriteAllBytes(file, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var (code, output) = Run("train", "--data", file, "--out", P("x"));
        Assert.Equal(2, code);
        Assert.Contains("junk-images-idx3-ubyte", output);
    }

    [Fact]
    public void Train_OutputFolderCannotBeCreated_SaysWhichFolder()
    {
        File.WriteAllText(P("a-file"), "not a folder");
        var (code, output) = Run("train", "--out", P("a-file/run"), "--limit", "64", "--batch-size", "32");
        Assert.Equal(2, code);
        Assert.Contains("Cannot write to output folder", output);
    }

    [Fact]
    public void Train_BadConfigFile_NamesTheFile()
    {
        File.WriteAllText(P("bad.yaml"), "model: gan\nepochz: 3\n");
        var (code, output) = Run("train", "--config", P("bad.yaml"), "--out", P("x"));
        Assert.Equal(2, code);
        Assert.Contains("bad.yaml", output);
    }

    [Fact]
    public void TrainThenSample_WritesIdxPngNpyAndFolder()
    {
        var run = TrainTiny();
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "10", "--out", P("s.idx")).Code);
        var idx = Idx.ReadImages(P("s.idx"));
        Assert.Equal([10, 28, 28], idx.Dims);

        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "9", "--out", P("grid.png")).Code);
        var png = ImageFile.Load(P("grid.png"));
        Assert.True(png.Width > 28 && png.Height > 28);

        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "3", "--out", P("pngs")).Code);
        Assert.Equal(3, Directory.GetFiles(P("pngs"), "*.png").Length);
    }

    [Fact]
    public void Sample_FromGivenLatents_IsDeterministicAndShaped()
    {
        var run = TrainTiny();
        Npy.Save(P("z.npy"), Tensor.Randn([5, 100], new Generator(4)));
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--latents", P("z.npy"), "--out", P("a.npy")).Code);
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--latents", P("z.npy"), "--out", P("b.npy")).Code);
        var a = Npy.Load(P("a.npy"));
        Assert.Equal([5, 1, 28, 28], a.Shape);
        Assert.Equal(a.ToArray(), Npy.Load(P("b.npy")).ToArray());
        Assert.All(a.ToArray(), v => Assert.InRange(v, -1f, 1f));
    }

    /// <summary>Runs the ONNX file on <paramref name="z"/> (n, nz) in ONNX Runtime: the images (n,C,H,W) as a flat array.</summary>
    static float[] RunOnnx(string file, Tensor z)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(file);
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(z.ToArray(), [z.Size(0), z.Size(1)]);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["z"], [input], ["image"]);
        Assert.Equal([z.Size(0), 1, 28, 28], outputs[0].GetTensorTypeAndShape().Shape);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    [Fact]
    public void Export_TinyRun_WritesAFileOnnxRuntimeRunsAsTheSampler()
    {
        var run = TrainTiny("plain", "--ema", "0");   // no EMA (the default keeps one): the generator itself is exported
        var (code, output) = Run("export", "--checkpoint", run, "--onnx", P("g.onnx"));
        Assert.True(code == 0, output);
        Assert.Contains("Wrote the generator of gan to", output);
        Assert.Contains("z (batch,100) -> image (batch,1,28,28), ONNX opset 17", output);

        var z = Tensor.Randn([3, 100], new Generator(5));
        var expected = Gan.Sampler.Load(run).FromLatents(z).ToArray();
        Assert.True(MaxAbsDifference(expected, RunOnnx(P("g.onnx"), z)) <= 1e-4);
    }

    [Fact]
    public void Export_RunWithEma_WritesTheEmaGeneratorUnlessNoEma()
    {
        var run = TrainTiny("ema", "--ema", "0.5");
        var (code, output) = Run("export", "--checkpoint", run, "--onnx", P("ema.onnx"));
        Assert.True(code == 0, output);
        Assert.Contains("Wrote the EMA generator of gan", output);
        Assert.Equal(0, Run("export", "--checkpoint", run, "--onnx", P("raw.onnx"), "--no-ema").Code);

        var z = Tensor.Randn([2, 100], new Generator(6));
        var ema = Gan.Sampler.Load(run, useEma: true).FromLatents(z).ToArray();
        var raw = Gan.Sampler.Load(run, useEma: false).FromLatents(z).ToArray();
        Assert.True(MaxAbsDifference(ema, raw) > 1e-3, "the EMA and raw generators should differ");
        Assert.True(MaxAbsDifference(ema, RunOnnx(P("ema.onnx"), z)) <= 1e-4);
        Assert.True(MaxAbsDifference(raw, RunOnnx(P("raw.onnx"), z)) <= 1e-4);
    }

    [Fact]
    public void Export_MissingCheckpoint_IsAOneLineError()
    {
        var (code, output) = Run("export", "--checkpoint", P("nowhere"), "--onnx", P("g.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("error:", output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(File.Exists(P("g.onnx")));
    }

    [Fact]
    public void Interpolate_WritesAnAnimatedGifAndAStrip()
    {
        var run = TrainTiny();
        Assert.Equal(0, Run("interpolate", "--checkpoint", run, "--steps", "4", "--out", P("walk.gif")).Code);
        Assert.Equal("GIF89a"u8.ToArray(), File.ReadAllBytes(P("walk.gif"))[..6]);
        Assert.Equal(0, Run("interpolate", "--checkpoint", run, "--steps", "4", "--out", P("strip.png")).Code);
        var strip = ImageFile.Load(P("strip.png"));
        Assert.True(strip.Width > 4 * strip.Height, $"strip is {strip.Width}x{strip.Height}");
    }

    [Fact]
    public void Info_ShowsModelAndProgress()
    {
        var run = TrainTiny();
        var (code, output) = Run("info", run);
        Assert.Equal(0, code);
        Assert.Contains("gan", output);
        Assert.Contains("generator steps", output);
    }

    [Fact]
    public void Sample_CorruptCheckpoint_NamesTheFile()
    {
        var run = TrainTiny();
        var file = Path.Combine(run, "checkpoint.safetensors");
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..1000]);
        var (code, output) = Run("sample", "--checkpoint", run, "--out", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("checkpoint.safetensors", output);
    }

    [Fact]
    public void Train_Resume_ContinuesTheRunInOut()
    {
        var run = TrainTiny();
        var (code, output) = Run("train", "--out", run, "--resume", "--epochs", "2");
        Assert.True(code == 0, output);
        Assert.Contains("Resuming", output);
        Assert.True(File.Exists(Path.Combine(run, "samples", "epoch_002.png")));
    }

    [Fact]
    public void Train_WritesTheHtmlReport_AndReportRewritesIt()
    {
        var run = TrainTiny();
        var report = Path.Combine(run, "report.html");
        Assert.True(File.Exists(report));
        File.Delete(report);
        var (code, output) = Run("report", run);
        Assert.True(code == 0, output);
        Assert.Contains("<svg", File.ReadAllText(report));
    }

    [Fact]
    public void Eval_OnAnIdxFile_WritesScoresWithTheirProtocol()
    {
        var run = TrainTiny();
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "500", "--out", P("s.idx")).Code);
        var (code, output) = Run("eval", "--images", P("s.idx"), "--data", "fashion-mnist", "--no-floor",
            "--metrics", "fid", "--metrics", "class_histogram", "--json", P("scores.json"));
        Assert.True(code == 0, output);
        var json = File.ReadAllText(P("scores.json"));
        Assert.Contains("\"fid\"", json);
        Assert.Contains("fashion-mnist-cnn", json);          // the evaluator named in the protocol
        Assert.Contains("500", json);                          // n_fake
    }

    [Fact]
    public void Eval_WithoutCheckpointOrImages_IsAClearError()
    {
        var (code, output) = Run("eval", "--data", "fashion-mnist");
        Assert.Equal(2, code);
        Assert.Contains("--checkpoint", output);
    }

    [Fact]
    public void Models_ListsEveryVariantOfTheZooWithItsDescription()
    {
        var (code, output) = Run("models");
        Assert.Equal(0, code);
        foreach (var v in GanForge.Gan.Zoo.ModelZoo.All)
        {
            Assert.Contains(v.Name, output);
            Assert.Contains(v.Description[..30], output);
        }
    }

    [Fact]
    public void Models_OneModel_ShowsItsDefaultsAndOptions()
    {
        var (code, output) = Run("models", "--model", "wgan-gp");
        Assert.Equal(0, code);
        Assert.Contains("loss wasserstein, k 5", output);
        Assert.Contains("Adam lr 0.0001 betas (0, 0.9)", output);
        Assert.Matches(@"│ gp\s+│ 10\s+│", output);
    }

    [Fact]
    public void TrainHelp_ListsTheModelsFromTheRegistry()
    {
        var (_, output) = Run("train", "--help");
        foreach (var name in GanForge.Gan.Zoo.ModelZoo.Names) Assert.Contains(name, output);
        Assert.Contains("--set", output);
    }

    [Fact]
    public void Train_SetOptionsAndOptimizerGroups_AreResolvedIntoConfigWithNoBlankValue()
    {
        var (code, output) = Run("train", "--model", "wgan-gp", "--limit", "64", "--batch-size", "16", "--max-steps", "2", "--image-size", "16",
            "--set", "gp=5", "--set", "width=8", "--set", "d.lr=3e-4", "--out", P("wgp"));
        Assert.True(code == 0, output);
        var config = GanForge.Gan.Training.TrainConfig.FromYaml(File.ReadAllText(Path.Combine(P("wgp"), "config.yaml")));
        Assert.Equal("5", config.ModelOptions["gp"]);
        Assert.Equal(3e-4f, config.Optimizers["d"].Lr!.Value, 1e-6);
        Assert.Equal(1e-4f, config.Optimizers["g"].Lr!.Value, 1e-6);
        Assert.Equal(0f, config.Optimizers["g"].Beta1!.Value);
        Assert.Equal(5, config.K);
        Assert.Equal("wasserstein", config.Loss);
        var blank = File.ReadAllLines(Path.Combine(P("wgp"), "config.yaml"))
            .Where(l => l.TrimEnd().EndsWith(':') && l.Trim() is not ("optimizers:" or "g:" or "d:" or "model-options:")).ToList();
        Assert.Empty(blank);
        Assert.Contains("W estimate", output);
        Assert.DoesNotContain("acc real", output);

        var (sampleCode, sampleOutput) = Run("sample", "--checkpoint", P("wgp"), "--count", "5", "--out", P("wgp.idx"));
        Assert.True(sampleCode == 0, sampleOutput);
        Assert.Equal([5, 16, 16], Idx.ReadImages(P("wgp.idx")).Dims);
    }

    [Theory]
    [InlineData("foo=1", "unknown option 'foo'")]
    [InlineData("gp=lots", "'lots' is not a number")]
    [InlineData("q.lr=1", "no optimizer group 'q'")]
    [InlineData("d.speed=1", "unknown optimizer field 'speed'")]
    [InlineData("gp", "expected key=value")]
    public void Train_BadSet_IsAOneLineError(string assignment, string expected)
    {
        var (code, output) = Run("train", "--model", "wgan-gp", "--limit", "64", "--max-steps", "1", "--set", assignment, "--out", P("bad"));
        Assert.Equal(2, code);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("   at ", output);
    }
}
