namespace GanForge.NN.Tests;

/// <summary>
/// MinibatchDiscrimination and MinibatchStdDev against the PyTorch references in
/// tools/fixtures/minibatch.py (forward, backward, double backward), finite differences, and the
/// properties the papers rely on (self term, identical samples, grouping order).
/// </summary>
public class MinibatchLayerTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "minibatch");

    const double Rtol = 1e-4, Atol = 1e-5;

    /// <summary>The fixture's layer: A = 6 features, B = 4 kernels of C = 3, T from the fixture.</summary>
    static MinibatchDiscrimination FixtureMbd()
    {
        var m = new MinibatchDiscrimination(6, numKernels: 4, kernelDim: 3);
        m.T.CopyFrom(Fx["mbd.T"]);
        return m;
    }

    /// <summary>Gradient of ||d(sum(y * gy))/dx||² w.r.t. <paramref name="wrt"/>, by double backward.</summary>
    static Tensor?[] GradOfGradNorm(Func<Tensor, Tensor> f, Tensor x, Tensor gy, Tensor[] wrt)
    {
        var gx = Autograd.Grad((f(x) * gy).Sum(), x, createGraph: true);
        return Autograd.Grad([gx.Square().Sum()], wrt);
    }

    // ---- MinibatchDiscrimination ----------------------------------------------------------------

    [Fact]
    public void MinibatchDiscrimination_ForwardBackward_MatchesPyTorch()
    {
        var m = FixtureMbd();
        var x = Fx["mbd.x"].Clone().RequiresGrad_();
        var y = m.Forward(x);
        y.Backward(Fx["mbd.gy"]);
        Fixtures.AssertClose(Fx["mbd.y"], y, Rtol, Atol, "mbd y");
        Fixtures.AssertClose(Fx["mbd.dx"], x.Grad!, Rtol, Atol, "mbd dx");
        Fixtures.AssertClose(Fx["mbd.dT"], m.T.Grad!, Rtol, Atol, "mbd dT");
    }

    [Fact]
    public void MinibatchDiscrimination_GradientOfGradientNorm_MatchesPyTorch()
    {
        var m = FixtureMbd();
        var x = Fx["mbd.x"].Clone().RequiresGrad_();
        var gg = GradOfGradNorm(m.Forward, x, Fx["mbd.gy"], [x, m.T]);
        Fixtures.AssertClose(Fx["mbd.ggx"], gg[0]!, Rtol, Atol, "mbd d||dx||²/dx");
        Fixtures.AssertClose(Fx["mbd.ggT"], gg[1]!, Rtol, Atol, "mbd d||dx||²/dT");
    }

    [Fact]
    public void MinibatchDiscrimination_GradCheck_FirstAndSecondOrder()
    {
        var m = new MinibatchDiscrimination(3, numKernels: 2, kernelDim: 3, generator: new Generator(41));
        var x = (Tensor.Randn([4, 3], new Generator(42)) * 0.3f).Detach();
        GradCheck.First("MinibatchDiscrimination", xs => m.Forward(xs[0]), [x, m.T]);
        GradCheck.Second("MinibatchDiscrimination", xs => m.Forward(xs[0]), [x, m.T]);
    }

    [Fact]
    public void MinibatchDiscrimination_IdenticalSamples_CountTheWholeBatchIncludingSelf()
    {
        // c_b = exp(0) = 1 for every pair, the sample itself included: o = N.
        var m = new MinibatchDiscrimination(5, numKernels: 3, kernelDim: 2, generator: new Generator(1));
        var row = Tensor.Randn([1, 5], new Generator(2));
        var y = m.Forward(row.Expand(3, 5));
        Assert.Equal([3, 8], y.Shape);
        Assert.All(y.Slice(1, 5).ToArray(), v => Assert.InRange(v, 3f - 1e-5f, 3f + 1e-5f));
        Fixtures.AssertClose(row.Expand(3, 5), y.Slice(1, 0, 5), 1e-6, 1e-7, "x passed through");
    }

    [Fact]
    public void MinibatchDiscrimination_FarApartSamples_OnlyTheSelfTermRemains()
    {
        var m = new MinibatchDiscrimination(2, numKernels: 3, kernelDim: 2, generator: new Generator(3));
        var x = Tensor.FromArray([0f, 0f, 100f, -100f, -100f, 100f], 3, 2);
        Assert.All(m.Forward(x).Slice(1, 2).ToArray(), v => Assert.InRange(v, 1f - 1e-5f, 1f + 1e-5f));
    }

    [Fact]
    public void MinibatchDiscrimination_Parameters_OnlyTOfShapeAByBC_InitStandardNormal()
    {
        var m = new MinibatchDiscrimination(100, generator: new Generator(5));
        Assert.Equal(["T"], m.StateDict().Keys);
        Assert.Same(m.T, m.Parameters().Single());
        Assert.Equal([100, 500], m.T.Shape);
        Assert.True(m.T.RequiresGrad);
        var w = m.T.ToArray();
        double mean = w.Average(v => (double)v);
        double std = Math.Sqrt(w.Average(v => ((double)v - mean) * ((double)v - mean)));
        Assert.InRange(mean, -0.02, 0.02);   // 50000 draws: the standard error is 0.0045
        Assert.InRange(std, 0.98, 1.02);
        Assert.Equal("MinibatchDiscrimination(in_features=100, num_kernels=100, kernel_dim=5)", m.ToString());
    }

    [Fact]
    public void MinibatchDiscrimination_WrongFeatureCount_NamesLayerAndShapes()
    {
        var m = new MinibatchDiscrimination(12);
        var e = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(8, 10)));
        Assert.Equal("MinibatchDiscrimination: input (8,10) has 10 features, expected 12", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(8, 3, 4)));
        Assert.Contains("MinibatchDiscrimination", e.Message);
        Assert.Contains("(8,3,4)", e.Message);
        Assert.Throws<ArgumentException>(() => new MinibatchDiscrimination(12, numKernels: 0));
    }

    // ---- MinibatchStdDev ----------------------------------------------------------------------

    [Theory]
    [InlineData("mbstd")]        // (8,3,2,3), 2 groups of 4
    [InlineData("mbstd_small")]  // (3,2,2,2), batch smaller than the group: one group of 3
    public void MinibatchStdDev_ForwardBackwardAndDoubleBackward_MatchPyTorch(string p)
    {
        var m = new MinibatchStdDev(4);
        var x = Fx[p + ".x"].Clone().RequiresGrad_();
        var y = m.Forward(x);
        y.Backward(Fx[p + ".gy"]);
        Fixtures.AssertClose(Fx[p + ".y"], y, Rtol, Atol, p + " y");
        Fixtures.AssertClose(Fx[p + ".dx"], x.Grad!, Rtol, Atol, p + " dx");

        var x2 = Fx[p + ".x"].Clone().RequiresGrad_();
        var gg = GradOfGradNorm(m.Forward, x2, Fx[p + ".gy"], [x2]);
        Fixtures.AssertClose(Fx[p + ".ggx"], gg[0]!, Rtol, Atol, p + " d||dx||²/dx");
    }

    [Fact]
    public void MinibatchStdDev_GradCheck_FirstAndSecondOrder()
    {
        var m = new MinibatchStdDev(2);
        var x = Tensor.Randn([4, 2, 2, 2], new Generator(43));
        GradCheck.First("MinibatchStdDev", xs => m.Forward(xs[0]), [x]);
        GradCheck.Second("MinibatchStdDev", xs => m.Forward(xs[0]), [x]);
    }

    [Fact]
    public void MinibatchStdDev_IdenticalSamples_ChannelIsSqrtEps_VariedBatchLarger()
    {
        var m = new MinibatchStdDev(4);
        var one = Tensor.Randn([1, 3, 4, 4], new Generator(44));
        var same = m.Forward(one.Expand(8, 3, 4, 4));
        Assert.Equal([8, 4, 4, 4], same.Shape);
        Assert.All(same.Select(1, 3).ToArray(), v => Assert.InRange(v, 1e-4f - 1e-6f, 1e-4f + 1e-6f)); // sqrt(1e-8)

        var varied = m.Forward(Tensor.Randn([8, 3, 4, 4], new Generator(45)));
        Assert.All(varied.Select(1, 3).ToArray(), v => Assert.InRange(v, 0.3f, 2f)); // about 0.8 for N(0,1) groups of 4
    }

    [Fact]
    public void MinibatchStdDev_Grouping_SampleIJoinsGroupIModNumberOfGroups()
    {
        // N = 8, G = 4: 2 groups, {0,2,4,6} and {1,3,5,7} (stylegan2-ada's view (G,n,C,H,W)).
        // The even samples are identical, the odd ones differ; contiguous groups {0..3}, {4..7} would mix them.
        var gen = new Generator(46);
        var even = Tensor.Randn([1, 2, 3, 3], gen);
        var samples = Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? even : Tensor.Randn([1, 2, 3, 3], gen)).ToArray();
        var channel = new MinibatchStdDev(4).Forward(Tensor.Cat(samples, 0)).Select(1, 2);  // (8,3,3)
        for (int i = 0; i < 8; i++)
        {
            var values = channel.Select(0, i).ToArray();
            if (i % 2 == 0) Assert.All(values, v => Assert.InRange(v, 1e-4f - 1e-6f, 1e-4f + 1e-6f));
            else Assert.All(values, v => Assert.InRange(v, 0.3f, 2f));
        }
    }

    [Fact]
    public void MinibatchStdDev_BatchNotDivisibleByGroup_NamesLayerAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new MinibatchStdDev(4).Forward(Tensor.Zeros(6, 3, 4, 4)));
        Assert.Contains("MinibatchStdDev", e.Message);
        Assert.Contains("(6,3,4,4)", e.Message);
        Assert.Contains("groups of 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new MinibatchStdDev().Forward(Tensor.Zeros(8, 12)));
        Assert.Contains("MinibatchStdDev", e.Message);
        Assert.Contains("(8,12)", e.Message);
        Assert.Throws<ArgumentException>(() => new MinibatchStdDev(0));
    }

    [Fact]
    public void MinibatchStdDev_HasNoParameters_PrintsGroupSize()
    {
        var m = new MinibatchStdDev(2);
        Assert.Empty(m.StateDict());
        Assert.Equal("MinibatchStdDev(group_size=2)", m.ToString());
    }
}

