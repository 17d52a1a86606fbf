using GanForge.Distributed;

namespace GanForge.NN.Tests;

/// <summary>The collectives of data-parallel training, run as ranks on threads (<see cref="ThreadProcessGroup"/>).</summary>
public class DistributedTests
{
    [Fact]
    public void AllReduce_TwoRanks_SumsForwardAndBackward()
    {
        var grads = ThreadProcessGroup.Run(2, group =>
        {
            var x = Tensor.FromArray([1f + group.Rank, 10f * (group.Rank + 1)], 2).RequiresGrad_();
            var y = F.AllReduce(x, group);
            var w = Tensor.FromArray([group.Rank + 1f, 3f], 2);   // rank 0: (1,3), rank 1: (2,3)
            (y * w).Sum().Backward();
            return (Y: y.ToArray(), Dx: x.Grad!.ToArray());
        });
        foreach (var (y, dx) in grads)
        {
            Assert.Equal(2, y.Length);
            Assert.Equal(3f, y[0], 1e-6f);
            Assert.Equal(30f, y[1], 1e-5f);
            Assert.Equal(2, dx.Length);
            Assert.Equal(3f, dx[0], 1e-6f);   // Σ_ranks w
            Assert.Equal(6f, dx[1], 1e-6f);
        }
    }

    [Fact]
    public void SyncBatchNorm_ShardsOfABatch_MatchBatchNormOfTheWholeBatch()
    {
        var rng = new Generator(3);
        var x = Tensor.Randn([8, 3, 4, 4], rng) * 2f + 0.5f;
        var coefficients = Tensor.Randn([8, 3, 4, 4], rng);
        BatchNorm2d Layer()
        {
            var bn = new BatchNorm2d(3);
            bn.Weight!.CopyFrom(Tensor.FromArray([0.5f, 1.5f, -1f], 3));
            bn.Bias!.CopyFrom(Tensor.FromArray([0.1f, -0.2f, 0.3f], 3));
            return bn;
        }

        var whole = Layer();
        var wx = x.Clone().RequiresGrad_();
        var wy = whole.Forward(wx);
        (wy * coefficients).Sum().Backward();

        var ranks = ThreadProcessGroup.Run(2, group =>
        {
            var bn = Layer();
            Assert.Equal(1, BatchNormBase.Synchronize(bn, group));
            var shard = new Shard(group.Rank, group.Size);
            var sx = shard.Take(x).Clone().RequiresGrad_();
            var y = bn.Forward(sx);
            (y * shard.Take(coefficients)).Sum().Backward();
            return (Y: y, Dx: sx.Grad!, Dw: bn.Weight!.Grad!, Db: bn.Bias!.Grad!, Mean: bn.RunningMean!.Clone(), Var: bn.RunningVar!.Clone());
        });

        Fixtures.AssertClose(wy, Tensor.Cat([ranks[0].Y, ranks[1].Y], 0), 1e-5, 1e-5, "y");
        Fixtures.AssertClose(wx.Grad!, Tensor.Cat([ranks[0].Dx, ranks[1].Dx], 0), 1e-4, 1e-5, "dx");
        // The loss is a sum over the rows, so the whole batch's weight gradient is the sum of the ranks'.
        Fixtures.AssertClose(whole.Weight!.Grad!, ranks[0].Dw + ranks[1].Dw, 1e-4, 1e-5, "dweight");
        Fixtures.AssertClose(whole.Bias!.Grad!, ranks[0].Db + ranks[1].Db, 1e-4, 1e-5, "dbias");
        foreach (var r in ranks)
        {
            Fixtures.AssertClose(whole.RunningMean!, r.Mean, 1e-5, 1e-6, "running_mean");
            Fixtures.AssertClose(whole.RunningVar!, r.Var, 1e-5, 1e-6, "running_var");
        }
    }

    [Fact]
    public void SyncBatchNorm_DoubleBackward_MatchesBatchNormOfTheWholeBatch()
    {
        // A gradient penalty through a synchronised layer: ∇ₓ with a graph, then the gradient of its square.
        var rng = new Generator(8);
        var x = Tensor.Randn([6, 2, 3, 3], rng) + 0.3f;
        var coefficients = Tensor.Randn([6, 2, 3, 3], rng);
        static Tensor Penalty(BatchNorm2d bn, Tensor x, Tensor coefficients)
        {
            var input = x.Clone().RequiresGrad_();
            var grad = Autograd.Grad([(bn.Forward(input).Square() * coefficients).Sum()], [input], createGraph: true)[0]!;
            return grad.Square().Sum();
        }
        var whole = new BatchNorm2d(2);
        Penalty(whole, x, coefficients).Backward();
        var weights = ThreadProcessGroup.Run(2, group =>
        {
            var bn = new BatchNorm2d(2) { ProcessGroup = group };
            var shard = new Shard(group.Rank, group.Size);
            Penalty(bn, shard.Take(x), shard.Take(coefficients)).Backward();
            return bn.Weight!.Grad!;
        });
        Fixtures.AssertClose(whole.Weight!.Grad!, weights[0] + weights[1], 1e-3, 1e-5, "d(penalty)/dweight");
    }

    [Fact]
    public void SyncBatchNorm_Eval_MakesNoCollectiveCall()
    {
        // One rank alone in eval mode (rank 0's sample grids): a collective would wait for the other forever.
        var y = ThreadProcessGroup.Run(2, group =>
        {
            var bn = new BatchNorm2d(2) { ProcessGroup = group };
            bn.Eval();
            return group.Rank == 0 ? bn.Forward(Tensor.Ones(2, 2, 1, 1)).ToArray() : [];
        });
        Assert.Equal(4, y[0].Length);
    }

