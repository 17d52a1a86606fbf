using GanForge.Gan.Losses;

namespace GanForge.Gan.Tests;

public class LossTests
{
    static readonly Generator Rng = new(5);

    [Fact]
    public void NonSaturating_AtZeroLogits_IsLogTwo()
    {
        var zeros = Tensor.Zeros(8, 1);
        var loss = new NonSaturatingLoss();
        Assert.Equal(MathF.Log(2), loss.Generator(zeros).Item(), 1e-5);
        Assert.Equal(2 * MathF.Log(2), loss.Discriminator(zeros, zeros, LabelOptions.Default, Rng).Item(), 1e-5);
    }

    [Fact]
    public void Generator_WhenDRejectsConfidently_MinimaxSaturatesAndNonSaturatingDoesNot()
    {
        // D(G(z)) ≈ sigmoid(-10): the minimax gradient w.r.t. the logit is sigmoid(l) ≈ 4.5e-5,
        // the non-saturating one is sigmoid(l) - 1 ≈ -1 (Goodfellow et al. 2014, section 3).
        Tensor Grad(GanLoss loss)
        {
            var logits = Tensor.Full([4, 1], -10f).RequiresGrad_();
            loss.Generator(logits).Backward();
            return logits.Grad!;
        }
        float minimax = Grad(new MinimaxLoss()).Data[0] * 4, nonSat = Grad(new NonSaturatingLoss()).Data[0] * 4;
        Assert.InRange(Math.Abs(minimax), 0, 1e-4);
        Assert.InRange(nonSat, -1.0001f, -0.999f);
    }

    [Fact]
    public void Minimax_MatchesLogOneMinusD()
    {
        var logits = Tensor.FromArray([-3f, -0.5f, 0.7f, 4f], 4, 1);
        double expected = logits.ToArray().Average(l => Math.Log(1 - 1 / (1 + Math.Exp(-l))));
        Assert.Equal(expected, new MinimaxLoss().Generator(logits).Item(), 1e-5);
    }

    [Fact]
    public void LabelSmoothing_ChangesOnlyTheRealTarget()
    {
        var real = Tensor.FromArray([2f, 3f], 2, 1);
        var fake = Tensor.FromArray([-1f, 0.5f], 2, 1);
        var loss = new NonSaturatingLoss();
        float plain = loss.Discriminator(real, fake, LabelOptions.Default, Rng).Item();
        float smooth = loss.Discriminator(real, fake, new LabelOptions(0.9f), Rng).Item();
        // BCE(l, t) = softplus(l) - t·l: lowering the real target by 0.1 adds 0.1·mean(real logits).
        Assert.Equal(plain + 0.1f * 2.5f, smooth, 1e-4);
    }

    [Fact]
    public void FromName_Unknown_ListsKnownLosses()
    {
        var e = Assert.Throws<ArgumentException>(() => GanLoss.FromName("wasserstein-typo"));
        Assert.Contains("non-saturating", e.Message);
    }

    [Theory]
    [InlineData("minimax", false, 0f)]
    [InlineData("non-saturating", false, 0f)]
    [InlineData("wasserstein", true, 0f)]
    [InlineData("hinge", true, 0f)]
    [InlineData("least-squares", false, 0.5f)]
    public void Properties_EachLoss_CriticAndThresholdAsDocumented(string name, bool isCritic, float threshold)
    {
        var loss = GanLoss.FromName(name);
        Assert.Equal(isCritic, loss.IsCritic);
        Assert.Equal(threshold, loss.Threshold, 1e-7);
    }

    [Theory]
    [InlineData("minimax")]
    [InlineData("non-saturating")]
    public void MeanOutput_BceLoss_IsMeanSigmoid(string name)
    {
        var logits = Tensor.FromArray([-40f, -1f, 0f, 2f, 40f], 5, 1);
        double expected = logits.ToArray().Average(l => 1 / (1 + Math.Exp(-(double)l)));
        Assert.Equal(expected, GanLoss.FromName(name).MeanOutput(logits), 1e-12);
    }

    [Theory]
    [InlineData("wasserstein")]
    [InlineData("hinge")]
    [InlineData("least-squares")]
    public void MeanOutput_CriticOrLeastSquares_IsMeanRawOutput(string name)
    {
        var outputs = Tensor.FromArray([-3f, 0.25f, 1.5f, 7f], 4, 1);
        Assert.Equal((-3 + 0.25 + 1.5 + 7) / 4, GanLoss.FromName(name).MeanOutput(outputs), 1e-12);
    }

