using GanForge.NN;
using static GanForge.NN.Tests.NormActivationRuns;

namespace GanForge.NN.Tests;

/// <summary>
/// <see cref="Sequential"/> runs eval-mode batch norm and the ReLU or LeakyReLU after it as one pass without a graph
/// (<see cref="Sequential.FuseNormActivation"/>), in place on an intermediate it made: the same values as the two layers
/// one after the other, nothing the caller holds overwritten, and the two layers as before wherever a graph is recorded
/// or the layer trains. The switch is process-wide, so these run apart from the pool's tests' neighbours.
/// </summary>
[Collection("StoragePool")]
public class EvalNormActivationTests
{
    // A batch norm with statistics and affine parameters far from the defaults, so a slip in either shows.
    static T Trained<T>(T norm, int features, ulong seed) where T : BatchNormBase
    {
        var rng = new Generator(seed);
        var values = Tensor.Randn([4, features], rng).Data;
        for (int c = 0; c < features; c++)
        {
            norm.RunningMean!.Data[c] = values[c];
            norm.RunningVar!.Data[c] = 0.2f + MathF.Abs(values[features + c]);
            norm.Weight!.Data[c] = 1f + 0.5f * values[2 * features + c];
            norm.Bias!.Data[c] = values[3 * features + c];
        }
        return norm;
    }

    // Affine parameters away from 1 and 0, so leaving them out shows.
    static Module Shifted(Module norm, Generator rng)
    {
        foreach (var p in norm.Parameters()) Tensor.Randn(p.Shape, rng).Data.CopyTo(p.Data);
        return norm;
    }

    // The layers of m applied one by one, as the container did before the fusion.
    static Tensor OneByOne(Sequential m, Tensor x)
    {
        foreach (var layer in m) x = layer.Forward(x);
        return x;
    }

    public static TheoryData<string> Networks => ["linear-bn1d-relu", "linear-bn1d-leaky", "conv-bn2d-relu", "convT-bn2d-leaky",
        "conv-in-relu", "conv-in-leaky", "conv-in-affine-relu"];

    // Odd widths and maps, so the kernel's vector loops and their tails both run; negative and positive values alike.
    static (Sequential Net, Tensor Input) Build(string name)
    {
        var rng = new Generator(7);
        return name switch
        {
            "linear-bn1d-relu" => (new Sequential(new Linear(9, 37, generator: rng), Trained(new BatchNorm1d(37), 37, 1), new ReLU()), Tensor.Randn([5, 9], rng)),
            "linear-bn1d-leaky" => (new Sequential(new Linear(9, 37, generator: rng), Trained(new BatchNorm1d(37), 37, 2), new LeakyReLU(0.2f)), Tensor.Randn([5, 9], rng)),
            "conv-bn2d-relu" => (new Sequential(new Conv2d(3, 6, 3, padding: 1, generator: rng), Trained(new BatchNorm2d(6), 6, 3), new ReLU(),
                new Conv2d(6, 4, 3, generator: rng)), Tensor.Randn([3, 3, 7, 5], rng)),
            "convT-bn2d-leaky" => (new Sequential(new ConvTranspose2d(5, 4, 4, stride: 2, padding: 1, generator: rng), Trained(new BatchNorm2d(4), 4, 4), new LeakyReLU(0.2f),
                new ConvTranspose2d(4, 1, 4, stride: 2, padding: 1, generator: rng), new Tanh()), Tensor.Randn([3, 5, 3, 3], rng)),
            // CycleGAN's generator: instance norm without affine parameters (fused in either mode), and with them (never fused)
            "conv-in-relu" => (new Sequential(new ReflectionPad2d((1, 1, 1, 1)), new Conv2d(3, 6, 3, generator: rng), new InstanceNorm2d(6), new ReLU(),
                new Conv2d(6, 5, 3, stride: 2, padding: 1, generator: rng), new InstanceNorm2d(5), new ReLU()), Tensor.Randn([2, 3, 9, 7], rng)),
            "conv-in-leaky" => (new Sequential(new Conv2d(3, 6, 3, padding: 1, generator: rng), new InstanceNorm2d(6), new LeakyReLU(0.2f)), Tensor.Randn([2, 3, 5, 7], rng)),
            _ => (new Sequential(new Conv2d(3, 6, 3, padding: 1, generator: rng), Shifted(new InstanceNorm2d(6, affine: true), rng), new ReLU()), Tensor.Randn([2, 3, 5, 7], rng)),
        };
    }

    [Theory, MemberData(nameof(Networks))]
    public void Eval_NoGrad_Fused_MatchesTheLayersOneByOne(string name)
    {
        var (net, x) = Build(name);
        net.Eval();
        using var _ = GradMode.NoGrad();
        var expected = OneByOne(net, x);
        var fused = Run(net, x, fuse: true);
        AssertClose(expected, fused, name);
        AssertClose(expected, Run(net, x, fuse: false), name + " unfused");
    }

    [Theory, InlineData("conv-in-relu"), InlineData("conv-in-leaky")]
    public void InstanceNorm_TrainingMode_NoGrad_Fused_MatchesTheLayersOneByOne(string name)
    {
        var (net, x) = Build(name);   // training mode: instance norm without running statistics computes the same
        using var _ = GradMode.NoGrad();
        AssertClose(OneByOne(net, x), Run(net, x, fuse: true), name);
        var norm = (INormThenActivation)net.First(m => m is InstanceNorm2d);
        var image = Tensor.Randn(2, 6, 1, 1);   // maps of one position: the layers run apart
        Assert.Null(norm.TryForwardActivated(image, 0f, inPlace: false));
    }

