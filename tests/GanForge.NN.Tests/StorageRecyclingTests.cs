using GanForge.NN;
using GanForge.Optim;

namespace GanForge.NN.Tests;

/// <summary>The pool is process-wide: these tests switch it on and off, so nothing may run beside them.</summary>
[CollectionDefinition("StoragePool", DisableParallelization = true)]
public sealed class StoragePoolCollection;

/// <summary>
/// Adversarial checks of buffer recycling (<see cref="StoragePool"/>): the engine returning owned
/// gradients and <see cref="Sequential"/> returning its intermediates. A buffer returned while still in
/// use is silently overwritten by the next tensor of the same size, so each test runs the same seeded
/// work with the pool on and off and demands bit-identical results; with the pool on, every pooled
/// buffer is poisoned with NaN and later allocations of the sizes in play are filled with garbage,
/// so a wrongly returned buffer shows up in the numbers. Sizes are above <see cref="StoragePool.MinLength"/>.
/// </summary>
[Collection("StoragePool")]
public class StorageRecyclingTests
{
    const int Batch = 8;

    // ---- harness ---------------------------------------------------------------------------------


    /// <summary>
    /// Poisons the pool, then allocates 20 tensors of each length and fills them with garbage, as the
    /// next layers or the next step would: a wrongly returned buffer gets overwritten.
    /// </summary>
    static List<Tensor> Churn(params int[] lengths)
    {
        PoolHarness.PoisonPool();
        var held = new List<Tensor>();
        foreach (int n in lengths)
            for (int i = 0; i < 20; i++)
            {
                var t = new Tensor(n);
                t.Data.Fill(-7.7e7f + i);
                held.Add(t);
            }
        return held;
    }

    static float[][] Snapshot(IEnumerable<Tensor?> tensors) => tensors.Select(t => t!.ToArray()).ToArray();

