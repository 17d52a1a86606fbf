using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;
using GanForge.Tests;

namespace GanForge.Tensors.Tests;

/// <summary>
/// A convolution and the LeakyReLU after it as one function (<see cref="Functions.Conv2dLeakyRelu"/>): on a layer on an
/// image <see cref="ImageConv"/> applies the activation as it stores, and its backward takes dx, dw and db from the
/// gradient masked a sample at a time; elsewhere the convolution's kernels and the activation's pass. Every value and
/// gradient, first and second order, equals Conv2d then LeakyRelu bit for bit, and finite differences agree. Shares the
/// backend collection: it switches process-wide settings.
/// </summary>
[Collection("ConvBackend")]
public class ConvActivationTests
{
    public static IEnumerable<object[]> LayersAndSlopes() =>
        from layer in ImageConvTests.Layers
        from slope in new[] { 0.2f, 0f }
        select layer.Concat([(object)slope]).ToArray();

    [Theory, MemberData(nameof(LayersAndSlopes))]
    public void ImageLayer_ForwardAndBackward_SameBitsAsTheKernelsThenTheActivation(int ci, int h, int w, int co, int kh, int kw, int stride,
        int pad, int n, float slope)
    {
        if (!Avx512F.IsSupported) return;
        var g = new ConvGeometry(ci, h, w, co, (h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1, kh, kw, stride, stride, pad, pad, 1, 1, 1);
        var gen = new Generator(45);
        var (x, wt, bias, gy) = (Tensor.Randn([n, ci, h, w], gen).ToArray(), Tensor.Randn([co, ci, kh, kw], gen).ToArray(), Tensor.Randn([co], gen).ToArray(),
            Tensor.Randn([n, co, g.OH, g.OW], gen).ToArray());
        int maps = n * co * g.OH * g.OW;

        foreach (var b in new[] { bias, null })
        {
            // The chain: the kernel's output z, then the activation's pass.
            var z = Poisoned(maps);
            ImageConv.Forward(x, wt, b, z, n, g);
            var expected = new float[maps];
            Activation.LeakyRelu(z, expected, maps, slope);
            var y = Poisoned(maps);
            ImageConv.Forward(x, wt, b, y, n, g, slope);
            Assert.Equal(expected, y);

            var gz = new float[maps];
            Activation.LeakyReluBackward(z, gy, gz, maps, slope);
            var dbRef = new float[co];
            Reduce.Sum(gz, [n, co, g.OH, g.OW], [0, 2, 3], dbRef);

            // Each output alone and all three together, on two threads and one (the weight gradient's chunks, the
            // reference's alike).
            foreach (int threads in new[] { 2, 1 })
                ThreadingTests.WithThreads(threads, () =>
                {
                    var dxRef = Poisoned(n * ci * h * w);
                    ImageConv.BackwardData(gz, wt, dxRef, n, g);
                    var dwRef = Poisoned(co * g.K);
                    ImageConv.WeightGrad(x, gz, dwRef, n, g);
                    foreach (var (wantX, wantW, wantB) in new[] { (true, true, true), (false, true, true), (true, false, false), (false, false, true) })
                    {
                        float[]? dx = wantX ? Poisoned(dxRef.Length) : null, dw = wantW ? Poisoned(dwRef.Length) : null, db = wantB ? Poisoned(co) : null;
                        ImageConv.BackwardActivated(x, wt, gy, y, slope, dx, dw, db, n, g);
                        if (dx != null) Assert.Equal(dxRef, dx);
                        if (dw != null) Assert.Equal(dwRef, dw);
                        if (db != null) Assert.Equal(dbRef, db);
                    }
                });
        }
    }

    // dcgan28's discriminator's first layer (on an image, with a bias), dcgan64's (RGB, no bias), a layer of many
    // input channels (the other backends: the activation a pass of its own) and ReLU; then StyleGAN's gain of √2 (no image
    // kernel: the activation's own pass) on an image layer and off one, and a gain of 2 on ReLU.
    public static TheoryData<int, int, int, int, bool, float, float> Layers => new()
    {
        { 1, 28, 64, 4, true, 0.2f, 1f },
        { 3, 32, 16, 4, false, 0.2f, 1f },
        { 16, 9, 8, 3, true, 0.2f, 1f },
        { 1, 28, 64, 4, true, 0f, 1f },
        { 1, 28, 64, 4, true, 0.2f, MathF.Sqrt(2f) },
        { 16, 9, 8, 3, true, 0.2f, MathF.Sqrt(2f) },
        { 3, 32, 16, 4, false, 0f, 2f },
    };

    [Theory, MemberData(nameof(Layers))]
    public void Function_ValuesAndGradientsOfEveryOrder_SameBitsAsConvThenLeakyRelu(int ci, int size, int co, int k, bool biased, float slope, float gain)
    {
        var gen = new Generator(46);
        var x = Tensor.Randn([5, ci, size, size], gen);
        var w = Tensor.Randn([co, ci, k, k], gen) * 0.2f;
        var b = biased ? Tensor.Randn([co], gen) : null;
        Tensor Pair(Tensor xi, Tensor wi, Tensor? bi) => Tensor.Conv2d(xi, wi, bi, stride: 2, padding: 1).LeakyRelu(slope, gain);
        Tensor Fused(Tensor xi, Tensor wi, Tensor? bi) => Tensor.Conv2dLeakyRelu(xi, wi, bi, 2, 1, 1, 1, slope, gain);

        // The first order without a graph (the fused backward), then a gradient penalty's second order through it.
        Tensor?[] Run(Func<Tensor, Tensor, Tensor?, Tensor> layer)
        {
            var (xi, wi, bi) = (x.Detach().RequiresGrad_(), w.Detach().RequiresGrad_(), b?.Detach().RequiresGrad_());
            var y = layer(xi, wi, bi);
            var first = Autograd.Grad([y.Square().Sum()], bi == null ? [xi, wi] : [xi, wi, bi]);
            var gx = Autograd.Grad(layer(xi, wi, bi).Square().Sum(), xi, createGraph: true);
            gx.Square().Sum().Backward();
            return [y.Detach(), .. first, xi.Grad, wi.Grad, bi?.Grad];
        }
        var pair = Run(Pair);
        var fused = Run(Fused);
        for (int i = 0; i < pair.Length; i++)
            Assert.Equal(Values(pair[i]), Values(fused[i]));

        // Off the switch (the image kernels' backward off too) the function takes its other path, to the same bits.
        bool saved = Conv.FuseImageActivation;
        try
        {
            Conv.FuseImageActivation = false;
            var apart = Run(Fused);
            for (int i = 0; i < pair.Length; i++) Assert.Equal(Values(pair[i]), Values(apart[i]));
        }
        finally { Conv.FuseImageActivation = saved; }
    }

    [Fact]
    public void Function_MatchesFiniteDifferences_FirstAndSecondOrder()
    {
        var gen = new Generator(47);
        // On an image (one channel: ImageConv's kernels) and off one (six). The second order on the image layer, through
        // the square of the output (LeakyReLU's own second derivative is zero): off it, a step of the central difference
        // moves one of its 160 pre-activations across the kink, and the pair of layers it equals bit for bit (above)
        // reads the same there.
        foreach (int ci in new[] { 1, 6 })
        {
            var inputs = new[] { Tensor.Randn([2, ci, 8, 8], gen), Tensor.Randn([5, ci, 4, 4], gen) * 0.3f, Tensor.Randn([5], gen) };
            Tensor Layer(Tensor[] t) => Tensor.Conv2dLeakyRelu(t[0], t[1], t[2], 2, 1, 1, 1, 0.2f);
            GradCheck.First($"Conv2dLeakyRelu {ci} -> 5", Layer, inputs, eps: 1e-3, atol: 3e-3);
            if (ci == 1) GradCheck.Second($"Conv2dLeakyRelu {ci} -> 5", t => Layer(t).Square(), inputs, eps: 1e-3, atol: 1e-2, rtol: 5e-2);
        }
        // StyleGAN's gain of √2, both orders on the image layer.
        var scaled = new[] { Tensor.Randn([2, 1, 8, 8], gen), Tensor.Randn([5, 1, 4, 4], gen) * 0.3f, Tensor.Randn([5], gen) };
        Tensor Scaled(Tensor[] t) => Tensor.Conv2dLeakyRelu(t[0], t[1], t[2], 2, 1, 1, 1, 0.2f, MathF.Sqrt(2f));
        GradCheck.First("Conv2dLeakyRelu gain √2", Scaled, scaled, eps: 1e-3, atol: 3e-3);
        GradCheck.Second("Conv2dLeakyRelu gain √2", t => Scaled(t).Square(), scaled, eps: 1e-3, atol: 2e-2, rtol: 5e-2);
    }

    [Fact]
    public void BadInput_OneLineErrors()
    {
        var x = Tensor.Randn([1, 1, 8, 8], new Generator(48));
        var w = Tensor.Randn([8, 1, 4, 4], new Generator(49));
        var negative = Assert.Throws<ArgumentException>(() => Tensor.Conv2dLeakyRelu(x, w, null, 2, 1, 1, 1, -0.5f));
        Assert.Contains("negative slope -0.5 must be 0 or more", negative.Message);
        foreach (float gain in new[] { 0.5f, float.NaN, float.PositiveInfinity })
        {
            var small = Assert.Throws<ArgumentException>(() => Tensor.Conv2dLeakyRelu(x, w, null, 2, 1, 1, 1, 0.2f, gain));
            Assert.Contains($"Conv2dLeakyRelu: gain {gain} must be finite and 1 or more", small.Message);
        }
        var channels = Assert.Throws<ArgumentException>(() => Tensor.Conv2dLeakyRelu(x, Tensor.Randn([8, 2, 4, 4], new Generator(1)), null, 2, 1, 1, 1, 0.2f));
        Assert.Contains("Conv2d", channels.Message);
        if (!Avx512F.IsSupported) return;
        var g = new ConvGeometry(1, 8, 8, 8, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var shortY = Assert.Throws<ArgumentException>(() =>
            ImageConv.BackwardActivated(new float[64], new float[128], new float[128], new float[100], 0.2f, null, new float[128], null, 1, g));
        Assert.Contains("ImageConv.BackwardActivated", shortY.Message);
        Assert.Contains("y holds 100 floats", shortY.Message);
        Assert.Contains("need 128", shortY.Message);
        Assert.DoesNotContain('\n', shortY.Message);
        var shortDx = Assert.Throws<ArgumentException>(() =>
            ImageConv.BackwardActivated(new float[64], new float[128], new float[128], new float[128], 0.2f, new float[63], null, null, 1, g));
        Assert.Contains("dx holds 63 floats, 1 samples", shortDx.Message);
        var slope = Assert.Throws<ArgumentException>(() =>
            ImageConv.BackwardActivated(new float[64], new float[128], new float[128], new float[128], -1f, null, new float[128], null, 1, g));
        Assert.Contains("slope -1 must be 0 or more", slope.Message);
    }

    static float[]? Values(Tensor? t) => t == null ? null : t.Data.ToArray();

    static float[] Poisoned(int count) => Enumerable.Repeat(float.NaN, count).ToArray();
}
