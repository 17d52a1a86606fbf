using GanForge.NN;
using static GanForge.NN.Tests.NormActivationRuns;
using static GanForge.NN.Tests.PoolHarness;

namespace GanForge.NN.Tests;

/// <summary>
/// Instance norm's statistics over its (sample, channel) rows come from the buffer pool where they are large enough to
/// be pooled, and go back to it where nothing reads them after the forward; a graph's backward keeps the mean it reads.
/// </summary>
[Collection("StoragePool")]
public class NormStatisticsPoolTests
{
    // 8 images of 256 channels: 2,048 rows, so each statistic is a pooled buffer (8 KB).
    const int Rows = 8 * 256;

    static Sequential Net() => new(new InstanceNorm2d(256), new ReLU(), new InstanceNorm2d(256));

    static Tensor Input() => Tensor.Randn([8, 256, 4, 4], new Generator(21));

    [Fact]
    public void NoGraph_StatisticsComeBackToThePool_SameValues()
    {
        var net = Net();
        using var _ = GradMode.NoGrad();
        var expected = WithPool(false, () => Run(net, Input(), fuse: true));
        var (again, allocated) = WithPool(true, () =>
        {
            var x = Input();
            Run(net, x, fuse: true).ReturnToPool();   // the first call fills the pool
            long before = GC.GetAllocatedBytesForCurrentThread();
            var y = Run(net, x, fuse: true);
            return (y, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        AssertClose(expected, again, "instance norms with the statistics from the pool");
        // the fused pair and the norm alone each took three statistics: fresh arrays were 48 KB
        Assert.True(allocated < Rows * sizeof(float), $"the second call allocated {allocated} bytes");
    }

    [Theory, InlineData(true), InlineData(false)]
    public void WithAGraph_TheMeanTheBackwardReads_SurvivesAPoisonedPool(bool fuse)
    {
        Tensor[] Gradients(bool pool) => WithPool(pool, () =>
        {
            var net = Net();
            var x = Input().RequiresGrad_();
            var y = Run(net, x, fuse);
            if (pool) PoisonPool();   // what the forward gave back must not be what the backward reads
            (y * y * Tensor.Randn(y.Shape, new Generator(3))).Sum().Backward();
            return new[] { y.Detach(), x.Grad! };
        });
        var (off, on) = (Gradients(pool: false), Gradients(pool: true));
        AssertClose(off[0], on[0], "output");
        AssertClose(off[1], on[1], "input gradient");
        Assert.Contains(on[1].ToArray(), v => v != 0f);
    }
}
