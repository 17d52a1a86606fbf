using System.Text.Json;
using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Metrics.Evaluation;
using GanForge.Metrics.Evaluators;
using GanForge.Metrics.Report;
using Xunit.Abstractions;

namespace GanForge.Metrics.Tests;

public class EvaluationTests(BuiltinEvaluatorFixture fixture, ITestOutputHelper output) : IClassFixture<BuiltinEvaluatorFixture>
{
    TensorDataset Test => fixture.Test;

    Tensor Rows(int start, int count) => EvaluationSuite.Images(Test, Enumerable.Range(start, count).ToArray());

    /// <summary>A suite whose reference is the first <paramref name="n"/> test images, no train split, no cache.</summary>
    EvaluationSuite SmallSuite(int n) => new(fixture.Extractor, new RealData("fmnist-test-head", Test.Take(n), null));

    [Fact]
    public void Fid_TestHalves_IsSmall_UniformNoise_IsLarge()
    {
        var (a, _) = fixture.Extractor.Extract(Rows(0, 5000));
        var (b, _) = fixture.Extractor.Extract(Rows(5000, 5000));
        var noise = Tensor.Uniform([2000, 1, 28, 28], -1f, 1f, new Generator(11));
        var (n, _) = fixture.Extractor.Extract(noise);
        double halves = Fid.Between(a, b), noiseFid = Fid.Between(n, b);
        output.WriteLine($"FID(test[0:5000], test[5000:10000]) = {halves:F3}; FID(uniform noise x2000, test[5000:10000]) = {noiseFid:F1}");
        // With the committed weights: 2.41 and 2156. The features are unnormalised ReLU activations, so the
        // scale is the evaluator's own; what must hold is the gap of two to three orders of magnitude.
        Assert.True(halves < 5.0, $"real-vs-real FID {halves}");
        Assert.True(noiseFid > 100 * halves, $"noise FID {noiseFid} vs real {halves}");
    }

    [Fact]
    public void Evaluate_GeneratorRepeatingOneImage_ScoresWorseThanRealImagesOnRecallCoverageAndClasses()
    {
        var suite = SmallSuite(2000);
        var options = new EvaluationOptions { Metrics = ["fid", "precision_recall", "density_coverage", "class_histogram"], Floor = false, Seed = 3 };
        var real = suite.Evaluate(Rows(5000, 1000), options);
        var one = Rows(5000, 1);
        var repeated = Tensor.Cat(Enumerable.Repeat(one, 1000).ToArray(), 0);
        var collapsed = suite.Evaluate(repeated, options);
        double Extra(EvaluationResult r, string metric, string key) => r.Scores.Single(s => s.Name == metric).Extras[key];
        output.WriteLine($"real: recall {Extra(real, "precision_recall", "recall"):F3}, coverage {Extra(real, "density_coverage", "coverage"):F3}, classes {Extra(real, "class_histogram", "classes_covered")}");
        output.WriteLine($"repeated: recall {Extra(collapsed, "precision_recall", "recall"):F3}, coverage {Extra(collapsed, "density_coverage", "coverage"):F3}, classes {Extra(collapsed, "class_histogram", "classes_covered")}");
        Assert.True(Extra(collapsed, "precision_recall", "recall") < Extra(real, "precision_recall", "recall") - 0.5);
        Assert.True(Extra(collapsed, "density_coverage", "coverage") < Extra(real, "density_coverage", "coverage") - 0.5);
        Assert.Equal(1, Extra(collapsed, "class_histogram", "classes_covered"));
        Assert.Equal(10, Extra(real, "class_histogram", "classes_covered"));
        Assert.True(collapsed.Scores.Single(s => s.Name == "fid").Value > 10 * real.Scores.Single(s => s.Name == "fid").Value);
    }

    [Fact]
    public void Evaluate_RealImagesWithTheirLabelsOrShuffledOnes_ClassAccuracyAndCodeAgreementTellThemApart()
    {
        // Real test images "made for" their own labels read back as the evaluator's test accuracy (~0.9); the same
        // images said to be made for a shifted class read back near 0.
        var suite = SmallSuite(1000);
        var images = Rows(5000, 1000);
        int[] labels = [.. Enumerable.Range(5000, 1000).Select(i => Test.Label(i))];
        int[] shifted = [.. labels.Select(l => (l + 1) % 10)];
        var options = new EvaluationOptions { Metrics = ["fid"], Floor = false };
        double Score(EvaluationResult r, string name) => r.Scores.Single(s => s.Name == name).Value;
        var right = suite.Evaluate(images, options with { FakeClasses = labels, FakeCodes = shifted });
        var wrong = suite.Evaluate(images, options with { FakeClasses = shifted });
        output.WriteLine($"class accuracy: own labels {Score(right, "class_accuracy"):F3}, shifted {Score(wrong, "class_accuracy"):F3}; code NMI {Score(right, "code_agreement"):F3}");
        Assert.True(Score(right, "class_accuracy") > 0.8);
        Assert.True(Score(wrong, "class_accuracy") < 0.1);
        Assert.True(Score(right, "code_agreement") > 0.6);   // a relabelling keeps the information: NMI stays high
        Assert.DoesNotContain(wrong.Scores, s => s.Name == "code_agreement");
        var e = Assert.Throws<ArgumentException>(() => suite.Evaluate(images, options with { FakeClasses = labels[..10] }));
        Assert.Contains("FakeClasses has 10 entries for 1000 images", e.Message);
    }

