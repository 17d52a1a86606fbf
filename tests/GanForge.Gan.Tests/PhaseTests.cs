using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

/// <summary>The generic trainer running phases: freezing by optimizer group, repeats, intervals, statistics, buffer ownership.</summary>
public class PhaseTests
{
    static GanModel Mlp() => ModelZoo.Create("gan", new ModelSpec(1, 28, 16, Seed: 4));

    static Tensor RealBatch(int n) => Tensor.Uniform([n, 1, 28, 28], -1f, 1f, new Generator(9));

    static Trainer Trainer(GanModel model, IBatchSource data, string variant = "gan", int? k = null, params string[] set)
    {
        var config = new TrainConfig { Model = variant, K = k, Out = TestRuns.NewDir() };
        foreach (var s in set) config.Set(s);
        return TestRuns.Trainer(config, model, data);
    }

    [Fact]
    public void DiscriminatorPhase_GeneratorFrozen_OnlyDChanges()
    {
        var model = Mlp();
        var trainer = Trainer(model, new ScriptedBatches(RealBatch(8), 4));
        var g0 = TestRuns.Flatten(model.Generator.Parameters());
        var d0 = TestRuns.Flatten(model.Discriminator.Parameters());
        trainer.RunPhase(trainer.Game.Phases.OfType<DiscriminatorPhase>().Single());
        Assert.Equal(g0, TestRuns.Flatten(model.Generator.Parameters()));
        Assert.All(model.Generator.Parameters(), p => Assert.Null(p.Grad));
        Assert.All(model.Generator.Parameters(), p => Assert.True(p.RequiresGrad));   // unfrozen again afterwards
        Assert.NotEqual(d0, TestRuns.Flatten(model.Discriminator.Parameters()));
    }

    [Fact]
    public void GeneratorPhase_DiscriminatorFrozen_OnlyGChangesAndDGetsNoGradient()
    {
        var model = Mlp();
        var trainer = Trainer(model, new ScriptedBatches(RealBatch(8), 4));
        var g0 = TestRuns.Flatten(model.Generator.Parameters());
        var d0 = TestRuns.Flatten(model.Discriminator.Parameters());
        trainer.RunPhase(trainer.Game.Phases.OfType<GeneratorPhase>().Single());
        Assert.Equal(d0, TestRuns.Flatten(model.Discriminator.Parameters()));
        Assert.All(model.Discriminator.Parameters(), p => Assert.Null(p.Grad));
        Assert.All(model.Discriminator.Parameters(), p => Assert.True(p.RequiresGrad));  // unfrozen again afterwards
        Assert.NotEqual(g0, TestRuns.Flatten(model.Generator.Parameters()));
    }

    [Fact]
    public void TrainStep_StepsInTheBackward_SameParametersAsBackwardThenStep()
    {
        // The trainer's phases step Adam inside the backward where they can (Optimizer.BackwardAndStep): the same
        // parameters as Backward then Step, three steps on.
        var (fusedModel, plainModel) = (Mlp(), Mlp());
        var fused = Trainer(fusedModel, new ScriptedBatches(RealBatch(8), 10));
        var plain = Trainer(plainModel, new ScriptedBatches(RealBatch(8), 10));
        bool before = GanForge.Optim.Optimizer.FusesSteps;
        try
        {
            GanForge.Optim.Optimizer.FusesSteps = true;
            for (int i = 0; i < 3; i++) fused.TrainStep();
            GanForge.Optim.Optimizer.FusesSteps = false;
            for (int i = 0; i < 3; i++) plain.TrainStep();
        }
        finally { GanForge.Optim.Optimizer.FusesSteps = before; }
        var (f, p) = (fusedModel.Generator.Parameters().Concat(fusedModel.Discriminator.Parameters()).ToList(),
            plainModel.Generator.Parameters().Concat(plainModel.Discriminator.Parameters()).ToList());
        for (int i = 0; i < f.Count; i++) Fixtures.AssertClose(p[i], f[i], 1e-6, 1e-8, $"parameter {i}");
        // where the fused kernel runs (the AVX-512 GEMM, fp32), G's first weight took its step in the product: it has no gradient
        Assert.Equal(Kernels.Gemm.FusesAdam, fusedModel.Generator.Parameters().First().Grad == null);
        Assert.NotNull(plainModel.Generator.Parameters().First().Grad);
    }

