using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>The commands of the labelled models: sample --class/--code/--labels-out, sweep, classify, probe.</summary>
public class ConditionalCommandTests : CliTestBase
{
    /// <summary>A few steps of <paramref name="model"/> at 16 pixels, width 8, on 200 embedded images.</summary>
    string TrainSmall(string model, params string[] more)
    {
        var (code, output) = Run(["train", "--model", model, "--limit", "200", "--batch-size", "20", "--max-steps", "4", "--image-size", "16",
            "--set", "width=8", "--out", P(model), "--log-every", "2", .. more]);
        Assert.True(code == 0, output);
        return P(model);
    }

    [Fact]
    public void Sample_ClassAndLabelsOut_WritesThatClassForEveryImage()
    {
        var run = TrainSmall("acgan");
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "12", "--class", "7", "--out", P("x.idx"), "--labels-out", P("y.idx"));
        Assert.True(code == 0, output);
        var labels = Idx.ReadLabels(P("y.idx"));
        Assert.Equal(12, labels.Count);
        Assert.All(labels.Data.ToArray(), b => Assert.Equal(7, (int)b));
        Assert.Equal(12, Idx.ReadImages(P("x.idx")).Count);
    }

    [Fact]
    public void Sample_NoClass_LabelsGoRoundEveryClass()
    {
        var run = TrainSmall("cgan");
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "25", "--out", P("x.idx"), "--labels-out", P("y.idx"));
        Assert.True(code == 0, output);
        var labels = Idx.ReadLabels(P("y.idx")).Data.ToArray();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (byte)(i % 10)), labels);
    }

    [Fact]
    public void Sample_ClassOfUnconditionalModel_SaysWhichModelsTakeOne()
    {
        var run = TrainSmall("dcgan");
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "4", "--class", "1", "--out", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("is not class-conditional (cgan and acgan are)", output);
        var (code2, output2) = Run("sample", "--checkpoint", run, "--count", "4", "--out", P("x.png"), "--labels-out", P("y.idx"));
        Assert.Equal(2, code2);
        Assert.Contains("--labels-out", output2);
        Assert.False(File.Exists(P("x.png")));
    }

    [Theory]
    [InlineData("--class", "10", "--class 10: model 'cgan' has classes 0 to 9")]
    [InlineData("--class", "-1", "--class -1: model 'cgan' has classes 0 to 9")]
    [InlineData("--code", "cat=1", "has no categorical code (infogan has)")]
    public void Sample_BadCondition_OneLineError(string option, string value, string expected)
    {
        var run = TrainSmall("cgan");
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "4", option, value, "--out", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains(expected, output);
    }

    [Theory]
    [InlineData("cat=10", "the categorical code takes 0 to 9")]
    [InlineData("c3=0.5", "continuous codes c1 to c2")]
    [InlineData("c1=abc", "expected cat=K")]
    [InlineData("cat", "expected cat=K")]
    public void Sample_BadInfoGanCode_OneLineError(string value, string expected)
    {
        var run = TrainSmall("infogan");
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "4", "--code", value, "--out", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void Sample_InfoGanCodes_AreReproducible()
    {
        var run = TrainSmall("infogan");
        var (code, output) = Run("sample", "--checkpoint", run, "--count", "6", "--code", "cat=2", "--code", "c2=1.5", "--out", P("x.npy"));
        Assert.True(code == 0, output);
        // The same seed and codes reproduce the images exactly.
        var (code2, _) = Run("sample", "--checkpoint", run, "--count", "6", "--code", "cat=2", "--code", "c2=1.5", "--out", P("y.npy"));
        Assert.Equal(0, code2);
        Assert.Equal(File.ReadAllBytes(P("x.npy")), File.ReadAllBytes(P("y.npy")));
    }

    [Theory]
    [InlineData("cgan", 10, 10)]
    [InlineData("infogan", 10, 7)]
    public void Sweep_ConditionalModel_WritesRowsByClassOrCategory(string model, int rows, int columns)
    {
        var run = TrainSmall(model);
        var (code, output) = Run("sweep", "--checkpoint", run, "--columns", columns.ToString(), "--out", P("grid.png"));
        Assert.True(code == 0, output);
        Assert.Contains($"{rows} x {columns} grid", output);
        var bytes = File.ReadAllBytes(P("grid.png"));                     // PNG: IHDR width and height at bytes 16 and 20
        int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        int height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.InRange(width * rows / (double)(height * columns), 0.8, 1.25);   // square cells: columns x rows of them
    }

    [Fact]
    public void Sweep_UnconditionalModel_SaysWhichModelsHaveConditions()
    {
        var run = TrainSmall("dcgan");
        var (code, output) = Run("sweep", "--checkpoint", run, "--out", P("grid.png"));
        Assert.Equal(2, code);
        Assert.Contains("has neither classes nor codes", output);
    }

    [Fact]
    public void Classify_AcGanWithLabels_WritesOneLabelALineAndTheAccuracy()
    {
        var run = TrainSmall("acgan");
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "30", "--out", P("x.idx"), "--labels-out", P("y.idx")).Code);
        var (code, output) = Run("classify", "--checkpoint", run, "--images", P("x.idx"), "--labels", P("y.idx"), "--out", P("labels.txt"));
        Assert.True(code == 0, output);
        var lines = File.ReadAllLines(P("labels.txt"));
        Assert.Equal(30, lines.Length);
        Assert.All(lines, l => Assert.InRange(int.Parse(l), 0, 9));
        Assert.Matches(@"accuracy \d+\.\d\d % \(\d+ of 30\)", output);
    }

    [Fact]
    public void Classify_ModelWithoutClassHead_OneLineError()
    {
        var run = TrainSmall("dcgan");
        Assert.Equal(0, Run("sample", "--checkpoint", run, "--count", "4", "--out", P("x.idx")).Code);
        var (code, output) = Run("classify", "--checkpoint", run, "--images", P("x.idx"), "--out", P("labels.txt"));
        Assert.Equal(2, code);
        Assert.Contains("has no class head (acgan and sgan have one)", output);
        Assert.False(File.Exists(P("labels.txt")));
    }

    [Fact]
    public void Probe_SmallRun_PrintsTrainedRandomAndPixelRows()
    {
        var run = TrainSmall("dcgan");
        var (code, output) = Run("probe", "--checkpoint", run, "--labels-per-class", "5", "--data", "embedded", "--test-limit", "200");
        Assert.True(code == 0, output);
        foreach (var row in new[] { "trained D", "random D", "pixels" }) Assert.Contains(row, output);
        Assert.Contains("first half of embedded", output);
        Assert.Matches(@"pixels\s*│\s*256\s*│\s*\d+\.\d\d %", output);
    }
}

