namespace GanForge.Tensors.Tests;

/// <summary>
/// <see cref="Tensor.PRelu"/> (one pass forward and backward) against the ops it replaces, relu(x) - relu(-x)·a, at
/// sizes its kernel splits over the threads (OpTable's prelu cases check small ones against PyTorch, finite differences
/// and the second order): the same value and input gradient bit for bit, the slopes' gradient against a sum in double,
/// and the same bits on one thread and two.
/// </summary>
public class PReluTests
{
    // relu(x) - relu(-x)·a, with a (1) or (C) broadcast over dimension 1: SRResNet's PReLU before the op of its own.
    static Tensor Composed(Tensor x, Tensor a) =>
        x.Relu() - (-x).Relu() * (a.Numel == 1 ? a : a.Reshape([1, a.Numel, .. Enumerable.Repeat(1, x.Rank - 2)]));

    static (Tensor Y, Tensor Dx, Tensor Da) Run(Tensor x0, Tensor a0, Tensor gy, bool fused)
    {
        var (x, a) = (x0.Detach().RequiresGrad_(), a0.Detach().RequiresGrad_());
        var y = fused ? x.PRelu(a) : Composed(x, a);
        var grads = Autograd.Grad([y], [x, a], [gy]);
        return (y.Detach(), grads[0]!, grads[1]!);
    }

    [Theory]
    [InlineData(1, 4, 8, 48, 48)]    // one slope, 73,728 elements: blocks of 16,384 over the threads and a short last one
    [InlineData(8, 4, 8, 48, 48)]    // a slope a channel, rows of 2,304
    [InlineData(5, 3, 5, 7, 7)]      // a slope a channel, rows of 49 (a tail after the vectors), one thread
    [InlineData(1, 3, 100, 1, 1)]    // one slope on (N, C, 1, 1)
    public void PRelu_AgainstComposedOps_SameValueAndInputGradient_SlopeGradientAsSumInDouble(int slopes, int n, int c, int h, int w)
    {
        var x = Tensor.Randn([n, c, h, w], new Generator(5));
        var a = Tensor.Randn([slopes], new Generator(6)) * 0.3f;
        var gy = Tensor.Randn([n, c, h, w], new Generator(7));
        var fused = Run(x, a, gy, fused: true);
        var composed = Run(x, a, gy, fused: false);
        Assert.Equal(composed.Y.Data.ToArray(), fused.Y.Data.ToArray());
        Assert.Equal(composed.Dx.Data.ToArray(), fused.Dx.Data.ToArray());
        // da[k] = Σ g·x over slope k's x ≤ 0
        var expected = new double[slopes];
        var (xs, gs) = (x.Data.ToArray(), gy.Data.ToArray());
        for (int i = 0; i < xs.Length; i++)
            if (xs[i] <= 0f) expected[slopes == 1 ? 0 : i / (h * w) % c] += (double)xs[i] * gs[i];
        for (int k = 0; k < slopes; k++)
            Assert.True(Math.Abs(fused.Da.Data[k] - expected[k]) <= 1e-5 * (1 + Math.Abs(expected[k])), $"slope {k}: {fused.Da.Data[k]} against {expected[k]}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void PRelu_OneThreadAndTwo_SameBits(int slopes)
    {
        var x = Tensor.Randn([4, 8, 48, 48], new Generator(8));
        var a = Tensor.Randn([slopes], new Generator(9));
        var gy = Tensor.Randn([4, 8, 48, 48], new Generator(10));
        float[][] Bits(int threads)
        {
            float[][] bits = [];
            ThreadingTests.WithThreads(threads, () =>
            {
                var (y, dx, da) = Run(x, a, gy, fused: true);
                bits = [y.ToArray(), dx.ToArray(), da.ToArray()];
            });
            return bits;
        }
        var (one, two) = (Bits(1), Bits(2));
        for (int i = 0; i < 3; i++) Assert.Equal(one[i], two[i]);
    }

    [Fact]
    public void PRelu_OnlyTheSlopeNeedsAGradient_GetsTheSame()
    {
        var x = Tensor.Randn([2, 3, 9, 9], new Generator(11));
        var a = Tensor.Full([3], 0.25f).RequiresGrad_();
        var gy = Tensor.Randn([2, 3, 9, 9], new Generator(12));
        var alone = Autograd.Grad([x.PRelu(a)], [a], [gy])[0]!;
        Assert.Equal(Run(x, a, gy, fused: true).Da.Data.ToArray(), alone.Data.ToArray());
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]      // a slope for each of 4 channels, but dimension 1 holds 3
    [InlineData(new[] { 6 }, new[] { 6 })]            // one per channel of a vector, which has no channels
    [InlineData(new[] { 2, 3 }, new[] { 1, 3 })]      // slopes not a vector
    public void PRelu_SlopesNotOneOrOneAChannel_NameOpAndShapes(int[] xShape, int[] weightShape)
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(xShape).PRelu(Tensor.Zeros(weightShape)));
        Assert.Contains("PRelu", ex.Message);
        Assert.Contains(Shapes.Format(weightShape), ex.Message);
        Assert.Contains(Shapes.Format(xShape), ex.Message);
    }
}
