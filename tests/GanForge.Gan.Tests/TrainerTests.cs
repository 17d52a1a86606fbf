using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

public class TrainerTests
{
    /// <summary>
    /// How far generated images are from the data in simple statistics: RMS over pixels of the
    /// difference of per-pixel means, plus the difference of overall pixel standard deviations.
    /// </summary>
    internal static double StatisticDistance(Tensor fake, Tensor real)
    {
        static (double[] Mean, double Std) Stats(Tensor x)
        {
            int n = x.Size(0), d = x.Numel / n;
            var mean = new double[d];
            double sum = 0, sq = 0;
            var data = x.Data;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++) { double v = data[i * d + j]; mean[j] += v / n; sum += v; sq += v * v; }
            double m = sum / (n * d);
            return (mean, Math.Sqrt(sq / (n * d) - m * m));
        }
        var (mf, sf) = Stats(fake);
        var (mr, sr) = Stats(real);
        return Math.Sqrt(mf.Zip(mr, (a, b) => (a - b) * (a - b)).Average()) + Math.Abs(sf - sr);
    }

    internal static Tensor Samples(Trainer trainer, int n = 256)
    {
        var g = trainer.Model.Generator;
        g.Eval();
        using var _ = GradMode.NoGrad();
        var x = g.Forward(trainer.Model.SampleLatent(n, new Generator(77)));
        g.Train();
        return x;
    }

    internal static Tensor RealImages(int n)
    {
        var ds = Data.FashionMnist.LoadEmbedded();
        var x = new Tensor(n, 1, 28, 28);
        for (int i = 0; i < n; i++) ds.Get(i).Image.Data.CopyTo(x.Data.Slice(i * 784, 784));
        return x * 2f - 1f;
    }

    [Fact]
    public void Train_DcganOnFashionMnist_MovesSampleStatisticsTowardTheData()
    {
        var dir = TestRuns.NewDir();
        var config = TestRuns.Mlp(dir, limit: 2048, batch: 64, epochs: 2);
        config.Model = "dcgan";
        var trainer = TrainingSetup.Create(config, resume: false);
        var real = RealImages(2048);
        double before = StatisticDistance(Samples(trainer), real);
        trainer.Run();
        double after = StatisticDistance(Samples(trainer), real);
        // Seen: 1.187 -> 0.458 (factor 2.6) after 64 steps; require a factor of 2.
        Assert.True(after < before / 2, $"statistic distance fell from {before:F3} to {after:F3}, expected at least a factor 2");
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Train_WritesConfigMetricsSamplesAndCheckpoint()
    {
        var dir = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false).Run();
        foreach (var f in new[] { "config.yaml", "metrics.jsonl", "samples.png", "samples/epoch_001.png", "checkpoint.safetensors", "checkpoint.json", "generator.safetensors" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        var config = TrainConfig.FromYaml(File.ReadAllText(Path.Combine(dir, "config.yaml")));
        Assert.Equal("gan", config.Model);
        Assert.Equal(256, config.Limit);
        var firstLine = File.ReadLines(Path.Combine(dir, "metrics.jsonl")).First();
        foreach (var key in new[] { "\"loss_d\"", "\"loss_g\"", "\"d_real\"", "\"d_fake\"", "\"acc_real\"", "\"acc_fake\"" })
            Assert.Contains(key, firstLine);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Checkpoint_ReadKeepingTheGenerator_ReadsItAloneAsTheWholeReadHasIt()
    {
        var dir = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false).Run();
        var (all, state) = Checkpoint.Read(dir);
        var (some, sameState) = Checkpoint.Read(dir, Checkpoint.Under("generator."));
        Assert.NotEmpty(some);
        Assert.All(some.Keys, name => Assert.StartsWith("generator.", name));
        Assert.Equal(all.Keys.Where(k => k.StartsWith("generator.", StringComparison.Ordinal)), some.Keys);
        foreach (var (name, t) in some) Assert.Equal(all[name].ToArray(), t.ToArray());
        // The state lists every tensor of the file, read or not (the discriminator, the optimizers' moments, the noise).
        Assert.Equal(all.Keys, sameState.TensorShapes.Keys);
        Assert.Equal(all.Keys, state.TensorShapes.Keys);
        Assert.Empty(Checkpoint.Read(dir, Checkpoint.NoTensors).Tensors);
        // The sampler reads its generator alone and samples as one loaded from every tensor would.
        var sampler = Sampler.Load(dir);
        var whole = Checkpoint.CreateModel(dir, state, () => ModelZoo.Create(state.Model,
            new ModelSpec(state.ImageShape[0], state.ImageShape[1], state.LatentDim, state.Config.Seed, TrainingSetup.Options(state.Config))));
        Checkpoint.LoadInto(whole.Generator, all, sampler.UsesEma ? "generator_ema." : "generator.", dir, state.Model);
        whole.Generator.Eval();
        var z = Tensor.Randn([8, state.LatentDim], new Generator(3));
        using (GradMode.NoGrad())
            Assert.Equal(whole.Generator.Forward(z).ToArray(), sampler.Generator.Forward(z).ToArray());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Resume_AfterOneEpoch_GivesTheSameWeightsAsAnUninterruptedRun()
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(straight, epochs: 2), resume: false).Run();
        TrainingSetup.Create(TestRuns.Mlp(split, epochs: 1), resume: false).Run();
        TrainingSetup.Create(TestRuns.Mlp(split, epochs: 2), resume: true).Run();

        TestRuns.AssertSameCheckpoint(straight, split);
        Directory.Delete(straight, true); Directory.Delete(split, true);
    }

    [Fact]
    public void Train_NaNInTheData_StopsWithTheStepAndKeepsTheLastGoodCheckpoint()
    {
        var dir = TestRuns.NewDir();
        var config = TestRuns.Mlp(dir, epochs: 10);
        config.BatchSize = 8;
        var model = ModelZoo.Create("gan", new ModelSpec(1, 28, 100, 3));
        var data = new ScriptedBatches(Tensor.Uniform([8, 1, 28, 28], -1, 1, new Generator(1)), batchesPerEpoch: 2, poisonAfter: 5);
        var trainer = TestRuns.Trainer(config, model, data);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        Assert.Contains("step 5", e.Message);
        Assert.Contains("D loss", e.Message);
        var (_, state) = Checkpoint.Read(dir);
        Assert.Equal(2, state.Epoch);                 // written after epoch 2 (steps 1-4), untouched by the failure
        Assert.Equal(4, state.Step);
        Assert.All(SafeTensors.Load(Path.Combine(dir, Checkpoint.FileName)).Values, t => Assert.All(t.ToArray(), v => Assert.True(float.IsFinite(v))));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Create_OutputFolderHoldsARun_RefusesToOverwrite()
    {
        var dir = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false).Run();
        var before = File.ReadAllBytes(Path.Combine(dir, Checkpoint.FileName));
        var e = Assert.Throws<IOException>(() => TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false));
        Assert.Contains("already holds a run", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, Checkpoint.FileName)));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Resume_CheckpointOfAnotherModel_SaysWhichModels()
    {
        var dir = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false).Run();
        var config = TestRuns.Mlp(dir, epochs: 2);
        config.Model = "dcgan";
        var e = Assert.Throws<ArgumentException>(() => TrainingSetup.Create(config, resume: true));   // refused as a change of setting
        Assert.Contains("'model'", e.Message);
        Assert.Contains("'gan'", e.Message);
        Assert.Contains("'dcgan'", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Resume_CorruptCheckpoint_NamesTheFile()
    {
        var dir = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false).Run();
        var path = Path.Combine(dir, Checkpoint.FileName);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 2), resume: true));
        Assert.Contains(path, e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Resume_OneByteFlippedInTheCheckpointData_SaysTheCheckpointIsDamaged()
    {
        var dir = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 1), resume: false).Run();
        var path = Path.Combine(dir, Checkpoint.FileName);
        SafeTensorsFiles.FlipByte(path, (SafeTensorsFiles.DataStart(path) + (int)new FileInfo(path).Length) / 2);
        var e = Assert.Throws<InvalidDataException>(() => TrainingSetup.Create(TestRuns.Mlp(dir, epochs: 2), resume: true));
        Assert.StartsWith($"{path} is damaged: checksum mismatch", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Resume_CheckpointWithoutAChecksum_ContinuesAsAnUninterruptedRun()
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainingSetup.Create(TestRuns.Mlp(straight, epochs: 2), resume: false).Run();
        TrainingSetup.Create(TestRuns.Mlp(split, epochs: 1), resume: false).Run();
        SafeTensorsFiles.RemoveChecksum(Path.Combine(split, Checkpoint.FileName));   // a checkpoint of an older GanForge
        TrainingSetup.Create(TestRuns.Mlp(split, epochs: 2), resume: true).Run();
        TestRuns.AssertSameCheckpoint(straight, split);
        Directory.Delete(straight, true); Directory.Delete(split, true);
    }

    [Fact]
    public void PretrainAe_ReducesReconstructionError()
    {
        var dir = TestRuns.NewDir();
        var config = TestRuns.Mlp(dir, limit: 512, batch: 64, epochs: 1);
        config.PretrainAe = 3;
        var trainer = TrainingSetup.Create(config, resume: false);
        var messages = new List<string>();
        trainer.Info += messages.Add;
        config.MaxSteps = 1;
        trainer.Run();
        var mse = messages.Where(m => m.Contains("reconstruction MSE"))
                          .Select(m => double.Parse(m[(m.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, mse.Count);
        Assert.True(mse[2] < mse[0] * 0.8, $"reconstruction MSE {string.Join(" -> ", mse)}");
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("dcgan", "r1=1;r1-every=3;width=8")]     // a lazy regulariser phase every 3 steps, an EMA
    [InlineData("wgan-gp", "width=8")]                   // 5 critic steps with a gradient penalty
    [InlineData("acgan", "width=8")]                     // classes drawn from the noise stream, a class head
    [InlineData("sgan", "width=8;labels-per-class=3")]   // labelled batches drawn from the label-noise stream
    [InlineData("infogan", "width=8")]                   // codes beside z, a Q head
    public void Resume_MultiPhaseGames_GiveTheSameWeightsAsAnUninterruptedRun(string model, string options)
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainConfig Config(string dir, int epochs)
        {
            var c = TestRuns.Mlp(dir, limit: 320, batch: 32, epochs: epochs);
            c.Model = model;
            c.ImageSize = 16;
            c.Ema = 0.9f;
            foreach (var o in options.Split(';')) c.Set(o);
            return c;
        }
        try
        {
            TrainingSetup.Create(Config(straight, 4), resume: false).Run();
            TrainingSetup.Create(Config(split, 2), resume: false).Run();
            TrainingSetup.Create(Config(split, 4), resume: true).Run();
            var a = TestRuns.AssertSameCheckpoint(straight, split);
            foreach (var prefix in new[] { "generator.", "discriminator.", "generator_ema.", "optimizer_g.", "optimizer_d." })
                Assert.Contains(a.Keys, k => k.StartsWith(prefix));
            var (_, state) = Checkpoint.Read(split);
            Assert.Equal(["generator", "discriminator"], state.Networks);
            Assert.Equal(["generator"], state.EmaNetworks);
            Assert.Equal(["d", "g"], state.Optimizers.Keys.Order());
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }
}
