using GanForge.Data;

namespace GanForge.Metrics.Tests;

/// <summary>L1, PSNR and SSIM of image-to-image outputs against PyTorch references; the evaluator's class agreement.</summary>
public class TranslationScoresTests
{
    [Theory]
    [InlineData("translation_gray28")]
    [InlineData("translation_rgb16")]
    public void Scores_NoisyImages_MatchPyTorchReferences(string name)
    {
        var f = Fixtures.Load("metrics", name);
        var (x, y) = (f["x"], f["y"]);
        Assert.Equal(f["l1"].Item(), TranslationScores.L1(x, y), 1e-5);
        Assert.Equal(f["psnr"].Item(), TranslationScores.Psnr(x, y), 1e-3);
        Assert.Equal(f["ssim"].Item(), TranslationScores.Ssim(x, y), 1e-5);
    }

    [Fact]
    public void Scores_IdenticalImages_AreZeroL1PerfectSsimAndCappedPsnr()
    {
        var x = Tensor.Rand([2, 1, 12, 12], new Generator(1)) * 2f - 1f;
        Assert.Equal(0, TranslationScores.L1(x, x));
        Assert.Equal(1, TranslationScores.Ssim(x, x), 1e-9);
        Assert.Equal(100, TranslationScores.Psnr(x, x));
        var e = Assert.Throws<ArgumentException>(() => TranslationScores.Ssim(x, x.Narrow(0, 0, 1)));
        Assert.Equal("SSIM: outputs (2,1,12,12) and targets (1,1,12,12) differ (both must be (N,C,H,W))", e.Message);
    }

    [Fact]
    public void EvaluatorLabels_RealTestImages_AgreeWithTheirClassesMostOfTheTime()
    {
        var test = FashionMnist.LoadEmbedded();
        var images = new Tensor(200, 1, 28, 28);
        var labels = new int[200];
        for (int i = 0; i < 200; i++)
        {
            var (image, label) = test.Get(i);
            (image * 2f - 1f).Data.CopyTo(images.Data.Slice(i * 784, 784));
            labels[i] = label;
        }
        double agreement = TranslationScores.Agreement(TranslationScores.EvaluatorLabels(images), labels);
        Assert.InRange(agreement, 0.85, 1.0);   // the evaluator's test accuracy is 91.9%
    }
}
