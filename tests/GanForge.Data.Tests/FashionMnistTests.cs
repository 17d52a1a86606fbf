using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>Checks against Debian's dataset-fashion-mnist files; reference numbers computed once with Python's gzip+struct.</summary>
public class FashionMnistTests
{
    static int PixelSum(TensorDataset d, int i)
    {
        int s = 0;
        foreach (byte b in d.ImageBytes(i)) s += b;
        return s;
    }

    [Fact]
    public void Load_SystemTrain_MatchesPythonReference()
    {
        var d = FashionMnist.Load(Split.Train);
        Assert.Equal(60000, d.Count);
        Assert.Equal((1, 28, 28), (d.Channels, d.Height, d.Width));
        Assert.Equal([9, 0, 0, 3, 0, 2, 7, 2, 5, 5], Enumerable.Range(0, 10).Select(d.Label));
        Assert.Equal(76247, PixelSum(d, 0));
        Assert.Equal(16684, PixelSum(d, 59999));
        Assert.Equal(FashionMnist.SystemFolder, d.Source);
    }

    [Fact]
    public void Load_SystemTest_MatchesPythonReference()
    {
        var d = FashionMnist.Load(Split.Test);
        Assert.Equal(10000, d.Count);
        Assert.Equal([9, 2, 1, 1, 6, 1, 4, 6, 5, 7], Enumerable.Range(0, 10).Select(d.Label));
        Assert.Equal(33456, PixelSum(d, 0));
        Assert.Equal(24390, PixelSum(d, 9999));
        var (image, label) = d.Get(0);
        Assert.Equal(9, label);
        Assert.Equal([1, 28, 28], image.Shape);
        Assert.Equal(33456 / 255.0, image.Data.ToArray().Sum(v => (double)v), 1e-3);
    }

    [Fact]
    public void LoadEmbedded_EqualsDebianTestSplit()
    {
        var embedded = FashionMnist.LoadEmbedded();
        var system = FashionMnist.Load(Split.Test, FashionMnist.SystemFolder);
        Assert.Equal(system.Count, embedded.Count);
        for (int i = 0; i < system.Count; i++)
        {
            Assert.Equal(system.Label(i), embedded.Label(i));
            Assert.True(system.ImageBytes(i).SequenceEqual(embedded.ImageBytes(i)), $"image {i} differs");
        }
        Assert.Equal("Ankle boot", embedded.Classes[embedded.Label(0)]);
    }

    [Fact]
    public void Load_ExplicitFolderWithoutFiles_ThrowsNoFallback()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(Split.Test, dir.Path));
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void Load_ExplicitFolderMismatchedCounts_NamesBothFiles()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir.File("t10k-images-idx3-ubyte"), new byte[3 * 4], 3, 2, 2);
        Idx.WriteLabels(dir.File("t10k-labels-idx1-ubyte.gz"), [1, 2], gzip: true);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(Split.Test, dir.Path));
        Assert.Equal("t10k-images-idx3-ubyte holds 3 images but t10k-labels-idx1-ubyte.gz holds 2 labels", e.Message);
    }

    [Fact]
    public void Load_ExplicitFolderBadLabel_Throws()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir.File("train-images-idx3-ubyte"), new byte[2 * 4], 2, 2, 2);
        Idx.WriteLabels(dir.File("train-labels-idx1-ubyte"), [1, 12]);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(Split.Train, dir.Path));
        Assert.Contains("label 12 at index 1", e.Message);
    }
}
