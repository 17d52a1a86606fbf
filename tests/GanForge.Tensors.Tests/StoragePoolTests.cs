namespace GanForge.Tests;

/// <summary>The pool is process-wide: these tests switch it on and off, so nothing may run beside them.</summary>
[CollectionDefinition("StoragePool", DisableParallelization = true)]
public sealed class StoragePoolCollection;

/// <summary>
/// <see cref="StoragePool"/> on its own (exact lengths, threshold, cap, Clear) and the engine's returns of
/// owned gradients: a gradient the user or a leaf still holds must never come back out of the pool.
/// </summary>
[Collection("StoragePool")]
public class StoragePoolTests
{
    // Lengths nobody else uses, so a buffer found in the pool is one these tests put there.
    const int Big = StoragePool.MinLength + 4099;
    const int Other = StoragePool.MinLength + 8191;

    static T WithPool<T>(long maxBytes, Func<T> work)
    {
        long saved = StoragePool.MaxBytes;
        StoragePool.Clear();
        StoragePool.MaxBytes = maxBytes;
        try { return work(); }
        finally { StoragePool.MaxBytes = saved; StoragePool.Clear(); }
    }

    static void WithPool(long maxBytes, Action work) => WithPool(maxBytes, () => { work(); return 0; });

    [Fact]
    public void Rent_AnyLength_ReturnsExactLength()
    {
        WithPool(1L << 30, () =>
        {
            foreach (int n in new[] { 1, 100, StoragePool.MinLength - 1, StoragePool.MinLength, Big })
                Assert.Equal(n, StoragePool.Rent(n).Length);
            var returned = new float[Big];
            StoragePool.Return(returned);
            Assert.Equal(Other, StoragePool.Rent(Other).Length); // another length does not take it
            Assert.Same(returned, StoragePool.Rent(Big));
            Assert.NotSame(returned, StoragePool.Rent(Big));     // handed out once only
        });
    }

    [Fact]
    public void Return_SmallBuffer_IsNotPooled()
    {
        WithPool(1L << 30, () =>
        {
            var small = new float[StoragePool.MinLength - 1];
            StoragePool.Return(small);
            Assert.Equal(0, StoragePool.Bytes);
            Assert.NotSame(small, StoragePool.Rent(small.Length));
            var threshold = new float[StoragePool.MinLength];
            StoragePool.Return(threshold);
            Assert.Equal((long)StoragePool.MinLength * sizeof(float), StoragePool.Bytes);
            Assert.Same(threshold, StoragePool.Rent(StoragePool.MinLength));
            Assert.Equal(0, StoragePool.Bytes);
        });
    }

    [Fact]
    public void Return_PastMaxBytes_IsDropped()
    {
        long one = (long)Big * sizeof(float);
        WithPool(one * 2 + 1, () =>
        {
            float[] a = new float[Big], b = new float[Big], c = new float[Big];
            StoragePool.Return(a);
            StoragePool.Return(b);
            StoragePool.Return(c);                               // would exceed the cap
            Assert.Equal(one * 2, StoragePool.Bytes);
            var rented = new[] { StoragePool.Rent(Big), StoragePool.Rent(Big), StoragePool.Rent(Big) };
            // Arrays compare by contents in Assert.Contains, so identity is checked by hand.
            Assert.Contains(rented, r => ReferenceEquals(r, a));
            Assert.Contains(rented, r => ReferenceEquals(r, b));
            Assert.DoesNotContain(rented, r => ReferenceEquals(r, c));
        });
    }

    [Fact]
    public void Return_FullOfAnotherSize_EvictsTheLeastRecentlyUsedSize()
    {
        long big = (long)Big * sizeof(float), other = (long)Other * sizeof(float);
        WithPool(big + other * 2, () =>
        {
            float[] a = new float[Big], b = new float[Big], o = new float[Other];
            StoragePool.Return(a);
            StoragePool.Return(b);
            StoragePool.Return(o);                              // fits: Big < Other, so two Big and one Other are under the cap
            Assert.Equal(big * 2 + other, StoragePool.Bytes);
            var o2 = new float[Other];
            StoragePool.Return(o2);                             // a new workload's size: one Big buffer makes room
            Assert.Equal(big + other * 2, StoragePool.Bytes);
            var rented = new[] { StoragePool.Rent(Other), StoragePool.Rent(Other) };
            Assert.Contains(rented, r => ReferenceEquals(r, o));
            Assert.Contains(rented, r => ReferenceEquals(r, o2));
            var left = StoragePool.Rent(Big);
            Assert.True(ReferenceEquals(left, a) || ReferenceEquals(left, b), "one Big buffer stays pooled");
        });
    }

