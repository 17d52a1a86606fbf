namespace GanForge.NN.Tests;

public class LossTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "losses");

    static void Check(string name, Func<Tensor, Tensor> loss, string input)
    {
        var x = Fx[input].Clone().RequiresGrad_();
        var l = loss(x);
        l.Sum().Backward();
        // Float32 against float64 references: 1e-5 relative, 1e-6 absolute (log-sums lose a little more).
        Fixtures.AssertClose(Fx[name + ".loss"].Reshape(l.ShapeSpan), l, 1e-5, 1e-6, name + " loss");
        Fixtures.AssertClose(Fx[name + ".dx"], x.Grad!, 1e-5, 1e-6, name + " gradient");
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("sum")]
    [InlineData("none")]
    public void MseLoss_MatchesPyTorch(string reduction) =>
        Check("mse." + reduction, x => new MSELoss(reduction).Forward(x, Fx["reg.t"]), "reg.x");

    [Fact]
    public void L1Loss_MatchesPyTorch() => Check("l1", x => new L1Loss().Forward(x, Fx["reg.t"]), "reg.x");

    [Fact]
    public void SmoothL1Loss_MatchesPyTorch() => Check("smooth_l1", x => new SmoothL1Loss(beta: 0.5f).Forward(x, Fx["reg.t"]), "reg.x");

    [Fact]
    public void HuberLoss_MatchesPyTorch() => Check("huber", x => new HuberLoss(delta: 0.7f).Forward(x, Fx["reg.t"]), "reg.x");

    [Fact]
    public void BCELoss_SaturatedProbabilities_ClampLikePyTorch() =>
        Check("bce", p => new BCELoss(Fx["bce.w"]).Forward(p, Fx["bce.y"]), "bce.p");

    [Fact]
    public void BCEWithLogitsLoss_MatchesPyTorch() =>
        Check("bcel", x => new BCEWithLogitsLoss().Forward(x, Fx["bce.y"]), "bcel.x");

    [Fact]
    public void BCEWithLogitsLoss_WeightAndPosWeight_MatchPyTorch() =>
        Check("bcel_w", x => new BCEWithLogitsLoss(Fx["bce.w"], "sum", Fx["bcel.pw"]).Forward(x, Fx["bce.y"]), "bcel.x");

    [Fact]
    public void CrossEntropy_ClassIndices_MatchesPyTorch() =>
        Check("ce", x => new CrossEntropyLoss().Forward(x, Fx["ce.t"]), "ce.x");

    [Fact]
    public void CrossEntropy_WeightAndIgnoreIndex_MatchesPyTorch() =>
        Check("ce_w_ignore", x => new CrossEntropyLoss(Fx["ce.w"], ignoreIndex: 3).Forward(x, Fx["ce.t"]), "ce.x");

    [Fact]
    public void CrossEntropy_LabelSmoothing_MatchesPyTorch() =>
        Check("ce_smooth", x => new CrossEntropyLoss(labelSmoothing: 0.1f).Forward(x, Fx["ce.t"]), "ce.x");

    [Fact]
    public void CrossEntropy_LabelSmoothingWeightIgnore_MatchesPyTorch() =>
        Check("ce_smooth_w", x => new CrossEntropyLoss(Fx["ce.w"], ignoreIndex: 1, labelSmoothing: 0.2f).Forward(x, Fx["ce.t"]), "ce.x");

    [Fact]
    public void CrossEntropy_ClassProbabilities_MatchesPyTorch() =>
        Check("ce_probs", x => new CrossEntropyLoss(labelSmoothing: 0.1f).Forward(x, Fx["ce.probs"]), "ce.x");

    [Fact]
    public void CrossEntropy_Spatial_MatchesPyTorch() =>
        Check("ce2d", x => F.CrossEntropy(x, Fx["ce2d.t"]), "ce2d.x");

    [Fact]
    public void NllLoss_Weighted_MatchesPyTorch() =>
        Check("nll", x => new NLLLoss(Fx["ce.w"]).Forward(x, Fx["ce.t"]), "ce.x");

    [Fact]
    public void CrossEntropy_NonIntegerTarget_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.FromArray([0f, 1.5f])));
        Assert.Contains("1.5", e.Message);
    }

    [Fact]
    public void Loss_UnknownReduction_Throws() =>
        Assert.Throws<ArgumentException>(() => new MSELoss("avg"));

    // Finite differences: every loss first order; BCEWithLogits and MSE second order as well.

    static Tensor R(int seed, params int[] shape) => Tensor.Randn(shape, new Generator((ulong)seed));

    static Tensor Target01(int seed) => Tensor.Rand([3, 4], new Generator((ulong)seed));

    public static TheoryData<string> AllLosses => new()
    {
        "mse", "l1", "smooth_l1", "huber", "bce", "bce_logits", "cross_entropy", "cross_entropy_smooth", "cross_entropy_probs", "nll",
    };

    static Tensor Loss(string name, Tensor x)
    {
        var t = R(21, 3, 4);
        var cls = Tensor.FromArray([0f, 3f, 1f]);
        return name switch
        {
            "mse" => F.MseLoss(x, t),
            "l1" => F.L1Loss(x, t),
            "smooth_l1" => F.SmoothL1Loss(x, t, beta: 0.5f),
            "huber" => F.HuberLoss(x, t, delta: 0.7f),
            "bce" => F.BinaryCrossEntropy(x.Sigmoid(), Target01(22)),
            "bce_logits" => F.BinaryCrossEntropyWithLogits(x, Target01(22), posWeight: Tensor.FromArray([0.5f, 1f, 2f, 3f])),
            "cross_entropy" => F.CrossEntropy(x, cls, Tensor.FromArray([1f, 2f, 0.5f, 1f])),
            "cross_entropy_smooth" => F.CrossEntropy(x, cls, labelSmoothing: 0.1f),
            "cross_entropy_probs" => F.CrossEntropy(x, t.Softmax(1)),
            "nll" => F.NllLoss(x.LogSoftmax(1), cls),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void Loss_FirstOrderGradient_MatchesFiniteDifferences(string name)
    {
        // Offset from the target's kinks (|d| = 0, beta, delta) is not needed at this seed; the check would name the element.
        GradCheck.First(name, xs => Loss(name, xs[0]), [R(20, 3, 4)]);
    }

    [Theory]
    [InlineData("mse")]
    [InlineData("bce_logits")]
    [InlineData("cross_entropy")]
    public void Loss_SecondOrderGradient_MatchesFiniteDifferences(string name) =>
        GradCheck.Second(name, xs => Loss(name, xs[0]), [R(20, 3, 4)]);
}
