using GanForge.NN;
using static GanForge.NN.Tests.NormActivationRuns;

namespace GanForge.NN.Tests;

/// <summary>
/// In training, <see cref="Sequential"/> runs batch norm, or instance norm without affine parameters (CycleGAN's), and
/// the ReLU or LeakyReLU after it as one function (<see cref="Sequential.FuseNormActivation"/>): the normalised map is neither written nor kept, and the values, the
/// gradients of every parameter and input, the running statistics and a gradient penalty's second order are those of the
/// two layers one after the other. The switch is process-wide, so these run apart from the pool's tests' neighbours.
/// </summary>
[Collection("StoragePool")]
public class TrainingNormActivationTests
{
    public static TheoryData<string> Networks =>
        ["linear-bn1d-relu", "linear-bn1d-leaky", "conv-bn2d-relu", "convT-bn2d-leaky", "conv-bn2d-no-affine", "conv-in-relu", "conv-in-leaky"];

    // Odd widths and maps, so the kernels' vector loops and their tails both run; each built twice from one seed.
    static (Sequential Net, Tensor Input) Build(string name)
    {
        var rng = new Generator(7);
        var (net, input) = name switch
        {
            "linear-bn1d-relu" => (new Sequential(new Linear(9, 37, generator: rng), new BatchNorm1d(37), new ReLU(), new Linear(37, 3, generator: rng)), Tensor.Randn([5, 9], rng)),
            "linear-bn1d-leaky" => (new Sequential(new Linear(9, 37, generator: rng), new BatchNorm1d(37), new LeakyReLU(0.2f), new Linear(37, 3, generator: rng)), Tensor.Randn([5, 9], rng)),
            "conv-bn2d-relu" => (new Sequential(new Conv2d(3, 6, 3, padding: 1, generator: rng), new BatchNorm2d(6), new ReLU(),
                new Conv2d(6, 4, 3, generator: rng)), Tensor.Randn([3, 3, 7, 5], rng)),
            "convT-bn2d-leaky" => (new Sequential(new ConvTranspose2d(5, 4, 4, stride: 2, padding: 1, generator: rng), new BatchNorm2d(4), new LeakyReLU(0.2f),
                new ConvTranspose2d(4, 1, 4, stride: 2, padding: 1, generator: rng), new Tanh()), Tensor.Randn([3, 5, 3, 3], rng)),
            // CycleGAN's residual branch and its PatchGAN's layer (7 x 5 maps: the rows' vector loops and tails)
            "conv-in-relu" => (new Sequential(new ReflectionPad2d(1), new Conv2d(3, 6, 3, generator: rng), new InstanceNorm2d(6), new ReLU(),
                new ReflectionPad2d(1), new Conv2d(6, 4, 3, generator: rng)), Tensor.Randn([3, 3, 7, 5], rng)),
            "conv-in-leaky" => (new Sequential(new Conv2d(3, 6, 4, stride: 2, padding: 1, generator: rng), new InstanceNorm2d(6), new LeakyReLU(0.2f),
                new Flatten(), new Linear(6 * 3 * 2, 2, generator: rng)), Tensor.Randn([3, 3, 7, 5], rng)),
            _ => (new Sequential(new Conv2d(3, 6, 3, padding: 1, generator: rng), new BatchNorm2d(6, affine: false, momentum: null), new LeakyReLU(0.1f),
                new Flatten(), new Linear(6 * 7 * 5, 2, generator: rng)), Tensor.Randn([3, 3, 7, 5], rng)),
        };
        // Affine parameters away from 1 and 0, so a slip in either shows.
        foreach (var layer in net)
            if (layer is BatchNormBase { Weight: not null } bn)
            {
                Tensor.Randn(bn.Weight.Shape, rng).Data.CopyTo(bn.Weight.Data);
                Tensor.Randn(bn.Bias!.Shape, rng).Data.CopyTo(bn.Bias.Data);
            }
        return (net, input);
    }

    // One training forward and backward of a loss that weighs each output differently; the input's gradient is returned.
    static (Tensor Output, Tensor InputGrad) Step(Sequential net, Tensor input, bool fuse)
    {
        var x = input.Clone().RequiresGrad_();
        var y = Run(net, x, fuse);
        var weights = Tensor.Randn(y.Shape, new Generator(3));
        (y * y * weights).Sum().Backward();
        return (y.Detach(), x.Grad!);
    }

    [Theory, MemberData(nameof(Networks))]
    public void Training_Fused_GivesTheTwoLayersValuesGradientsAndRunningStatistics(string name)
    {
        var (net, x) = Build(name);
        var (twin, _) = Build(name);
        var (fusedOut, fusedGrad) = Step(net, x, fuse: true);
        var (out2, grad2) = Step(twin, x, fuse: false);
        AssertClose(out2, fusedOut, name + " output");
        AssertClose(grad2, fusedGrad, name + " input gradient");
        foreach (var ((pname, p), (_, q)) in net.NamedParameters().Zip(twin.NamedParameters()))
        {
            Assert.NotNull(p.Grad);
            AssertClose(q.Grad!, p.Grad!, $"{name} {pname} gradient");
            Assert.Contains(p.Grad!.ToArray(), v => v != 0f);
        }
        foreach (var ((bname, b), (_, c)) in net.NamedBuffers().Zip(twin.NamedBuffers()))
            AssertClose(c, b, $"{name} {bname}");
        // the normalisation's output fed the activation, so a negative value of it must have been scaled by the slope
        Assert.Contains(fusedOut.ToArray(), v => v < 0f);
    }

