using GanForge.Data;
using GanForge.Gan;
using GanForge.Metrics.Evaluation;

namespace GanForge.Metrics.Tests;

/// <summary>eval's real data comes from DataSpec, so it takes every spec train takes.</summary>
public class RealDataTests(BuiltinEvaluatorFixture fixture) : IClassFixture<BuiltinEvaluatorFixture>
{
    static string TempFolder(string tag) => Path.Combine(Path.GetTempPath(), $"gf-{tag}-{Guid.NewGuid():N}");

    static int[] Labels(TensorDataset d) => Enumerable.Range(0, d.Count).Select(d.Label).ToArray();

    [Fact]
    public void Real_FashionMnist_TestSplitIsTheReference_TrainSplitTheFloor()
    {
        var data = ImageSets.Real("fashion-mnist");
        Assert.Equal(("fashion-mnist", "test"), (data.Name, data.ReferenceSplit));
        Assert.Equal(10000, data.Reference.Count);
        Assert.Equal(60000, data.Train!.Count);
        Assert.Equal(FashionMnist.SystemFolder, data.Reference.Source); // the cache key of earlier versions still holds
    }

    [Fact]
    public void Real_Embedded_IsTheShippedTestSplitWithoutTrainSplit()
    {
        var data = ImageSets.Real("embedded");
        Assert.Equal((10000, "test"), (data.Reference.Count, data.ReferenceSplit));
        Assert.Null(data.Train);
        Assert.True(fixture.Test.ImageBytes(9999).SequenceEqual(data.Reference.ImageBytes(9999)));
    }

    [Fact]
    public void Real_ClassFilter_FiltersReferenceAndTrainAlike()
    {
        var data = ImageSets.Real("fashion-mnist:class=7");
        Assert.Equal(1000, data.Reference.Count);
        Assert.Equal(6000, data.Train!.Count);
        Assert.All(Labels(data.Reference), l => Assert.Equal(7, l));
        Assert.All(Labels(data.Train), l => Assert.Equal(7, l));
        Assert.Equal("Sneaker", data.Reference.Classes[7]);
    }

    [Fact]
    public void Real_PngFolder_IsAllOfItAndScoresWithoutFloor()
    {
        var folder = TempFolder("real-png");
        try
        {
            var images = EvaluationSuite.Images(fixture.Test, Enumerable.Range(0, 300).ToArray());
            Outputs.WriteImages(images, folder);
            var data = ImageSets.Real(folder);
            Assert.Equal((300, DataSpec.AllSplit), (data.Reference.Count, data.ReferenceSplit));
            Assert.Null(data.Train);
            Assert.True(fixture.Test.ImageBytes(299).SequenceEqual(data.Reference.ImageBytes(299)));

            var result = new EvaluationSuite(fixture.Extractor, data).Evaluate(EvaluationSuite.Images(fixture.Test, Enumerable.Range(5000, 200).ToArray()),
                new EvaluationOptions { Metrics = ["fid"], Seed = 1 });
            Assert.Equal($"{folder} all", result.Protocol.RealSplit);
            Assert.Equal(300, result.Protocol.NReal);
            Assert.Null(result.Floor);
            Assert.Contains("no train split", result.FloorDescription);
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Real_Cifar10FolderWithTestBatchOnly_HasNoTrainSplit()
    {
        var folder = TempFolder("real-cifar");
        try
        {
            Directory.CreateDirectory(folder);
            var records = new byte[3 * 3073];
            records[0] = 1; records[3073] = 3; records[2 * 3073] = 3;
            File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), records);
            var data = ImageSets.Real(folder + ":class=3");
            Assert.Equal((2, 3, 32, 32), (data.Reference.Count, data.Reference.Channels, data.Reference.Height, data.Reference.Width));
            Assert.Equal([3, 3], Labels(data.Reference));
            Assert.Null(data.Train);
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Real_UnknownSpec_IsTheResolversError()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ImageSets.Real("/nonexistent/data"));
        Assert.Contains("Data '/nonexistent/data'", e.Message);
        Assert.Contains("embedded", e.Message);
    }
}
