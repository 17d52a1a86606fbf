using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

public class DatasetTests
{
    static void WritePng(string path, int w, int h, int c, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var px = new byte[w * h * c];
        Array.Fill(px, value);
        PngEncoder.Save(path, new ByteImage(w, h, c, px));
    }

    [Fact]
    public void ImageFolder_Subfolders_LabelsFromSortedNames()
    {
        using var dir = new TempDir();
        WritePng(dir.File("zebra/a.png"), 4, 3, 1, 10);
        WritePng(dir.File("apple/b.png"), 4, 3, 1, 20);
        WritePng(dir.File("apple/a.png"), 4, 3, 1, 30);
        WritePng(dir.File("mango/x.png"), 4, 3, 1, 40);
        File.WriteAllText(dir.File("mango/notes.txt"), "ignored");
        var d = new ImageFolderDataset(dir.Path);
        Assert.Equal(["apple", "mango", "zebra"], d.Classes);
        Assert.Equal(4, d.Count);
        Assert.Equal([0, 0, 1, 2], Enumerable.Range(0, 4).Select(i => d.Get(i).Label));
        Assert.Equal(30 / 255f, d.Get(0).Image.Data[0]); // apple/a.png sorts before apple/b.png
        Assert.Equal([1, 3, 4], d.Get(3).Image.Shape);
    }