    [Fact]
    public void MaxBytesZero_NothingIsPooled()
    {
        WithPool(0, () =>
        {
            var a = new float[Big];
            StoragePool.Return(a);
            Assert.Equal(0, StoragePool.Bytes);
            Assert.NotSame(a, StoragePool.Rent(Big));
        });
    }

    [Fact]
    public void Clear_PooledBuffers_EmptiesThePool()
    {
        WithPool(1L << 30, () =>
        {
            var a = new float[Big];
            StoragePool.Return(a);
            StoragePool.Return(new float[Other]);
            Assert.True(StoragePool.Bytes > 0);
            StoragePool.Clear();
            Assert.Equal(0, StoragePool.Bytes);
            Assert.NotSame(a, StoragePool.Rent(Big));
        });
    }

    [Fact]
    public void ZeroingConstructor_RecycledBuffer_IsZero()
    {
        WithPool(1L << 30, () =>
        {
            var dirty = new float[Big];
            dirty.AsSpan().Fill(float.NaN);
            StoragePool.Return(dirty);
            var t = new Tensor(Big);
            Assert.Same(dirty, t.Storage);
            Assert.All(t.ToArray(), v => Assert.Equal(0f, v));
        });
    }

    // ---- the engine's returns ---------------------------------------------------------------------

    const int N = 32768; // above the threshold

    /// <summary>Allocates and scribbles over tensors of length N, as the next step's work would.</summary>
    static List<Tensor> Churn()
    {
        var held = new List<Tensor>();
        for (int i = 0; i < 20; i++) { var t = new Tensor(N); t.Data.Fill(-1e9f); held.Add(t); }
        return held;
    }

    static float[][] Snapshot(Tensor?[] tensors) => [.. tensors.Select(t => t!.ToArray())];

    /// <summary>
    /// Gradients flowing through a reshape (passed on as a view), a branch (added in place), a user
    /// gradient, and leaves whose .Grad already exists; returns every gradient and the user's gradient.
    /// </summary>
    static float[][] EngineScenario(bool churn)
    {
        var gen = new Generator(5);
        var a = Tensor.Randn([64, N / 64], gen).RequiresGrad_();
        var w = (Tensor.Randn([N / 64, N / 64], gen) * 0.05f).RequiresGrad_();
        var b = Tensor.Randn([N], gen).RequiresGrad_();
        var userGrad = Tensor.Randn([N], gen);
        var userGradBefore = userGrad.ToArray();
        var results = new List<float[]>();
        for (int step = 0; step < 2; step++)               // the second step adds into existing .Grad
        {
            var h = a.MatMul(w);                            // (64,512): its gradient is read by a GEMM
            var v = h.Reshape(N);                           // the gradient passes back as a view
            var y = (v * b).Tanh() + v.Sigmoid();           // v used twice: accumulation in place
            y.Backward(userGrad);
            var held = churn ? Churn() : null;
            results.Add(a.Grad!.ToArray());
            results.Add(w.Grad!.ToArray());
            results.Add(b.Grad!.ToArray());
            GC.KeepAlive(held);
        }
        Assert.Equal(userGradBefore, userGrad.ToArray());   // the caller's gradient is never recycled
        // Handed to the caller, for a non-leaf and a leaf: both must stay intact.
        var hb = b * 2f;
        var dx = Autograd.Grad([(hb * hb).Tanh().Sum()], [hb, b]);
        var dxBefore = Snapshot(dx);
        GC.KeepAlive(churn ? Churn() : null);
        Assert.Equal(dxBefore, Snapshot(dx));
        results.AddRange(dxBefore);
        return [.. results];
    }