    [Theory, MemberData(nameof(Networks))]
    public void Training_Fused_IsOneFunctionThatKeepsNoNormalisedMap(string name)
    {
        var (net, x) = Build(name);
        int norm = net.ToList().FindIndex(m => m is BatchNormBase or InstanceNorm2d);
        var fused = Run(new Sequential(net[norm - 1], net[norm], net[norm + 1]), x, fuse: true);
        var apart = Run(new Sequential(net[norm - 1], net[norm], net[norm + 1]), x, fuse: false);
        // instance norm runs batch norm's function over its (sample, channel) rows, then takes the input's shape again
        var last = fused.GradFn!.Name == "ReshapeBackward" ? fused.GradFn.Inputs[0].GradFn! : fused.GradFn;
        Assert.Equal("BatchNormFunctionBackward", last.Name);
        Assert.Equal("LeakyReluBackward", apart.GradFn!.Name);
    }

    [Theory, InlineData("conv-bn2d-relu"), InlineData("linear-bn1d-leaky"), InlineData("conv-in-leaky")]
    public void Training_Fused_GradientPenaltysSecondOrderMatches(string name)
    {
        // WGAN-GP's term on a network with batch norm: the gradient of ‖∇x D(x)‖² with respect to D's parameters.
        Tensor[] PenaltyGrads(bool fuse)
        {
            var (net, input) = Build(name);
            var x = input.Clone().RequiresGrad_();
            var y = Run(net, x, fuse);
            var gx = Autograd.Grad((y * y).Sum(), x, createGraph: true);
            (gx * gx).Sum().Backward();
            return [.. net.Parameters().Select(p => p.Grad!)];
        }
        var fused = PenaltyGrads(fuse: true);
        var apart = PenaltyGrads(fuse: false);
        for (int i = 0; i < fused.Length; i++) AssertClose(apart[i], fused[i], $"{name} parameter {i}");
        Assert.Contains(fused[0].ToArray(), v => v != 0f);
    }

    [Fact]
    public void Training_NegativeSlope_RunsTheTwoLayers()
    {
        var norm = (INormThenActivation)new BatchNorm2d(3);
        Assert.Null(norm.TryForwardActivated(Tensor.Randn(4, 3, 2, 2), -0.5f, inPlace: false));
        var instance = (INormThenActivation)new InstanceNorm2d(3);
        Assert.Null(instance.TryForwardActivated(Tensor.Randn(4, 3, 2, 2).RequiresGrad_(), -0.5f, inPlace: false));
        var net = new Sequential(new BatchNorm2d(3), new LeakyReLU(-0.5f));
        var x = Tensor.Randn(4, 3, 2, 2).RequiresGrad_();
        Assert.Equal("LeakyReluBackward", Run(net, x, fuse: true).GradFn!.Name);
    }

    // A scaled activation (StyleGAN's gain √2): batch norm's fused kernel has no gain, so the two layers run and the output
    // is the activation's of the norm's.
    [Fact]
    public void Training_GainOtherThanOne_RunsTheTwoLayers()
    {
        var x = Tensor.Randn([4, 3, 2, 2], new Generator(12));
        var y = Run(new Sequential(new BatchNorm2d(3), new ScaledLeaky(0.2f, MathF.Sqrt(2f))), x.Clone().RequiresGrad_(), fuse: true);
        Assert.Equal("LeakyReluBackward", y.GradFn!.Name);
        var expected = new BatchNorm2d(3).Forward(x).LeakyRelu(0.2f, MathF.Sqrt(2f));
        Assert.Equal(expected.ToArray(), y.ToArray());
    }

    [Theory, InlineData(5, 37, 1, 0f), InlineData(3, 6, 35, 0.2f), InlineData(2, 4, 8, 0.1f)]
    public void Kernel_BackwardThroughTheActivation_MatchesLeakyReluBackwardThenBackward(int n, int c, int inner, float slope)
    {
        var rng = new Generator(21);
        int size = n * c * inner;
        var x = Tensor.Randn([size], rng).Data.ToArray();
        var g = Tensor.Randn([size], rng).Data.ToArray();
        var weight = Tensor.Randn([c], rng).Data.ToArray();
        var bias = Tensor.Randn([c], rng).Data.ToArray();
        var (mean, variance, invstd) = (new float[c], new float[c], new float[c]);
        var (y, z) = (new float[size], new float[size]);
        Kernels.BatchNorm.Forward(x, y, n, c, inner, weight, bias, 1e-5f, mean, variance, invstd);
        Kernels.BatchNorm.Forward(x, z, n, c, inner, weight, bias, 1e-5f, mean, variance, invstd, slope);
        var activatedApart = new float[size];
        Kernels.Activation.LeakyRelu(y, activatedApart, size, slope);
        AssertClose(Tensor.Wrap(activatedApart, [size]), Tensor.Wrap(z, [size]), "forward");

        var gy = new float[size];
        Kernels.Activation.LeakyReluBackward(y, g, gy, size, slope);
        var (dx, dw, db) = (new float[size], new float[c], new float[c]);
        Kernels.BatchNorm.Backward(x, gy, n, c, inner, mean, invstd, weight, dx, dw, db);
        var (fx, fw, fb) = (new float[size], new float[c], new float[c]);
        Kernels.BatchNorm.Backward(x, g, n, c, inner, mean, invstd, weight, fx, fw, fb, (slope, bias));
        AssertClose(Tensor.Wrap(dx, [size]), Tensor.Wrap(fx, [size]), "dx");
        AssertClose(Tensor.Wrap(dw, [c]), Tensor.Wrap(fw, [c]), "dw");
        AssertClose(Tensor.Wrap(db, [c]), Tensor.Wrap(fb, [c]), "db");
        Assert.Contains(y, v => v < 0f);   // the activation's derivative is not 1 everywhere
    }
}