/// <summary>`ganforge augment` on the system Fashion-MNIST (CI installs it): both rows, per-seed accuracies, clear errors.</summary>
public class AugmentCommandTests : CliTestBase
{
    [Fact]
    public void Augment_SmallStudy_PrintsRealOnlyAndAugmentedRows()
    {
        var (code, output) = Run("train", "--model", "acgan", "--limit", "200", "--batch-size", "20", "--max-steps", "3", "--set", "width=8", "--out", P("acgan"));
        Assert.True(code == 0, output);
        (code, output) = Run("augment", "--checkpoint", P("acgan"), "--labels-per-class", "2", "--generated-per-class", "3", "--seeds", "2",
            "--steps", "5", "--test-limit", "100");
        Assert.True(code == 0, output);
        Assert.Matches(@"real only\s*│\s*2\s*│\s*0\s*│\s*\d+\.\d\d% ± \d+\.\d\d", output);
        Assert.Matches(@"real \+ generated\s*│\s*2\s*│\s*3\s*│", output);
        Assert.Contains("batches drawn from real and generated alike; 100 test images; 2 seeds", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
        (code, output) = Run("augment", "--checkpoint", P("acgan"), "--labels-per-class", "2", "--generated-per-class", "3", "--seeds", "1",
            "--steps", "5", "--test-limit", "100", "--generated-share", "0.5");
        Assert.True(code == 0, output);
        Assert.Contains("each batch 50% generated", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
        (code, output) = Run("augment", "--checkpoint", P("acgan"), "--generated-share", "1");
        Assert.Equal(2, code);
        Assert.Contains("--generated-share must be in [0, 1), got 1", output);
    }

    [Fact]
    public void Augment_DaGan_MakesEachClassFromItsLabelledRealImages()
    {
        var (code, output) = Run("train", "--model", "dagan", "--limit", "200", "--batch-size", "20", "--max-steps", "3", "--set", "ngf=8", "--set", "ndf=8", "--out", P("dagan"));
        Assert.True(code == 0, output);
        Assert.Contains("same-class", File.ReadAllText(Path.Combine(P("dagan"), "config.yaml")));
        (code, output) = Run("augment", "--checkpoint", P("dagan"), "--labels-per-class", "2", "--generated-per-class", "3", "--seeds", "2",
            "--steps", "5", "--test-limit", "100");
        Assert.True(code == 0, output);
        Assert.Contains("3 generated per class by dagan from the labelled real images of the class", output);
        Assert.Matches(@"real \+ generated\s*│\s*2\s*│\s*3\s*│\s*\d+\.\d\d% ± \d+\.\d\d", output);
    }

    [Fact]
    public void Augment_UnconditionalModel_SaysWhichModelsMakeLabelledImages()
    {
        var (code, output) = Run("train", "--model", "dcgan", "--limit", "64", "--batch-size", "32", "--max-steps", "1", "--set", "width=8", "--out", P("dcgan"));
        Assert.True(code == 0, output);
        (code, output) = Run("augment", "--checkpoint", P("dcgan"), "--steps", "1");
        Assert.Equal(2, code);
        Assert.Contains("not class-conditional; train cgan or acgan", output);
    }
}