    [Fact]
    public void Backward_GradientPassedOnAsAView_InheritsOwnershipAndIsReturnedOnce()
    {
        WithPool(1L << 30, () =>
        {
            // Reshape's backward hands on a view of its (owned) incoming gradient: the view inherits the
            // ownership, so its buffer goes back to the pool after Exp's node and is not lost to the GC.
            var x = Tensor.Randn([4, 8192], new Generator(5)).RequiresGrad_();
            var loss = (x.Exp().Reshape(8, 4096) * 3f).Sum();
            loss.Backward();
            Assert.True(StoragePool.Bytes > 0, "a gradient buffer came back to the pool");
            StoragePool.ForEachPooled(b => b.AsSpan().Fill(float.NaN));
            var expected = x.Detach().Exp() * 3f;
            Fixtures.AssertClose(expected, x.Grad!, 1e-6, 1e-6, "x.Grad after the pool was poisoned");
        });
    }

    [Fact]
    public void Backward_OwnedGradientsReturned_LeafGradsAndUserGradientIntact()
    {
        var off = WithPool(0, () => EngineScenario(churn: false));
        var on = WithPool(1L << 30, () => EngineScenario(churn: true));
        var onAgain = WithPool(1L << 30, () => { EngineScenario(churn: false); return StoragePool.Bytes; });
        Assert.True(onAgain > 0, "the engine returned no gradient, so the test proves nothing");
        Assert.Equal(off.Length, on.Length);
        for (int i = 0; i < off.Length; i++) Assert.Equal(off[i], on[i]);
    }
    /// <summary>
    /// Gradients an op hands to several inputs at once (a sum's backward gives both terms its gradient). Each case runs
    /// with the pool off, and on with churn after the backward; returns the gradients.
    /// </summary>
    static float[][] SharedGradientScenario(string shape, bool churn)
    {
        var gen = new Generator(31);
        var x = Tensor.Randn([N], gen).RequiresGrad_();
        var w = Tensor.Randn([N], gen).RequiresGrad_();
        Tensor?[] handed = [];
        switch (shape)
        {
            case "sum":          // Exp and Sin each read the shared gradient, then it is free
                ((x.Exp() + (x * w).Sin()) * 3f).Sum().Backward();
                break;
            case "same-term":    // y + y: both halves reach y, whose gradient is their sum
                { var y = (x * w).Exp(); ((y + y) * 3f).Sum().Backward(); }
                break;
            case "nested-sum":   // the outer sum's shared gradient passes through the inner sum to three terms
                (((x.Exp() + x.Sin()) + w.Tanh()) * 3f).Sum().Backward();
                break;
            case "leaf-term":    // a leaf takes a copy of the shared gradient for its .Grad
                ((x + (x * w).Exp()) * 3f).Sum().Backward();
                break;
            case "handed-out":   // Grad returns a non-leaf that holds the shared gradient: it must stay intact
                {
                    var h = x.Exp();
                    handed = Autograd.Grad([((h + x.Sin()) * 3f).Sum()], [h, x]);
                }
                break;
            default: throw new ArgumentException(shape);
        }
        var held = churn ? Churn() : null;
        float[][] grads = [.. new[] { x.Grad, w.Grad }.Concat(handed).Select(t => t?.ToArray() ?? [])];
        GC.KeepAlive(held);
        return grads;
    }

    // The buffers of N floats in the pool after the backward: the engine's returns less what later nodes took back.
    // Measured: with shared gradients counted, sum, nested-sum and leaf-term end with 2; before, with the shared
    // buffer left to the GC, with 1. same-term ends with 1 either way (the sum of the two halves is returned in both).
    [Theory]
    [InlineData("sum", 2)]
    [InlineData("same-term", 1)]
    [InlineData("nested-sum", 2)]
    [InlineData("leaf-term", 2)]
    [InlineData("handed-out", 1)]
    public void Backward_GradientSharedByInputs_BackToThePoolAfterTheLast(string shape, int pooledAfter)
    {
        var off = WithPool(0, () => SharedGradientScenario(shape, churn: false));
        var on = WithPool(1L << 30, () => SharedGradientScenario(shape, churn: true));
        Assert.Equal(off.Length, on.Length);
        // To 1e-6: a recycled buffer may be aligned otherwise than a fresh one; an overwritten one is off by far more.
        for (int i = 0; i < off.Length; i++)
            Fixtures.AssertClose(Tensor.FromArray(off[i]), Tensor.FromArray(on[i]), 1e-6, 1e-6, $"{shape}: gradient {i} with the pool on");
        int pooled = WithPool(1L << 30, () =>
        {
            SharedGradientScenario(shape, churn: false);
            int count = 0;
            StoragePool.ForEachPooled(b => count += b.Length == N ? 1 : 0);
            return count;
        });
        Assert.Equal(pooledAfter, pooled);
    }