    [Fact]
    public void Freezing_ParameterTheUserFroze_StaysFrozen()
    {
        var model = Mlp();
        var trainer = Trainer(model, new ScriptedBatches(RealBatch(8), 4));
        var userFrozen = model.Discriminator.Parameters().First();
        userFrozen.RequiresGrad = false;
        trainer.TrainStep();
        Assert.False(userFrozen.RequiresGrad);
        Assert.All(model.Discriminator.Parameters().Skip(1), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void DiscriminatorPhase_K3_TakesThreeRealBatchesPerGeneratorStep()
    {
        var data = new ScriptedBatches(RealBatch(8), 100);
        var trainer = Trainer(Mlp(), data, k: 3);
        trainer.TrainStep();
        Assert.Equal(3, data.Taken);
        Assert.Equal(1, trainer.Step);
    }

    sealed class BatchSizeSpy : Module
    {
        readonly Module _inner;
        public BatchSizeSpy(Module inner) => _inner = RegisterModule("inner", inner);
        public List<int> Seen { get; } = [];
        public override Tensor Forward(Tensor input) { Seen.Add(input.Size(0)); return _inner.Forward(input); }
    }

    [Theory]
    [InlineData("mixed", new[] { 16 })]
    [InlineData("separate", new[] { 8, 8 })]
    public void DiscriminatorPhase_MixedBatch_ShowsDHalfRealHalfFakeAtOnce(string dBatch, int[] expected)
    {
        var m = Mlp();
        var spy = new BatchSizeSpy(m.Discriminator);
        var model = new GanModel
        {
            Name = m.Name, Networks = [new(GanModel.GeneratorName, m.Generator), new(GanModel.DiscriminatorName, spy)],
            CreateNetwork = m.CreateNetwork, LatentDim = m.LatentDim, LatentShape = m.LatentShape, ImageShape = m.ImageShape,
        };
        var config = new TrainConfig { Model = "gan", DBatch = dBatch, Out = TestRuns.NewDir() };
        var trainer = TestRuns.Trainer(config, model, new ScriptedBatches(RealBatch(8), 4));
        trainer.RunPhase(trainer.Game.Phases.OfType<DiscriminatorPhase>().Single());
        Assert.Equal(expected, spy.Seen);
    }

    [Fact]
    public void TrainStep_RecordsStatisticsByTheirRegisteredNames()
    {
        var trainer = Trainer(Mlp(), new ScriptedBatches(RealBatch(8), 4));
        var ctx = StepContextOf(trainer);
        trainer.TrainStep();
        var stats = ctx.Stats.Flush();
        foreach (var stat in new[] { Stats.LossD, Stats.LossG, Stats.DReal, Stats.DFake, Stats.AccReal, Stats.AccFake })
            Assert.True(stats.ContainsKey(stat.Name), stat.Name);
        Assert.All(stats.Keys, k => Assert.NotNull(Stats.Find(k)));
        Assert.InRange(stats[Stats.DReal.Name], 0, 1);
        Assert.InRange(stats[Stats.AccFake.Name], 0, 1);
        Assert.False(stats.ContainsKey(Stats.Wasserstein.Name));
    }

    [Fact]
    public void TrainStep_Critic_ReportsTheWassersteinEstimateAndPenaltyInsteadOfAccuracy()
    {
        var model = ModelZoo.Create("wgan-gp", new ModelSpec(1, 28, 16, Seed: 4));
        var trainer = Trainer(model, new ScriptedBatches(RealBatch(8), 100), "wgan-gp");
        var ctx = StepContextOf(trainer);
        trainer.TrainStep();
        var stats = ctx.Stats.Flush();
        Assert.Contains(Stats.Wasserstein.Name, stats.Keys);
        Assert.Contains(Stats.GradientPenalty.Name, stats.Keys);
        Assert.Contains(Stats.GradientNorm.Name, stats.Keys);
        Assert.DoesNotContain(Stats.AccReal.Name, stats.Keys);
        Assert.Equal(stats[Stats.DReal.Name] - stats[Stats.DFake.Name], stats[Stats.Wasserstein.Name], 1e-6);
    }

    /// <summary>Counts its runs and returns a loss of 1 times a parameter's sum, so the trainer's scaling is visible in the gradient.</summary>
    sealed class CountingPhase(int every, bool keepsGradients = false) : Phase
    {
        public List<long> Steps { get; } = [];
        public Tensor? KeptGradient { get; private set; }
        public float[]? KeptGradientCopy { get; private set; }
        public override string Name => "count";
        public override string Optimizer => "d";
        public override int Every => every;
        public override bool KeepsGradients => keepsGradients;
        public override Tensor Loss(StepContext ctx)
        {
            Steps.Add(ctx.Step);
            return ctx.Model.Discriminator.Parameters().First().Sum();
        }
        public override void AfterStep(StepContext ctx)
        {
            KeptGradient = ctx.Model.Discriminator.Parameters().First().Grad;
            KeptGradientCopy = KeptGradient!.ToArray();
        }
    }

    static Trainer WithPhases(GanModel model, IBatchSource data, params Phase[] phases)
    {
        var config = new TrainConfig { Model = "gan", Out = TestRuns.NewDir() }.Resolve();
        var game = TrainingSetup.CreateGame(config, model);
        var custom = new Game { Model = model, Loss = game.Loss, Optimizers = game.Optimizers, Phases = [.. game.Phases, .. phases] };
        return new Trainer(config, custom, data);
    }

    [Fact]
    public void Phase_Every4_RunsOnSteps0_4_8_AndItsLossIsScaledBy4()
    {
        var model = Mlp();
        var phase = new CountingPhase(every: 4);
        var trainer = WithPhases(model, new ScriptedBatches(RealBatch(8), 100), phase);
        for (int i = 0; i < 9; i++) trainer.TrainStep();
        Assert.Equal([0L, 4L, 8L], phase.Steps);
        // d(4·sum(w))/dw = 4 for every element.
        Assert.All(phase.KeptGradientCopy!, g => Assert.Equal(4f, g, 1e-5));
    }

    [Fact]
    public void LazyRegularisation_CorrectsTheGroupsLearningRateAndBetas()
    {
        var model = ModelZoo.Create("dcgan", new ModelSpec(1, 28, 16));
        var trainer = Trainer(model, new ScriptedBatches(Tensor.Uniform([8, 1, 28, 28], -1, 1, new Generator(1)), 4), "dcgan", null, "r1=10", "r1-every=16");
        Assert.Contains(trainer.Game.Phases, p => p is LazyR1Phase { Every: 16 });
        double c = 16.0 / 17;
        var d = trainer.Optimizers["d"];
        Assert.Equal(2e-4 * c, d.ParamGroups[0].Lr, 1e-9);
        Assert.Equal(2e-4, trainer.Optimizers["g"].ParamGroups[0].Lr, 1e-9);
    }

    [Fact]
    public void Recycling_PhaseThatKeepsItsGradient_FindsItUnchangedAfterLaterPhases()
    {
        var model = Mlp();
        var keeper = new CountingPhase(every: 1, keepsGradients: true);
        var trainer = WithPhases(model, new ScriptedBatches(RealBatch(8), 100), keeper);
        trainer.TrainStep();
        var kept = keeper.KeptGradient!;
        var copy = keeper.KeptGradientCopy!;
        for (int i = 0; i < 3; i++)
        {
            // The next step's D phase zeroes the group's gradients: the kept tensor must not be handed to another backward.
            trainer.RunPhase(trainer.Game.Phases.OfType<DiscriminatorPhase>().Single());
            trainer.RunPhase(trainer.Game.Phases.OfType<GeneratorPhase>().Single());
        }
        Assert.Equal(copy, kept.ToArray());
    }

    [Fact]
    public void Recycling_SamplesAndBatchesThePhasesKeep_AreNeverReused()
    {
        var model = ModelZoo.Create("dcgan", new ModelSpec(1, 28, 16, Seed: 4));
        var trainer = Trainer(model, new ScriptedBatches(RealBatch(64), 100), "dcgan");
        var ctx = StepContextOf(trainer);
        trainer.TrainStep();
        var fake = ctx.LastFake!;
        var fakeCopy = fake.ToArray();
        var real = ctx.LastReal!.Images;
        var realCopy = real.ToArray();
        for (int i = 0; i < 3; i++) trainer.TrainStep();
        Assert.Equal(fakeCopy, fake.ToArray());
        Assert.Equal(realCopy, real.ToArray());
    }

    [Fact]
    public void WeightClipping_AfterEveryCriticStep_KeepsEveryCriticWeightWithinC()
    {
        var model = ModelZoo.Create("wgan", new ModelSpec(1, 28, 16, Seed: 4));
        var trainer = Trainer(model, new ScriptedBatches(RealBatch(8), 100), "wgan");
        trainer.TrainStep();
        Assert.All(model.Discriminator.Parameters(), p => Assert.All(p.ToArray(), v => Assert.InRange(v, -0.01f, 0.01f)));
        Assert.Contains(model.Generator.Parameters(), p => p.ToArray().Any(v => Math.Abs(v) > 0.01f));
    }

    internal static StepContext StepContextOf(Trainer trainer) =>
        (StepContext)typeof(Trainer).GetField("_ctx", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(trainer)!;

    [Fact]
    public void DiscriminatorPhase_SampleWiseDPoolPoisonedEveryStep_SameWeightsAsPoolOff()
    {
        // The MLP GAN's D is sample-wise, so D runs once over real and fake; the phase gives the concatenation's
        // buffer back to the pool after the step. Poisoning the pool after every step shows that no live tensor
        // was handed back.
        Assert.True(Mlp().Discriminator.IsSampleWise());
        float[] Train(bool pool) => NN.Tests.PoolHarness.WithPool(pool, () =>
        {
            var model = Mlp();
            var trainer = Trainer(model, new ScriptedBatches(RealBatch(64), 4));
            for (int i = 0; i < 3; i++)
            {
                trainer.TrainStep();
                NN.Tests.PoolHarness.PoisonPool();
            }
            return TestRuns.Flatten(model.Generator.Parameters().Concat(model.Discriminator.Parameters()));
        });
        var off = Train(pool: false);
        var on = Train(pool: true);
        Assert.All(on, v => Assert.True(float.IsFinite(v)));
        Fixtures.AssertClose(Tensor.FromArray(off), Tensor.FromArray(on), 1e-6, 1e-7, "weights after three steps, pool on vs off");
    }
}
