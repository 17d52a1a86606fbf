using System.Text.Json;
using GanForge.Gan.Training;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

/// <summary>A run from start to end, with what can happen in between: a second run in its folder, a cancel, a kill, a resume.</summary>
public class RunLifecycleTests
{
    /// <summary>Stands for the process dying: thrown from a progress handler, it leaves the folder as a kill after that step's log line would.</summary>
    sealed class SimulatedKill : Exception;

    static List<long> LossSteps(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("loss_d", out _)).Select(e => e.GetProperty("step").GetInt64()).ToList();

    [Fact]
    public void Create_FolderOfARunUnderWay_FailsNamingTheProcessUntilThatRunEnds()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var first = TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false);
            var e = Assert.Throws<IOException>(() => TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false));
            Assert.Contains("in use by another run", e.Message);
            Assert.Contains($"process {Environment.ProcessId}", e.Message);
            first.Run();
            TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 2), resume: true).Run();   // the lock went with the end of the first run
            Assert.Equal(2, Checkpoint.Read(dir).State.Epoch);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Run_Cancelled_FinishesTheStepSavesACheckpointAndReturns()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var config = TestRuns.Mlp(dir, epochs: 2);   // 8 steps an epoch
            config.LogEvery = 1;
            var trainer = TrainingSetup.Create(config, resume: false);
            using var cancel = new CancellationTokenSource();
            trainer.Progress += p => { if (p.Step == 5) cancel.Cancel(); };
            var error = Record.Exception(() => trainer.Run(cancel.Token));
            Assert.Null(error);
            Assert.Equal(5, trainer.Step);
            var (_, state) = Checkpoint.Read(dir);
            Assert.Equal(5, state.Step);
            Assert.Equal((0, 0, 5), (state.Epoch, state.DataEpoch, state.DataBatch));
            Assert.Equal([1L, 2L, 3L, 4L, 5L], LossSteps(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("gan", "", 2, 3, 7, 6)]                                // 10 steps an epoch: checkpoints at 3 and 6, killed after 7
    [InlineData("dcgan", "r1=1;r1-every=3;width=8", 2, 4, 14, 12)]     // a lazy R1 phase every 3 steps; killed in epoch 2
    [InlineData("wgan-gp", "width=8", 3, 1, 4, 3)]                     // 5 real batches a step: 2 steps an epoch, step 3 is mid-epoch 2
    [InlineData("sgan", "width=8;labels-per-class=3", 2, 3, 7, 6)]     // the labelled subset is picked again on resume
    [InlineData("transgan", "width=16;g-depth=1;g-up-depth=1;d-width=16;d-depth=1;heads=2", 2, 3, 7, 6)]   // DiffAugment draws from the loss noise
    public void Resume_FromACheckpointEveryNSteps_MidEpoch_GivesTheSameWeightsAsAnUninterruptedRun(
        string model, string options, int epochs, int every, int killedAfter, int checkpointStep)
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainConfig Config(string dir)
        {
            var c = TestRuns.Mlp(dir, limit: 320, batch: 32, epochs: epochs);
            c.Model = model;
            c.ImageSize = 16;
            c.Ema = 0.9f;
            c.LogEvery = 1;
            c.CheckpointEvery = every;
            foreach (var o in options.Split(';', StringSplitOptions.RemoveEmptyEntries)) c.Set(o);
            return c;
        }
        try
        {
            TrainingSetup.Create(Config(straight), resume: false).Run();
            var killed = TrainingSetup.Create(Config(split), resume: false);
            killed.Progress += p => { if (p.Step == killedAfter) throw new SimulatedKill(); };
            Assert.Throws<SimulatedKill>(() => killed.Run());
            var (_, saved) = Checkpoint.Read(split);
            Assert.Equal(checkpointStep, saved.Step);
            Assert.NotEqual(0, saved.DataBatch);                                  // taken within an epoch
            Assert.Contains((long)killedAfter, LossSteps(split));                 // the killed run logged past its checkpoint

            TrainingSetup.Create(Config(split), resume: true).Run();
            TestRuns.AssertSameCheckpoint(straight, split);
            Assert.Equal(LossSteps(straight), LossSteps(split));                  // each step logged once, in order
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }

    [Fact]
    public void CutLogs_LastLineWithoutItsNewline_EndsItSoTheNextLineStartsItsOwn()
    {
        var dir = TestRuns.NewDir();
        try
        {
            Directory.CreateDirectory(dir);
            var metrics = Path.Combine(dir, "metrics.jsonl");
            File.WriteAllText(metrics, "{\"step\":1}\n{\"step\":2}");   // a kill between a line and its newline
            Assert.Equal(0, RunFolder.CutLogs(dir, 2));
            Assert.Equal("{\"step\":1}\n{\"step\":2}\n", File.ReadAllText(metrics));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// A kill -9 in the last save, after checkpoint.safetensors was renamed into place and before the files beside it:
    /// checkpoint.json and generator.safetensors are those of the save before (checkpoint.json torn too, which no atomic
    /// write leaves, to show that nothing trusts it), and the generator's temporary file is left.
    /// </summary>
    [Fact]
    public void Resume_KilledBetweenTheCheckpointAndTheFilesBesideIt_RewritesThemFromTheCheckpoint()
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        string json = Path.Combine(split, "checkpoint.json"), generator = Path.Combine(split, "generator.safetensors");
        try
        {
            TrainingSetup.Create(TestRuns.Mlp(straight, epochs: 2), resume: false).Run();
            TrainingSetup.Create(TestRuns.Mlp(split, epochs: 1), resume: false).Run();
            var (olderJson, olderGenerator) = (File.ReadAllText(json), File.ReadAllBytes(generator));
            TrainingSetup.Create(TestRuns.Mlp(split, epochs: 2), resume: true).Run();
            File.WriteAllText(json, olderJson[..(olderJson.Length / 2)]);
            File.WriteAllBytes(generator, olderGenerator);
            var temp = Path.Combine(split, ".generator.safetensors.999999999.0123456789abcdef0123456789abcdef.tmp");
            File.WriteAllBytes(temp, olderGenerator[..100]);

            TrainingSetup.Create(TestRuns.Mlp(split, epochs: 2), resume: true).Run();   // nothing left to train
            Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "generator.safetensors")), File.ReadAllBytes(generator));
            Assert.False(File.Exists(temp));
            var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(json))!;
            var saved = Checkpoint.Read(split).State;
            Assert.Equal((16L, 2, saved.SavedUtc), (state.Step, state.Epoch, state.SavedUtc));
            Assert.Equal(LossSteps(straight), LossSteps(split));
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }
}
