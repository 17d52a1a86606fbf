using GanForge.Data.Formats;
using System.Runtime.InteropServices;
using System.Text.Json;
using GanForge.Gan.Training;

namespace GanForge.Cli.Tests;

/// <summary>A run folder over the life of a run: one run at a time, interrupted and resumed, its logs and settings consistent.</summary>
public class RunFolderTests : CliTestBase
{
    // 256 images in batches of 32: 8 generator steps an epoch.
    static string[] Long(string dir, params string[] more) =>
        ["train", "--model", "gan", "--limit", "256", "--batch-size", "32", "--epochs", "1000", "--log-every", "1", "--out", dir, .. more];

    static List<long> LoggedSteps(string dir, string file = "metrics.jsonl") =>
        File.ReadAllLines(Path.Combine(dir, file)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("loss_d", out _) || file != "metrics.jsonl").Select(e => e.GetProperty("step").GetInt64()).ToList();

    /// <summary>config.yaml as YAML data (keys as written), so the test reads what a user reads.</summary>
    static Dictionary<object, object> Yaml(string dir) =>
        new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<object, object>>(File.ReadAllText(Path.Combine(dir, "config.yaml")));

    [Fact]
    public void Train_OutHeldByARunningTrain_SecondRunAndResumeFailNamingTheProcess()
    {
        var dir = P("shared");
        // Epochs of 2,500 steps (10,000 images in batches of 4): the first run cannot reach an epoch's end, and with it
        // a checkpoint, in the seconds it is held; with Long's 8-step epochs it sometimes did, and the folder then held
        // a run at the end.
        using (var first = CliHarness.Start(["train", "--model", "gan", "--limit", "10000", "--batch-size", "4", "--epochs", "1000", "--log-every", "1", "--out", dir]))
        {
            Assert.True(first.WaitForLine("step 2/"), first.Output);
            var (code, output) = Run("train", "--model", "gan", "--limit", "256", "--batch-size", "32", "--max-steps", "2", "--seed", "2", "--out", dir);
            Assert.True(code == 2, output);
            Assert.Contains("in use", output);
            Assert.Contains($"process {first.Id}", output);
            Assert.Single(output.Split('\n'), l => l.Contains("error:"));

            var (resumeCode, resumeOutput) = Run("train", "--resume", "--out", dir);
            Assert.True(resumeCode == 2, resumeOutput);
            Assert.Contains($"process {first.Id}", resumeOutput);

            first.Signal("KILL");
            first.WaitForExit();
        }
        // The OS let go of the lock with the killed process: the folder (no checkpoint yet) takes a new run, whose logs start afresh.
        var (again, againOutput) = Run("train", "--model", "gan", "--limit", "256", "--batch-size", "32", "--max-steps", "2", "--log-every", "1", "--out", dir);
        Assert.True(again == 0, againOutput);
        Assert.Equal([1L, 2L], LoggedSteps(dir));
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public void Train_Signal_FinishesTheStepSavesACheckpointAndPrintsTheResumeCommand(string signal, int expectedCode)
    {
        var dir = P("sig");
        long stopped;
        using (var run = CliHarness.Start(Long(dir)))
        {
            Assert.True(run.WaitForLine("step 3/"), run.Output);
            run.Signal(signal);
            int code = run.WaitForExit();
            var output = run.Output;
            Assert.True(code == expectedCode, output);
            var (_, state) = Checkpoint.Read(dir);
            stopped = state.Step;
            Assert.True(stopped >= 3, $"checkpoint at step {stopped}");
            Assert.Contains($"ganforge train --resume --out {dir}", output.Replace("\n", ""));
            Assert.DoesNotContain("   at ", output);
        }
        Assert.Equal(stopped, LoggedSteps(dir)[^1]);
        var (resumed, resumedOutput) = Run("train", "--resume", "--out", dir, "--max-steps", (stopped + 2).ToString());
        Assert.True(resumed == 0, resumedOutput);
        var steps = LoggedSteps(dir);
        Assert.Equal(Enumerable.Range(1, (int)stopped + 2).Select(s => (long)s), steps);
    }

    [DllImport("libc.so.6", EntryPoint = "kill")]
    static extern int Kill(int pid, int signal);

    // oneDNN 2.x's generated GEMM kernels keep the stack pointer in their heap workspace: a signal handled on a thread
    // inside one wrote its frame into the heap (glibc's "corrupted size vs. prev_size" abort in CI after a SIGINT). With
    // the products forced onto oneDNN (GANFORGE_GEMM=dnnl, any processor) and a SIGCONT every quarter millisecond, two
    // runs in three died within 2,000 signals before the engine held signals off its oneDNN calls; four runs here.
    [Fact]
    public void Train_StormOfSignals_OneDnnProducts_EveryStepRunsAndTheProcessEndsCleanly()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int SigCont = 18, Runs = 4, Steps = 80;   // SIGCONT: the runtime handles it, and a running process goes on
        for (int r = 0; r < Runs; r++)
        {
            var dir = P($"storm{r}");
            using var run = CliHarness.Start(new Dictionary<string, string> { ["GANFORGE_GEMM"] = "dnnl" },
                "train", "--model", "gan", "--limit", "256", "--batch-size", "32", "--epochs", "1000", "--max-steps", Steps.ToString(),
                "--log-every", "1", "--seed", r.ToString(), "--out", dir);
            Assert.True(run.WaitForLine("step 1/"), run.Output);
            int sent = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!run.HasExited)
            {
                if (Kill(run.Id, SigCont) == 0) sent++;
                var next = clock.Elapsed + TimeSpan.FromMicroseconds(250);
                while (clock.Elapsed < next) Thread.Yield();
            }
            int code = run.WaitForExit();
            Assert.True(code == 0, $"run {r}: exit code {code} after {sent} signals:\n{run.Output}");
            Assert.True(sent > 300, $"run {r}: only {sent} signals sent");
            Assert.Equal(Enumerable.Range(1, Steps).Select(s => (long)s), LoggedSteps(dir));
        }
    }

    [Fact]
    public void Train_CheckpointEvery_IsWrittenIntoConfigAndCheckpointsMidEpoch()
    {
        var dir = P("every");
        var (code, output) = Run("train", "--model", "gan", "--limit", "256", "--batch-size", "32", "--max-steps", "5", "--checkpoint-every", "3",
            "--log-every", "1", "--out", dir);
        Assert.True(code == 0, output);
        Assert.Equal("3", Yaml(dir)["checkpoint-every"]);
        Assert.Contains("checkpoint at step 3", output);
    }

    [Fact]
    public void Train_DefaultCheckpointInterval_IsResolvedIntoConfig()
    {
        var dir = P("default");
        var (code, output) = Run("train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--max-steps", "1", "--out", dir);
        Assert.True(code == 0, output);
        Assert.Equal("5", Yaml(dir)["checkpoint-minutes"]);
        Assert.Equal("0", Yaml(dir)["checkpoint-every"]);
    }

    [Theory]
    [InlineData("--batch-size", "16", "batch-size", "32")]
    [InlineData("--seed", "9", "seed", "1")]
    [InlineData("--data", "embedded:class=7", "data", "embedded")]
    [InlineData("--model", "dcgan", "model", "gan")]
    [InlineData("--image-size", "32", "image-size", "28")]
    [InlineData("--latent-dim", "64", "latent-dim", "100")]
    [InlineData("--set", "mbstd=4", "model-options.mbstd", "0")]
    public void Resume_ChangeThatBreaksTheRun_IsRefusedNamingTheSettingAndBothValues(string flag, string value, string setting, string was)
    {
        var dir = P("resume");
        Assert.Equal(0, Run("train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--epochs", "1", "--out", dir).Code);
        var before = File.ReadAllBytes(Path.Combine(dir, Checkpoint.FileName));
        var (code, output) = Run("train", "--resume", "--out", dir, "--epochs", "2", flag, value);
        Assert.True(code == 2, output);
        var error = Assert.Single(output.Split('\n'), l => l.Contains("error:"));
        Assert.Contains($"'{setting}'", error);
        Assert.Contains(was, error);
        Assert.Contains(value.Split('=')[^1], error);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, Checkpoint.FileName)));
    }

    [Fact]
    public void Resume_AllowedChanges_AreRecordedInConfigWithTheirStep()
    {
        var dir = P("changes");
        Assert.Equal(0, Run("train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--epochs", "1", "--log-every", "1", "--out", dir).Code);
        var (code, output) = Run("train", "--resume", "--out", dir, "--epochs", "2", "--log-every", "2");
        Assert.True(code == 0, output);
        var yaml = Yaml(dir);
        Assert.Equal("2", yaml["epochs"]);
        var changes = Assert.IsType<List<object>>(yaml["changes"]).Cast<Dictionary<object, object>>()
            .Select(c => $"{c["step"]} {c["setting"]} {c["from"]} {c["to"]}").ToList();
        Assert.Equal(["2 epochs 1 2", "2 log-every 1 2"], changes);
    }

    [Fact]
    public void Resume_CutsLogsBackToTheCheckpointAndRemovesStaleTempFiles()
    {
        var dir = P("logs");
        Assert.Equal(0, Run("train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--epochs", "1", "--log-every", "1", "--out", dir).Code);
        // What a run killed after its checkpoint at step 2 leaves: log lines of later steps, a torn line, a temp file of a save.
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), "{\"step\":3,\"epoch\":2,\"loss_d\":1}\n{\"step\":4,\"ep");
        File.AppendAllText(Path.Combine(dir, "warnings.jsonl"), "{\"step\":1,\"kind\":\"collapse\",\"message\":\"m\"}\n{\"step\":3,\"kind\":\"collapse\",\"message\":\"m\"}\n");
        var stale = Path.Combine(dir, ".checkpoint.safetensors.999999999.0123456789abcdef0123456789abcdef.tmp");
        var staleGrid = Path.Combine(dir, "samples", ".epoch_002.png.999999999.0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllText(stale, "half a checkpoint");
        File.WriteAllText(staleGrid, "half a grid");

        var (code, output) = Run("train", "--resume", "--out", dir, "--epochs", "2");
        Assert.True(code == 0, output);
        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(staleGrid));
        Assert.Equal([1L, 2L, 3L, 4L], LoggedSteps(dir));
        Assert.Equal([1L], LoggedSteps(dir, "warnings.jsonl"));
    }

    [Fact]
    public void SampleEvery_WritesStepGrids_AndResumeRemovesThoseOfLaterSteps()
    {
        var dir = P("step-grids");
        var (code, output) = Run("train", "--model", "gan", "--limit", "128", "--batch-size", "32", "--epochs", "1", "--sample-every", "2", "--log-every", "1", "--out", dir);
        Assert.True(code == 0, output);
        string[] Grids() => [.. Directory.GetFiles(Path.Combine(dir, "samples")).Select(Path.GetFileName).Order()!];
        Assert.Equal(["epoch_001.png", "step_0000002.png", "step_0000004.png"], Grids());
        Assert.Equal(ImageFile.Load(Path.Combine(dir, "samples", "epoch_001.png")).Width, ImageFile.Load(Path.Combine(dir, "samples", "step_0000004.png")).Width);
        // A grid of a step after the checkpoint (a run killed before its next save) goes; the resumed run writes its own.
        File.Copy(Path.Combine(dir, "samples", "step_0000004.png"), Path.Combine(dir, "samples", "step_0000005.png"));
        (code, output) = Run("train", "--resume", "--out", dir, "--epochs", "2", "--sample-every", "3");
        Assert.True(code == 0, output);
        Assert.Equal(["epoch_001.png", "epoch_002.png", "step_0000002.png", "step_0000004.png", "step_0000006.png"], Grids());
        Assert.Contains("sample-every", File.ReadAllText(Path.Combine(dir, "config.yaml")));
    }
}