/// <summary>
/// Both layers are <see cref="IPureLayer"/>s, so a <see cref="Sequential"/> recycles the buffers on either
/// side of them (<see cref="StoragePool"/>). A buffer returned too early is poisoned with NaN before it
/// could be read again; the same seeded work must come out bit-identical with the pool on and off.
/// </summary>
[Collection("StoragePool")]
public class MinibatchLayerRecyclingTests
{
    const int Batch = 8;


    /// <summary>A critic whose intermediates around both layers are above the pool's minimum size.</summary>
    static Sequential Critic(Generator gen) => new(
        new Conv2d(3, 32, 3, 1, 1, generator: gen),                     // state: 32 x 16 x 16 (64K floats)
        new LeakyReLU(0.2f),
        new MinibatchStdDev(4),                                         // state: 33 x 16 x 16
        new Conv2d(33, 16, 4, 2, 1, generator: gen),                    // state: 16 x 8 x 8
        new LeakyReLU(0.2f),
        new Flatten(),
        new Linear(16 * 8 * 8, 4096, generator: gen),                   // (8,4096): 32K floats
        new LeakyReLU(0.2f),
        new MinibatchDiscrimination(4096, numKernels: 16, kernelDim: 4, generator: gen), // (8,4112)
        new Linear(4096 + 16, 1, generator: gen));

