using GanForge.NN;
using static GanForge.NN.Tests.NormActivationRuns;
using static GanForge.NN.Tests.PoolHarness;

namespace GanForge.NN.Tests;

/// <summary>
/// The batch statistics of instance norm (over its (sample, channel) rows) and of training batch norm come from the
/// buffer pool where they are large enough to be pooled, and go back to it once read: at once where no graph keeps them,
/// after the backward where one does.
/// </summary>
[Collection("StoragePool")]
public class NormStatisticsPoolTests
{
    public static TheoryData<string> Norms => ["instance", "batch"];

    // Each norm, then ReLU (one pass), then the norm alone; 2,048 rows or 1,024 channels, so each statistic is a
    // pooled buffer (8 or 4 KB). Batch norm trains (its batch's statistics, the running ones updated).
    static (Sequential Net, Tensor Input) Build(string norm) => norm == "instance"
        ? (new(new InstanceNorm2d(256), new ReLU(), new InstanceNorm2d(256)), Tensor.Randn([8, 256, 4, 4], new Generator(21)))
        : (new(new BatchNorm2d(1024), new ReLU(), new BatchNorm2d(1024)), Tensor.Randn([2, 1024, 2, 2], new Generator(21)));

    [Theory, MemberData(nameof(Norms))]
    public void NoGraph_SecondCallTakesItsStatisticsFromThePool_SameValues(string norm)
    {
        using var _ = GradMode.NoGrad();
        var expected = WithPool(false, () => Run(Build(norm).Net, Build(norm).Input, fuse: true));
        var (again, missed, allocated) = WithPool(true, () =>
        {
            var (net, x) = Build(norm);
            Run(net, x, fuse: true).ReturnToPool();   // the first call fills the pool
            (long missedBefore, long allocatedBefore) = (StoragePool.MissedBytes, GC.GetAllocatedBytesForCurrentThread());
            var y = Run(net, x, fuse: true);   // training batch norm: the batch's statistics again, the same output
            return (y, StoragePool.MissedBytes - missedBefore, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
        });
        AssertClose(expected, again, $"{norm} norms with the statistics from the pool");
        Assert.True(missed == 0, $"{norm}: the second call allocated {missed} bytes of poolable buffers");
        // the pair and the norm alone each take three statistics: fresh arrays were 24 KB (batch) to 48 KB (instance)
        Assert.True(allocated < 4096, $"{norm}: the second call allocated {allocated} bytes");
    }

    [Theory, MemberData(nameof(Norms))]
    public void WithAGraph_TheStatisticsTheBackwardReads_SurviveAPoisonedPool(string norm)
    {
        foreach (bool fuse in new[] { true, false })
        {
            Tensor[] Results(bool pool) => WithPool<Tensor[]>(pool, () =>
            {
                var (net, input) = Build(norm);
                var x = input.RequiresGrad_();
                var y = Run(net, x, fuse);
                if (pool) PoisonPool();   // what the forward gave back must not be what the backward reads
                (y * y * Tensor.Randn(y.Shape, new Generator(3))).Sum().Backward();
                return [y.Detach(), x.Grad!, .. net.NamedBuffers().Select(b => b.Value)];
            });
            var (off, on) = (Results(pool: false), Results(pool: true));
            Assert.Equal(off.Length, on.Length);
            for (int i = 0; i < off.Length; i++) AssertClose(off[i], on[i], $"{norm} (fused {fuse}): result {i}");
            Assert.Contains(on[1].ToArray(), v => v != 0f);
        }
    }
}