    [Fact]
    public void ImageFolder_WrongSizeWithoutImageSize_NamesBothFilesAndTheOption()
    {
        using var dir = new TempDir();
        WritePng(dir.File("c/a.png"), 4, 4, 3, 1);
        WritePng(dir.File("c/b.png"), 5, 4, 3, 1);
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(dir.Path));
        Assert.Contains("b.png is 5x4 but", e.Message);
        Assert.Contains("a.png is 4x4; give an image size (train --image-size N)", e.Message);
    }

    [Fact]
    public void ImageFolder_GrayAndColourMixed_DefaultsToRgbWithGrayRepeated()
    {
        using var dir = new TempDir();
        WritePng(dir.File("a.png"), 4, 4, 1, 77);
        PngEncoder.Save(dir.File("b.png"), new ByteImage(1, 1, 4, [200, 100, 50, 255]));
        WritePng(dir.File("c.png"), 4, 4, 3, 9);   // R = G = B: gray too
        var d = new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 4 });
        Assert.Equal(3, d.Channels);
        Assert.All(d.Get(0).Image.ToArray(), v => Assert.Equal(77 / 255f, v, 1e-6));
    }

    [Fact]
    public void ImageFolder_ImageSizeAndChannels_CropsResizesAndConverts()
    {
        using var dir = new TempDir();
        WritePng(dir.File("a.png"), 4, 4, 1, 200);
        WritePng(dir.File("b.png"), 6, 2, 3, 100);
        var d = new ImageFolderDataset(dir.Path, new DataOptions { Channels = 3, ImageSize = 8 });
        Assert.Empty(d.Classes);
        Assert.Equal([3, 8, 8], d.Get(1).Image.Shape);
        Assert.All(d.Get(0).Image.ToArray(), v => Assert.Equal(200 / 255f, v, 1e-5));
        Assert.All(d.Get(1).Image.ToArray(), v => Assert.Equal(100 / 255f, v, 1e-5));
    }

    [Fact]
    public void Cifar10_Records_SplitIntoLabelAndPlanes()
    {
        using var dir = new TempDir();
        var rec = new byte[2 * 3073];
        rec[0] = 7; rec[1] = 11; rec[1 + 1024] = 22; rec[1 + 2048] = 33;
        rec[3073] = 2; rec[3073 + 3072] = 99;
        File.WriteAllBytes(dir.File("test_batch.bin"), rec);
        var d = Cifar10.Load(dir.Path, Split.Test);
        Assert.Equal(2, d.Count);
        var (img, label) = d.Get(0);
        Assert.Equal(7, label);
        Assert.Equal("horse", d.Classes[label]);
        Assert.Equal([3, 32, 32], img.Shape);
        Assert.Equal((11 / 255f, 22 / 255f, 33 / 255f), (img[0, 0, 0], img[1, 0, 0], img[2, 0, 0]));
        Assert.Equal(99 / 255f, d.Get(1).Image[2, 31, 31]);
    }

    [Fact]
    public void Cifar10_PartialRecord_Throws()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("test_batch.bin"), new byte[3073 + 100]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(dir.Path, Split.Test));
        Assert.StartsWith("test_batch.bin: 3173 bytes is not a whole number of CIFAR-10 records", e.Message);
    }

    [Fact]
    public void Cifar10_MissingTrainBatches_ListsThem()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("data_batch_1.bin"), new byte[3073]);
        var e = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(dir.Path));
        Assert.Contains("data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin", e.Message);
    }

    [Fact]
    public void TensorDataset_LabelOutsideClasses_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new TensorDataset(new byte[2], [0, 5], 1, 1, 1, ["a", "b"]));
        Assert.Contains("label 5 of sample 1", e.Message);
    }
    [Fact]
    public void Subset_OfImageFolder_ReadsTheSourceSamplesInIndexOrder()
    {
        using var dir = new TempDir();
        WritePng(dir.File("a/0.png"), 2, 2, 1, 10);
        WritePng(dir.File("b/0.png"), 2, 2, 1, 20);
        WritePng(dir.File("b/1.png"), 2, 2, 1, 30);
        var folder = new ImageFolderDataset(dir.Path);
        var s = new SubsetDataset(folder, [2, 0]);
        Assert.Equal(2, s.Count);
        Assert.Equal((30 / 255f, 1), (s.Get(0).Image.Data[0], s.Get(0).Label));
        Assert.Equal(0, s.Label(1));
        Assert.Equal(["a", "b"], s.Classes);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SubsetDataset(folder, [0, 3]));
        Assert.Contains("index 3 (position 1) is out of range for 3 samples", e.Message);
    }

    [Fact]
    public void TakeAndWhereLabel_OnAnyDataset_KeepLabelsAndOrder()
    {
        using var dir = new TempDir();
        WritePng(dir.File("a/0.png"), 2, 2, 1, 10);
        WritePng(dir.File("b/0.png"), 2, 2, 1, 20);
        WritePng(dir.File("c/0.png"), 2, 2, 1, 30);
        WritePng(dir.File("c/1.png"), 2, 2, 1, 40);
        IDataset folder = new ImageFolderDataset(dir.Path);
        Assert.Equal(2, folder.Take(2).Count);
        Assert.Same(folder, folder.Take(10));
        var notB = folder.WhereLabel(l => l != 1);
        Assert.Equal([0, 2, 2], Enumerable.Range(0, notB.Count).Select(notB.Label));
        Assert.Equal(40 / 255f, notB.Take(3).Get(2).Image.Data[0]);
    }

    [Fact]
    public void ToTensorDataset_FromSubsetsAndFolders_KeepsBytesLabelsAndClasses()
    {
        using var dir = new TempDir();
        WritePng(dir.File("a/0.png"), 3, 2, 3, 10);
        WritePng(dir.File("b/0.png"), 3, 2, 3, 201);
        var folder = new ImageFolderDataset(dir.Path, new DataOptions { Channels = 3 });  // R = G = B: gray unless asked for RGB
        var t = folder.ToTensorDataset("pngs");
        Assert.Equal((2, 3, 2, 3, "pngs"), (t.Count, t.Channels, t.Height, t.Width, t.Source));
        Assert.All(t.ImageBytes(1).ToArray(), b => Assert.Equal(201, b));
        Assert.Equal(["a", "b"], t.Classes);

        Assert.Same(t, t.ToTensorDataset());
        var picked = new SubsetDataset(t, [1]).ToTensorDataset();
        Assert.Equal((1, 1, "pngs"), (picked.Count, picked.Label(0), picked.Source));
        Assert.All(picked.ImageBytes(0).ToArray(), b => Assert.Equal(201, b));
    }
}
