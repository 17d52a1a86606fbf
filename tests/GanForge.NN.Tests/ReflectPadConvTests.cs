using System.Runtime.Intrinsics.X86;
using GanForge.NN;

namespace GanForge.NN.Tests;

/// <summary>
/// <see cref="Sequential"/> runs a <see cref="ReflectionPad2d"/> and the unpadded <see cref="Conv2d"/> after it as one op
/// where no graph is recorded and the direct kernels take the layer (<see cref="Sequential.FuseReflectPadConv"/>):
/// CycleGAN's RGB layer in generation, without its padded map. The outputs must be the two layers' bits; with a graph,
/// or where the direct kernels do not take the layer, the two layers run. The switch is process-wide.
/// </summary>
[Collection("StoragePool")]
public class ReflectPadConvTests
{
    // (input channels, output channels, kernel, stride, pad, size, batch): CycleGAN's RGB layer (narrowed), a batch that
    // runs a sample at a time on two threads, stride 2 (column phases), an odd map, padding of the whole kernel's reach.
    [Theory]
    [InlineData(16, 3, 7, 1, 3, 32, 2)]
    [InlineData(8, 3, 7, 1, 3, 20, 9)]
    [InlineData(5, 2, 5, 2, 2, 17, 3)]
    [InlineData(4, 1, 3, 1, 1, 9, 2)]
    public void ReflectPadThenConv_NoGraph_SameBitsAsTheTwoLayers(int ci, int co, int k, int stride, int pad, int size, int n)
    {
        var rng = new Generator(23);
        var net = new Sequential(new ReflectionPad2d(pad), new Conv2d(ci, co, k, stride: stride, generator: rng), new Tanh());
        var x = Tensor.Randn([n, ci, size, size], rng);
        var (fused, apart) = (Run(net, x, fuse: true), Run(net, x, fuse: false));
        Assert.Equal(apart, fused);
        // The fused op runs only where the direct kernels take the layer (AVX-512); elsewhere both runs are the two layers.
        if (Avx512F.IsSupported) Assert.True(FusedRan(net, x), "the pair ran as two layers");
    }

    // With a graph (training) the two layers run, so the backward has the padded map; the output is the same.
    [Fact]
    public void ReflectPadThenConv_WithAGraph_RunsTheTwoLayers()
    {
        var rng = new Generator(29);
        var net = new Sequential(new ReflectionPad2d(3), new Conv2d(8, 3, 7, generator: rng));
        var x = Tensor.Randn([2, 8, 16, 16], rng);
        var y = net.Forward(x);
        Assert.Equal([2, 8, 22, 22], y.GradFn!.Inputs[0].Shape);   // the convolution's node reads the padded map
        using (GradMode.NoGrad()) Assert.Equal(y.Detach().ToArray(), net.Forward(x).ToArray());
    }

    // Not fused: uneven padding, a convolution that pads itself, more than four output channels (not the direct kernels').
    [Fact]
    public void ReflectPadThenConv_OutsideItsReach_RunsTheTwoLayers()
    {
        var rng = new Generator(31);
        var x = Tensor.Randn([2, 4, 12, 12], rng);
        foreach (var net in new[]
        {
            new Sequential(new ReflectionPad2d((1, 2, 1, 1)), new Conv2d(4, 3, 3, generator: rng)),
            new Sequential(new ReflectionPad2d(1), new Conv2d(4, 3, 3, padding: 1, generator: rng)),
            new Sequential(new ReflectionPad2d(1), new Conv2d(4, 8, 3, generator: rng)),
        })
        {
            Assert.False(FusedRan(net, x));
            Assert.Equal(Run(net, x, fuse: false), Run(net, x, fuse: true));
        }
    }

    static float[] Run(Sequential net, Tensor x, bool fuse)
    {
        bool saved = Sequential.FuseReflectPadConv;
        try
        {
            Sequential.FuseReflectPadConv = fuse;
            using var _ = GradMode.NoGrad();
            return net.Forward(x).ToArray();
        }
        finally { Sequential.FuseReflectPadConv = saved; }
    }

    // Whether the pair ran as one op: the pad's own op (LinearSpatial) did not run.
    static bool FusedRan(Sequential net, Tensor x)
    {
        var pad = (ReflectionPad2d)net[0];
        var conv = (Conv2d)net[1];
        using var _ = GradMode.NoGrad();
        return conv.TryForwardReflectPadded(x, pad.Padding) != null;
    }
}
