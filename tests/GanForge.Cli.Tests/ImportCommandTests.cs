using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>
/// `ganforge import --torch` end to end: a generator trained in PyTorch (tools/fixtures/torch_import.py) becomes a
/// checkpoint that `info`, `sample --latents` and `export` take; PyTorch, GanForge and ONNX Runtime give the same images.
/// </summary>
public class ImportCommandTests : CliTestBase
{
    static string TorchFile => Path.Combine(Fixtures.Root, "gan", "torch_dcgan32_generator.safetensors");

    static string[] Shape => ["--image-size", "32", "--channels", "3", "--latent-dim", "16", "--set", "width=8"];

    [Fact]
    public void Import_ThenSampleAndExport_GiveThePyTorchImages()
    {
        var io = Fixtures.Load("gan", "torch_dcgan32_io");
        var (code, output) = Run(["import", "--torch", TorchFile, "--model", "dcgan", "--out", P("g"), .. Shape]);
        Assert.True(code == 0, output);
        Assert.Contains("Imported 19 tensors under 'main.' into dcgan's generator (z 16 -> 3x32x32)", output);

        (code, output) = Run("info", P("g"));
        Assert.True(code == 0, output);
        Assert.Contains("imported from", output);
        Assert.Contains("torch_dcgan32_generator.safetensors", output);

        Npy.Save(P("z.npy"), io["latents"]);
        Assert.Equal(0, Run("sample", "--checkpoint", P("g"), "--latents", P("z.npy"), "--out", P("x.npy")).Code);
        Fixtures.AssertClose(io["images"], Npy.Load(P("x.npy")), 0, 1e-4, "ganforge sample vs PyTorch");

        (code, output) = Run("export", "--checkpoint", P("g"), "--onnx", P("g.onnx"));
        Assert.True(code == 0, output);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(P("g.onnx"));
        var z = io["latents"];
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(z.ToArray(), [z.Size(0), z.Size(1), 1, 1]);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["z"], [input], ["image"]);
        var onnx = Tensor.FromArray(outputs[0].GetTensorDataAsSpan<float>(), z.Size(0), 3, 32, 32);
        Fixtures.AssertClose(io["images"], onnx, 0, 1e-4, "ONNX Runtime on the exported import vs PyTorch");

        (code, output) = Run("train", "--resume", "--out", P("g"));
        Assert.Equal(2, code);
        Assert.Contains("it can be sampled and exported, not resumed", output);
    }

    [Fact]
    public void Import_WithPyTorchExamplesDefaults_ListsEveryDifferenceAndWritesNothing()
    {
        // Without the shape flags: pytorch/examples' 64 x 64, nz 100, ngf 64, which this small generator is not.
        var (code, output) = Run("import", "--torch", TorchFile, "--out", P("g"));
        Assert.Equal(2, code);
        Assert.Contains("does not fit dcgan's generator of 3x64x64 images from latents of 100", output);
        Assert.Contains("missing 5: 10.weight (64), 10.bias (64), 10.running_mean (64), 10.running_var (64), 12.weight (64,3,4,4)", output);
        Assert.Contains("shape differs 16: main.0.weight is (16,32,4,4), the model's (100,512,4,4)", output);
        Assert.Single(output.Trim().Split('\n'));
        Assert.False(Directory.Exists(P("g")));
    }
}
