using System.Diagnostics;
using GanForge.Distributed;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Serialization;

namespace GanForge.Cli.Tests;

/// <summary>
/// <c>ganforge train --distributed mpi</c> under Open MPI's <c>mpirun -np 2 --oversubscribe</c> on this machine (CI
/// installs openmpi-bin and libopenmpi-dev; without them the tests that need mpirun are skipped, saying why).
/// </summary>
public sealed class DistributedCliTests : CliTestBase
{
    /// <summary>A fact skipped, with the reason, where Open MPI's mpirun or library is missing.</summary>
    public sealed class MpiFactAttribute : FactAttribute
    {
        public MpiFactAttribute()
        {
            if (Mpirun == null || !MpiProcessGroup.IsAvailable)
                Skip = "Open MPI is not installed (mpirun and libmpi.so.40: apt-get install openmpi-bin libopenmpi-dev); the MPI runs are untested here";
        }
    }

    static readonly string? Mpirun = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    static string Ganforge => Path.Combine(AppContext.BaseDirectory, "ganforge");

    /// <summary>
    /// Starts <c>mpirun --oversubscribe -np N ganforge ARGS</c>. Open MPI refuses to run as root unless told (containers,
    /// CI): OMPI_ALLOW_RUN_AS_ROOT and its confirmation say so, and are ignored for other users.
    /// </summary>
    static Process StartMpirun(int ranks, string[] args, List<string> lines, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--oversubscribe", "-np", ranks.ToString(), Ganforge, .. args]) info.ArgumentList.Add(a);
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        info.Environment["COLUMNS"] = "10000";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (lines) lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (lines) lines.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs mpirun to its end (killed after a generous limit: a hang fails the test instead of the suite).</summary>
    static (int Code, string Output) MpiRun(int ranks, params string[] args) => MpiRun(ranks, null, args);

    /// <summary>Runs mpirun to its end with more environment variables (Open MPI reads OMPI_MCA_* as --mca settings).</summary>
    static (int Code, string Output) MpiRun(int ranks, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var lines = new List<string>();
        using var process = StartMpirun(ranks, args, lines, environment);
        if (!process.WaitForExit(240_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun did not end within 240 s:\n{string.Join("\n", lines)}");
        }
        process.WaitForExit();
        lock (lines) return (process.ExitCode, Plain(string.Join("\n", lines)));
    }

    /// <summary>
    /// The text without terminal escapes: Open MPI gives each rank a pseudo-terminal, so .NET and the console library
    /// write colours and modes as they would to a terminal.
    /// </summary>
    static string Plain(string output) => System.Text.RegularExpressions.Regex.Replace(output, @"\x1b(\[[0-9;?]*[A-Za-z]|=|>)", "");

    /// <summary>Runs ganforge alone, as a child process (so --threads does not change this test process).</summary>
    static (int Code, string Output) RunAlone(params string[] args)
    {
        using var child = CliHarness.Start(args);
        int code = child.WaitForExit(240);
        return (code, child.Output);
    }

    /// <summary>The 20 steps on a global batch of 128 that both launches train.</summary>
    static string[] Steps(string model, string dir, params string[] more) =>
        ["train", "--model", model, "--limit", "2560", "--batch-size", "128", "--max-steps", "20", "--epochs", "5", "--seed", "1",
         "--threads", "1", "--log-every", "10", "--checkpoint-minutes", "0", "--out", dir, .. more];

    /// <summary>The networks' parameters of a run's checkpoint (not the optimizers', not batch-norm statistics).</summary>
    static Dictionary<string, float[]> Parameters(string dir) => SafeTensors.Load(Path.Combine(dir, Checkpoint.FileName))
        .Where(kv => !kv.Key.StartsWith("optimizer_") && kv.Key != "fixed_noise" && !kv.Key.Contains("running_") && !kv.Key.Contains("num_batches"))
        .ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

    /// <summary>The parameters a run starts from (built here, as train builds them from the seed).</summary>
    Dictionary<string, float[]> Initial(string model)
    {
        using var trainer = TrainingSetup.Create(new TrainConfig { Model = model, Limit = 256, BatchSize = 128, Seed = 1, Out = P("initial-" + model) }, resume: false);
        return trainer.Model.Networks.SelectMany(n => n.Value.StateDict().Select(kv => (Name: $"{n.Key}.{kv.Key}", Values: kv.Value.ToArray())))
            .Where(p => !p.Name.Contains("running_") && !p.Name.Contains("num_batches")).ToDictionary(p => p.Name, p => p.Values);
    }

    /// <summary>‖a - b‖ over every parameter (the EMA generator's too), relative to ‖b - initial‖ (how far training moved them).</summary>
    static double RelativeDistance(Dictionary<string, float[]> a, Dictionary<string, float[]> b, Dictionary<string, float[]> initial)
    {
        Assert.Equal(b.Keys.Order(), a.Keys.Order());
        double apart = 0, moved = 0;
        foreach (var (name, values) in b)
            for (int i = 0; i < values.Length; i++)
            {
                apart += Math.Pow(a[name][i] - values[i], 2);
                moved += Math.Pow(values[i] - Start(initial, name)[i], 2);
            }
        return Math.Sqrt(apart / moved);
    }

    /// <summary>Where a parameter started: the generator's EMA copy starts as the generator.</summary>
    static float[] Start(Dictionary<string, float[]> initial, string name) =>
        initial[name.StartsWith("generator_ema.") ? "generator." + name["generator_ema.".Length..] : name];

    [MpiFact]
    public void Train_TwoRanksMlpGan_EndsWhereOneProcessEnds_AndResumesWithTwoRanksOnly()
    {
        var (code, output) = MpiRun(2, Steps("gan", P("ranks"), "--distributed", "mpi"));
        Assert.True(code == 0, output);
        Assert.Contains("data-parallel over 2 MPI ranks (Open MPI", output);
        Assert.Single(output.Split('\n'), l => l.Contains("done"));   // rank 0 alone speaks
        var (aloneCode, aloneOutput) = RunAlone(Steps("gan", P("alone")));
        Assert.True(aloneCode == 0, aloneOutput);

        // No batch-coupled layer: the same training up to the order of float additions, which 20 steps of Adam amplify
        // to 5e-7..1.4e-3 of the distance trained, depending on the data (docs/distributed.md).
        Assert.InRange(RelativeDistance(Parameters(P("ranks")), Parameters(P("alone")), Initial("gan")), 0, 1e-2);
        var logged = File.ReadAllLines(Path.Combine(P("ranks"), "metrics.jsonl"));
        Assert.Equal(2, logged.Length);
        Assert.Contains("\"allreduce_ms\":", logged[0]);

        // Between machines the gradients travel over TCP: the same run with shared memory switched off ends byte for byte
        // where the shared-memory run ended (the sum of two ranks' buckets does not depend on the transport).
        var tcp = new Dictionary<string, string> { ["OMPI_MCA_btl"] = "self,tcp", ["OMPI_MCA_btl_tcp_if_include"] = "lo" };
        var (tcpCode, tcpOutput) = MpiRun(2, tcp, Steps("gan", P("tcp"), "--distributed", "mpi"));
        Assert.True(tcpCode == 0, tcpOutput);
        var overTcp = Parameters(P("tcp"));
        foreach (var (name, values) in Parameters(P("ranks")))
            Assert.True(values.AsSpan().SequenceEqual(overTcp[name]), $"{name} differs between the shared-memory and TCP transports");

        // The same number of ranks continues the run; another is refused, saying what to run.
        var (refused, message) = Run(["train", "--resume", "--out", P("ranks")]);
        Assert.Equal(2, refused);
        Assert.Contains("was trained by 2 MPI ranks and this is one process; resume it with the same number (mpirun -np 2 ... --distributed mpi)", message);
        var (resumed, more) = MpiRun(2, "train", "--resume", "--out", P("ranks"), "--max-steps", "25", "--distributed", "mpi");
        Assert.True(resumed == 0, more);
        Assert.Contains("Resuming", more);
        Assert.Contains("at generator step 20", more);
        Assert.Equal(25, Checkpoint.Read(P("ranks")).State.Step);
    }

    [MpiFact]
    public void Train_TwoRanksDcganWithSyncBatchNorm_EndsWhereOneProcessEnds()
    {
        var (code, output) = MpiRun(2, Steps("dcgan", P("ranks"), "--sync-batchnorm", "--distributed", "mpi"));
        Assert.True(code == 0, output);
        Assert.Contains("batch norm over the global batch", output);
        var (aloneCode, aloneOutput) = RunAlone(Steps("dcgan", P("alone")));
        Assert.True(aloneCode == 0, aloneOutput);
        // Batch norm, ReLU and Adam amplify float differences step by step: 2-3% of the distance trained after 20 steps
        // (one process on 1 thread and on 2 differs by 1.7%), where per-rank statistics give 24% (docs/distributed.md).
        Assert.InRange(RelativeDistance(Parameters(P("ranks")), Parameters(P("alone")), Initial("dcgan")), 0, 0.1);
    }

    [Fact]
    public void Train_DistributedOutsideMpirun_SaysHowToRunIt()
    {
        var (code, output) = Run("train", "--model", "gan", "--limit", "64", "--distributed", "mpi", "--out", P("run"));
        Assert.Equal(2, code);
        Assert.Contains("error: --distributed mpi: this process was not started by mpirun (neither OMPI_COMM_WORLD_SIZE nor PMI_SIZE is set); " +
            "run it as: mpirun -np N ganforge train ... --distributed mpi", output);
        Assert.False(Directory.Exists(P("run")));
    }

    [Fact]
    public void Train_UnknownDistributedMode_ListsTheKnownOnes()
    {
        var (code, output) = Run("train", "--distributed", "nccl", "--out", P("run"));
        Assert.Equal(2, code);
        Assert.Contains("Unknown --distributed 'nccl'. Known: none, mpi", output);
    }

    [MpiFact]
    public void Train_UnderMpirunWithoutDistributed_AsksForIt()
    {
        var (code, output) = MpiRun(2, "train", "--model", "gan", "--limit", "64", "--out", P("run"));
        Assert.NotEqual(0, code);
        Assert.Contains("started by mpirun (OMPI_COMM_WORLD_SIZE), but --distributed is not given", output);
        Assert.False(File.Exists(Path.Combine(P("run"), Checkpoint.FileName)));
    }

    [MpiFact]
    public void Train_BatchNotDivisibleByRanks_RankZeroAloneSaysWhy()
    {
        var (code, output) = MpiRun(2, "train", "--model", "gan", "--limit", "256", "--batch-size", "65", "--distributed", "mpi", "--out", P("run"));
        Assert.NotEqual(0, code);
        Assert.Single(output.Split('\n'), l => l.Contains("--batch-size 65 does not split evenly over 2 MPI ranks"));
        Assert.DoesNotContain("rank 1:", output);
    }

    [MpiFact]
    public void Train_RankKilled_TheOtherStopsWithAMessageAndTheCheckpointStaysValid()
    {
        var lines = new List<string>();
        using var mpirun = StartMpirun(2, ["train", "--model", "gan", "--limit", "512", "--batch-size", "64", "--epochs", "1000",
            "--threads", "1", "--log-every", "1", "--checkpoint-every", "2", "--distributed", "mpi", "--out", P("run")], lines);
        // Wait for training (a checkpoint written), then kill rank 1 as the OOM killer would.
        var until = DateTime.UtcNow.AddSeconds(120);
        while (!File.Exists(Path.Combine(P("run"), Checkpoint.FileName)) && DateTime.UtcNow < until && !mpirun.HasExited) Thread.Sleep(100);
        Assert.True(File.Exists(Path.Combine(P("run"), Checkpoint.FileName)), string.Join("\n", lines));
        int rank1 = RankProcess(mpirun.Id, 1);
        Process.GetProcessById(rank1).Kill();

        // The launcher ends the job (no hang: the limit here is generous) and names the rank that died.
        Assert.True(mpirun.WaitForExit(60_000), "mpirun did not end within 60 s of rank 1's death:\n" + string.Join("\n", lines));
        mpirun.WaitForExit();
        Assert.NotEqual(0, mpirun.ExitCode);
        string output;
        lock (lines) output = Plain(string.Join("\n", lines));
        Assert.Contains("rank 1", output);
        Assert.Contains("signal 9", output);
        // Rank 0's last checkpoint is whole (written atomically): it reads and its checksum holds.
        Assert.True(Checkpoint.Read(P("run")).State.Step >= 2);
    }

    /// <summary>The process of <paramref name="rank"/> among mpirun's children (Open MPI names it in OMPI_COMM_WORLD_RANK).</summary>
    static int RankProcess(int mpirun, int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (parent != mpirun) continue;
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environ.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return int.Parse(Path.GetFileName(dir));
            }
            catch (IOException) { }   // a process that ended meanwhile
        }
        throw new InvalidOperationException($"no child of mpirun ({mpirun}) is rank {rank}");
    }
}