    [Fact]
    public void Evaluate_WithTrainSplit_ReportsFloorBesideEveryFeatureScore()
    {
        // The embedded test split plays both roles here: its tail as the "train" split of the floor.
        var data = new RealData("fmnist", Test.Take(1500), new TensorDataset(Enumerable.Range(0, 2000).SelectMany(i => Test.ImageBytes(8000 + i).ToArray()).ToArray(),
            Enumerable.Range(0, 2000).Select(i => Test.Label(8000 + i)).ToArray(), 1, 28, 28, FashionMnist.ClassNames, "test tail"));
        var suite = new EvaluationSuite(fixture.Extractor, data);
        var result = suite.Evaluate(Tensor.Uniform([300, 1, 28, 28], -1f, 1f, new Generator(2)),
            new EvaluationOptions { Metrics = ["fid", "kid", "precision_recall", "density_coverage", "class_histogram", "memorisation"], Seed = 1, MemorisationTrain = 500 });
        var rows = result.Rows().ToDictionary(r => r.Key);
        foreach (var key in new[] { "fid", "kid", "precision", "recall", "density", "coverage", "classes_covered", "class_kl", "nn_train_distance" })
            Assert.True(rows[key].Floor.HasValue, $"{key} has no floor");
        Assert.True(rows["fid"].Value > 10 * rows["fid"].Floor!.Value);
        Assert.Equal(300, result.Protocol.NFake);
        using var json = JsonDocument.Parse(result.ToJson());
        Assert.Equal("fashion-mnist-cnn", json.RootElement.GetProperty("protocol").GetProperty("evaluator").GetString());
        Assert.Equal(6, json.RootElement.GetProperty("scores").GetArrayLength());
        Assert.Equal(5, json.RootElement.GetProperty("floor").GetArrayLength());
        Assert.True(json.RootElement.GetProperty("summary").GetProperty("fid").GetProperty("floor").GetDouble() >= 0);
    }

    /// <summary>Same shape, and every pixel within 1e-5 (the files are 8-bit; these images are 8-bit Fashion-MNIST, so only rounding differs).</summary>
    static void AssertSameImages(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Numel; i++) Assert.Equal(expected.Data[i], actual.Data[i], 1e-5);
    }

    [Fact]
    public void ImagesOption_IdxFileRoundTrip_GivesTheSameImagesAndScores()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gf-eval-{Guid.NewGuid():N}.idx");
        try
        {
            var images = Rows(3000, 300);
            Idx.WriteImages(path, images);
            var loaded = ImageSets.Load(path);
            AssertSameImages(images, loaded);
            var suite = SmallSuite(1000);
            var options = new EvaluationOptions { Metrics = ["fid", "class_histogram"], Floor = false };
            double direct = suite.Evaluate(images, options).Scores.Single(s => s.Name == "fid").Value;
            double viaFile = suite.Evaluate(loaded, options).Scores.Single(s => s.Name == "fid").Value;
            Assert.Equal(direct, viaFile, 1e-6);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ImagesOption_PngFolderAsSampleWritesIt_LoadsTheSameImages()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gf-png-{Guid.NewGuid():N}");
        try
        {
            var images = Rows(100, 12);
            Outputs.WriteImages(images, folder);
            var loaded = ImageSets.Load(folder);
            AssertSameImages(images, loaded);
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void ImagesOption_MissingPath_ThrowsNamingIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ImageSets.Load("/nonexistent/samples.idx"));
        Assert.Contains("/nonexistent/samples.idx", e.Message);
    }

    [Fact]
    public void RealReference_SecondLoad_ComesFromTheCacheWithTheSameFeatures()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gf-cache-{Guid.NewGuid():N}");
        try
        {
            int loads = 0;
            (Tensor, int[]?) Load() { loads++; return (Rows(0, 200), Enumerable.Range(0, 200).Select(Test.Label).ToArray()); }
            var first = RealReference.LoadOrCompute(fixture.Extractor, Load, "head", 200, folder);
            var second = RealReference.LoadOrCompute(fixture.Extractor, Load, "head", 200, folder);
            Assert.Equal(1, loads);
            Assert.Equal(first.Features.Data, second.Features.Data);
            Assert.Equal(first.Labels, second.Labels);
            Assert.Equal(first.Statistics.Mean, second.Statistics.Mean);
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Training_WithEvaluationHook_LogsFidAndClassesAndWritesReport()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gf-run-{Guid.NewGuid():N}");
        try
        {
            var config = new TrainConfig
            {
                Model = "gan", Data = "embedded", Limit = 256, Epochs = 1, BatchSize = 64, Out = folder,
                EvalEvery = 2, EvalSamples = 200, LogEvery = 2,
            };
            var trainer = TrainingSetup.Create(config, resume: false);
            trainer.Evaluation = new TrainingEvaluation(SmallSuite(1000), config.EvalSamples, seed: 1);
            trainer.Run();
            var evalLines = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl"))
                .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("fid", out _)).ToList();
            Assert.Equal([2L, 4L], evalLines.Select(e => e.GetProperty("step").GetInt64()));
            Assert.All(evalLines, e =>
            {
                Assert.True(e.GetProperty("fid").GetDouble() > 0);
                Assert.InRange(e.GetProperty("classes_covered").GetDouble(), 0, 10);
                Assert.True(e.GetProperty("class_kl").GetDouble() >= 0);
            });
            var report = RunReport.Write(folder);
            var html = File.ReadAllText(report);
            Assert.Contains("FID", html);
            Assert.Contains("Class histogram KL", html);
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }
}
