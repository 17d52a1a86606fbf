using System.Text.Json;
using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>What train shows and writes about its progress: evaluation during training, epoch numbers in the console, logs and report.</summary>
public class TrainOutputTests : CliTestBase
{
    [Fact]
    public void Train_EvalEveryOnDataTheEvaluatorCannotScore_FailsBeforeTraining()
    {
        var folder = P("rgb");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 8; i++)
        {
            var image = new ByteImage(16, 16, 3);
            for (int p = 0; p < image.Pixels.Length; p++) image.Pixels[p] = (byte)(i * 30 + p % 3 * 10);   // colour: R, G and B differ
            PngEncoder.Save(Path.Combine(folder, $"{i}.png"), image);
        }
        var (code, output) = Run("train", "--model", "gan", "--data", folder, "--batch-size", "4", "--max-steps", "2", "--eval-every", "1",
            "--eval-samples", "20", "--out", P("x"));
        Assert.True(code == 2, output);
        var error = Assert.Single(output.Split('\n'), l => l.Contains("error:"));
        Assert.Contains("--eval-every", error);
        Assert.Contains("1x28x28", error);
        Assert.Contains("3x16x16", error);
        Assert.False(File.Exists(Path.Combine(P("x"), "metrics.jsonl")));
    }

    [Fact]
    public void Train_EvalEvery_ScoresAgainstTheRunsOwnData()
    {
        var (code, output) = Run("train", "--model", "gan", "--data", "embedded:class=7", "--limit", "64", "--batch-size", "32", "--max-steps", "2",
            "--eval-every", "2", "--eval-samples", "50", "--out", P("sneakers"));
        Assert.True(code == 0, output);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("evaluation every 2 steps"));
        Assert.Contains("embedded:class=7", line);
        Assert.Contains("1000 images", line);                 // the test split's sneakers, not all of Fashion-MNIST
        Assert.Contains(File.ReadLines(Path.Combine(P("sneakers"), "metrics.jsonl")), l => l.Contains("\"fid\""));
    }

    [Fact]
    public void Train_ConsoleLogsReportAndEpochMessages_NumberEpochsAlike()
    {
        // 64 images in batches of 32: 2 steps an epoch; stopping at step 3 is a third of the way... into epoch 2.
        var (code, output) = Run("train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--epochs", "5", "--max-steps", "3",
            "--log-every", "1", "--out", P("run"));
        Assert.True(code == 0, output);
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("epoch 1/5 step 2/10"));
        Assert.Contains(lines, l => l.StartsWith("epoch 2/5 step 3/10"));
        Assert.Contains(lines, l => l.StartsWith("epoch 1: samples"));        // the end of epoch 1
        Assert.Contains(lines, l => l.StartsWith("epoch 2 (stopped at step 3): samples"));
        Assert.DoesNotContain(lines, l => l.StartsWith("epoch 0"));
        var epochs = File.ReadLines(Path.Combine(P("run"), "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).Select(e => (e.GetProperty("step").GetInt32(), e.GetProperty("epoch").GetInt32())).ToList();
        Assert.Equal([(1, 1), (2, 1), (3, 2)], epochs);
        Assert.True(File.Exists(Path.Combine(P("run"), "samples", "epoch_002.png")));
        Assert.Contains("last epoch</dt><dd>2<", File.ReadAllText(Path.Combine(P("run"), "report.html")));
    }
}
