using System.Text.Json;
using GanForge.Data;
using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using Xunit.Abstractions;

namespace GanForge.Gan.Tests;

/// <summary>
/// Each image-to-image variant learns, in seconds, on embedded Fashion-MNIST: pix2pix and the L1 U-Net from edges,
/// SRResNet and SRGAN from box-downscaled images, CycleGAN between two classes. The figures are measured on pairs the
/// run did not train on.
/// </summary>
public class ImageToImageLearningTests(ITestOutputHelper output)
{
    /// <summary>A short run on the first <paramref name="limit"/> embedded images (the test split), its folder, trained.</summary>
    static string Train(string model, int steps, int limit, int batch, params string[] settings)
    {
        var dir = TestRuns.NewDir();
        var c = new TrainConfig { Model = model, Data = "embedded", Limit = limit, BatchSize = batch, Epochs = 100, MaxSteps = steps, Out = dir, LogEvery = 10, Seed = 2 };
        foreach (var s in settings)
        {
            var (key, value) = (s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..]);
            switch (key)
            {
                case "pairs": c.Pairs = value; break;
                case "scale": c.Scale = int.Parse(value); break;
                case "domain-a": c.DomainA = value; break;
                case "domain-b": c.DomainB = value; break;
                default: c.Set(s); break;
            }
        }
        TrainingSetup.Create(c, resume: false).Run();
        return dir;
    }

    /// <summary>Pairs <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> of the embedded images, unseen by a run on the first <paramref name="from"/>.</summary>
    static (Tensor A, Tensor B) HeldOut(string pairs, int from, int count)
    {
        var all = DataSpec.ResolvePairs("embedded", pairs, "test", from + count, new DataOptions()).Pairs.Stack(minusOneToOne: true);
        return (all.A.Narrow(0, from, count), all.B.Narrow(0, from, count));
    }

    static double MeanAbs(Tensor x, Tensor y) => (x - y).Abs().Mean().Item();

    static double Psnr(Tensor x, Tensor y) => 10 * Math.Log10(4.0 / (x - y).Square().Mean().Item());   // peak-to-peak 2 in [-1, 1]

    [Theory]
    [InlineData("pix2pix")]
    [InlineData("unet-l1")]
    public void Pix2Pix_EdgesToFashionMnist_L1ToTargetFallsWellBelowTheInputsOwn(string model)
    {
        var dir = Train(model, 80, 320, 16, "pairs=edges", "ngf=16", "ndf=16", "g.lr=1e-3");
        try
        {
            var (a, b) = HeldOut("edges", 320, 64);
            var translator = Translator.Load(dir);
            var outputs = translator.Translate(a);
            double l1 = MeanAbs(outputs, b), inputOwn = MeanAbs(a, b), meanImage = MeanAbs(b.Mean([0], keepDim: true).Expand(b.Shape), b);
            output.WriteLine($"{model}: L1 to target {l1:F3}; the input's own {inputOwn:F3}; the mean image's {meanImage:F3}");
            Assert.True(l1 < 0.6 * inputOwn, $"{model}: L1 {l1:F3} is not well below the input's own {inputOwn:F3}");
            Assert.True(l1 < meanImage, $"{model}: L1 {l1:F3} is no better than the mean image's {meanImage:F3}");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SrResNet_X4_BeatsNearestAndBilinearUpsamplingInPsnr()
    {
        var dir = Train("srresnet", 80, 320, 16, "scale=4", "blocks=2", "width=32", "g.lr=1e-3");
        try
        {
            var (lr, hr) = HeldOut("downscale:4", 320, 64);
            var sr = Translator.Load(dir, who: "upscale", superResolution: true).Translate(lr);
            double model = Psnr(sr, hr);
            double nearest = Psnr(Tensor.Interpolate(lr, new Size2(28, 28), null, "nearest", null), hr);
            double bilinear = Psnr(Tensor.Interpolate(lr, new Size2(28, 28), null, "bilinear", false), hr);
            output.WriteLine($"x4 PSNR: srresnet {model:F2} dB, nearest (box) {nearest:F2} dB, bilinear {bilinear:F2} dB");
            Assert.True(model > Math.Max(nearest, bilinear) + 0.3, $"SRResNet {model:F2} dB does not beat nearest {nearest:F2} / bilinear {bilinear:F2}");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SrGan_ContentOnAFeatureNetwork_LowersItsContentLossAndRecordsTheAdversary()
    {
        // The Gan layer has no feature network of its own; a fixed random conv stands in for the evaluator's (the CLI registers that).
        FeatureNetworks.Register("test-conv", () => new Sequential(new Conv2d(1, 8, 3, padding: 1, generator: new Generator(5)), new ReLU()), "a fixed random conv");
        var dir = TestRuns.NewDir();
        try
        {
            var c = new TrainConfig { Model = "srgan", Data = "embedded", Limit = 160, BatchSize = 16, Epochs = 100, MaxSteps = 40, Out = dir, LogEvery = 10, Seed = 2, Scale = 2 };
            foreach (var s in new[] { "blocks=1", "width=16", "d-width=8", "content=mse" }) c.Set(s);
            TrainingSetup.Create(c, resume: false).Run();
            var content = Logged(dir, "content");
            output.WriteLine($"srgan x2 content (pixel MSE) per window: {string.Join(", ", content.Select(v => v.ToString("F4")))}");
            Assert.True(content[^1] < 0.6 * content[0], $"content loss {content[0]:F4} -> {content[^1]:F4} did not fall");
            Assert.NotEmpty(Logged(dir, "d_real"));

            // The registered network as the content network: the game builds it frozen and uses it.
            var phase = new SuperResolutionGeneratorPhase(FeatureNetworks.Create("test-conv", "srgan"), 1f, 1e-3f, drawsBatch: false);
            Assert.All(FeatureNetworks.Create("test-conv", "srgan").Parameters(), p => Assert.False(p.RequiresGrad));
            Assert.Equal("G", phase.Name);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void FeatureNetworks_NotRegistered_SaysSoAndOffersPixels()
    {
        var e = Assert.Throws<InvalidOperationException>(() => FeatureNetworks.Create("no-such-net", "srgan"));
        Assert.Equal("srgan: no feature network 'no-such-net' is registered (the ganforge command registers 'evaluator'); use --set content=mse for a loss on pixels", e.Message);
    }

    [Fact]
    public void CycleGan_SneakersAndAnkleBoots_CycleL1Falls()
    {
        var dir = Train("cyclegan", 40, 0, 8, "domain-a=embedded:class=7", "domain-b=embedded:class=9", "ngf=8", "ndf=8", "blocks=1");
        try
        {
            var cycle = Logged(dir, "cycle");
            output.WriteLine($"cyclegan cycle L1 per window: {string.Join(", ", cycle.Select(v => v.ToString("F3")))}");
            Assert.True(cycle[^1] < 0.7 * cycle[0], $"cycle L1 {cycle[0]:F3} -> {cycle[^1]:F3} did not fall");
            Assert.NotEmpty(Logged(dir, "identity"));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The values of one statistic in metrics.jsonl, window by window.</summary>
    static List<double> Logged(string dir, string stat) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty(stat, out _))
        .Select(e => e.GetProperty(stat).GetDouble()).ToList();
}
