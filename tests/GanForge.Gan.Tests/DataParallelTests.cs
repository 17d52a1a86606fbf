using GanForge.Distributed;
using GanForge.Gan.Training;
using GanForge.NN.Tests;

namespace GanForge.Gan.Tests;

/// <summary>
/// Data-parallel training with ranks on threads (<see cref="ThreadProcessGroup"/>): N ranks, each on its shard of
/// every global batch with averaged gradients, end where one process on the whole batch ends. The same over MPI
/// processes is GanForge.Cli.Tests' DistributedCliTests.
/// </summary>
[Collection(ProcessWideThreads.Name)]
public sealed class DataParallelTests : IDisposable
{
    readonly int _threads = Threading.Threads;

    /// <summary>The runs here train on one thread; the tests after them get the count they had.</summary>
    public void Dispose() => Threading.Threads = _threads;

    /// <summary>
    /// Every network's state before and after training <paramref name="config"/> on <paramref name="ranks"/> thread
    /// ranks (1: no group); asserts the ranks agree.
    /// </summary>
    static (Dictionary<string, float[]> Initial, Dictionary<string, float[]> Final) TrainFrom(TrainConfig config, int ranks)
    {
        static Dictionary<string, float[]> State(Trainer trainer) => trainer.Model.Networks
            .SelectMany(n => n.Value.StateDict().Select(kv => (Name: $"{n.Key}.{kv.Key}", Values: kv.Value.ToArray())))
            .ToDictionary(p => p.Name, p => p.Values);
        (Dictionary<string, float[]>, Dictionary<string, float[]>) Run(IProcessGroup? group)
        {
            using var trainer = TrainingSetup.Create(config, resume: false, group);
            var initial = State(trainer);
            trainer.Run();
            return (initial, State(trainer));
        }
        if (ranks == 1) return Run(null);
        var states = ThreadProcessGroup.Run(ranks, group => Run(group));
        // Parameters agree bit for bit; running statistics too when batch norm is synchronised (else each rank keeps its own).
        foreach (var (name, values) in states[0].Item2.Where(s => config.SyncBatchnorm || !s.Key.Contains("running_")))
            for (int r = 1; r < ranks; r++) Assert.True(values.SequenceEqual(states[r].Item2[name]), $"rank {r} differs from rank 0 in {name}");
        return states[0];
    }

    static Dictionary<string, float[]> Train(TrainConfig config, int ranks) => TrainFrom(config, ranks).Final;

    /// <summary>‖a - b‖ over every parameter (running statistics left out) relative to ‖b - initial‖, how far training moved b.</summary>
    static double RelativeDistance(Dictionary<string, float[]> a, Dictionary<string, float[]> b, Dictionary<string, float[]> initial)
    {
        double apart = 0, moved = 0;
        foreach (var (name, values) in b.Where(kv => !kv.Key.Contains("running_") && !kv.Key.Contains("num_batches")))
            for (int i = 0; i < values.Length; i++)
            {
                apart += Math.Pow(a[name][i] - values[i], 2);
                moved += Math.Pow(values[i] - initial[name][i], 2);
            }
        return Math.Sqrt(apart / moved);
    }

    static TrainConfig Config(string model, string dir) => new()
    {
        Model = model, Data = "embedded", Limit = 192, BatchSize = 32, Epochs = 1, MaxSteps = 4, Seed = 5,
        LogEvery = 2, Out = dir, Threads = 1, CheckpointMinutes = 0,
    };

