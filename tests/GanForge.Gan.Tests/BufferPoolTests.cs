using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

/// <summary>The buffer pool is process-wide: these tests switch it on and off, so nothing may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWidePool
{
    public const string Name = "process-wide buffer pool";
}

/// <summary>
/// The zoo's networks and the penalties give their intermediates back to the engine's pool: StyleGAN's layers
/// (<c>Module.Release</c>) after the backward with a graph and at once without one, a gradient penalty's pass of the
/// critic after its step (<see cref="GradientPenalty.ReleasePass"/>). A buffer given back while still in use is
/// overwritten by the next tensor of its size, so the same seeded work runs with the pool off and on, the pool
/// poisoned with NaN after every pass or step, and must agree bit for bit.
/// </summary>
[Collection(ProcessWidePool.Name)]
public class BufferPoolTests
{
    const int Batch = 8, Latent = 16;

    /// <summary>
    /// StyleGAN at 32 pixels, 8 channels at 32 and 16 at 16 and below: a 32-pixel map of a batch of 8 is 64K floats,
    /// above the pool's threshold.
    /// </summary>
    static GanModel StyleGan() => Zoo("stylegan", new() { ["width"] = "8", ["w-dim"] = "16", ["mapping-layers"] = "2" });

    /// <summary>TransGAN at 32 pixels (8 x 8 tokens 32 wide, then 16 x 16 of 8 and 32 x 32 of 2 in 8 x 8 windows): 64K-float activations.</summary>
    static GanModel TransGan() => Zoo("transgan", new() { ["width"] = "32", ["heads"] = "2", ["d-width"] = "32", ["d-depth"] = "1" });

    static GanModel Zoo(string variant, Dictionary<string, string> given) =>
        ModelZoo.Create(variant, new ModelSpec(1, 32, Latent, 5, ModelOptions.Resolve(variant, ModelZoo.Get(variant).Options, given)));

    sealed record Passes(float[][] Results, long AfterSampling, long AfterBackward);

    /// <summary>
    /// A sampling pass of G without a graph (as the D phase makes its fakes), D's backward on those fakes, then G's
    /// backward through D (the G phase); the pool poisoned after each. Returns the images, D's output, every gradient
    /// and what the pool held after the sampling pass and after the last backward.
    /// </summary>
    static Passes Run(Func<GanModel> create, bool pool)
    {
        long saved = StoragePool.MaxBytes;
        StoragePool.Clear();
        StoragePool.MaxBytes = pool ? 1L << 30 : 0;
        try
        {
            var model = create();
            var (g, d) = (model.Generator, model.Discriminator);
            var rng = new Generator(11);
            Tensor sampled;
            using (GradMode.NoGrad()) sampled = g.Forward(Tensor.Randn([Batch, Latent], rng));
            long afterSampling = StoragePool.Bytes;
            Poison();
            var scores = d.Forward(sampled);
            scores.Sum().Backward();
            Poison();
            var fake = g.Forward(Tensor.Randn([Batch, Latent], rng));
            (d.Forward(fake) * -1f).Sum().Backward();
            long afterBackward = StoragePool.Bytes;
            Poison();
            var grads = g.Parameters().Concat(d.Parameters()).Select(p => p.Grad ?? Tensor.Zeros(p.Shape));
            float[][] results = [sampled.ToArray(), scores.ToArray(), fake.ToArray(), .. grads.Select(t => t.ToArray())];
            return new Passes(results, afterSampling, afterBackward);
        }
        finally { StoragePool.MaxBytes = saved; StoragePool.Clear(); }
    }

    static void Poison() => StoragePool.ForEachPooled(buffer => buffer.AsSpan().Fill(float.NaN));

    static void AssertBitIdentical(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            for (int j = 0; j < expected[i].Length; j++)
                if (BitConverter.SingleToInt32Bits(expected[i][j]) != BitConverter.SingleToInt32Bits(actual[i][j]))
                    Assert.Fail($"result {i} element {j} is {actual[i][j]} with the pool, {expected[i][j]} without");
    }

    const long Map = Batch * 8 * 32 * 32 * sizeof(float);   // 256 KB

    [Fact]
    public void StyleGan_IntermediatesBackToThePool_SameImagesAndGradientsAsPoolOff()
    {
        var off = Run(StyleGan, pool: false);
        var on = Run(StyleGan, pool: true);
        AssertBitIdentical(off.Results, on.Results);
        // What came back, in 256 KB maps (8 x 8 x 32 x 32 floats): without a graph, G's modulated inputs, convolutions
        // and epilogues at once (measured 8.5 maps); after the backward, G's and D's (35). Before the networks
        // released their intermediates, the sampling pass gave back nothing and the backward 17.25 (Sequential's).
        Assert.True(on.AfterSampling >= 3 * Map, $"the sampling pass gave back {on.AfterSampling} bytes");
        Assert.True(on.AfterBackward >= 28 * Map, $"the backward gave back {on.AfterBackward} bytes");
    }

    [Fact]
    public void TransGan_IntermediatesBackToThePool_SameImagesAndGradientsAsPoolOff()
    {
        var off = Run(TransGan, pool: false);
        var on = Run(TransGan, pool: true);
        AssertBitIdentical(off.Results, on.Results);
        // Measured 4 maps after sampling and 32.4 after the backward; 3 and 27.9 before the blocks, stages and D
        // released their tensors and a reshaped intermediate passed its mark to the tensor it views.
        Assert.True(on.AfterSampling >= 4 * Map, $"the sampling pass gave back {on.AfterSampling} bytes");
        Assert.True(on.AfterBackward >= 31 * Map, $"the backward gave back {on.AfterBackward} bytes");
    }

