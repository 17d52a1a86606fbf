using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

/// <summary>Small configurations and temporary run folders for the trainer tests.</summary>
static class TestRuns
{
    public static string NewDir() => Path.Combine(Path.GetTempPath(), "ganforge-test-" + Guid.NewGuid().ToString("N"));

    /// <summary>An MLP GAN on the first <paramref name="limit"/> embedded Fashion-MNIST images.</summary>
    public static TrainConfig Mlp(string outDir, int limit = 256, int batch = 32, int epochs = 2) => new()
    {
        Model = "gan", Data = "embedded", Limit = limit, BatchSize = batch, Epochs = epochs,
        Out = outDir, LogEvery = 4, Seed = 3,
    };

    public static float[] Flatten(IEnumerable<Tensor> tensors) => tensors.SelectMany(t => t.ToArray()).ToArray();

    /// <summary>A trainer for <paramref name="model"/> over <paramref name="data"/> with the settings of <paramref name="config"/> (resolved here).</summary>
    public static Trainer Trainer(TrainConfig config, GanModel model, IBatchSource data)
    {
        var resolved = config.Resolve();
        return new Trainer(resolved, TrainingSetup.CreateGame(resolved, model), data);
    }

    /// <summary>
    /// Asserts that two runs' checkpoints hold the same tensors, bit for bit (a resumed run against an uninterrupted
    /// one: the same computation twice, so exact equality is the claim), and returns the first run's tensors.
    /// </summary>
    public static Dictionary<string, Tensor> AssertSameCheckpoint(string straight, string split)
    {
        var a = SafeTensors.Load(Path.Combine(straight, Checkpoint.FileName));
        var b = SafeTensors.Load(Path.Combine(split, Checkpoint.FileName));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a) Assert.True(t.ToArray().SequenceEqual(b[name].ToArray()), $"{name} differs after resume");
        return a;
    }
}

/// <summary>A batch source over fixed batches that can be told to go bad (NaN) after some batches.</summary>
sealed class ScriptedBatches(Tensor batch, int batchesPerEpoch, int poisonAfter = int.MaxValue) : IBatchSource
{
    int _taken;
    public int BatchesPerEpoch => batchesPerEpoch;
    public (int Epoch, int Batch) Position => (_taken / batchesPerEpoch, _taken % batchesPerEpoch);
    public int Taken => _taken;

    public GanBatch Next()
    {
        _taken++;
        return new GanBatch(_taken > poisonAfter ? Tensor.Full(batch.Shape, float.NaN) : batch);
    }

    public void Seek(int epoch, int b) => _taken = epoch * batchesPerEpoch + b;
}
