using GanForge.Data;
using GanForge.Gan.Training;
using GanForge.Serialization;
using Xunit.Abstractions;

namespace GanForge.Gan.Tests;

/// <summary>DAGAN (Antoniou et al. 2017): a generator from an image to another of its class, trained on same-class pairs.</summary>
public class DaGanTests(ITestOutputHelper output)
{
    static TrainConfig Config(string dir, int limit, int steps, params string[] settings)
    {
        var c = new TrainConfig { Model = "dagan", Data = "embedded", Limit = limit, BatchSize = 16, Epochs = 100, MaxSteps = steps, Out = dir, LogEvery = 10, Seed = 2 };
        foreach (var s in settings) c.Set(s);
        return c;
    }

    /// <summary>
    /// The share of <paramref name="images"/> whose nearest class mean (in pixels, over <paramref name="reference"/>) is
    /// the class of their label.
    /// </summary>
    static double NearestMeanMatch(Tensor images, int[] labels, Tensor reference, int[] referenceLabels)
    {
        int d = images.Numel / images.Size(0);
        var means = new double[10, d];
        var counts = new int[10];
        for (int i = 0; i < referenceLabels.Length; i++)
        {
            counts[referenceLabels[i]]++;
            for (int j = 0; j < d; j++) means[referenceLabels[i], j] += reference.Data[i * d + j];
        }
        int match = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int best = -1;
            double bestDistance = double.MaxValue;
            for (int c = 0; c < 10; c++)
            {
                if (counts[c] == 0) continue;
                double distance = 0;
                for (int j = 0; j < d; j++) distance += Math.Pow(images.Data[i * d + j] - means[c, j] / counts[c], 2);
                if (distance < bestDistance) (best, bestDistance) = (c, distance);
            }
            if (best == labels[i]) match++;
        }
        return (double)match / labels.Length;
    }

    [Fact]
    public void Train_SameClassPairs_MakesImagesOfTheInputsClassWithoutCopyingThem()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var before = TestRuns.NewDir();
            TrainingSetup.Create(Config(before, 320, 1, "ngf=16", "ndf=16"), resume: false).Run();
            // G at 2e-4: at 1e-3 the class match after 300 steps swung with the arithmetic path (59% with AVX-512 on two
            // threads, 19-25% on AVX2's or im2col's, 20% at 600 steps on AVX-512); at 2e-4 it read 39-44% on all four.
            TrainingSetup.Create(Config(dir, 320, 300, "ngf=16", "ndf=16", "g.lr=2e-4"), resume: false).Run();
            var all = DataSpec.Resolve("embedded", "test", 384, new DataOptions());
            var (reference, referenceLabels) = (Stack(all.Dataset, 0, 320), Labels(all.Dataset, 0, 320));
            var (x, y) = (Stack(all.Dataset, 320, 64), Labels(all.Dataset, 320, 64));
            double Match(string run, out double apart)
            {
                var made = Translator.Load(run).Translate(x);
                apart = (made - x).Abs().Mean().Item();
                return NearestMeanMatch(made, y, reference, referenceLabels);
            }
            double untrained = Match(before, out _), trained = Match(dir, out double apart);
            double inputs = NearestMeanMatch(x, y, reference, referenceLabels);
            output.WriteLine($"nearest class mean is the input's class: untrained G {untrained:P1}, trained {trained:P1} (the inputs themselves {inputs:P1}); mean |G(x) - x| {apart:F3}");
            Assert.True(trained > untrained + 0.2, $"class match {untrained:P1} -> {trained:P1}");
            Assert.True(apart > 0.1, $"G(x) is within {apart:F3} of x: it copies its input");
            Directory.Delete(before, true);
        }
        finally { Directory.Delete(dir, true); }
    }

    static Tensor Stack(IDataset d, int from, int count) =>
        Tensor.Cat(Enumerable.Range(from, count).Select(i => d.Get(i).Image.Unsqueeze(0)).ToArray(), 0) * 2f - 1f;

    static int[] Labels(IDataset d, int from, int count) => Enumerable.Range(from, count).Select(d.Label).ToArray();

    [Fact]
    public void Resume_DaGan_GivesTheSameWeightsAsAnUninterruptedRun()
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainConfig C(string dir, int steps) { var c = Config(dir, 48, steps, "ngf=8", "ndf=8"); c.BatchSize = 8; c.Epochs = 4; return c; }
        try
        {
            TrainingSetup.Create(C(straight, 0), resume: false).Run();
            TrainingSetup.Create(C(split, 12), resume: false).Run();
            TrainingSetup.Create(C(split, 0), resume: true).Run();
            TestRuns.AssertSameCheckpoint(straight, split);
            Assert.Equal("same-class:0", Checkpoint.Read(split).State.Config.Pairs);
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }

    [Theory]
    [InlineData("edges", "dagan: trains on pairs of one class (--pairs same-class[:SEED]), not 'edges'")]
    public void Resolve_OtherPairs_AreRefused(string pairs, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainConfig { Model = "dagan", Pairs = pairs }.Resolve());
        Assert.Equal(message, e.Message);
    }
}
