namespace GanForge.NN.Tests;

public class LayerTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "layers");

    /// <summary>Runs the module on the fixture input with the fixture's upstream gradient; returns the input.</summary>
    static (Tensor X, Tensor Y) Run(Module m, string prefix, string input = "x")
    {
        var x = Fx[prefix + input].Clone().RequiresGrad_();
        var y = m.Forward(x);
        y.Backward(Fx[prefix + "gy"]);
        return (x, y);
    }

    static void Load(Module m, string prefix, params string[] names)
    {
        foreach (var n in names) m.StateDict()[n].CopyFrom(Fx[prefix + n]);
    }

    [Fact]
    public void Linear_MatchesPyTorch()
    {
        var m = new Linear(4, 5);
        Load(m, "linear.", "weight", "bias");
        var (x, y) = Run(m, "linear.");
        Fixtures.AssertClose(Fx["linear.y"], y, 1e-5, 1e-6, "linear y");
        Fixtures.AssertClose(Fx["linear.dx"], x.Grad!, 1e-5, 1e-6, "linear dx");
        Fixtures.AssertClose(Fx["linear.dweight"], m.Weight.Grad!, 1e-5, 1e-6, "linear dweight");
        Fixtures.AssertClose(Fx["linear.dbias"], m.Bias!.Grad!, 1e-5, 1e-6, "linear dbias");
    }

    [Fact]
    public void Linear_DefaultInit_WithinFanInBound()
    {
        var m = new Linear(100, 50, generator: new Generator(1));
        float bound = 1f / 10f;
        Assert.All(m.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(m.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        // U(-b,b) has std b/sqrt(3).
        var w = m.Weight.ToArray();
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.9 * bound / Math.Sqrt(3), 1.1 * bound / Math.Sqrt(3));
        Assert.Equal(["weight", "bias"], m.StateDict().Keys);
    }

    [Fact]
    public void Linear_WrongInputWidth_NamesShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Linear(4, 2).Forward(Tensor.Zeros(3, 5)));
        Assert.Contains("(3,5)", e.Message);
    }

    [Fact]
    public void BatchNorm2d_TrainAndEval_MatchPyTorch()
    {
        var m = new BatchNorm2d(3);
        Load(m, "bn2d.", "weight", "bias");
        var (x, y) = Run(m, "bn2d.");
        Fixtures.AssertClose(Fx["bn2d.train.y"], y, 1e-5, 1e-5, "bn train y");
        Fixtures.AssertClose(Fx["bn2d.train.dx"], x.Grad!, 1e-4, 1e-5, "bn train dx");
        Fixtures.AssertClose(Fx["bn2d.train.dweight"], m.Weight!.Grad!, 1e-5, 1e-5, "bn train dweight");
        Fixtures.AssertClose(Fx["bn2d.train.dbias"], m.Bias!.Grad!, 1e-5, 1e-5, "bn train dbias");
        Fixtures.AssertClose(Fx["bn2d.train.running_mean"], m.RunningMean!, 1e-5, 1e-6, "running_mean");
        Fixtures.AssertClose(Fx["bn2d.train.running_var"], m.RunningVar!, 1e-5, 1e-6, "running_var");
        Assert.Equal(1f, m.NumBatchesTracked!.Item());

        m.Eval();
        m.ZeroGrad();
        var (xe, ye) = Run(m, "bn2d.");
        Fixtures.AssertClose(Fx["bn2d.eval.y"], ye, 1e-5, 1e-5, "bn eval y");
        Fixtures.AssertClose(Fx["bn2d.eval.dx"], xe.Grad!, 1e-5, 1e-5, "bn eval dx");
        Fixtures.AssertClose(Fx["bn2d.eval.dweight"], m.Weight!.Grad!, 1e-5, 1e-5, "bn eval dweight");
        Fixtures.AssertClose(Fx["bn2d.train.running_mean"], m.RunningMean!, 1e-6, 1e-7, "eval leaves running_mean");
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], m.StateDict().Keys);
    }

    [Fact]
    public void BatchNorm1d_MomentumNone_CumulativeAverageMatchesPyTorch()
    {
        var m = new BatchNorm1d(3, momentum: null, affine: false);
        m.Forward(Fx["bn1d.x1"]);
        var (x, y) = Run(m, "bn1d.", "x2");
        Fixtures.AssertClose(Fx["bn1d.y"], y, 1e-5, 1e-5, "bn1d y");
        Fixtures.AssertClose(Fx["bn1d.dx"], x.Grad!, 1e-4, 1e-5, "bn1d dx");
        Fixtures.AssertClose(Fx["bn1d.running_mean"], m.RunningMean!, 1e-5, 1e-6, "bn1d running_mean");
        Fixtures.AssertClose(Fx["bn1d.running_var"], m.RunningVar!, 1e-5, 1e-6, "bn1d running_var");
        Assert.Equal(2f, m.NumBatchesTracked!.Item());
    }

    [Fact]
    public void BatchNorm2d_WrongChannels_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchNorm2d(4).Forward(Tensor.Zeros(2, 3, 2, 2)));
        Assert.Contains("(2,3,2,2)", e.Message);
    }

    [Fact]
    public void InstanceNorm2d_TrainAndEval_MatchPyTorch()
    {
        var m = new InstanceNorm2d(3, affine: true, trackRunningStats: true);
        Load(m, "in.", "weight", "bias");
        var (x, y) = Run(m, "in.");
        Fixtures.AssertClose(Fx["in.train.y"], y, 1e-5, 1e-5, "in train y");
        Fixtures.AssertClose(Fx["in.train.dx"], x.Grad!, 1e-4, 1e-5, "in train dx");
        Fixtures.AssertClose(Fx["in.train.dweight"], m.StateDict()["weight"].Grad!, 1e-5, 1e-5, "in train dweight");
        Fixtures.AssertClose(Fx["in.train.running_mean"], m.RunningMean!, 1e-5, 1e-6, "in running_mean");
        Fixtures.AssertClose(Fx["in.train.running_var"], m.RunningVar!, 1e-5, 1e-6, "in running_var");
        m.Eval();
        var (_, ye) = Run(m, "in.");
        Fixtures.AssertClose(Fx["in.eval.y"], ye, 1e-5, 1e-5, "in eval y");
    }

    [Fact]
    public void InstanceNorm2d_Defaults_HaveNoParametersOrBuffers()
    {
        var m = new InstanceNorm2d(3);
        Assert.Empty(m.StateDict());
        var y = m.Forward(Tensor.Randn([2, 3, 4, 4], new Generator(2)));
        Assert.Equal(0.0, y.Mean([2, 3]).ToArray().Max(Math.Abs), 1e-5);
    }

    [Fact]
    public void LayerNorm_MatchesPyTorch()
    {
        var m = new LayerNorm([3, 4]);
        Load(m, "ln.", "weight", "bias");
        var (x, y) = Run(m, "ln.");
        Fixtures.AssertClose(Fx["ln.y"], y, 1e-5, 1e-5, "ln y");
        Fixtures.AssertClose(Fx["ln.dx"], x.Grad!, 1e-4, 1e-5, "ln dx");
        Fixtures.AssertClose(Fx["ln.dweight"], m.StateDict()["weight"].Grad!, 1e-5, 1e-5, "ln dweight");
        Fixtures.AssertClose(Fx["ln.dbias"], m.StateDict()["bias"].Grad!, 1e-5, 1e-5, "ln dbias");
    }

    [Fact]
    public void GroupNorm_MatchesPyTorch()
    {
        var m = new GroupNorm(3, 6);
        Load(m, "gn.", "weight", "bias");
        var (x, y) = Run(m, "gn.");
        Fixtures.AssertClose(Fx["gn.y"], y, 1e-5, 1e-5, "gn y");
        Fixtures.AssertClose(Fx["gn.dx"], x.Grad!, 1e-4, 1e-5, "gn dx");
        Fixtures.AssertClose(Fx["gn.dweight"], m.StateDict()["weight"].Grad!, 1e-5, 1e-5, "gn dweight");
        Fixtures.AssertClose(Fx["gn.dbias"], m.StateDict()["bias"].Grad!, 1e-5, 1e-5, "gn dbias");
    }

    [Fact]
    public void Embedding_MatchesPyTorch_WithRepeatedIndices()
    {
        var m = new Embedding(5, 4);
        m.Weight.CopyFrom(Fx["emb.weight"]);
        var y = m.Forward(Fx["emb.idx"]);
        y.Backward(Fx["emb.gy"]);
        Fixtures.AssertClose(Fx["emb.y"], y, 0, 0, "embedding y");
        Fixtures.AssertClose(Fx["emb.dweight"], m.Weight.Grad!, 1e-6, 1e-6, "embedding dweight");
    }

    [Fact]
    public void Embedding_IndexOutOfRange_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Embedding(3, 2).Forward(Tensor.FromArray([3f])));
        Assert.Contains("[0, 3)", e.Message);
    }

    // Gradient checks: every layer op first order; normalisations second order too.

    static Tensor R(int seed, params int[] shape) => Tensor.Randn(shape, new Generator((ulong)seed));

    [Fact]
    public void Linear_GradCheck() =>
        GradCheck.First("Linear", xs => F.Linear(xs[0], xs[1], xs[2]), [R(1, 3, 4), R(2, 2, 4), R(3, 2)]);

    [Fact]
    public void BatchNormTraining_GradCheckFirstAndSecond()
    {
        Tensor Bn(Tensor[] xs) => F.BatchNorm(xs[0], null, null, xs[1], xs[2], training: true);
        GradCheck.First("BatchNorm", Bn, [R(4, 4, 2, 3), R(5, 2), R(6, 2)]);
        GradCheck.Second("BatchNorm", Bn, [R(4, 4, 2, 3), R(5, 2), R(6, 2)]);
    }

    [Fact]
    public void BatchNormEval_GradCheck() =>
        GradCheck.First("BatchNorm eval", xs => F.BatchNorm(xs[0], Tensor.FromArray([0.5f, -1f]), Tensor.FromArray([2f, 0.5f]), xs[1], xs[2]),
            [R(4, 3, 2), R(5, 2), R(6, 2)]);

    [Fact]
    public void LayerNorm_GradCheckFirstAndSecond()
    {
        Tensor Ln(Tensor[] xs) => F.LayerNorm(xs[0], [4], xs[1], xs[2]);
        GradCheck.First("LayerNorm", Ln, [R(7, 3, 4), R(8, 4), R(9, 4)]);
        GradCheck.Second("LayerNorm", Ln, [R(7, 3, 4), R(8, 4), R(9, 4)]);
    }

    // GroupNorm and InstanceNorm standardise rows through the fused batch-norm function: its recomputed statistics
    // must carry the second order too (CycleGAN's instance norm under a gradient penalty).
    [Fact]
    public void GroupNorm_GradCheckFirstAndSecond()
    {
        Tensor Gn(Tensor[] xs) => F.GroupNorm(xs[0], 2, xs[1], xs[2]);
        GradCheck.First("GroupNorm", Gn, [R(10, 2, 4, 3), R(11, 4), R(12, 4)]);
        GradCheck.Second("GroupNorm", Gn, [R(10, 2, 4, 3), R(11, 4), R(12, 4)]);
    }

    [Fact]
    public void InstanceNorm_GradCheckFirstAndSecond()
    {
        Tensor In(Tensor[] xs) => F.InstanceNorm(xs[0], weight: xs[1], bias: xs[2]);
        GradCheck.First("InstanceNorm", In, [R(13, 2, 2, 2, 3), R(14, 2), R(15, 2)]);
        GradCheck.Second("InstanceNorm", In, [R(13, 2, 2, 2, 3), R(14, 2), R(15, 2)]);
    }

    // A row of one value standardises to 0 (the composed ops' path; the fused one needs two values a row).
    [Fact]
    public void LayerNorm_OfOneValueRows_IsZeroWithZeroGradient()
    {
        var x = R(16, 3, 1).RequiresGrad_();
        var y = F.LayerNorm(x, [1]);
        Assert.All(y.ToArray(), v => Assert.True(Math.Abs(v) < 1e-6f, $"output {v}"));
        (y * R(17, 3, 1)).Sum().Backward();
        Assert.All(x.Grad!.ToArray(), v => Assert.True(Math.Abs(v) < 1e-3f, $"gradient {v}"));
    }

    [Fact]
    public void Embedding_GradCheckFirstAndSecond()
    {
        var idx = Tensor.FromArray([1f, 0f, 1f, 2f], 2, 2);
        // Squared so the second derivative is non-trivial.
        GradCheck.First("Embedding", xs => F.Embedding(idx, xs[0]).Square(), [R(16, 3, 2)]);
        GradCheck.Second("Embedding", xs => F.Embedding(idx, xs[0]).Square(), [R(16, 3, 2)]);
    }
}
