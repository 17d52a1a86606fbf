using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Optim;

namespace GanForge.Gan.Tests;

public class PhaseTests
{
    static TrainingContext Context(GanModel model, IBatchSource data) => new()
    {
        Model = model,
        OptimizerG = new Adam(model.Generator.Parameters(), 2e-4),
        OptimizerD = new Adam(model.Discriminator.Parameters(), 2e-4),
        Loss = new NonSaturatingLoss(),
        Labels = LabelOptions.Default,
        Data = data,
        Noise = new Generator(1),
        LabelNoise = new Generator(2),
    };

    static GanModel Mlp() => ModelZoo.Create("gan", new ModelSpec(1, 28, 16, Seed: 4));

    static Tensor RealBatch(int n) => Tensor.Uniform([n, 1, 28, 28], -1f, 1f, new Generator(9));

    [Fact]
    public void DiscriminatorPhase_GeneratorFrozen_OnlyDChanges()
    {
        var model = Mlp();
        var ctx = Context(model, new ScriptedBatches(RealBatch(8), 4));
        var g0 = TestRuns.Flatten(model.Generator.Parameters());
        var d0 = TestRuns.Flatten(model.Discriminator.Parameters());
        new DiscriminatorPhase(1, mixedBatch: false).Run(ctx);
        Assert.Equal(g0, TestRuns.Flatten(model.Generator.Parameters()));
        Assert.All(model.Generator.Parameters(), p => Assert.Null(p.Grad));
        Assert.NotEqual(d0, TestRuns.Flatten(model.Discriminator.Parameters()));
    }

    [Fact]
    public void GeneratorPhase_DiscriminatorFrozen_OnlyGChangesAndDGetsNoGradient()
    {
        var model = Mlp();
        var ctx = Context(model, new ScriptedBatches(RealBatch(8), 4));
        var g0 = TestRuns.Flatten(model.Generator.Parameters());
        var d0 = TestRuns.Flatten(model.Discriminator.Parameters());
        new GeneratorPhase().Run(ctx);
        Assert.Equal(d0, TestRuns.Flatten(model.Discriminator.Parameters()));
        Assert.All(model.Discriminator.Parameters(), p => Assert.Null(p.Grad));
        Assert.All(model.Discriminator.Parameters(), p => Assert.True(p.RequiresGrad));  // unfrozen again afterwards
        Assert.NotEqual(g0, TestRuns.Flatten(model.Generator.Parameters()));
    }

    [Fact]
    public void DiscriminatorPhase_K3_TakesThreeRealBatchesPerGeneratorStep()
    {
        var model = Mlp();
        var data = new ScriptedBatches(RealBatch(8), 100);
        new DiscriminatorPhase(3, mixedBatch: false).Run(Context(model, data));
        Assert.Equal(3, data.Taken);
    }

    sealed class BatchSizeSpy : Module
    {
        readonly Module _inner;
        public BatchSizeSpy(Module inner) => _inner = RegisterModule("inner", inner);
        public List<int> Seen { get; } = [];
        public override Tensor Forward(Tensor input) { Seen.Add(input.Size(0)); return _inner.Forward(input); }
    }

    [Theory]
    [InlineData(true, new[] { 16 })]
    [InlineData(false, new[] { 8, 8 })]
    public void DiscriminatorPhase_MixedBatch_ShowsDHalfRealHalfFakeAtOnce(bool mixed, int[] expected)
    {
        var m = Mlp();
        var spy = new BatchSizeSpy(m.Discriminator);
        var model = new GanModel
        {
            Name = m.Name, Generator = m.Generator, Discriminator = spy, LatentDim = m.LatentDim, LatentShape = m.LatentShape,
            ImageShape = m.ImageShape, CreateEncoder = m.CreateEncoder, CreateGenerator = m.CreateGenerator,
        };
        new DiscriminatorPhase(1, mixed).Run(Context(model, new ScriptedBatches(RealBatch(8), 4)));
        Assert.Equal(expected, spy.Seen);
    }

    [Fact]
    public void DiscriminatorPhase_RecordsStatisticsByName()
    {
        var model = Mlp();
        var ctx = Context(model, new ScriptedBatches(RealBatch(8), 4));
        new DiscriminatorPhase(1, false).Run(ctx);
        new GeneratorPhase().Run(ctx);
        var stats = ctx.Stats.Flush();
        foreach (var name in new[] { "loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake" })
            Assert.True(stats.ContainsKey(name), name);
        Assert.InRange(stats["d_real"], 0, 1);
        Assert.InRange(stats["acc_fake"], 0, 1);
    }
}