    static void AssertBitIdentical(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
                if (BitConverter.SingleToInt32Bits(expected[i][j]) != BitConverter.SingleToInt32Bits(actual[i][j]))
                    Assert.Fail($"{what}: tensor {i} element {j} is {actual[i][j]} with the pool, {expected[i][j]} without");
        }
    }

    static void AssertUnchanged(float[] before, Tensor after, string what) =>
        AssertBitIdentical([before], [after.ToArray()], what);

    static float[][] Grads(Module m) => Snapshot(m.Parameters().Select(p => p.Grad ?? Tensor.Zeros(p.Shape)));

    static float[][] State(Module m) => Snapshot(m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value));

    // ---- models ----------------------------------------------------------------------------------

    const int Latent = 32;

    /// <summary>DCGAN-like G: z (8,32) -> (8,3,16,16); intermediates of 16K..64K floats.</summary>
    static Sequential Generator(Generator gen) => new(
        new Linear(Latent, 128 * 4 * 4, generator: gen),              // (8,2048)
        new Unflatten(1, [128, 4, 4]),                                 // state: 128 x 4 x 4
        new BatchNorm2d(128),
        new ReLU(),
        new ConvTranspose2d(128, 64, 4, 2, 1, generator: gen),         // state: 64 x 8 x 8 (32K floats)
        new BatchNorm2d(64),
        new ReLU(),
        new ConvTranspose2d(64, 32, 4, 2, 1, generator: gen),          // state: 32 x 16 x 16 (64K floats)
        new BatchNorm2d(32),
        new LeakyReLU(0.2f),
        new Conv2d(32, 3, 3, 1, 1, generator: gen),                    // state: 3 x 16 x 16
        new Tanh());

    /// <summary>DCGAN-like D: (8,3,16,16) -> (8,1); <paramref name="batchNorm"/> off for a WGAN-GP critic.</summary>
    static Sequential Discriminator(Generator gen, bool batchNorm = true)
    {
        var d = new Sequential(
            new Conv2d(3, 64, 3, 1, 1, generator: gen),                 // state: 64 x 16 x 16 (128K floats)
            new LeakyReLU(0.2f),
            new Conv2d(64, 64, 4, 2, 1, generator: gen));               // state: 64 x 8 x 8 (32K floats)
        if (batchNorm) d.Add(new BatchNorm2d(64));
        d.Add(new LeakyReLU(0.2f));
        d.Add(new Flatten());                                           // (8,4096), a view
        d.Add(new Linear(64 * 8 * 8, 1, generator: gen));
        return d;
    }

    static readonly int[] ConvSizes = [Batch * 64 * 16 * 16, Batch * 64 * 8 * 8, Batch * 32 * 16 * 16, Batch * 2048, Batch * 3 * 16 * 16];

    // ---- 1. training --------------------------------------------------------------------------

    /// <summary>Three non-saturating GAN steps shaped like the trainer's phases; returns G's and D's state.</summary>
    static (float[][] G, float[][] D, long poolPeak) TrainThreeSteps() => TrainThreeSteps(recycleGrads: false);

    static (float[][] G, float[][] D, long poolPeak) TrainThreeSteps(bool recycleGrads)
    {
        var gen = new Generator(7);
        var g = Generator(gen);
        var d = Discriminator(gen);
        var optG = new Adam(g.Parameters(), lr: 2e-4, beta1: 0.5);
        var optD = new Adam(d.Parameters(), lr: 2e-4, beta1: 0.5);
        long peak = 0;
        for (int step = 0; step < 3; step++)
        {
            var real = Tensor.Randn([Batch, 3, 16, 16], gen).Tanh();

            // D phase: fakes without a graph, D(real) and D(fake) summed, gradients kept allocated.
            Tensor fake;
            using (GradMode.NoGrad()) fake = g.Forward(Tensor.Randn([Batch, Latent], gen));
            var lossD = F.Softplus(-d.Forward(real)).Mean() + F.Softplus(d.Forward(fake)).Mean(); // -log(sigmoid(D(x))) - log(1 - sigmoid(D(G(z))))
            Churn(ConvSizes);
            if (recycleGrads) optD.ZeroGradAndRecycle(); else optD.ZeroGrad(setToNone: false);
            lossD.Backward();
            peak = Math.Max(peak, StoragePool.Bytes);
            Churn(ConvSizes);
            optD.Step();

            // G phase through a frozen D.
            d.RequiresGrad(false);
            try
            {
                var lossG = F.Softplus(-d.Forward(g.Forward(Tensor.Randn([Batch, Latent], gen)))).Mean(); // -log(sigmoid(D(G(z))))
                Churn(ConvSizes);
                if (recycleGrads) optG.ZeroGradAndRecycle(); else optG.ZeroGrad(setToNone: false);
                lossG.Backward();
                peak = Math.Max(peak, StoragePool.Bytes);
                Churn(ConvSizes);
                optG.Step();
            }
            finally { d.RequiresGrad(true); }
        }
        return (State(g), State(d), peak);
    }

    [Fact]
    public void DcganTraining_ThreeAdamSteps_WeightsBitIdenticalPoolOnAndOff()
    {
        var off = PoolHarness.WithPool(false, TrainThreeSteps);
        var on = PoolHarness.WithPool(true, TrainThreeSteps);
        Assert.Equal(0, off.poolPeak);
        Assert.True(on.poolPeak > 0, "the pool was never used, so the test proves nothing");
        AssertBitIdentical(off.G, on.G, "generator state");
        AssertBitIdentical(off.D, on.D, "discriminator state");
    }

    [Fact]
    public void DcganTraining_ZeroGradAndRecycle_WeightsBitIdenticalToZeroingInPlace()
    {
        // The trainer's phases drop their gradients into the pool; the next backward's weight gradients
        // come back in those buffers. Against zeroing in place with the pool off, nothing may change.
        var zeroed = PoolHarness.WithPool(false, () => TrainThreeSteps(recycleGrads: false));
        var recycled = PoolHarness.WithPool(true, () => TrainThreeSteps(recycleGrads: true));
        Assert.True(recycled.poolPeak > 0, "the pool was never used, so the test proves nothing");
        AssertBitIdentical(zeroed.G, recycled.G, "generator state");
        AssertBitIdentical(zeroed.D, recycled.D, "discriminator state");
    }

    [Fact]
    public void ZeroGradAndRecycle_GradientsGoToThePool_AndAreNull()
    {
        PoolHarness.WithPool(true, () =>
        {
            var gen = new Generator(3);
            var net = new Linear(512, 256, generator: gen);             // weight: 128K floats, pooled
            var opt = new Adam(net.Parameters(), lr: 1e-3);
            net.Forward(Tensor.Randn([4, 512], gen)).Sum().Backward();
            var weightGrad = net.Weight.Grad!.Storage;
            long before = StoragePool.Bytes;
            opt.ZeroGradAndRecycle();
            Assert.Null(net.Weight.Grad);
            Assert.Null(net.Bias!.Grad);
            Assert.Equal(before + weightGrad.LongLength * sizeof(float), StoragePool.Bytes); // the bias is too small to pool
            net.Forward(Tensor.Randn([4, 512], gen)).Sum().Backward();
            Assert.Same(weightGrad, net.Weight.Grad!.Storage);          // the next gradient reuses the buffer
            return 0;
        });
    }

    // ---- 2. user references -------------------------------------------------------------------

    static (float[][] Grads, long Pooled) ReferencesAfterBackward(bool flattenLast, bool check)
    {
        var gen = new Generator(11);
        var net = new Sequential(
            new Conv2d(16, 64, 3, 1, 1, generator: gen),                // (8,64,16,16): 128K floats
            new LeakyReLU(0.2f),
            new Conv2d(64, 64, 3, 1, 1, generator: gen),
            new Tanh());
        if (flattenLast) net.Add(new Flatten());                        // the output is a view of the Tanh result
        var x = Tensor.Randn([Batch, 16, 16, 16], gen).RequiresGrad_();
        var xBefore = x.ToArray();

        var y = net.Forward(x);
        var derived = y * 3f;                                           // something the user keeps
        var alias = y.Detach();                                         // shares y's storage
        var (yBefore, derivedBefore) = (y.ToArray(), derived.ToArray());

        (derived.Square().Mean() + y.Mean()).Backward();
        long pooled = StoragePool.Bytes;
        var held = Churn(Batch * 64 * 16 * 16, Batch * 16 * 16 * 16);
        var grads = Snapshot([.. net.Parameters().Select(p => p.Grad), x.Grad]);
        held.AddRange(Churn(Batch * 64 * 16 * 16, Batch * 16 * 16 * 16));

        if (check)
        {
            AssertUnchanged(xBefore, x, "input");
            AssertUnchanged(yBefore, y, "Sequential output");
            AssertUnchanged(yBefore, alias, "detached output");
            AssertUnchanged(derivedBefore, derived, "tensor derived from the output");
        }
        GC.KeepAlive(held);
        return (grads, pooled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sequential_OutputInputAndDerived_IntactAfterBackwardAndReuse(bool flattenLast)
    {
        var off = PoolHarness.WithPool(false, () => ReferencesAfterBackward(flattenLast, check: false));
        var on = PoolHarness.WithPool(true, () => ReferencesAfterBackward(flattenLast, check: true));
        Assert.True(on.Pooled > 0, "the pool was never used, so the test proves nothing");
        AssertBitIdentical(off.Grads, on.Grads, "gradients");
    }

    // ---- 3. a custom module keeping references ------------------------------------------------

    /// <summary>Not a built-in layer: it keeps its input and output, as a user's feature-matching hook might.</summary>
    sealed class Caching : Module
    {
        public Tensor? Input, Output;
        public override Tensor Forward(Tensor input)
        {
            Input = input;
            Output = input.LeakyRelu(0.1f) * 2f;
            return Output;
        }
    }

    static (float[][] Grads, float[] In, float[] Out) CustomCaching(bool check)
    {
        var gen = new Generator(13);
        var first = new Caching();
        var middle = new Caching();
        var net = new Sequential(
            first,                                                      // sees the Sequential's input
            new Linear(256, 4096, generator: gen),                      // (8,4096): 32K floats
            new ReLU(),
            middle,                                                     // caches ReLU's output and its own
            new Linear(4096, 4096, generator: gen),
            new Tanh(),
            new Linear(4096, 8, generator: gen));
        var x = Tensor.Randn([Batch, 256], gen);
        net.Forward(x).Square().Mean().Backward();
        var caches = new[] { first.Input!, first.Output!, middle.Input!, middle.Output! };
        var before = Snapshot(caches);
        var held = Churn(Batch * 4096);
        var grads = Grads(net);
        held.AddRange(Churn(Batch * 4096));
        if (check)
        {
            Assert.Same(x, first.Input);
            AssertBitIdentical(before, Snapshot(caches), "custom module's cached input/output");
            // The cached input of the middle module is ReLU's output, the cached output is the next Linear's input.
            Assert.All(middle.Input!.ToArray(), v => Assert.True(v >= 0f));
        }
        GC.KeepAlive(held);
        return (grads, middle.Input!.ToArray(), middle.Output!.ToArray());
    }

    [Fact]
    public void Sequential_CustomModuleCachingTensors_CachesIntactAndGradientsMatch()
    {
        var off = PoolHarness.WithPool(false, () => CustomCaching(check: false));
        var on = PoolHarness.WithPool(true, () => CustomCaching(check: true));
        AssertBitIdentical(off.Grads, on.Grads, "gradients");
        AssertBitIdentical([off.In, off.Out], [on.In, on.Out], "cached tensors");
    }

    // ---- 4. retainGraph and createGraph -------------------------------------------------------

    static (float[][] First, float[][] Second) BackwardTwice()
    {
        var gen = new Generator(17);
        var d = Discriminator(gen);
        var x = Tensor.Randn([Batch, 3, 16, 16], gen).RequiresGrad_();
        var loss = F.Softplus(-d.Forward(x)).Mean();
        loss.Backward(retainGraph: true);
        var first = Snapshot([.. d.Parameters().Select(p => p.Grad), x.Grad]);
        Churn(ConvSizes);
        d.ZeroGrad();
        x.Grad = null;
        loss.Backward();
        var second = Snapshot([.. d.Parameters().Select(p => p.Grad), x.Grad]);
        Churn(ConvSizes);
        return (first, second);
    }

    [Fact]
    public void Backward_RetainGraphTwice_SameGradientsBothTimesAndPoolOff()
    {
        var off = PoolHarness.WithPool(false, BackwardTwice);
        var on = PoolHarness.WithPool(true, BackwardTwice);
        AssertBitIdentical(on.First, on.Second, "second backward through a retained graph");
        AssertBitIdentical(off.First, on.First, "first backward");
        AssertBitIdentical(off.Second, on.Second, "second backward");
    }

    /// <summary>The progressive and style-based GANs' layers (equalised learning rate, pixel norm): every one pure.</summary>
    static Sequential EqualizedDiscriminator(Generator gen) => new(
        new EqualConv2d(3, 64, 3, padding: 1, generator: gen),           // state: 64 x 16 x 16 (128K floats)
        new LeakyReLU(0.2f),
        new PixelNorm(),
        new EqualConv2d(64, 64, 3, padding: 1, generator: gen),
        new LeakyReLU(0.2f),
        new AvgPool2d(2),                                                 // state: 64 x 8 x 8 (32K floats)
        new Flatten(),
        new EqualLinear(64 * 8 * 8, 1, generator: gen));

    /// <summary>A user's module around a layer: the library cannot know it keeps nothing.</summary>
    sealed class Wrapped : Module
    {
        readonly Module _inner;
        public Wrapped(Module inner) => _inner = RegisterModule("inner", inner);
        public override Tensor Forward(Tensor input) => _inner.Forward(input);
    }

    static (float[][] Grads, float Penalty) GradientPenaltyStep() => GradientPenaltyStep(gen => Discriminator(gen, batchNorm: false));

    /// <summary>WGAN-GP critic loss: D(fake) - D(real) + 10 (||dD(x̂)/dx̂|| - 1)², x̂ between real and fake.</summary>
    static (float[][] Grads, float Penalty) GradientPenaltyStep(Func<Generator, Sequential> build)
    {
        var gen = new Generator(19);
        var critic = build(gen);
        var real = Tensor.Randn([Batch, 3, 16, 16], gen);
        var fake = Tensor.Randn([Batch, 3, 16, 16], gen);
        var eps = Tensor.Rand([Batch, 1, 1, 1], gen);
        var mixed = (real * eps + fake * (1f - eps)).Detach().RequiresGrad_();
        var dx = Autograd.Grad(critic.Forward(mixed).Sum(), mixed, createGraph: true);
        Churn(ConvSizes);
        var penalty = (dx.Flatten(1).Norm(2f, [1]) - 1f).Square().Mean();
        var loss = critic.Forward(fake).Mean() - critic.Forward(real).Mean() + penalty * 10f;
        Churn(ConvSizes);
        loss.Backward();
        Churn(ConvSizes);
        return (Grads(critic), penalty.Item());
    }

    [Fact]
    public void GradientPenalty_DoubleBackwardThroughSequential_MatchesPoolOff()
    {
        var off = PoolHarness.WithPool(false, GradientPenaltyStep);
        var on = PoolHarness.WithPool(true, GradientPenaltyStep);
        Assert.True(off.Penalty > 0f);
        Assert.Equal(off.Penalty, on.Penalty);
        AssertBitIdentical(off.Grads, on.Grads, "critic gradients with gradient penalty");
    }

    /// <summary>
    /// R1 as a user writes it: one forward of D on real images, its output in the loss and its input gradient in the
    /// penalty, so the final backward runs through D's forward nodes and through the gradient's nodes, which read D's
    /// activations (LeakyReLU's gradient keeps its input to make its mask).
    /// </summary>
    static (float[][] Grads, float Penalty) SharedForwardR1Step(bool churn)
    {
        var gen = new Generator(29);
        var critic = Discriminator(gen, batchNorm: false);
        var real = Tensor.Randn([Batch, 3, 16, 16], gen).RequiresGrad_();
        var score = critic.Forward(real);
        var dx = Autograd.Grad(score.Sum(), real, createGraph: true);
        var penalty = dx.Square().Sum() * 0.5f;
        var loss = penalty + (-score).Softplus().Mean();   // this order ran D's first conv before the gradient's LeakyReLU
        if (churn) Churn(ConvSizes);
        loss.Backward();
        if (churn) Churn(ConvSizes);
        return (Grads(critic), penalty.Item());
    }

    [Fact]
    public void R1_OneForwardForLossAndPenalty_MatchesPoolOff()
    {
        var off = PoolHarness.WithPool(false, () => SharedForwardR1Step(churn: false));
        var on = PoolHarness.WithPool(true, () => SharedForwardR1Step(churn: true));
        Assert.True(off.Penalty > 0f);
        // To 1e-6 (a recycled buffer may be aligned otherwise); the wrongly recycled buffer was off by 6% (-0.00275 against -0.00293).
        Assert.Equal(off.Penalty, on.Penalty, 1e-6f * off.Penalty);
        for (int i = 0; i < off.Grads.Length; i++)
            Fixtures.AssertClose(Tensor.FromArray(off.Grads[i]), Tensor.FromArray(on.Grads[i]), 1e-6, 1e-6, $"critic gradient {i} with R1 on the same forward");
    }

    [Fact]
    public void GradientPenalty_EqualizedLayers_RecycledAndMatchPoolOff()
    {
        // EqualConv2d, PixelNorm and EqualLinear are pure layers: a Sequential of them hands its intermediates back
        // to the pool after the backward, and the step's gradients stay those of the pool off.
        var off = PoolHarness.WithPool(false, () => GradientPenaltyStep(EqualizedDiscriminator));
        var on = PoolHarness.WithPool(true, () => GradientPenaltyStep(EqualizedDiscriminator));
        // The same net with its convolutions behind a user's module (not known to be pure) recycles less.
        long Pooled(bool wrapConvs) => PoolHarness.WithPool(true, () =>
        {
            var gen = new Generator(23);
            var d = EqualizedDiscriminator(gen);
            if (wrapConvs) d = new Sequential([.. d.Select(m => m is EqualConv2d ? new Wrapped(m) : m)]);
            d.Forward(Tensor.Randn([Batch, 3, 16, 16], gen)).Sum().Backward();
            return StoragePool.Bytes;
        });
        Assert.True(off.Penalty > 0f);
        Assert.True(Pooled(wrapConvs: false) > Pooled(wrapConvs: true), "EqualConv2d's outputs were not recycled");
        Assert.Equal(off.Penalty, on.Penalty);
        AssertBitIdentical(off.Grads, on.Grads, "equalised critic gradients with gradient penalty");
    }

    // ---- 5. no-grad forward -------------------------------------------------------------------

    [Fact]
    public void NoGradForward_LongSequential_ReturnsIntermediatesKeepsInputAndOutput()
    {
        Sequential Net()
        {
            var gen = new Generator(23);
            return new Sequential(
                new Identity(),                                         // passes the input on: it must not be recycled
                new ReLU(),
                new Linear(4096, 4096, generator: gen),
                new LeakyReLU(0.2f),
                new Tanh(),
                new Sigmoid(),
                new Unflatten(1, [64, 8, 8]),
                new Conv2d(64, 64, 3, 1, 1, generator: gen),
                new ReLU(),
                new Flatten(),
                new Linear(4096, 4096, generator: gen),
                new Tanh());
        }
        float[] Run(bool on) => PoolHarness.WithPool(on, () =>
        {
            var net = Net();
            var x = Tensor.Randn([Batch, 4096], new Generator(29));
            var xBefore = x.ToArray();
            Tensor y;
            using (GradMode.NoGrad()) y = net.Forward(x);
            if (on) Assert.True(StoragePool.Bytes >= (long)Batch * 4096 * sizeof(float), "no intermediate was returned to the pool");
            else Assert.Equal(0, StoragePool.Bytes);
            var yBefore = y.ToArray();
            var held = Churn(Batch * 4096);
            AssertUnchanged(xBefore, x, "input");
            AssertUnchanged(yBefore, y, "output");
            // A second forward reuses the returned buffers; the first output must survive it.
            Tensor y2;
            using (GradMode.NoGrad()) y2 = net.Forward(x);
            AssertUnchanged(yBefore, y, "output after a second forward");
            AssertUnchanged(yBefore, y2, "second forward's output");
            GC.KeepAlive(held);
            return yBefore;
        });
        AssertBitIdentical([Run(false)], [Run(true)], "no-grad output");
    }

    // ---- 6. chains with pass-through layers, nesting, two calls -------------------------------

    static float[][] MixedChain()
    {
        var gen = new Generator(31);
        var dropoutEval = new Dropout(0.5f, gen);
        dropoutEval.Eval();
        var inner = new Sequential(
            new Linear(4096, 4096, generator: gen),
            new Identity(),
            new ReLU(),
            new Dropout(0.3f, gen));                                     // training: a real mask
        var d = new Sequential(
            new Linear(256, 4096, generator: gen),                      // (8,4096): 32K floats
            new Identity(),
            new LeakyReLU(0.2f),
            dropoutEval,                                                // identity in eval
            inner,                                                      // a Sequential in a Sequential
            new Identity(),
            new Tanh(),
            new Unflatten(1, [64, 8, 8]),
            new Flatten(),
            new Identity(),
            new Linear(4096, 1, generator: gen));
        var real = Tensor.Randn([Batch, 256], gen);
        var fake = Tensor.Randn([Batch, 256], gen).RequiresGrad_();
        // D(real) and D(fake) through the same Sequential before one backward.
        var loss = F.Softplus(-d.Forward(real)).Mean() + F.Softplus(d.Forward(fake)).Mean();
        Churn(Batch * 4096);
        loss.Backward();
        Churn(Batch * 4096);
        var grads = Snapshot([.. d.Parameters().Select(p => p.Grad), fake.Grad]);
        // A second step accumulating into the kept gradients.
        var loss2 = F.Softplus(-d.Forward(fake)).Mean();
        Churn(Batch * 4096);
        loss2.Backward();
        Churn(Batch * 4096);
        return [.. grads, .. Snapshot([.. d.Parameters().Select(p => p.Grad), fake.Grad])];
    }

    [Fact]
    public void Sequential_IdentityDropoutNestedAndCalledTwice_GradientsMatchPoolOff()
    {
        var off = PoolHarness.WithPool(false, MixedChain);
        var on = PoolHarness.WithPool(true, MixedChain);
        AssertBitIdentical(off, on, "gradients");
    }

    // ---- 7. partly frozen network -------------------------------------------------------------

    /// <summary>
    /// A frozen feature stack feeding trainable layers (as FreezeD fine-tuning does): the frozen layers'
    /// outputs have no graph, yet the first trainable Linear saves its input for its weight gradient.
    /// </summary>
    static float[][] FrozenPrefix()
    {
        var gen = new Generator(37);
        var frozen = new Linear(256, 4096, generator: gen);
        frozen.RequiresGrad(false);
        var net = new Sequential(
            frozen,
            new LeakyReLU(0.2f),                                        // no graph: input and params need no grad
            new Linear(4096, 4096, generator: gen),                     // saves ReLU's output for dW
            new Tanh(),
            new Linear(4096, 1, generator: gen));
        var x = Tensor.Randn([Batch, 256], gen);
        var loss = net.Forward(x).Square().Mean();
        Churn(Batch * 4096);                                            // e.g. D(fake) after D(real)
        loss.Backward();
        return Grads(net);
    }

    [Fact]
    public void Sequential_FrozenPrefixThenTrainable_GradientsMatchPoolOff()
    {
        var off = PoolHarness.WithPool(false, FrozenPrefix);
        var on = PoolHarness.WithPool(true, FrozenPrefix);
        AssertBitIdentical(off, on, "gradients behind a frozen prefix");
    }

    // ---- 8. transformer blocks: their own intermediates -----------------------------------------

    /// <summary>
    /// Two transformer blocks called one after the other (no Sequential: only the blocks' own recycling is in play),
    /// three Adam steps of a critic loss plus a gradient penalty through them (a gradient with a graph, then its
    /// backward), a plain step and a no-grad forward; every activation is 16K-64K floats, all pooled.
    /// </summary>
    static (float[][] State, float[] NoGrad, long PoolPeak) TransformerSteps()
    {
        var gen = new Generator(17);
        var blocks = new[] { new TransformerEncoderLayer(32, 4, 128, generator: gen), new TransformerEncoderLayer(32, 4, 128, generator: gen) };
        var opt = new Adam(blocks.SelectMany(b => b.Parameters()), lr: 1e-3);
        Tensor Critic(Tensor x) => blocks[1].Forward(blocks[0].Forward(x)).Mean([1, 2]);
        int[] sizes = [Batch * 64 * 32, Batch * 64 * 96, Batch * 64 * 128];
        long peak = 0;
        for (int step = 0; step < 3; step++)
        {
            var x = Tensor.Randn([Batch, 64, 32], gen).RequiresGrad_();
            var score = Critic(x);
            var dx = Autograd.Grad(score.Sum(), x, createGraph: true);
            var loss = score.Mean() + (dx.Reshape(Batch, -1).Norm(2f, [1]) - 1f).Square().Mean() + Critic(Tensor.Randn([Batch, 64, 32], gen)).Mean();
            Churn(sizes);
            opt.ZeroGrad(setToNone: false);
            loss.Backward();
            peak = Math.Max(peak, StoragePool.Bytes);
            Churn(sizes);
            opt.Step();
        }
        float[] noGrad;
        using (GradMode.NoGrad()) noGrad = Critic(Tensor.Randn([Batch, 64, 32], gen)).ToArray();
        return (Snapshot(blocks.SelectMany(b => b.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value))), noGrad, peak);
    }

    [Fact]
    public void TransformerBlocks_GradientPenaltySteps_BitIdenticalPoolOnAndOff()
    {
        var off = PoolHarness.WithPool(false, TransformerSteps);
        var on = PoolHarness.WithPool(true, TransformerSteps);
        // 1.8 MB of gradients alone; the blocks' intermediates bring it to 4.6 MB
        Assert.True(on.PoolPeak >= 3L << 20, $"the pool held {on.PoolPeak} bytes at most: the blocks' intermediates were not recycled");
        AssertBitIdentical(off.State, on.State, "block state");
        AssertBitIdentical([off.NoGrad], [on.NoGrad], "no-grad output");
    }

    /// <summary>
    /// Equalised layers with frozen weights, as D's are in G's update: the scaled weight has no node of its own, and the
    /// convolution's and the linear layer's nodes keep it for the input gradient. It must come back once their backward
    /// has run, not before (the pool churned in between), and at once without a graph.
    /// </summary>
    [Fact]
    public void EqualLayers_FrozenWeights_ScaledWeightBackAfterItsReadersBackward_MatchesPoolOff()
    {
        const int convWeight = 64 * 64 * 3 * 3, linearWeight = 128 * 256;           // 36,864 and 32,768 floats: pooled
        (float[][] Results, long AfterForward, long AfterBackward, long NoGrad) Run() 
        {
            var gen = new Generator(9);
            var conv = new EqualConv2d(64, 64, 3, padding: 1, generator: gen);
            var linear = new EqualLinear(256, 128, generator: gen);
            conv.RequiresGrad(false);
            linear.RequiresGrad(false);
            var x = Tensor.Randn([Batch, 64, 2, 2], gen).RequiresGrad_();
            long before = StoragePool.Bytes;
            var y = linear.Forward(conv.Forward(x).Flatten(1));
            long afterForward = StoragePool.Bytes - before;
            Churn(convWeight, linearWeight);
            before = StoragePool.Bytes;
            (y * Tensor.Randn(y.Shape, gen)).Sum().Backward();
            long afterBackward = StoragePool.Bytes - before;
            StoragePool.Clear();
            before = StoragePool.Bytes;
            using (GradMode.NoGrad()) linear.Forward(conv.Forward(Tensor.Randn([Batch, 64, 2, 2], gen)).Flatten(1));
            long noGrad = StoragePool.Bytes - before;
            return ([y.ToArray(), x.Grad!.ToArray()], afterForward, afterBackward, noGrad);
        }
        var off = PoolHarness.WithPool(false, Run);
        var on = PoolHarness.WithPool(true, Run);
        AssertBitIdentical(off.Results, on.Results, "frozen equalised layers");
        long weights = (long)(convWeight + linearWeight) * sizeof(float);
        Assert.True(on.AfterForward < convWeight * sizeof(float), $"the forward gave back {on.AfterForward} bytes: a scaled weight its node still reads");
        Assert.True(on.AfterBackward >= weights, $"the backward gave back {on.AfterBackward} bytes, not both scaled weights ({weights})");
        Assert.True(on.NoGrad >= weights, $"the pass without a graph gave back {on.NoGrad} bytes, not both scaled weights ({weights})");
    }
}
