using GanForge.Gan.Augment;
using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.NN.Tests;

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
/// poisoned with NaN after every pass or step, and must agree (to 1e-6: the same operations, but a recycled buffer may
/// lie otherwise aligned than a fresh one, and a vector kernel may then sum in another order).
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

    static GanModel Zoo(string variant, Dictionary<string, string> given, int channels = 1, int size = 32) =>
        ModelZoo.Create(variant, new ModelSpec(channels, size, Latent, 5, ModelOptions.Resolve(variant, ModelZoo.Get(variant).Options, given)));

    sealed record Passes(float[][] Results, long AfterSampling, long AfterBackward);

    /// <summary>
    /// A sampling pass of G without a graph (as the D phase makes its fakes), D's backward on those fakes, then G's
    /// backward through D (the G phase); the pool poisoned after each. Returns the images, D's output, every gradient
    /// and what the pool held after the sampling pass and after the last backward.
    /// </summary>
    static Passes Run(Func<GanModel> create, bool pool) => PoolHarness.WithPool(pool, () =>
    {
        var model = create();
        var (g, d) = (model.Generator, model.Discriminator);
        var rng = new Generator(11);
        Tensor sampled;
        using (GradMode.NoGrad()) sampled = g.Forward(Tensor.Randn([Batch, Latent], rng));
        long afterSampling = StoragePool.Bytes;
        PoolHarness.PoisonPool();
        var scores = d.Forward(sampled);
        scores.Sum().Backward();
        PoolHarness.PoisonPool();
        var fake = g.Forward(Tensor.Randn([Batch, Latent], rng));
        (d.Forward(fake) * -1f).Sum().Backward();
        long afterBackward = StoragePool.Bytes;
        PoolHarness.PoisonPool();
        var grads = g.Parameters().Concat(d.Parameters()).Select(p => p.Grad ?? Tensor.Zeros(p.Shape));
        float[][] results = [sampled.ToArray(), scores.ToArray(), fake.ToArray(), .. grads.Select(t => t.ToArray())];
        return new Passes(results, afterSampling, afterBackward);
    });

    /// <summary>Every result with the pool as without it, to 1e-6 (a poisoned or overwritten buffer is off by far more).</summary>
    static void AssertSame(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Fixtures.AssertClose(Tensor.FromArray(expected[i]), Tensor.FromArray(actual[i]), 1e-6, 1e-6, $"{what}: result {i} with the pool on");
    }

    const long Map = Batch * 8 * 32 * 32 * sizeof(float);   // 256 KB

    // What came back, in 256 KB maps (8 x 8 x 32 x 32 floats), and what the build before these releases gave back.
    // StyleGAN: without a graph its modulated inputs, convolutions and epilogues at once (measured 8.5 maps, before 0);
    // after the backward G's and D's (35, before 17.25, Sequential's alone). TransGAN: 4 and 32.4 (before 3 and 27.9:
    // its blocks, stages and D released nothing, and a reshaped intermediate did not pass its mark on).
    [Theory]
    [InlineData("stylegan", 3, 28)]
    [InlineData("transgan", 4, 31)]
    public void ZooNetworks_IntermediatesBackToThePool_SameImagesAndGradientsAsPoolOff(string variant, int sampledMaps, int backwardMaps)
    {
        Func<GanModel> create = variant == "stylegan" ? StyleGan : TransGan;
        var off = Run(create, pool: false);
        var on = Run(create, pool: true);
        AssertSame(off.Results, on.Results, variant);
        Assert.True(on.AfterSampling >= sampledMaps * Map, $"{variant}: the sampling pass gave back {on.AfterSampling} bytes");
        Assert.True(on.AfterBackward >= backwardMaps * Map, $"{variant}: the backward gave back {on.AfterBackward} bytes");
    }

    [Fact]
    public void CycleGanGenerator_ResidualBlocksBackToThePool_SameImagesAndGradientsAsPoolOff()
    {
        // Two residual blocks at 8 x 8 x 32 channels x 16 images (32K floats): each block's branch and output, and
        // the instance norms' buffers behind their reshaped outputs, come back. Sampling runs each instance norm and
        // the ReLU after it in one pass in place (Sequential.FuseNormActivation) unless fuse is false.
        (float[][] Results, long AfterSampling, long AfterBackward) Run(bool pool, bool fuse = true) => PoolHarness.WithPool(pool, () =>
        {
            bool saved = Sequential.FuseNormActivation;
            Sequential.FuseNormActivation = fuse;
            try { return Work(); }
            finally { Sequential.FuseNormActivation = saved; }
        });
        (float[][] Results, long AfterSampling, long AfterBackward) Work()
        {
            var rng = new Generator(13);
            var g = new ResnetGenerator(3, 3, 8, 2, rng);
            Tensor sampled;
            using (GradMode.NoGrad()) sampled = g.Forward(Tensor.Randn([16, 3, 32, 32], rng));
            long afterSampling = StoragePool.Bytes;
            PoolHarness.PoisonPool();
            var output = g.Forward(Tensor.Randn([16, 3, 32, 32], rng));
            (output * Tensor.Randn(output.Shape, rng)).Sum().Backward();
            long afterBackward = StoragePool.Bytes;
            PoolHarness.PoisonPool();
            return ((float[][])[sampled.ToArray(), output.ToArray(), .. g.Parameters().Select(p => p.Grad!.ToArray())], afterSampling, afterBackward);
        }
        var off = Run(pool: false);
        var on = Run(pool: true);
        var twoPasses = Run(pool: true, fuse: false);
        AssertSame(off.Results, on.Results, "cyclegan G");
        AssertSame(off.Results, twoPasses.Results, "cyclegan G, norm and ReLU apart");
        // Measured 12.9 maps after sampling with the norm and ReLU apart and 43.8 after the backward; 11.4 and 34.3
        // before that (blocks left their outputs and the instance norms' buffers to the GC). With them in one pass in
        // place, 9.9 maps after sampling: the norms' outputs are never made. In training they are one function too
        // (the sixty-first pass): 36.3 maps after the backward, the seven pairs' ReLU outputs never made. Since the
        // sixty-third pass sampling runs the RGB layer on its input padded by reflection as one op
        // (Sequential.FuseReflectPadConv): the padded map (2.8 maps) is never made either, 10.1 and 7.1 maps after sampling.
        Assert.True(twoPasses.AfterSampling >= 9.8 * Map, $"the sampling pass, norm and ReLU apart, gave back {twoPasses.AfterSampling} bytes");
        Assert.True(on.AfterSampling >= 6.8 * Map, $"the sampling pass gave back {on.AfterSampling} bytes");
        Assert.True(twoPasses.AfterBackward >= 40 * Map, $"the backward, norm and ReLU apart, gave back {twoPasses.AfterBackward} bytes");
        Assert.True(on.AfterBackward >= 34 * Map, $"the backward gave back {on.AfterBackward} bytes");
    }

    /// <summary>
    /// Generation in eval mode without a graph, as sampling and the bench's generation run it, at 64 images: once the first
    /// call has filled the pool, a second takes every poolable buffer from it (fresh ones cost a page fault per 4 KB). Before
    /// the sixty-second pass StyleGAN's eval path left w, ws and the unclamped images to the GC (292 KB here) and its
    /// pixel norm x². Instance norm's statistics, which it allocated apart from the pool, are NormStatisticsPoolTests'.
    /// </summary>
    [Theory, InlineData("stylegan"), InlineData("stylegan-truncated"), InlineData("cyclegan")]
    public void EvalGeneration_SecondCall_TakesEveryBufferFromThePool(string variant) => PoolHarness.WithPool(on: true, () =>
    {
        var rng = new Generator(17);
        Module g = variant == "cyclegan" ? new ResnetGenerator(3, 3, 8, 2, rng) : StyleGan().Generator;
        // At ψ below 1 the truncation's two intermediates (w - w_avg, and that times ψ) go back too (the sixty-third pass).
        if (variant == "stylegan-truncated") ((StyleGenerator)g).Truncation = 0.7f;
        g.Eval();
        using var _ = GradMode.NoGrad();
        Tensor Input() => variant == "cyclegan" ? Tensor.Randn([64, 3, 32, 32], new Generator(5)) : Tensor.Randn([64, Latent], new Generator(5));
        var input = Input();
        var first = g.Forward(input);
        var expected = Tensor.FromArray(first.ToArray()).Reshape(first.ShapeSpan);
        first.ReturnToPool();
        input.ReturnToPool();
        long before = StoragePool.MissedBytes;
        var second = g.Forward(Input());
        long missed = StoragePool.MissedBytes - before;
        Assert.True(missed == 0, $"{variant}: the second call allocated {missed} bytes of buffers the pool could have given");
        Fixtures.AssertClose(expected, second, 1e-6, 1e-6, $"{variant}: the second call's images");
        return 0;
    });

    /// <summary>
    /// CycleGAN's history of generated images gives back the images it shows but no longer keeps (displaced ones, and
    /// new ones shown without a place), each once, never one it keeps: with the pool poisoned after every query, the same
    /// batches as with the pool off, and a returned image at least once.
    /// </summary>
    [Fact]
    public void ImagePool_ImagesItNoLongerKeeps_BackToThePool_SameBatchesAsPoolOff()
    {
        (float[][] Shown, long MostReturned) Queries(bool pool) => PoolHarness.WithPool(pool, () =>
        {
            var history = new ImagePool("pool_b", 3);
            var rng = new Generator(3);
            var shown = new List<float[]>();
            long most = 0;
            for (int q = 0; q < 30; q++)
            {
                var batch = Tensor.Full([4, 3, 32, 32], q) + Tensor.Randn([4, 3, 32, 32], new Generator((ulong)q));   // 3K floats an image
                shown.Add(history.Query(batch, rng).ToArray());
                most = Math.Max(most, StoragePool.Bytes);
                PoolHarness.PoisonPool();
            }
            return (shown.ToArray(), most);
        });
        var (off, on) = (Queries(pool: false), Queries(pool: true));
        AssertSame(off.Shown, on.Shown, "image pool");
        Assert.True(on.MostReturned >= 3 * 32 * 32 * sizeof(float), $"the history gave back at most {on.MostReturned} bytes");
    }

    /// <summary>
    /// WGAN-GP (DCGAN networks at 28 pixels, five critic steps a step) trained three steps, the pool poisoned after each
    /// step: the gradient penalty's gradient graph and its pass of the critic go back to the pool (the first by the
    /// backward, the second by <see cref="GradientPenalty.ReleasePass"/> after the critic's step), and the weights
    /// must be those of the pool off.
    /// </summary>
    static float[] TrainWganGp(bool pool) => PoolHarness.WithPool(pool, () =>
    {
        var model = ModelZoo.Create("wgan-gp", new ModelSpec(1, 28, 16, Seed: 4));
        var config = new TrainConfig { Model = "wgan-gp", Out = TestRuns.NewDir() };
        var trainer = TestRuns.Trainer(config, model, new ScriptedBatches(Tensor.Uniform([16, 1, 28, 28], -1f, 1f, new Generator(9)), 8));
        for (int i = 0; i < 3; i++)
        {
            trainer.TrainStep();
            PoolHarness.PoisonPool();
        }
        return TestRuns.Flatten(model.Generator.Parameters().Concat(model.Discriminator.Parameters()));
    });

    /// <summary>
    /// TransGAN's own game (WGAN-GP, DiffAugment in both updates) five steps, the pool poisoned after each: the same
    /// weights as the pool off, and the last step takes what it needs of the batch's size from the pool. The augmented
    /// batches of both updates, the means colour takes over one channel, the interpolates' gradient the penalty leaves
    /// on its leaf, the attention statistics its double backward keeps and the zeros a gather's backward scattered into
    /// were each a fresh buffer every step (a page fault per 4 kB on first touch).
    /// </summary>
    [Fact]
    public void TransGan_TrainingSteps_TakeTheirBatchSizedBuffersFromThePool_SameWeightsAsPoolOff()
    {
        (float[] Weights, long Allocated) Train(bool pool) =>
            TrainSteps(pool, TransGan, "transgan", 16, new ScriptedBatches(Tensor.Uniform([16, 1, 32, 32], -1f, 1f, new Generator(9)), 8));
        var off = Train(pool: false);
        var on = Train(pool: true);
        Assert.All(on.Weights, v => Assert.True(float.IsFinite(v)));
        AssertSame([off.Weights], [on.Weights], "transgan weights after five steps");
        const long batch = 16 * 32 * 32 * sizeof(float);   // 64 KB
        // Measured 8.6 batches (566 KB; 1,035 with the pool off) since the pool takes buffers from 1K floats: 20.1-20.2
        // with its threshold at 16K floats, where the rest was buffers below it (row statistics, masks of one channel,
        // weights of the small layers), and 30.1 before these releases (22.1 with the D update's augmented batches alone
        // left to the GC).
        Assert.True(on.Allocated < 10 * batch, $"steps 3-5 allocated at least {on.Allocated} bytes ({on.Allocated / (double)batch:F1} batches; {off.Allocated / (double)batch:F1} with the pool off)");
    }

    /// <summary>
    /// Trains <paramref name="steps"/> steps of a variant's own game with the pool off or on, the pool poisoned after each
    /// step; returns the weights and the least any of the last three steps allocated.
    /// </summary>
    /// <remarks>
    /// The count is the whole process's (the engine's workers allocate too), so whatever else runs in it adds to a step's:
    /// cyclegan's fifth step read 49.1 batches of images alone, 63.9 and 109.4 after the class's other tests. The least of
    /// three steps leaves that out and keeps what every step allocates.
    /// </remarks>
    static (float[] Weights, long Allocated) TrainSteps(bool pool, Func<GanModel> create, string variant, int batchSize, IBatchSource data,
        Action<TrainConfig>? configure = null, int steps = 5) =>
        PoolHarness.WithPool(pool, () =>
        {
            var model = create();
            var config = new TrainConfig { Model = variant, BatchSize = batchSize, Ema = 0, Out = TestRuns.NewDir() };
            configure?.Invoke(config);
            var trainer = TestRuns.Trainer(config, model, data);
            long allocated = long.MaxValue;
            for (int i = 0; i < steps; i++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                trainer.TrainStep();
                if (i >= steps - 3) allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
                PoolHarness.PoisonPool();
            }
            return (TestRuns.Flatten(model.Generator.Parameters().Concat(model.Discriminator.Parameters())), allocated);
        });

    /// <summary>
    /// StyleGAN's own game (non-saturating loss, lazy R1, style mixing, fresh noise) five steps, the pool poisoned after
    /// each: the same weights as the pool off, and the last step takes what it needs of the batch's size from the pool.
    /// The noise maps, the mixed and broadcast ws, G's batch in the D update, the minibatch deviation's variance and the
    /// negated sums of its backward were each a fresh buffer every step (a page fault per 4 kB on first touch).
    /// </summary>
    [Fact]
    public void StyleGan_TrainingSteps_TakeTheirBuffersFromThePool_SameWeightsAsPoolOff()
    {
        var data = () => new ScriptedBatches(Tensor.Uniform([Batch, 1, 32, 32], -1f, 1f, new Generator(9)), 8);
        var off = TrainSteps(pool: false, StyleGan, "stylegan", Batch, data());
        var on = TrainSteps(pool: true, StyleGan, "stylegan", Batch, data());
        Assert.All(on.Weights, v => Assert.True(float.IsFinite(v)));
        AssertSame([off.Weights], [on.Weights], "stylegan weights after five steps");
        // Measured 5.17 maps (1.36 MB; 129 with the pool off) against 21.9 before these releases and the pool's lower
        // threshold, 6.20 with the threshold alone: the rest is small tensors and the graph's own objects.
        Assert.True(on.Allocated < 5.5 * Map, $"steps 3-5 allocated at least {on.Allocated} bytes ({on.Allocated / (double)Map:F2} maps; {off.Allocated / (double)Map:F2} with the pool off)");
    }

    /// <summary>
    /// CycleGAN's own game (both generators over concatenated batches, both discriminators, the image pools) five steps,
    /// the pool poisoned after each: the same weights as the pool off, and the last step takes its batch-sized buffers
    /// from the pool. The concatenated images, the generators' and discriminators' concatenated outputs, the cycle and
    /// identity images and the L1 losses' differences and signs were each a fresh buffer every step.
    /// </summary>
    [Fact]
    public void CycleGan_TrainingSteps_TakeTheirBuffersFromThePool_SameWeightsAsPoolOff()
    {
        const int n = 4;
        GanModel Create() => Zoo("cyclegan", new() { ["ngf"] = "8", ["ndf"] = "8", ["blocks"] = "1" }, channels: 3, size: 16);
        var rng = new Generator(9);
        var batch = new GanBatch(Tensor.Uniform([n, 3, 16, 16], -1f, 1f, rng), DomainB: Tensor.Uniform([n, 3, 16, 16], -1f, 1f, rng));
        // The domains' specs are checked, never read: the batches come from OneBatch.
        void Domains(TrainConfig c) => (c.DomainA, c.DomainB) = ("embedded:class=7", "embedded:class=9");
        // Measured 48.9 batches of images (600 KB; 740 with the pool off) against 450.5 before these releases and the
        // pool's lower threshold, 78.6 with the threshold alone.
        AssertTrainsFromThePool("cyclegan", Create, batch, Domains, batches: 53);
    }

    /// <summary>
    /// A variant's own game five steps with the pool off and on, the pool poisoned after each (<see cref="TrainSteps"/>):
    /// the same weights, and the least the last three steps allocated under <paramref name="batches"/> times the batch's
    /// images (its input A, or domain A).
    /// </summary>
    static void AssertTrainsFromThePool(string variant, Func<GanModel> create, GanBatch batch, Action<TrainConfig>? configure, double batches)
    {
        int n = batch.Images.Size(0);
        var off = TrainSteps(pool: false, create, variant, n, new OneBatch(batch), configure);
        var on = TrainSteps(pool: true, create, variant, n, new OneBatch(batch), configure);
        Assert.All(on.Weights, v => Assert.True(float.IsFinite(v)));
        AssertSame([off.Weights], [on.Weights], $"{variant} weights after five steps");
        long images = (batch.Target ?? batch.Images).Numel * sizeof(float);
        Assert.True(on.Allocated < batches * images, $"steps 3-5 allocated at least {on.Allocated} bytes ({on.Allocated / (double)images:F1} batches of images; {off.Allocated / (double)images:F1} with the pool off)");
    }

    /// <summary>
    /// pix2pix's own game (the U-Net with its dropout, the PatchGAN on joined pairs) five steps, the pool poisoned after
    /// each: the same weights as the pool off, and the last steps take their batch-sized buffers from the pool. Each level
    /// of the U-Net's down and up maps and skip joins, the dropout masks, G's batch in the D update and the pairs D reads
    /// were each a fresh buffer every step.
    /// </summary>
    [Fact]
    public void Pix2Pix_TrainingSteps_TakeTheirBuffersFromThePool_SameWeightsAsPoolOff()
    {
        var (create, batch, configure) = Pix2PixGame();
        // Measured 18.8 batches of 12 KB (231 KB; 122 with the pool off), 19.6 before G's last batch came back to the pool.
        AssertTrainsFromThePool("pix2pix", create, batch, configure, batches: 22);
    }

    // pix2pix's networks at 16 x 16, narrow, and a batch of four pairs.
    static (Func<GanModel> Create, GanBatch Batch, Action<TrainConfig> Configure) Pix2PixGame()
    {
        const int n = 4;
        var rng = new Generator(9);
        var batch = new GanBatch(Tensor.Uniform([n, 3, 16, 16], -1f, 1f, rng), Target: Tensor.Uniform([n, 3, 16, 16], -1f, 1f, rng));
        return (() => Zoo("pix2pix", new() { ["ngf"] = "8", ["ndf"] = "8" }, channels: 3, size: 16), batch,
            c => c.Pairs = "edges");   // checked, never read: the batches come from OneBatch
    }

    /// <summary>
    /// SRGAN's own game five steps, the content loss on a stand-in for the evaluator's features (a convolution, batch norm
    /// in eval mode, ReLU, max pooling: the layers of the evaluator's it uses), the pool poisoned after each: the same
    /// weights as the pool off, and the last steps take their buffers from the pool. The PReLUs' four ops each, the
    /// residual blocks' sums, eval-mode batch norm's (x - mean) and its product, the feature maps and their difference and
    /// square, and G's batch in the D update were each a fresh buffer every step.
    /// </summary>
    [Fact]
    public void SrGan_TrainingSteps_TakeTheirBuffersFromThePool_SameWeightsAsPoolOff()
    {
        var (create, batch, configure) = SrGanGame();
        // Measured 15.8 batches of the 16 KB targets (259 KB; 764 with the pool off), 24.8 before max pooling's indices (8
        // batches) and G's last batch came back to the pool.
        AssertTrainsFromThePool("srgan", create, batch, configure, batches: 18);
    }

    // SRGAN's networks x4 to 32 x 32, narrow, a batch of four, and the content loss on a stand-in for the evaluator's
    // features (registered in its place).
    static (Func<GanModel> Create, GanBatch Batch, Action<TrainConfig> Configure) SrGanGame()
    {
        const int n = 4;
        FeatureNetworks.Register(FeatureNetworks.Evaluator, () =>
        {
            var features = new Sequential(new Conv2d(1, 32, 3, padding: 1, bias: false, generator: new Generator(5)), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2));
            features.Eval();
            return features;
        }, "a stand-in for the evaluator's features");
        var rng = new Generator(9);
        var batch = new GanBatch(Tensor.Uniform([n, 1, 8, 8], -1f, 1f, rng), Target: Tensor.Uniform([n, 1, 32, 32], -1f, 1f, rng));
        return (() => Zoo("srgan", new() { ["blocks"] = "2", ["width"] = "8", ["d-width"] = "8" }, channels: 1, size: 32), batch, _ => { });
    }

    /// <summary>
    /// SRGAN's and pix2pix's G steps leave their batch as <see cref="StepContext.LastFake"/> as the classic G step does:
    /// the next G step gives its buffer back to the pool, where no one read it, and the next step's tensors of its size
    /// overwrite it.
    /// </summary>
    [Theory]
    [InlineData("srgan")]
    [InlineData("pix2pix")]
    public void ImageToImageGeneratorPhase_BatchNoOneRead_IsReusedNextStep(string variant) => PoolHarness.WithPool(on: true, () =>
    {
        var (create, batch, configure) = variant == "srgan" ? SrGanGame() : Pix2PixGame();
        var config = new TrainConfig { Model = variant, BatchSize = batch.Images.Size(0), Ema = 0, Out = TestRuns.NewDir() };
        configure(config);
        AssertUnreadBatchReusedNextStep(TestRuns.Trainer(config, create(), new OneBatch(batch)));
        return 0;
    });

    // Two steps: the batch the first left as the last fake, unread, is overwritten by the second's tensors of its size.
    static StepContext AssertUnreadBatchReusedNextStep(Trainer trainer)
    {
        var ctx = PhaseTests.StepContextOf(trainer);
        trainer.TrainStep();
        var unread = ctx.UnreadLastFake!;
        var unreadCopy = unread.ToArray();
        trainer.TrainStep();
        Assert.NotEqual(unreadCopy, unread.ToArray());
        return ctx;
    }

    /// <summary>The same batch every step, domain B included.</summary>
    sealed class OneBatch(GanBatch batch) : IBatchSource
    {
        public int BatchesPerEpoch => 8;
        public (int Epoch, int Batch) Position => (0, 0);
        public GanBatch Next() => batch;
        public void Seek(int epoch, int b) { }
        public GanBatch? Preview(int count) => batch;
    }

    [Fact]
    public void WganGp_PenaltyGraphsBackToThePool_SameWeightsAsPoolOff()
    {
        var off = TrainWganGp(pool: false);
        var on = TrainWganGp(pool: true);
        Assert.All(on, v => Assert.True(float.IsFinite(v)));
        AssertSame([off], [on], "wgan-gp weights after three steps");
    }

    /// <summary>
    /// The G step leaves its batch as <see cref="StepContext.LastFake"/>; the next G step gives its buffer back to the
    /// pool unless someone read it (the trainer does to log the batch's diversity), so a batch no one read is
    /// overwritten by the next step's tensors of its size and a batch read stays as it was.
    /// </summary>
    [Fact]
    public void GeneratorPhase_BatchNoOneRead_IsReusedNextStep_ABatchReadIsNot() => PoolHarness.WithPool(on: true, () =>
    {
        // The MLP GAN's G is a chain of pure layers: nothing keeps its batch (64 x 784 floats, above the pool's threshold).
        var model = ModelZoo.Create("gan", new ModelSpec(1, 28, 16, Seed: 4));
        var trainer = TestRuns.Trainer(new TrainConfig { Model = "gan", Out = TestRuns.NewDir() }, model,
            new ScriptedBatches(Tensor.Uniform([64, 1, 28, 28], -1f, 1f, new Generator(9)), 8));
        var ctx = AssertUnreadBatchReusedNextStep(trainer);
        var read = ctx.LastFake!;
        var readCopy = read.ToArray();
        Assert.Null(ctx.UnreadLastFake);
        for (int i = 0; i < 2; i++) trainer.TrainStep();
        Assert.Equal(readCopy, read.ToArray());
        return 0;
    });

    // A critic of two 3x3 convolutions with leaky ReLUs at 32 x 32 pixels: its activations (8 x 16 x 32 x 32 floats, 512 KB
    // each) are read by the gradient's graph, so no backward frees them; ReleasePass does, once it has run. Each
    // convolution and its activation run as one function (Sequential.FuseConvActivation) and keep one map, not two.
    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 4)]
    public void GradientPenalty_ReleasePass_GivesTheCriticsActivationsBack(bool fused, int maps)
    {
        var gen = new Generator(3);
        var critic = new Sequential(new Conv2d(3, 16, 3, padding: 1, generator: gen), new LeakyReLU(0.2f),
            new Conv2d(16, 16, 3, padding: 1, generator: gen), new LeakyReLU(0.2f), new Flatten(), new Linear(16 * 32 * 32, 1, generator: gen));
        var penalty = new GradientPenalty();
        bool saved = Sequential.FuseConvActivation;
        Sequential.FuseConvActivation = fused;
        try
        {
            PoolHarness.WithPool(true, () =>
            {
                var real = Tensor.Randn([8, 3, 32, 32], gen);
                var fake = Tensor.Randn([8, 3, 32, 32], gen);
                penalty.Compute(critic, real, fake, gen).Backward();
                long afterBackward = StoragePool.Bytes;
                penalty.ReleasePass();
                long released = StoragePool.Bytes - afterBackward;
                const long activation = 8 * 16 * 32 * 32 * sizeof(float);
                const long images = 8 * 3 * 32 * 32 * sizeof(float);
                // The layers' maps (Sequential marks each layer output a pure layer reads), the interpolates and the
                // gradient (the build before the pool's marks gave back the activations alone).
                Assert.True(released >= maps * activation + 2 * images, $"ReleasePass gave back {released} bytes");
                penalty.ReleasePass();                                                  // once only: nothing more
                Assert.Equal(afterBackward + released, StoragePool.Bytes);
                return 0;
            });
        }
        finally { Sequential.FuseConvActivation = saved; }
    }

    [Fact]
    public void GradientPenalty_ReleasedBeforeItsBackward_TheBackwardThrows()
    {
        // Its interpolates and gradient serve other tensors once given back: a backward after that must fail, not read them.
        var gen = new Generator(5);
        var critic = new Sequential(new Conv2d(3, 16, 3, padding: 1, generator: gen), new LeakyReLU(0.2f), new Flatten(), new Linear(16 * 32 * 32, 1, generator: gen));
        var penalty = new GradientPenalty();
        PoolHarness.WithPool(true, () =>
        {
            var gp = penalty.Compute(critic, Tensor.Randn([8, 3, 32, 32], gen), Tensor.Randn([8, 3, 32, 32], gen), gen);
            penalty.ReleasePass();
            var e = Assert.Throws<InvalidOperationException>(() => gp.Backward());
            Assert.Contains("second time", e.Message);
            return 0;
        });
    }

    /// <summary>
    /// TransGAN's critic (GELU, attention, residual sums) under the gradient penalty, three steps with the pool poisoned
    /// after each: the penalty's double backward gives back the GELU derivatives and the sums of gradients it makes, and
    /// the critic's gradients must be those of the pool off.
    /// </summary>
    [Fact]
    public void TransGanCritic_PenaltyDoubleBackward_SameGradientsAsPoolOff()
    {
        (float[][] Grads, long Allocated) Run(bool pool) => PoolHarness.WithPool(pool, () =>
        {
            var d = TransGan().Discriminator;
            var penalty = new GradientPenalty();
            var rng = new Generator(21);
            var grads = new List<float[]>();
            long allocated = 0;
            for (int step = 0; step < 3; step++)
            {
                var (real, fake) = (Tensor.Randn([Batch, 1, 32, 32], rng), Tensor.Randn([Batch, 1, 32, 32], rng));
                long before = GC.GetAllocatedBytesForCurrentThread();
                penalty.Compute(d, real, fake, rng).Backward();
                penalty.ReleasePass();
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                PoolHarness.PoisonPool();
                grads.AddRange(d.Parameters().Select(p => p.Grad?.ToArray() ?? []));
                foreach (var p in d.Parameters()) p.Grad = null;
            }
            return (grads.ToArray(), allocated);
        });
        var off = Run(pool: false);
        var on = Run(pool: true);
        AssertSame(off.Grads, on.Grads, "transgan critic under the penalty");
        // Measured 0.51 MB with the pool against 7.03 MB without; 0.91 MB when the GELU derivatives and the sums of
        // gradients the double backward makes were left to the GC.
        Assert.True(on.Allocated < off.Allocated / 10, $"the third step allocated {on.Allocated} bytes with the pool, {off.Allocated} without");
    }

    /// <summary>
    /// DiffAugment's three transforms on a batch without a graph (what D sees in its update) and on G's batch with one
    /// (G's update, trained through T), twice, the pool poisoned between: same images and gradients as the pool off, and
    /// the second time round its intermediates (colour's sums and products, translation's index, gather and mask) come
    /// from the pool: what is allocated is the results the test keeps.
    /// </summary>
    [Fact]
    public void DiffAugment_IntermediatesBackToThePool_SameImagesAndGradientsAsPoolOff()
    {
        var augment = DiffAugment.Parse("color,translation,cutout")!;
        (float[][] Results, long Allocated) Run(bool pool) => PoolHarness.WithPool(pool, () =>
        {
            var rng = new Generator(17);
            var images = Tensor.Randn([8, 3, 32, 32], rng);                   // 24K floats: pooled
            var generated = Tensor.Randn([8, 3, 32, 32], rng).RequiresGrad_();
            var weights = Tensor.Randn([8, 3, 32, 32], rng);
            var results = new List<float[]>();
            long allocated = 0;
            for (int pass = 0; pass < 2; pass++)
            {
                generated.Grad = null;
                long before = GC.GetAllocatedBytesForCurrentThread();
                var seen = augment.Apply(images, new Generator((ulong)(1 + pass)));
                var augmented = augment.Apply(generated, new Generator((ulong)(3 + pass)));
                (augmented * weights).Sum().Backward();
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                PoolHarness.PoisonPool();
                results.AddRange([seen.ToArray(), augmented.ToArray(), generated.Grad!.ToArray()]);
            }
            return (results.ToArray(), allocated);
        });
        var off = Run(pool: false);
        var on = Run(pool: true);
        AssertSame(off.Results, on.Results, "diffaugment");
        const long batch = 8 * 3 * 32 * 32 * sizeof(float);
        // Measured 12.4 batches (40.5 with the pool off): the two augmented batches, the product and the gradient the test
        // keeps, and the buffers below the pool's threshold (means and masks of one channel, 8K floats). Every intermediate
        // of a batch's size left to the GC would add one.
        Assert.True(on.Allocated < 16 * batch, $"the second pass allocated {on.Allocated} bytes ({on.Allocated / (double)batch:F1} batches; {off.Allocated / (double)batch:F1} with the pool off)");
    }
}
