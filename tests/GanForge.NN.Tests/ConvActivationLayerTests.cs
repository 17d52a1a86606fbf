using GanForge.NN;

namespace GanForge.NN.Tests;

/// <summary>
/// <see cref="Sequential"/> runs a Conv2d or EqualConv2d and the ReLU, LeakyReLU or scaled LeakyReLU after it as one
/// function (<see cref="Sequential.FuseConvActivation"/>): the graph holds one node for the pair, and the outputs, the
/// input's and every parameter's gradients and a gradient penalty's second order equal the two layers' bit for bit. A
/// negative slope or a gain under 1 runs the two layers. The switch is process-wide, so these run apart from the pool's tests' neighbours.
/// </summary>
[Collection("StoragePool")]
public class ConvActivationLayerTests
{
    public static TheoryData<string> Networks => ["dcgan28-d", "rgb-no-bias-relu", "negative-slope", "equalized-gain", "gain-under-one"];

    static (Sequential Net, Tensor Input) Build(string name)
    {
        var rng = new Generator(8);
        return name switch
        {
            // dcgan28's discriminator: an image layer with a bias, then a layer of 64 input channels (oneDNN's).
            "dcgan28-d" => (new Sequential(new Conv2d(1, 64, 4, stride: 2, padding: 1, generator: rng), new LeakyReLU(0.2f),
                new Conv2d(64, 128, 4, stride: 2, padding: 1, generator: rng), new LeakyReLU(0.2f), new Flatten(), new Linear(128 * 7 * 7, 1, generator: rng)),
                Tensor.Randn([6, 1, 28, 28], rng)),
            "rgb-no-bias-relu" => (new Sequential(new Conv2d(3, 16, 4, stride: 2, padding: 1, bias: false, generator: rng), new ReLU(),
                new Conv2d(16, 1, 3, generator: rng)), Tensor.Randn([3, 3, 16, 16], rng)),
            // StyleGAN's and ProGAN's discriminator layers: EqualConv2d (its weight scaled in the forward) with the gain √2,
            // from one channel (an image layer, which with a gain runs the activation's own pass) and from 16.
            "equalized-gain" => (new Sequential(new EqualConv2d(1, 16, 3, padding: 1, generator: rng), new ScaledLeaky(0.2f, MathF.Sqrt(2f)),
                new EqualConv2d(16, 16, 3, padding: 1, generator: rng), new ScaledLeaky(0.2f, MathF.Sqrt(2f)), new AvgPool2d(2), new Flatten(),
                new Linear(16 * 4 * 4, 1, generator: rng)), Tensor.Randn([3, 1, 8, 8], rng)),
            // A gain under 1 could round a tiny positive output to 0, where the backward reads the sign: two layers.
            "gain-under-one" => (new Sequential(new EqualConv2d(2, 8, 3, generator: rng), new ScaledLeaky(0.2f, 0.5f), new Flatten(),
                new Linear(8 * 5 * 5, 2, generator: rng)), Tensor.Randn([2, 2, 7, 7], rng)),
            _ => (new Sequential(new Conv2d(2, 8, 3, generator: rng), new LeakyReLU(-0.5f), new Flatten(), new Linear(8 * 5 * 5, 2, generator: rng)),
                Tensor.Randn([2, 2, 7, 7], rng)),
        };
    }

    // The output, the loss's gradients of the input and every parameter, then those of a gradient penalty on the input
    // (its second order), with the conv fusion on or off. The penalty gives the input no gradient of its own (these
    // critics are piecewise linear in it) and the last bias none: both are empty on either path.
    static List<float[]> Run(string name, bool fuse)
    {
        var (net, input) = Build(name);
        bool saved = Sequential.FuseConvActivation;
        Sequential.FuseConvActivation = fuse;
        try
        {
            var x = input.Clone().RequiresGrad_();
            var y = net.Forward(x);
            Assert.Equal(fuse && name is not ("negative-slope" or "gain-under-one"), Nodes(y).Contains("Conv2dLeakyRelu"));
            var parameters = net.Parameters().ToArray();
            var first = Autograd.Grad([(y * y).Sum()], [x, .. parameters]);
            var gx = Autograd.Grad(net.Forward(x).Sum(), x, createGraph: true);
            (gx * gx).Sum().Backward();
            return [y.ToArray(), .. first.Select(g => g!.ToArray()), x.Grad?.ToArray() ?? [], .. parameters.Select(p => p.Grad?.ToArray() ?? [])];
        }
        finally { Sequential.FuseConvActivation = saved; }
    }

    [Theory, MemberData(nameof(Networks))]
    public void Fused_GivesTheTwoLayersValuesAndGradientsOfEveryOrder(string name)
    {
        var apart = Run(name, fuse: false);
        var fused = Run(name, fuse: true);
        Assert.Equal(apart.Count, fused.Count);
        for (int i = 0; i < apart.Count; i++) Assert.Equal(apart[i], fused[i]);
    }

    // A training step of a critic whose pairs run both backward paths without a graph: the image layer's one pass and,
    // 16 -> 16 off an image, the activation's pass then the convolution's kernels. From the third step every buffer
    // comes from the pool: a step of 4 x 16 x 16 x 16 maps allocates under one of them (64 KB). A gradient the function
    // made and then dropped would cost at least that each step.
    [Fact]
    public void Fused_TrainingSteps_TakeTheirBuffersFromThePool() => PoolHarness.WithPool(on: true, () =>
    {
        var rng = new Generator(9);
        var net = new Sequential(new Conv2d(3, 16, 3, padding: 1, generator: rng), new LeakyReLU(0.2f),
            new Conv2d(16, 16, 3, padding: 1, generator: rng), new LeakyReLU(0.2f), new Flatten(), new Linear(16 * 16 * 16, 1, generator: rng));
        var x = Tensor.Randn([4, 3, 16, 16], rng);
        long Step()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            net.Forward(x).Sum().Backward();
            foreach (var p in net.Parameters()) p.Grad = null;
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Step();
        Step();
        long third = Step();
        Assert.True(third < 4 * 16 * 16 * 16 * sizeof(float), $"the third step allocated {third} bytes");
        return 0;
    });

    // The graph's node types behind y.
    static HashSet<string> Nodes(Tensor y)
    {
        var seen = new HashSet<Function>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Tensor>([y]);
        while (stack.Count > 0)
            if (stack.Pop().GradFn is { } fn && seen.Add(fn))
                foreach (var input in fn.Inputs) stack.Push(input);
        return seen.Select(fn => fn.GetType().Name).ToHashSet();
    }
}