    [Fact]
    public void ReleaseGraph_GraphEnded_BackwardThroughItThrowsAndLeavesAreIntact()
    {
        WithPool(1L << 30, () =>
        {
            var x = Tensor.Randn([N], new Generator(2)).RequiresGrad_();
            var before = x.ToArray();
            var y = (x * 2f).Exp();
            var output = y.Sum();
            Autograd.ReleaseGraph(output);
            var e = Assert.Throws<InvalidOperationException>(() => output.Backward());
            Assert.Contains("already freed", e.Message);
            Assert.Equal(before, x.ToArray());                      // nothing a layer did not mark is given back
            Assert.Equal(0, StoragePool.Bytes);
        });
    }

    [Fact]
    public void BackwardWithoutGraph_PowAndBroadcastSub_OneNewBufferEach_SameGradientsAsWithAGraph()
    {
        // x^3 - b with b broadcast: the power's gradient 3·x²·g is made in one buffer (was three), and b's is -Σg
        // (was Σ(-g) over a negated copy of g). Pool off, so every new buffer is an allocation on this thread.
        WithPool(0, () =>
        {
            var rng = new Generator(6);
            var x = Tensor.Randn([Big], rng).RequiresGrad_();
            var b = Tensor.Randn([1], rng).RequiresGrad_();
            var (gx, gb) = Gradients(graph: true);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var (nx, nb) = Gradients(graph: false);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Fixtures.AssertClose(gx, nx, 1e-6, 1e-6, "x's gradient without a graph");
            Fixtures.AssertClose(gb, nb, 1e-6, 1e-6, "b's gradient without a graph");
            // the forward's two results, the sum's expanded gradient and the power's: four buffers of x's size (was seven)
            Assert.True(allocated < 5L * Big * sizeof(float), $"forward and backward allocated {allocated} bytes");

            (Tensor, Tensor) Gradients(bool graph)
            {
                var loss = (x.Pow(3f) - b).Sum();
                if (graph) { var g = Autograd.Grad([loss], [x, b], createGraph: true); return (g[0]!.Detach(), g[1]!.Detach()); }
                (x.Grad, b.Grad) = (null, null);
                loss.Backward();
                return (x.Grad!, b.Grad!);
            }
        });
    }

    [Theory, InlineData(false), InlineData(true)]
    public void SelfAttention_StatisticsFromPoisonedPool_MatchPoolOff_AndGoBackAfterTheBackward(bool graph)
    {
        // 65 tokens (padded to 80 in the statistics, every entry written by the forward), 64 sequences of 2
        // heads: 128 pairs x 2 x 80 = 20,480 floats of statistics, above the pool's threshold. With a graph (a gradient
        // penalty's), the gradient's node keeps the statistics for the second backward: they must not come back when
        // the forward's graph is ended first, and come back once that node has run its backward.
        var layout = new Kernels.AttentionLayout(64, 65, 2, 4, true);
        int statsLength = Kernels.Attention.StatsLength(layout);
        Assert.True(statsLength >= StoragePool.MinLength);
        int PooledStats()
        {
            int pooled = 0;
            StoragePool.ForEachPooled(b => pooled += b.Length == statsLength ? 1 : 0);
            return pooled;
        }
        int pooledBeforeSecondBackward = -1;
        Tensor[] Run()
        {
            var gen = new Generator(8);
            var qkv = Tensor.Randn([64, 65, 24], gen).RequiresGrad_();
            var probe = Tensor.Randn([64, 65, 8], gen);
            var y = Tensor.SelfAttention(qkv, heads: 2);
            if (!graph)
            {
                (y * probe).Sum().Backward();
                return [y.Detach(), qkv.Grad!];
            }
            var g = Autograd.Grad([(y * probe).Sum()], [qkv], createGraph: true)[0]!;
            // The forward's graph ended before the gradient's backward (which reads the statistics), the pool poisoned.
            Autograd.ReleaseGraph(y);
            pooledBeforeSecondBackward = PooledStats();
            StoragePool.ForEachPooled(b => b.AsSpan().Fill(float.NaN));
            g.Square().Sum().Backward();
            return [y.Detach(), g.Detach(), qkv.Grad!];
        }
        var off = WithPool(0, Run);
        var (on, pooledStats) = WithPool(1L << 30, () =>
        {
            for (int i = 0; i < 4; i++) StoragePool.Return(Enumerable.Repeat(float.NaN, statsLength).ToArray());
            var results = Run();
            return (results, PooledStats());
        });
        for (int i = 0; i < off.Length; i++) Fixtures.AssertClose(off[i], on[i], 1e-6, 1e-6, $"result {i} from a poisoned pool");
        // With a graph the gradient's node held the statistics past the forward's release, then gave them back after
        // its own backward; without one they are back after the backward.
        if (graph) Assert.Equal(3, pooledBeforeSecondBackward);
        Assert.Equal(4, pooledStats);
    }

