using GanForge.Data;
using GanForge.Metrics.Evaluators;
using GanForge.NN;

namespace GanForge.Metrics.Tests;

/// <summary>The built-in evaluator, loaded once for the tests that share it.</summary>
public sealed class BuiltinEvaluatorFixture
{
    public NetworkFeatureExtractor Extractor { get; } = EvaluatorRegistry.Load();
    public TensorDataset Test { get; } = FashionMnist.LoadEmbedded();
}

public class EvaluatorNetworkTests(BuiltinEvaluatorFixture fixture) : IClassFixture<BuiltinEvaluatorFixture>
{
    [Fact]
    public void BuiltinEvaluator_FirstTwoThousandEmbeddedTestImages_AccuracyAtLeast90Percent()
    {
        var network = fixture.Extractor.Network;
        double accuracy = EvaluatorTraining.Accuracy(network, fixture.Test, limit: 2000);
        Assert.True(accuracy >= 0.90, $"accuracy {accuracy:P2} on the first 2000 test images");
    }

    [Fact]
    public void BuiltinWeights_Metadata_RecordsArchitectureAndAccuracyAtLeast91Percent()
    {
        var (_, meta) = EvaluatorRegistry.BuiltinWeights();
        Assert.Equal(FashionMnistCnn.ArchitectureName, meta["architecture"]);
        double accuracy = double.Parse(meta["test_accuracy"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy >= 0.91, $"recorded test accuracy {accuracy}");
        Assert.Contains("epochs", meta.Keys);
        Assert.Contains("seed", meta.Keys);
        Assert.Contains("date", meta.Keys);
    }

    [Fact]
    public void Extract_SixtyFourImages_FeaturesAre128DAndProbabilityRowsSumToOne()
    {
        var images = EvaluatorTraining.ToImages(fixture.Test, 64);
        var (features, probs) = fixture.Extractor.Extract(images, batchSize: 20);
        Assert.Equal((64, 128), (features.Rows, features.Cols));
        Assert.NotNull(probs);
        Assert.Equal((64, 10), (probs.GetLength(0), probs.GetLength(1)));
        for (int i = 0; i < 64; i++)
        {
            double sum = 0;
            for (int j = 0; j < 10; j++) { Assert.InRange(probs[i, j], 0, 1); sum += probs[i, j]; }
            Assert.Equal(1.0, sum, 1e-5);
        }
        Assert.All(features.Data, v => Assert.True(v >= 0, "features come after a ReLU"));
    }

    [Fact]
    public void Extract_BatchSize_DoesNotChangeTheFeatures()
    {
        var images = EvaluatorTraining.ToImages(fixture.Test, 10);
        var (a, _) = fixture.Extractor.Extract(images, batchSize: 3);
        var (b, _) = fixture.Extractor.Extract(images, batchSize: 10);
        // Batched GEMMs may sum in another order: float32 rounding, relative to the feature's size.
        for (int i = 0; i < a.Data.Length; i++)
            Assert.True(Math.Abs(a.Data[i] - b.Data[i]) <= 1e-4 * (1 + Math.Abs(a.Data[i])), $"feature {i}: {a.Data[i]} vs {b.Data[i]}");
    }

    [Fact]
    public void Extract_ThirtyTwoPixelRgbImages_AreResizedAndReducedToTheEvaluatorInput()
    {
        var images = Tensor.Interpolate(EvaluatorTraining.ToImages(fixture.Test, 8), new Size2(32, 32), mode: "bilinear", alignCorners: false);
        var rgb = Tensor.Cat([images, images, images], 1);
        var (features, probs) = fixture.Extractor.Extract(rgb);
        Assert.Equal((8, 128), (features.Rows, features.Cols));
        var (_, direct) = fixture.Extractor.Extract(EvaluatorTraining.ToImages(fixture.Test, 8));
        int agree = 0;
        for (int i = 0; i < 8; i++) if (Argmax(probs!, i) == Argmax(direct!, i)) agree++;
        Assert.True(agree >= 6, $"only {agree}/8 resized images keep their class");
    }

    [Fact]
    public void Load_UserWeightsForRegisteredArchitecture_GivesTheSameFeatures()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gf-eval-{Guid.NewGuid():N}.safetensors");
        try
        {
            fixture.Extractor.Network.Module.Save(path);
            var user = EvaluatorRegistry.Load(FashionMnistCnn.ArchitectureName, path);
            var images = EvaluatorTraining.ToImages(fixture.Test, 5);
            var (a, _) = fixture.Extractor.Extract(images);
            var (b, _) = user.Extract(images);
            Assert.Equal(a.Data, b.Data);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Load_UnknownArchitecture_ThrowsNamingTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => EvaluatorRegistry.Load("inception-v3", "x.safetensors"));
        Assert.Contains("inception-v3", e.Message);
        Assert.Contains(FashionMnistCnn.ArchitectureName, e.Message);
    }

    [Fact]
    public void Load_WeightsOfAnotherShape_ThrowsNamingTheTensor()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gf-eval-{Guid.NewGuid():N}.safetensors");
        try
        {
            new FashionMnistCnn(channels1: 8).Save(path);
            var e = Assert.Throws<ArgumentException>(() => EvaluatorRegistry.Load(FashionMnistCnn.ArchitectureName, path));
            Assert.Contains("features.0.weight", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RandomShift_EachDraw_IsATranslationByAtMostOnePixelWithZeroFill()
    {
        var image = (Tensor.Arange(16) + 1f).Reshape(1, 4, 4);
        Assert.Equal(image.Data.ToArray(), new RandomShift(0).Apply(image, new Generator(1)).Data.ToArray());
        var rng = new Generator(7);
        int moved = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var shifted = new RandomShift(1).Apply(image, rng).Data.ToArray();
            bool matches = false;
            for (int dy = -1; dy <= 1 && !matches; dy++)
                for (int dx = -1; dx <= 1 && !matches; dx++)
                {
                    var expected = new float[16];
                    for (int y = 0; y < 4; y++)
                        for (int x = 0; x < 4; x++)
                            if (y - dy is >= 0 and < 4 && x - dx is >= 0 and < 4) expected[y * 4 + x] = image.Data[(y - dy) * 4 + x - dx];
                    matches = expected.SequenceEqual(shifted);
                    if (matches && (dx != 0 || dy != 0)) moved++;
                }
            Assert.True(matches, $"trial {trial}: output is not a translation of the input");
        }
        Assert.True(moved > 0, "no draw moved the image");
    }

    static int Argmax(double[,] p, int row)
    {
        int best = 0;
        for (int j = 1; j < p.GetLength(1); j++) if (p[row, j] > p[row, best]) best = j;
        return best;
    }
}