    [Theory]
    [InlineData(GradientAllReduce.DefaultBucketBytes)]
    [InlineData(12)]   // 3 floats a message: the gradients and the extra value span several
    public void GradientAllReduce_Average_GivesEveryRankTheMean(int bucketBytes)
    {
        var results = ThreadProcessGroup.Run(3, group =>
        {
            var a = Tensor.Zeros(2, 2).RequiresGrad_();
            var b = Tensor.Zeros(3).RequiresGrad_();
            var frozen = Tensor.Zeros(1).RequiresGrad_();   // no gradient on any rank: skipped
            a.Grad = Tensor.Full([2, 2], group.Rank);
            b.Grad = Tensor.FromArray([1f, 2f, 3f * group.Rank], 3);
            var reducer = new GradientAllReduce(group, [a, frozen, b], bucketBytes);
            Span<float> loss = [10f * group.Rank];
            reducer.Average(loss);
            Assert.Null(frozen.Grad);
            Assert.Equal((4 + 3 + 1) * sizeof(float), reducer.LastBytes);
            return (A: a.Grad.ToArray(), B: b.Grad.ToArray(), Loss: loss[0]);
        });
        foreach (var r in results)
        {
            Assert.All(r.A, v => Assert.Equal(1f, v, 1e-6f));
            Assert.Equal(3, r.B.Length);
            for (int i = 0; i < 3; i++) Assert.Equal(i + 1f, r.B[i], 1e-6f);
            Assert.Equal(10f, r.Loss, 1e-5f);
        }
    }

    [Fact]
    public void BroadcastState_DifferentInitialWeights_AllTakeRankZeros()
    {
        var states = ThreadProcessGroup.Run(2, group =>
        {
            var m = new Sequential(new Linear(3, 2, generator: new Generator((ulong)(group.Rank + 1))), new BatchNorm1d(2));
            ((BatchNorm1d)m[1]).RunningMean!.Data.Fill(group.Rank + 5f);
            group.BroadcastState(m);
            return m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        });
        var reference = new Sequential(new Linear(3, 2, generator: new Generator(1)), new BatchNorm1d(2)).StateDict();
        foreach (var state in states)
        {
            Assert.Equal(reference["0.weight"].ToArray(), state["0.weight"]);
            Assert.Equal([5f, 5f], state["1.running_mean"]);
        }
    }

    [Fact]
    public void BroadcastState_DifferentArchitectures_Throws()
    {
        var e = Assert.Throws<AggregateException>(() => ThreadProcessGroup.Run(2, group =>
        {
            group.BroadcastState(new Linear(3, group.Rank + 1));
            return 0;
        }));
        Assert.All(e.InnerExceptions, x => Assert.Contains("differ", x.Message));
    }

    [Fact]
    public void ThrowIfAnyFailed_OneRankFails_ItRethrowsAndTheOthersNameIt()
    {
        var e = Assert.Throws<AggregateException>(() => ThreadProcessGroup.Run(3, group =>
        {
            var failure = group.Rank == 1 ? new IOException("disk full") : null;
            group.ThrowIfAnyFailed(failure, "setting up");
            return 0;
        }));
        Assert.Equal(3, e.InnerExceptions.Count);
        Assert.Single(e.InnerExceptions.OfType<IOException>());
        var peers = e.InnerExceptions.OfType<PeerFailedException>().ToList();
        Assert.Equal(2, peers.Count);
        Assert.All(peers, p => Assert.Equal(1, p.FailedRank));
        Assert.All(peers, p => Assert.Equal("rank 1 failed setting up (its message says why)", p.Message));
    }

    [Fact]
    public void ThrowIfAnyFailed_SeveralRanksFail_OnlyTheLowestThrowsItsOwn()
    {
        var e = Assert.Throws<AggregateException>(() => ThreadProcessGroup.Run(3, group =>
        {
            group.ThrowIfAnyFailed(group.Rank > 0 ? new ArgumentException($"bad on {group.Rank}") : null, "validating");
            return 0;
        }));
        Assert.Equal("bad on 1", Assert.Single(e.InnerExceptions.OfType<ArgumentException>()).Message);
        Assert.Equal(2, e.InnerExceptions.OfType<PeerFailedException>().Count());
    }

    [Fact]
    public void ThrowIfAnyFailed_NoFailure_Returns()
    {
        Assert.Equal([1, 1], ThreadProcessGroup.Run(2, group => { group.ThrowIfAnyFailed(null, "x"); return 1; }));
    }

    [Fact]
    public void Detect_LauncherVariables_GiveSizeRankAndLocalSize()
    {
        var ompi = new Dictionary<string, string> { ["OMPI_COMM_WORLD_SIZE"] = "4", ["OMPI_COMM_WORLD_RANK"] = "3", ["OMPI_COMM_WORLD_LOCAL_SIZE"] = "2" };
        Assert.Equal(new MpiLauncher("OMPI_COMM_WORLD_SIZE", 4, 3, 2), MpiLauncher.Detect(ompi.GetValueOrDefault));
        var hydra = new Dictionary<string, string> { ["PMI_SIZE"] = "2", ["PMI_RANK"] = "1" };
        Assert.Equal(new MpiLauncher("PMI_SIZE", 2, 1, null), MpiLauncher.Detect(hydra.GetValueOrDefault));
        Assert.Null(MpiLauncher.Detect(_ => null));
        Assert.Equal(8, new MpiLauncher("OMPI_COMM_WORLD_SIZE", 4, 0, 2).ThreadsPerProcess(16));
        Assert.Equal(1, new MpiLauncher("OMPI_COMM_WORLD_SIZE", 4, 0, 4).ThreadsPerProcess(2));
    }
}