    [Theory]
    [InlineData("wasserstein")]
    [InlineData("hinge")]
    public void Discriminator_CriticLoss_IgnoresLabelOptionsAndDrawsNothing(string name)
    {
        var real = Tensor.FromArray([2f, -0.5f, 0.3f], 3, 1);
        var fake = Tensor.FromArray([-1.5f, 0.7f, 1.2f], 3, 1);
        var loss = GanLoss.FromName(name);
        var rng = new Generator(11);
        float plain = loss.Discriminator(real, fake, LabelOptions.Default, rng).Item();
        float noisy = loss.Discriminator(real, fake, new LabelOptions(0.9f, 0.5f), rng).Item();
        Assert.Equal(plain, noisy, 1e-6);
        Assert.Equal(new Generator(11).NextUInt64(), rng.NextUInt64());
    }

    [Fact]
    public void Wasserstein_Discriminator_IsMeanFakeMinusMeanReal()
    {
        var real = Tensor.FromArray([2f, -0.5f, 0.3f, 1f], 4, 1);
        var fake = Tensor.FromArray([-1.5f, 0.7f], 2, 1);
        var loss = new WassersteinLoss();
        Assert.Equal((-1.5 + 0.7) / 2 - (2 - 0.5 + 0.3 + 1) / 4, loss.Discriminator(real, fake, LabelOptions.Default, Rng).Item(), 1e-6);
        Assert.Equal(-(-1.5 + 0.7) / 2, loss.Generator(fake).Item(), 1e-6);
    }

    [Fact]
    public void Hinge_MarginsSatisfied_LossAndGradientVanish()
    {
        // Real scored above +1 and fakes below -1: the hinge stops pushing (Lim & Ye 2017).
        var real = Tensor.FromArray([1.5f, 3f], 2, 1).RequiresGrad_();
        var fake = Tensor.FromArray([-2f, -1.25f], 2, 1).RequiresGrad_();
        var loss = new HingeLoss().Discriminator(real, fake, LabelOptions.Default, Rng);
        Assert.InRange(loss.Item(), 0, 1e-7);
        loss.Backward();
        Assert.All(real.Grad!.ToArray().Concat(fake.Grad!.ToArray()), g => Assert.InRange(g, -1e-7f, 1e-7f));
    }

    [Fact]
    public void Hinge_InsideMargin_IsLinearInTheViolation()
    {
        var real = Tensor.FromArray([0.5f, 2f], 2, 1);
        var fake = Tensor.FromArray([0f, -3f], 2, 1);
        // mean(relu(1 - [0.5, 2])) + mean(relu(1 + [0, -3])) = 0.25 + 0.5
        Assert.Equal(0.75, new HingeLoss().Discriminator(real, fake, LabelOptions.Default, Rng).Item(), 1e-6);
    }

    [Fact]
    public void LeastSquares_AtTargets_IsZero()
    {
        var loss = new LeastSquaresLoss();
        var ones = Tensor.Ones(4, 1);
        Assert.InRange(loss.Discriminator(ones, Tensor.Zeros(4, 1), LabelOptions.Default, Rng).Item(), 0, 1e-7);
        Assert.InRange(loss.Generator(ones).Item(), 0, 1e-7);
    }

    [Fact]
    public void LeastSquares_LabelSmoothing_MovesTheRealTarget()
    {
        var real = Tensor.FromArray([2f, 0.4f], 2, 1);
        var fake = Tensor.FromArray([-1f, 0.5f], 2, 1);
        float smooth = new LeastSquaresLoss().Discriminator(real, fake, new LabelOptions(0.9f), Rng).Item();
        double expected = 0.5 * ((2 - 0.9) * (2 - 0.9) + (0.4 - 0.9) * (0.4 - 0.9)) / 2 + 0.5 * (1 + 0.25) / 2;
        Assert.Equal(expected, smooth, 1e-6);
    }

    [Fact]
    public void LeastSquares_EveryLabelFlipped_SwapsTheTargets()
    {
        var real = Tensor.FromArray([2f, 0.4f], 2, 1);
        var fake = Tensor.FromArray([-1f, 0.5f], 2, 1);
        float flipped = new LeastSquaresLoss().Discriminator(real, fake, new LabelOptions(1f, 1f), Rng).Item();
        // real targets 0, fake targets 1
        double expected = 0.5 * (4 + 0.16) / 2 + 0.5 * (4 + 0.25) / 2;
        Assert.Equal(expected, flipped, 1e-6);
    }
}
