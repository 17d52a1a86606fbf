using GanForge.NN;
using static GanForge.NN.Tests.PoolHarness;

namespace GanForge.NN.Tests;

/// <summary>
/// Spectral norm's weight W / σ is a new tensor each forward, read by its layer's op alone: it goes back to the buffer
/// pool once that op is done with it, so a discriminator's second step takes it from the pool. With a graph the
/// weight goes back after the backward (a pool poisoned before it leaves the gradients as they were); with the weights
/// frozen (G's step through D) after the op's backward; without a graph at once.
/// </summary>
[Collection("StoragePool")]
public class SpectralNormPoolTests
{
    // SNGAN's D at 28 px, narrower: two spectrally normalised convolutions and a Linear head, each weight a pooled buffer.
    static Sequential Critic() => new(
        SpectralNorm.Apply(new Conv2d(1, 32, 4, stride: 2, padding: 1, generator: new Generator(3)), generator: new Generator(7)),
        new LeakyReLU(0.1f),
        SpectralNorm.Apply(new Conv2d(32, 64, 4, stride: 2, padding: 1, generator: new Generator(4)), generator: new Generator(8)),
        new LeakyReLU(0.1f),
        new Flatten(), SpectralNorm.Apply(new Linear(64 * 7 * 7, 1, generator: new Generator(5)), generator: new Generator(9)));

    [Theory]
    [InlineData("graph")]
    [InlineData("frozen")]
    [InlineData("no graph")]
    public void SpectralNormWeights_BackToThePool_SecondStepMissesNothing_SameGradients(string mode)
    {
        var x = Tensor.Randn([4, 1, 28, 28], new Generator(6));
        // the second step of a critic with the pool off (each forward advances the power iteration)
        var expected = WithPool(false, () =>
        {
            var critic = Critic();
            Step(critic, x, mode, poison: false);
            return Step(critic, x, mode, poison: false);
        });
        var (again, missed) = WithPool(true, () =>
        {
            var critic = Critic();
            Step(critic, x, mode, poison: true);   // the first step fills the pool
            long before = StoragePool.MissedBytes;
            var second = Step(critic, x, mode, poison: true);
            return (second, StoragePool.MissedBytes - before);
        });
        Assert.Equal(expected, again);
        Assert.True(missed == 0, $"{mode}: the second step allocated {missed} bytes of poolable buffers");
    }

    // One forward of the critic and (with a graph) its backward; the output and the gradients of the input and of the
    // weights, flattened. The pool poisoned between the forward and the backward where asked: a weight given back before
    // its readers' backward would read NaN.
    static float[] Step(Sequential critic, Tensor x, string mode, bool poison)
    {
        foreach (var p in critic.Parameters())
        {
            p.Grad?.ReturnToPool();   // the last step's gradients, read: back as a trainer's zero-grad gives them
            (p.Grad, p.RequiresGrad) = (null, mode == "graph");
        }
        if (mode == "no graph")
        {
            using var _ = GradMode.NoGrad();
            var y = critic.Forward(x);
            return y.ToArray();
        }
        var input = x.Detach().RequiresGrad_();
        var output = critic.Forward(input);
        if (poison) PoisonPool();
        output.Sum().Backward();
        var weights = critic.Parameters().Where(p => p.Grad != null).SelectMany(p => p.Grad!.ToArray());
        float[] read = [.. output.ToArray(), .. input.Grad!.ToArray(), .. weights];
        input.Grad!.ReturnToPool();
        return read;
    }
}