    /// <summary>Largest |a-b| / (atol + rtol·|b|) over every value; at most 1 when all are close.</summary>
    static void AssertClose(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, double rtol, double atol)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(actual[name][i] - e[i]) <= atol + rtol * Math.Abs(e[i]),
                    $"{name}[{i}]: {actual[name][i]} on the ranks, {e[i]} in one process");
    }

    [Theory]
    [InlineData("gan", 2)]       // label flips drawn for the global batch, each rank keeping its block
    [InlineData("wgan-gp", 2)]   // the gradient penalty's ε drawn likewise, five critic steps per generator step
    [InlineData("gan", 4)]
    public void Train_Ranks_EndWhereOneProcessEnds(string model, int ranks)
    {
        var single = Config(model, TestRuns.NewDir());
        var parallel = Config(model, TestRuns.NewDir());
        single.LabelFlip = parallel.LabelFlip = model == "gan" ? 0.2f : 0f;
        if (model == "wgan-gp") single.MaxSteps = parallel.MaxSteps = 2;   // ten critic steps
        parallel.SyncBatchnorm = true;   // wgan-gp's generator has batch norm; the MLP GAN has none
        var one = Train(single, 1);
        var many = Train(parallel, ranks);
        AssertClose(one, many, 1e-3, 1e-5);

        // The logged statistics are the global batch's, as one process logs them.
        static List<double> Losses(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("loss_d").GetDouble()).ToList();
        var expected = Losses(single.Out);
        var actual = Losses(parallel.Out);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i], 1e-3);
        Assert.Contains("allreduce_ms", File.ReadAllLines(Path.Combine(parallel.Out, "metrics.jsonl"))[0]);
        Assert.Contains("ranks: " + ranks, File.ReadAllText(Path.Combine(parallel.Out, "config.yaml")));
    }

    [Theory]
    [InlineData("sgd", 4, 2e-2, 0.08)]
    [InlineData("adam", 1, 0.15, 0.5)]
    public void Train_DcganWithSyncBatchNorm_EndsWhereOneProcessEnds_AndWithoutItDoesNot(string optimizer, int steps, double synchronised, double perRank)
    {
        // A GAN with batch norm turns float differences into large ones: an untrained G's fakes are nearly alike, D's
        // batch norm over them divides by their small spread, and a value next to a (Leaky)ReLU's kink or an Adam step
        // on a gradient within rounding of zero goes one way or the other. So the ranks (their per-channel sums added in
        // another order than one process's) end 1e-6 of the distance trained from one process in about half the seeds,
        // and 4e-3 to 8e-3 (4 SGD steps) or 2e-2 to 5e-2 (one Adam step) in the others, on oneDNN's blocked and
        // channels-last kernels alike (seeds 1-8; docs/distributed.md), where per-rank statistics end 0.13-0.23 and
        // 0.85-0.90 away. The bounds sit between the two, with room for other kernels' rounding.
        TrainConfig DcGan(bool sync)
        {
            var c = Config("dcgan", TestRuns.NewDir());
            (c.Optimizer, c.Lr, c.MaxSteps, c.SyncBatchnorm) = (optimizer, optimizer == "sgd" ? 0.01f : null, steps, sync);
            return c;
        }
        var (initial, one) = TrainFrom(DcGan(false), 1);
        Assert.InRange(RelativeDistance(Train(DcGan(true), 2), one, initial), 0, synchronised);

        // Per-rank statistics (the default, as DDP) normalise each half by its own mean: a different training.
        Assert.InRange(RelativeDistance(Train(DcGan(false), 2), one, initial), perRank, double.MaxValue);
    }

    [Fact]
    public void Create_BatchNotDivisibleByRanks_FailsOnEveryRank()
    {
        var config = Config("gan", TestRuns.NewDir());
        config.BatchSize = 30;
        var e = Assert.Throws<AggregateException>(() => ThreadProcessGroup.Run(4, g => TrainingSetup.Create(config, false, g)));
        // Rank 0 alone says why; the others know it failed.
        Assert.Equal("--batch-size 30 does not split evenly over 4 MPI ranks: each rank takes an equal share of the global batch (use a multiple of 4)",
            Assert.Single(e.InnerExceptions.OfType<ArgumentException>()).Message);
        Assert.Equal(3, e.InnerExceptions.OfType<PeerFailedException>().Count());
    }

    [Fact]
    public void Resume_OtherNumberOfRanks_IsRefusedNamingBoth()
    {
        var config = Config("gan", TestRuns.NewDir());
        config.MaxSteps = 2;
        Train(config, 2);
        var e = Assert.Throws<AggregateException>(() => ThreadProcessGroup.Run(4, g => TrainingSetup.Create(Config("gan", config.Out), true, g)));
        Assert.StartsWith($"--resume: the run in '{config.Out}' was trained by 2 MPI ranks and this is 4 MPI ranks; resume it with the same number (mpirun -np 2 ... --distributed mpi)",
            Assert.Single(e.InnerExceptions.OfType<ArgumentException>()).Message);
        Assert.Throws<ArgumentException>(() => TrainingSetup.Create(Config("gan", config.Out), true));   // nor in one process

        var again = ThreadProcessGroup.Run(2, g => TrainingSetup.Create(Config("gan", config.Out), true, g));
        Assert.All(again, t => Assert.Equal(2, t.Step));
        foreach (var t in again) t.Dispose();
    }

    [Fact]
    public void Create_OutputFolderHoldsARun_EveryRankFailsAndOnlyRankZeroSaysWhy()
    {
        var config = Config("gan", TestRuns.NewDir());
        config.MaxSteps = 1;
        Train(config, 1);
        var e = Assert.Throws<AggregateException>(() => ThreadProcessGroup.Run(2, g => TrainingSetup.Create(config, false, g)));
        Assert.Contains(e.InnerExceptions, x => x is IOException && x.Message.Contains("already holds a run"));
        Assert.Contains(e.InnerExceptions, x => x is PeerFailedException { FailedRank: 0 });
    }
}