    [Fact]
    public void CycleGanGenerator_ResidualBlocksBackToThePool_SameImagesAndGradientsAsPoolOff()
    {
        // Two residual blocks at 8 x 8 x 32 channels x 16 images (32K floats): each block's branch and output, and
        // the instance norms' buffers behind their reshaped outputs, come back.
        (float[][] Results, long AfterSampling, long AfterBackward) Run(bool pool)
        {
            long saved = StoragePool.MaxBytes;
            StoragePool.Clear();
            StoragePool.MaxBytes = pool ? 1L << 30 : 0;
            try
            {
                var rng = new Generator(13);
                var g = new ResnetGenerator(3, 3, 8, 2, rng);
                Tensor sampled;
                using (GradMode.NoGrad()) sampled = g.Forward(Tensor.Randn([16, 3, 32, 32], rng));
                long afterSampling = StoragePool.Bytes;
                Poison();
                var output = g.Forward(Tensor.Randn([16, 3, 32, 32], rng));
                (output * Tensor.Randn(output.Shape, rng)).Sum().Backward();
                long afterBackward = StoragePool.Bytes;
                Poison();
                return ([sampled.ToArray(), output.ToArray(), .. g.Parameters().Select(p => p.Grad!.ToArray())], afterSampling, afterBackward);
            }
            finally { StoragePool.MaxBytes = saved; StoragePool.Clear(); }
        }
        var off = Run(pool: false);
        var on = Run(pool: true);
        AssertBitIdentical(off.Results, on.Results);
        // Measured 12.9 maps after sampling and 43.8 after the backward; 11.4 and 34.3 before (blocks left their
        // outputs and the instance norms' buffers to the GC).
        Assert.True(on.AfterSampling >= 12.5 * Map, $"the sampling pass gave back {on.AfterSampling} bytes");
        Assert.True(on.AfterBackward >= 40 * Map, $"the backward gave back {on.AfterBackward} bytes");
    }

    /// <summary>
    /// WGAN-GP (DCGAN networks at 28 pixels, five critic steps a step) trained three steps, the pool poisoned after each
    /// step: the gradient penalty's gradient graph and its pass of the critic go back to the pool (the first by the
    /// backward, the second by <see cref="GradientPenalty.ReleasePass"/> after the critic's step), and the weights
    /// must be those of the pool off.
    /// </summary>
    static float[] TrainWganGp(bool pool)
    {
        long saved = StoragePool.MaxBytes;
        StoragePool.Clear();
        StoragePool.MaxBytes = pool ? 1L << 30 : 0;
        try
        {
            var model = ModelZoo.Create("wgan-gp", new ModelSpec(1, 28, 16, Seed: 4));
            var config = new TrainConfig { Model = "wgan-gp", Out = TestRuns.NewDir() };
            var trainer = TestRuns.Trainer(config, model, new ScriptedBatches(Tensor.Uniform([16, 1, 28, 28], -1f, 1f, new Generator(9)), 8));
            for (int i = 0; i < 3; i++)
            {
                trainer.TrainStep();
                Poison();
            }
            return TestRuns.Flatten(model.Generator.Parameters().Concat(model.Discriminator.Parameters()));
        }
        finally { StoragePool.MaxBytes = saved; StoragePool.Clear(); }
    }

    [Fact]
    public void WganGp_PenaltyGraphsBackToThePool_SameWeightsAsPoolOff()
    {
        var off = TrainWganGp(pool: false);
        var on = TrainWganGp(pool: true);
        Assert.All(on, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(off, on);
    }

    [Fact]
    public void GradientPenalty_ReleasePass_GivesTheCriticsActivationsBack()
    {
        // A critic of two 3x3 convolutions with leaky ReLUs at 32 x 32 pixels: its activations (8 x 16 x 32 x 32 floats,
        // 512 KB each) are read by the gradient's graph, so no backward frees them; ReleasePass does, once it has run.
        var gen = new Generator(3);
        var critic = new Sequential(new Conv2d(3, 16, 3, padding: 1, generator: gen), new LeakyReLU(0.2f),
            new Conv2d(16, 16, 3, padding: 1, generator: gen), new LeakyReLU(0.2f), new Flatten(), new Linear(16 * 32 * 32, 1, generator: gen));
        var penalty = new GradientPenalty();
        long saved = StoragePool.MaxBytes;
        StoragePool.Clear();
        StoragePool.MaxBytes = 1L << 30;
        try
        {
            var real = Tensor.Randn([8, 3, 32, 32], gen);
            var fake = Tensor.Randn([8, 3, 32, 32], gen);
            penalty.Compute(critic, real, fake, gen).Backward();
            long afterBackward = StoragePool.Bytes;
            penalty.ReleasePass();
            long released = StoragePool.Bytes - afterBackward;
            const long activation = 8 * 16 * 32 * 32 * sizeof(float);
            // Both convolutions' outputs and both leaky ReLUs' (Sequential marks each layer output a pure layer reads).
            Assert.True(released >= 4 * activation, $"ReleasePass gave back {released} bytes");
            penalty.ReleasePass();                                                  // once only: nothing more
            Assert.Equal(afterBackward + released, StoragePool.Bytes);
        }
        finally { StoragePool.MaxBytes = saved; StoragePool.Clear(); }
    }
}
