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
        Assert.Equal(MathF.Log(2), loss.Generator(zeros).Item(), 5);
        Assert.Equal(2 * MathF.Log(2), loss.Discriminator(zeros, zeros, LabelOptions.Default, Rng).Item(), 5);
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
        Assert.Equal(expected, new MinimaxLoss().Generator(logits).Item(), 5);
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
        Assert.Equal(plain + 0.1f * 2.5f, smooth, 4);
    }

    [Fact]
    public void FromName_Unknown_ListsKnownLosses()
    {
        var e = Assert.Throws<ArgumentException>(() => GanLoss.FromName("wasserstein-typo"));
        Assert.Contains("non-saturating", e.Message);
    }
}