    public static TheoryData<string> UncleanedOutputs => ["conv3x3", "conv1x1", "conv-stride2", "conv-transpose", "reflect-pad", "avg-pool", "bilinear", "max-pool", "broadcast-mul", "elementwise", "elementwise2"];

    [Theory, MemberData(nameof(UncleanedOutputs))]
    public void UncleanedOutputs_FromPoisonedBuffers_MatchPoolOff(string op)
    {
        // Convolutions, spatial maps and broadcast binary ops take their outputs from the pool without clearing them,
        // so every element must be written: each forward and backward from a pool holding NaN buffers of every
        // length the op will ask for, against the pool off.
        Tensor[] Run()
        {
            var gen = new Generator(21);
            var x = Tensor.Randn([4, 16, 20, 20], gen).RequiresGrad_();
            Tensor w3 = Tensor.Randn([16, 16, 3, 3], gen).RequiresGrad_(), w1 = Tensor.Randn([16, 16, 1, 1], gen).RequiresGrad_();
            Tensor bias = Tensor.Randn([16], gen).RequiresGrad_(), s = Tensor.Randn([4, 16, 1, 1], gen).RequiresGrad_();
            var y = op switch
            {
                "conv3x3" => Tensor.Conv2d(x, w3, bias, padding: 1),
                "conv1x1" => Tensor.Conv2d(x, w1, bias),
                "conv-stride2" => Tensor.Conv2d(x, w3, bias, stride: 2, padding: 1),
                "conv-transpose" => Tensor.ConvTranspose2d(x, w3, bias, stride: 2, padding: 1, outputPadding: 1),
                "reflect-pad" => Tensor.Pad(x, (1, 1, 1, 1), "reflect"),
                "avg-pool" => Tensor.AvgPool2d(x, 2),
                "bilinear" => Tensor.Interpolate(x, 2.0, "bilinear", alignCorners: false),
                "max-pool" => Tensor.MaxPool2d(x, 2),
                // Scalar and unary ops: each output, and each of their backward's, a buffer of x's size.
                "elementwise" => (x * 1.5f).Square() + (-x).Abs().Clamp(0.1f, 1f).Rsqrt() + (x.Abs() + 1f).Sqrt().Log() + x.Sigmoid() + x.Tanh(),
                "elementwise2" => x.Silu() + x.Softplus() + x.Flip(3) + x.Sin() + x.Cos() + (x.Abs() + 1f).Reciprocal() + x.Abs().Log1p()
                    + x.LogSumExp(1, keepDim: true),
                _ => x * s,
            };
            var probe = Tensor.Randn(y.Shape, gen);
            (y * probe).Sum().Backward();
            return [y.Detach(), x.Grad!, w3.Grad ?? w1.Grad ?? s.Grad ?? Tensor.Zeros([1]), bias.Grad ?? Tensor.Zeros([1])];
        }
        var off = WithPool(0, Run);
        var on = WithPool(1L << 30, () =>
        {
            foreach (int length in off.Select(t => t.Numel).Append(4 * 16 * 22 * 22).Append(4 * 16 * 40 * 40).Distinct())
                for (int i = 0; i < 16; i++) StoragePool.Return(Enumerable.Repeat(float.NaN, length).ToArray());
            return Run();
        });
        for (int i = 0; i < off.Length; i++) Fixtures.AssertClose(off[i], on[i], 1e-6, 1e-6, $"{op}: result {i} from poisoned buffers");
    }
}