    /// <summary>WGAN-GP critic loss D(fake) - D(real) + 10 (||dD(x̂)/dx̂|| - 1)², then a no-grad forward.</summary>
    static (float[][] Grads, float[] NoGrad) Step()
    {
        var gen = new Generator(47);
        var critic = Critic(gen);
        Init.Normal(((MinibatchDiscrimination)critic[8]).T, std: 0.05f, generator: gen); // distances small enough that c_b matters
        var real = Tensor.Randn([Batch, 3, 16, 16], gen);
        var fake = Tensor.Randn([Batch, 3, 16, 16], gen);
        var eps = Tensor.Rand([Batch, 1, 1, 1], gen);
        var mixed = (real * eps + fake * (1f - eps)).Detach().RequiresGrad_();
        var dx = Autograd.Grad(critic.Forward(mixed).Sum(), mixed, createGraph: true);
        PoolHarness.PoisonPool();
        var penalty = (dx.Flatten(1).Norm(2f, [1]) - 1f).Square().Mean();
        var loss = critic.Forward(fake).Mean() - critic.Forward(real).Mean() + penalty * 10f;
        PoolHarness.PoisonPool();
        loss.Backward();
        PoolHarness.PoisonPool();
        var grads = critic.Parameters().Select(p => p.Grad!.ToArray()).ToArray();

        var realBefore = real.ToArray();
        Tensor y;
        using (GradMode.NoGrad()) y = critic.Forward(real);
        PoolHarness.PoisonPool();
        Assert.Equal(realBefore, real.ToArray());
        return (grads, y.ToArray());
    }

    [Fact]
    public void GradientPenaltyAndNoGradForward_ThroughBothLayers_BitIdenticalPoolOnAndOff()
    {
        var off = PoolHarness.WithPool(false, Step);
        var on = PoolHarness.WithPool(true, () =>
        {
            var result = Step();
            Assert.True(StoragePool.Bytes > 0, "nothing was recycled, so the test proves nothing");
            return result;
        });
        Assert.All(off.Grads, g => Assert.All(g, v => Assert.True(float.IsFinite(v))));
        Assert.True(off.Grads.Any(g => g.Any(v => v != 0f)), "the critic has no gradient at all");
        for (int i = 0; i < off.Grads.Length; i++)
            AssertBitIdentical(off.Grads[i], on.Grads[i], $"gradient of parameter {i}");
        AssertBitIdentical(off.NoGrad, on.NoGrad, "no-grad output");
    }

    static void AssertBitIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int j = 0; j < expected.Length; j++)
            if (BitConverter.SingleToInt32Bits(expected[j]) != BitConverter.SingleToInt32Bits(actual[j]))
                Assert.Fail($"{what}: element {j} is {actual[j]} with the pool, {expected[j]} without");
    }
}
