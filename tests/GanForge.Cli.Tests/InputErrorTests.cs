using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>Bad input a user can give: each is refused with one line that names the option or file and the value, in the user's words.</summary>
public class InputErrorTests : CliTestBase
{
    /// <summary>Asserts a one-line user error: exit code 2, one "error:" line holding every expected part, no .NET type names or stack.</summary>
    static string AssertOneLineError((int Code, string Output) result, params string[] expected)
    {
        var (code, output) = result;
        Assert.True(code == 2, $"exit {code}: {output}");
        var error = Assert.Single(output.Split('\n'), l => l.Contains("error:"));
        foreach (var e in expected) Assert.Contains(e, error);
        Assert.DoesNotContain("System.", output);
        Assert.DoesNotContain("   at ", output);
        return error;
    }

    [Fact]
    public void Train_UnknownPrecision_IsAnErrorNamingTheOptionAndTheChoices()
    {
        AssertOneLineError(Run(["train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--precision", "fp16", "--out", P("p")]),
            "--precision", "fp32 or bf16", "'fp16'");
        Assert.False(Directory.Exists(P("p")) && Directory.EnumerateFileSystemEntries(P("p")).Any(), "nothing written for a refused run");
    }

    [Theory]
    [InlineData("--max-steps", "-3")]
    [InlineData("--limit", "-5")]
    [InlineData("--threads", "-1")]
    [InlineData("--epochs", "0")]
    [InlineData("--checkpoint-every", "-2")]
    [InlineData("--latent-dim", "0")]
    public void Train_OutOfRangeNumber_IsAnErrorNamingTheOption(string option, string value)
    {
        string[] small = option == "--limit" ? [] : ["--limit", "64"];
        AssertOneLineError(Run(["train", "--model", "gan", .. small, "--batch-size", "32", option, value, "--out", P("x")]), option, value);
        Assert.False(File.Exists(Path.Combine(P("x"), "checkpoint.safetensors")));
    }

    [Theory]
    [InlineData("--lr", "abc")]
    [InlineData("--epochs", "many")]
    [InlineData("--seed", "x1")]
    public void Train_NotANumber_SaysSoWithoutDotNetTypeNames(string option, string value)
    {
        var (code, output) = Run("train", option, value, "--out", P("x"));
        Assert.NotEqual(0, code);
        Assert.Contains($"{option}: '{value}' is not a", output);
        Assert.DoesNotContain("System.", output);
        Assert.DoesNotContain("Nullable", output);
    }

    [Theory]
    [InlineData("model: gan\nlr: [1, 2]\n", "line 2", "'lr' expects a number")]
    [InlineData("model: gan\nepochs: {a: 1}\n", "line 2", "'epochs' expects a whole number")]
    [InlineData("model: gan\nbatch-size: lots\n", "line 2", "'batch-size' expects a whole number")]
    public void Train_ConfigValueOfTheWrongKind_NamesFileLineAndKey(string yaml, string line, string expected)
    {
        File.WriteAllText(P("run.yaml"), yaml);
        AssertOneLineError(Run("train", "--config", P("run.yaml"), "--out", P("x")), "run.yaml", line, expected);
    }

    [Fact]
    public void Train_LatentDimFlag_SetsTheLatentSize()
    {
        var run = TrainTiny("nz", "--latent-dim", "16");
        Assert.Contains("latent-dim: 16", File.ReadAllText(Path.Combine(run, "config.yaml")));
        Npy.Save(P("z.npy"), Tensor.Randn([3, 16], new Generator(1)));
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--latents", P("z.npy"), "--out", P("x.npy")).Code);
    }

    [Fact]
    public void Train_PngFolderOfMixedSizes_NamesTheFileAndNoLibraryProperty()
    {
        var folder = P("pngs");
        Directory.CreateDirectory(folder);
        PngEncoder.Save(Path.Combine(folder, "a.png"), new ByteImage(28, 28, 1));
        PngEncoder.Save(Path.Combine(folder, "b.png"), new ByteImage(30, 30, 1));
        var error = AssertOneLineError(Run("train", "--data", folder, "--out", P("x")), "b.png", "30x30", "28x28");
        Assert.DoesNotContain("set Resize", error);
        Assert.DoesNotContain("Channels", error);
    }

    [Fact]
    public void Sample_LatentsWithNoRows_IsAnError()
    {
        var run = TrainTiny();
        File.WriteAllBytes(P("empty.npy"), NpyHeader("(0, 100)"));
        AssertOneLineError(Run("sample", "--checkpoint", run, "--latents", P("empty.npy"), "--out", P("x.npy")), "empty.npy", "(0,100)");
        Assert.False(File.Exists(P("x.npy")));
    }

    [Fact]
    public void Sample_NaNInLatents_NamesTheFile()
    {
        var run = TrainTiny();
        var z = Tensor.Randn([4, 100], new Generator(2));
        z.Data[150] = float.NaN;
        Npy.Save(P("nan.npy"), z);
        AssertOneLineError(Run("sample", "--checkpoint", run, "--latents", P("nan.npy"), "--out", P("x.npy")), "nan.npy", "NaN");
        z.Data[150] = float.PositiveInfinity;
        Npy.Save(P("inf.npy"), z);
        AssertOneLineError(Run("interpolate", "--checkpoint", run, "--latents", P("inf.npy"), "--out", P("x.png")), "inf.npy");
    }

    [Fact]
    public void Interpolate_FramesThatCannotFit_IsAClearError()
    {
        var run = TrainTiny();
        AssertOneLineError(Run("interpolate", "--checkpoint", run, "--points", "3", "--steps", "2147483647", "--out", P("w.gif")),
            "--steps 2147483647", "4294967295 frames");
    }

    [Fact]
    public void Eval_JsonIsAFolderOrUnwritable_FailsBeforeEvaluating()
    {
        var run = TrainTiny();
        Directory.CreateDirectory(P("scores"));
        var error = AssertOneLineError(Run("eval", "--checkpoint", run, "--samples", "200", "--data", "embedded", "--json", P("scores")), "--json", P("scores"));
        Assert.Contains("folder", error);
        File.WriteAllText(P("a-file"), "");
        var (code, output) = Run("eval", "--checkpoint", run, "--samples", "200", "--data", "embedded", "--json", P("a-file/scores.json"));
        AssertOneLineError((code, output), "--json", "a-file");
        Assert.DoesNotContain("floor", output);   // the evaluation never ran: no table, no floor line
    }

    /// <summary>A float32 .npy file with this shape and no data.</summary>
    static byte[] NpyHeader(string shape)
    {
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        dict += new string(' ', (64 - total % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(dict.Length & 0xFF), (byte)(dict.Length >> 8)]);
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(dict));
        return [.. bytes];
    }
}