    [Fact]
    public void Eval_NoGrad_NormFirst_LeavesTheCallersInputAlone()
    {
        var rng = new Generator(11);
        var net = new Sequential(Trained(new BatchNorm1d(13), 13, 5), new LeakyReLU(0.2f));
        var flat = new Sequential(new Flatten(), Trained(new BatchNorm1d(12), 12, 6), new ReLU());
        var instance = new Sequential(new InstanceNorm2d(3), new ReLU());
        net.Eval(); flat.Eval(); instance.Eval();
        var x = Tensor.Randn([6, 13], rng);
        var image = Tensor.Randn([6, 3, 2, 2], rng);
        var (xBefore, imageBefore) = (x.ToArray(), image.ToArray());
        using var _ = GradMode.NoGrad();
        var y = Run(net, x, fuse: true);
        var z = Run(flat, image, fuse: true);   // Flatten's output is a view of the caller's tensor
        var w = Run(instance, image, fuse: true);
        Assert.Equal(xBefore, x.ToArray());
        Assert.Equal(imageBefore, image.ToArray());
        AssertClose(OneByOne(net, x), y, "norm first");
        AssertClose(OneByOne(flat, image), z, "after a view of the input");
        AssertClose(OneByOne(instance, image), w, "instance norm first");
    }

    [Fact]
    public void Training_KeepsBatchStatisticsAndUpdatesTheRunningOnes()
    {
        var (net, x) = Build("conv-bn2d-relu");
        var (twin, _) = Build("conv-bn2d-relu");
        using var _ = GradMode.NoGrad();
        var fused = Run(net, x, fuse: true);     // training mode: the batch's statistics, as the two layers use them
        var unfused = Run(twin, x, fuse: false);
        AssertClose(unfused, fused, "training");
        var norm = (BatchNorm2d)net[1];
        AssertClose(((BatchNorm2d)twin[1]).RunningMean!, norm.RunningMean!, "running mean");
        Assert.Equal(1f, norm.NumBatchesTracked!.Item());
    }

    [Theory, InlineData("linear-bn1d-leaky"), InlineData("conv-in-leaky")]
    public void Eval_WithAGraph_RunsTheTwoLayersAndBackpropagates(string name)
    {
        var (net, x) = Build(name);
        net.Eval();
        var norm = (INormThenActivation)net[1];
        var probe = Tensor.Randn(net[0].Forward(x).Shape).RequiresGrad_();
        // Eval-mode batch norm by its running statistics runs apart with a graph; instance norm without them computes as in
        // training, and its pair is one function with a graph too (TrainingNormActivationTests).
        var pair = norm.TryForwardActivated(probe, 0.2f, inPlace: false);
        if (norm is BatchNormBase) Assert.Null(pair);
        else Assert.Equal("BatchNormFunctionBackward", pair!.GradFn!.Inputs[0].GradFn!.Name);
        var y = Run(net, x, fuse: true);
        Assert.NotNull(y.GradFn);
        (y * y).Sum().Backward();   // y², so instance norm's gradient is not zero (it is for a plain sum of its output)
        var first = net[0];
        var weight = first.Parameters().First();
        var grad = weight.Grad!.Clone();
        first.ZeroGrad();
        var again = Run(net, x, fuse: false);
        (again * again).Sum().Backward();
        AssertClose(grad, weight.Grad!, "weight gradient");
        Assert.Contains(grad.ToArray(), v => v != 0f);
    }
    /// <summary>
    /// Eval-mode batch norm with frozen parameters where a graph is recorded (a fixed feature network inside a loss, as
    /// SRGAN's content network) runs as one affine pass: the same bits as without a graph, the input gradient
    /// g·weight/sqrt(var + eps) the composed ops give, and that gradient's own gradient (in g) as well; with trainable
    /// parameters it runs the composition as before, which gives the parameters their gradients.
    /// </summary>
    [Theory, InlineData(true), InlineData(false)]
    public void Eval_FrozenParameters_WithAGraph_OneAffinePass_SameBitsAsWithoutOne(bool images)
    {
        var rng = new Generator(12);
        BatchNormBase norm = images ? Trained(new BatchNorm2d(6), 6, 8) : Trained(new BatchNorm1d(37), 37, 9);
        int c = images ? 6 : 37;
        int[] shape = images ? [3, c, 5, 7] : [5, c];
        norm.Eval();
        norm.RequiresGrad(false);
        var x = Tensor.Randn(shape, rng);
        Tensor without;
        using (GradMode.NoGrad()) without = norm.Forward(x);
        var xg = x.Detach().RequiresGrad_();
        var y = norm.Forward(xg);
        Assert.Equal("ChannelAffineBackward", y.GradFn!.Name);
        Assert.Equal(without.ToArray(), y.Detach().ToArray());

        var gy = Tensor.Randn(shape, rng).RequiresGrad_();
        var dx = Autograd.Grad([y], [xg], [gy], createGraph: true)[0]!;
        int[] channelShape = images ? [1, c, 1, 1] : [1, c];
        var scale = (norm.Weight! / (norm.RunningVar! + norm.Eps).Sqrt()).Reshape(channelShape);
        AssertClose(gy.Detach() * scale, dx.Detach(), "input gradient");
        var v = Tensor.Randn(shape, rng);
        var second = Autograd.Grad([(dx * v).Sum()], [gy])[0]!;   // d<dx, v>/dg = v·scale
        AssertClose(v * scale, second, "the gradient's gradient");

        var trainable = Trained(new BatchNorm2d(6), 6, 8);
        trainable.Eval();
        var z = trainable.Forward(Tensor.Randn([3, 6, 5, 7], rng).RequiresGrad_());
        Assert.NotEqual("ChannelAffineBackward", z.GradFn!.Name);
        z.Sum().Backward();
        Assert.NotNull(trainable.Weight!.Grad);
    }
}
