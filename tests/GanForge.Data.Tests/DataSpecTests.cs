using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>
/// Every spec form of <see cref="DataSpec.Resolve(string, string, int)"/> on small files written here, plus the embedded
/// split and Debian's dataset-fashion-mnist files (installed by .ci/run, as FashionMnistTests needs them too).
/// </summary>
public class DataSpecTests
{
    static int[] Labels(IDataset d) => Enumerable.Range(0, d.Count).Select(d.Label).ToArray();

    static void WritePng(string path, int w, int h, int c, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var px = new byte[w * h * c];
        Array.Fill(px, value);
        PngEncoder.Save(path, new ByteImage(w, h, c, px));
    }

    /// <summary>A folder with classes "a" (values 10, 11, 12), "b" (20, 21) and "c" (30) of 4x4 gray PNGs.</summary>
    static void WritePngClasses(string root)
    {
        foreach (var (cls, values) in new[] { ("a", new byte[] { 10, 11, 12 }), ("b", new byte[] { 20, 21 }), ("c", new byte[] { 30 }) })
            for (int i = 0; i < values.Length; i++) WritePng(Path.Combine(root, cls, $"{i}.png"), 4, 4, 1, values[i]);
    }

    /// <summary>IDX images (N,3,2) whose pixels all equal their index, and labels index % 4.</summary>
    static void WriteIdxPair(string folder, string prefix, int n, bool gzip)
    {
        var pixels = Enumerable.Range(0, n).SelectMany(i => Enumerable.Repeat((byte)i, 6)).ToArray();
        string ext = gzip ? ".gz" : "";
        Idx.WriteImages(Path.Combine(folder, $"{prefix}-images-idx3-ubyte{ext}"), pixels, n, 3, 2, gzip);
        Idx.WriteLabels(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte{ext}"), Enumerable.Range(0, n).Select(i => (byte)(i % 4)).ToArray(), gzip);
    }

    /// <summary>A CIFAR-10 batch of <paramref name="labels"/>.Length records whose red plane starts with the record's index.</summary>
    static void WriteCifarBatch(string path, params byte[] labels)
    {
        var bytes = new byte[labels.Length * 3073];
        for (int i = 0; i < labels.Length; i++) { bytes[i * 3073] = labels[i]; bytes[i * 3073 + 1] = (byte)i; }
        File.WriteAllBytes(path, bytes);
    }

    // --- embedded and fashion-mnist ---

    [Fact]
    public void Resolve_Embedded_IsTheTestSplitWhicheverIsAsked()
    {
        var r = DataSpec.Resolve("embedded");
        Assert.Equal(10000, r.Dataset.Count);
        Assert.Equal("test", r.Split);
        Assert.Equal(10, r.NumClasses);
        Assert.Equal("embedded", r.Spec);
        Assert.Contains("test split (its only split; train was asked for)", r.Description);
        Assert.Contains("10000 images of 1x28x28", r.Description);
        Assert.Equal([1, 28, 28], r.Dataset.Get(0).Image.Shape);
        Assert.Equal([9, 2, 1, 1, 6, 1, 4, 6, 5, 7], Labels(r.Dataset)[..10]);
        Assert.Equal(FashionMnist.ClassNames, r.Dataset.Classes);
        Assert.DoesNotContain("asked", DataSpec.Resolve("Embedded", "test").Description);
    }

    [Fact]
    public void Resolve_EmbeddedClassFilter_KeepsThoseClassesWithTheirLabels()
    {
        var one = DataSpec.Resolve("embedded:class=7");
        Assert.Equal(1000, one.Dataset.Count);
        Assert.All(Labels(one.Dataset), l => Assert.Equal(7, l));
        Assert.Equal(10, one.NumClasses);
        Assert.Equal("Sneaker", one.Dataset.Classes[one.Dataset.Get(0).Label]);
        Assert.Contains("class 7 (Sneaker): 1000 images", one.Description);

        var two = DataSpec.Resolve("embedded:class=0,6");
        Assert.Equal(2000, two.Dataset.Count);
        Assert.Equal(1000, Labels(two.Dataset).Count(l => l == 0));
        Assert.Equal(1000, Labels(two.Dataset).Count(l => l == 6));
        Assert.Contains("classes 0 (T-shirt/top), 6 (Shirt)", two.Description);

        var byName = DataSpec.Resolve("embedded:class=ankle boot");
        Assert.Equal(1000, byName.Dataset.Count);
        Assert.All(Labels(byName.Dataset), l => Assert.Equal(9, l));
    }

    [Fact]
    public void Resolve_ClassFilterThenLimit_KeepsTheFirstImagesOfThatClass()
    {
        var all7 = DataSpec.Resolve("embedded:class=7");
        var r = DataSpec.Resolve("embedded:class=7", limit: 50);
        Assert.Equal(50, r.Dataset.Count);
        Assert.All(Labels(r.Dataset), l => Assert.Equal(7, l));
        Assert.Equal(all7.Dataset.Get(49).Image.ToArray(), r.Dataset.Get(49).Image.ToArray());
        Assert.Contains("class 7 (Sneaker), first 50 of 1000: 50 images", r.Description);
    }

    [Fact]
    public void Resolve_FashionMnist_IsDebiansFilesByAskedSplit()
    {
        var train = DataSpec.Resolve("fashion-mnist");
        Assert.Equal((60000, "train", 10), (train.Dataset.Count, train.Split, train.NumClasses));
        Assert.Contains(FashionMnist.SystemFolder, train.Description);
        Assert.Equal([9, 0, 0, 3, 0, 2, 7, 2, 5, 5], Labels(train.Dataset)[..10]);

        var test = DataSpec.Resolve("fashion-mnist", "TEST");
        Assert.Equal((10000, "test"), (test.Dataset.Count, test.Split));

        var sneakers = DataSpec.Resolve("fashion-mnist:class=7");
        Assert.Equal(6000, sneakers.Dataset.Count);
        Assert.All(Labels(sneakers.Dataset), l => Assert.Equal(7, l));
    }

    [Fact]
    public void Resolve_FashionMnistNotInstalled_TrainSaysHowToInstall_TestUsesTheEmbeddedCopy()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => DataSpec.Resolve("fashion-mnist:class=3", "train", 0, dir.Path));
        Assert.Contains("Data 'fashion-mnist:class=3'", e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("'embedded'", e.Message);

        var test = DataSpec.Resolve("fashion-mnist", "test", 0, dir.Path);
        Assert.Equal((10000, "test"), (test.Dataset.Count, test.Split));
        Assert.Contains("embedded copy", test.Description);
    }

    // --- paths ---

    [Fact]
    public void Resolve_IdxFolder_LoadsTheAskedSplitGzOrRaw()
    {
        using var dir = new TempDir();
        WriteIdxPair(dir.Path, "train", 12, gzip: true);
        WriteIdxPair(dir.Path, "t10k", 5, gzip: false);
        var train = DataSpec.Resolve(dir.Path);
        Assert.Equal((12, "train", 10), (train.Dataset.Count, train.Split, train.NumClasses));
        Assert.Equal([1, 3, 2], train.Dataset.Get(0).Image.Shape);
        Assert.Equal(11 / 255f, train.Dataset.Get(11).Image.Data[5]);
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], Labels(train.Dataset));

        var test = DataSpec.Resolve(dir.Path, "test");
        Assert.Equal((5, "test"), (test.Dataset.Count, test.Split));

        var threes = DataSpec.Resolve(dir.Path + ":class=3");
        Assert.Equal([3, 3, 3], Labels(threes.Dataset));
        Assert.Equal(7 / 255f, threes.Dataset.Get(1).Image.Data[0]);
    }

    [Fact]
    public void Resolve_IdxFolderWithoutTheAskedSplit_ListsWhatItHolds()
    {
        using var dir = new TempDir();
        WriteIdxPair(dir.Path, "t10k", 5, gzip: true);
        var e = Assert.Throws<FileNotFoundException>(() => DataSpec.Resolve(dir.Path));
        Assert.Contains($"Data '{dir.Path}'", e.Message);
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz", e.Message);
    }

    [Fact]
    public void Resolve_IdxImagesFile_AloneIsUnlabelled_WithItsLabelsFileIsLabelled()
    {
        using var dir = new TempDir();
        var pixels = Enumerable.Range(0, 7 * 4 * 5).Select(i => (byte)i).ToArray();
        var alone = dir.File("samples.idx");
        Idx.WriteImages(alone, pixels, 7, 4, 5);
        var r = DataSpec.Resolve(alone, "test");
        Assert.Equal((7, DataSpec.AllSplit, 0), (r.Dataset.Count, r.Split, r.NumClasses));
        Assert.Equal([1, 4, 5], r.Dataset.Get(6).Image.Shape);
        Assert.Contains("unlabelled", r.Description);
        var e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve(alone + ":class=0"));
        Assert.Contains("unlabelled", e.Message);

        WriteIdxPair(dir.Path, "t10k", 6, gzip: true);
        var labelled = DataSpec.Resolve(dir.File("t10k-images-idx3-ubyte.gz"));
        Assert.Equal((6, 4), (labelled.Dataset.Count, labelled.NumClasses));
        Assert.Equal([0, 1, 2, 3, 0, 1], Labels(labelled.Dataset));
        var ones = DataSpec.Resolve(dir.File("t10k-images-idx3-ubyte.gz") + ":class=1").Dataset;
        Assert.Equal([1, 1], Labels(ones));
        Assert.Equal(5 / 255f, ones.Get(1).Image.Data[0]); // images 1 and 5 carry label 1
        Assert.Empty(ones.Classes);
    }

    [Fact]
    public void Resolve_Cifar10Folder_LoadsTheAskedSplitWithNames()
    {
        using var dir = new TempDir();
        var sub = Path.Combine(dir.Path, "cifar-10-batches-bin");
        Directory.CreateDirectory(sub);
        for (int b = 1; b <= 5; b++) WriteCifarBatch(Path.Combine(sub, $"data_batch_{b}.bin"), 7, (byte)b);
        WriteCifarBatch(Path.Combine(sub, "test_batch.bin"), 3, 3, 5);
        var train = DataSpec.Resolve(dir.Path);
        Assert.Equal((10, "train", 10), (train.Dataset.Count, train.Split, train.NumClasses));
        Assert.Equal([7, 1, 7, 2, 7, 3, 7, 4, 7, 5], Labels(train.Dataset));
        Assert.Equal([3, 32, 32], train.Dataset.Get(0).Image.Shape);
        Assert.Contains("10 images of 3x32x32", train.Description);

        var cats = DataSpec.Resolve(dir.Path + ":class=cat", "test");
        Assert.Equal(("test", 2), (cats.Split, cats.Dataset.Count));
        Assert.Equal("cat", cats.Dataset.Classes[cats.Dataset.Label(1)]);
        Assert.Equal(1 / 255f, cats.Dataset.Get(1).Image.Data[0]);
    }

    [Fact]
    public void Resolve_PngFolder_ClassesFromSubfolders_AnySplit()
    {
        using var dir = new TempDir();
        WritePngClasses(dir.Path);
        var r = DataSpec.Resolve(dir.Path, "test");
        Assert.Equal((6, DataSpec.AllSplit, 3), (r.Dataset.Count, r.Split, r.NumClasses));
        Assert.Equal(["a", "b", "c"], r.Dataset.Classes);
        Assert.Equal([0, 0, 0, 1, 1, 2], Labels(r.Dataset));
        Assert.Equal([1, 4, 4], r.Dataset.Get(0).Image.Shape);

        var b = DataSpec.Resolve(dir.Path + ":class=b");
        Assert.Equal([1, 1], Labels(b.Dataset));
        Assert.Equal(21 / 255f, b.Dataset.Get(1).Image.Data[0]);
        Assert.Contains("class 1 (b): 2 images", b.Description);
    }

    [Fact]
    public void Resolve_PngFolderWithLimit_KeepsTheFirstImages()
    {
        using var dir = new TempDir();
        WritePngClasses(dir.Path);
        var r = DataSpec.Resolve(dir.Path, limit: 4);
        Assert.Equal(4, r.Dataset.Count);
        Assert.Equal([0, 0, 0, 1], Labels(r.Dataset));
        Assert.Equal(20 / 255f, r.Dataset.Get(3).Image.Data[0]);
        Assert.Contains("first 4 of 6", r.Description);
        Assert.Equal(6, DataSpec.Resolve(dir.Path, limit: 100).Dataset.Count);

        var filtered = DataSpec.Resolve(dir.Path + ":class=0,2", limit: 3);
        Assert.Equal([0, 0, 0], Labels(filtered.Dataset));
    }

    [Fact]
    public void Resolve_PngFolderWithoutSubfolders_IsUnlabelled()
    {
        using var dir = new TempDir();
        WritePng(dir.File("x.png"), 3, 2, 3, 5);
        PngEncoder.Save(dir.File("y.PNG"), new ByteImage(3, 2, 3, [.. Enumerable.Range(0, 18).Select(i => (byte)(i * 10))]));
        var r = DataSpec.Resolve(dir.Path);
        Assert.Equal((2, 0), (r.Dataset.Count, r.NumClasses));
        Assert.Equal([3, 2, 3], r.Dataset.Get(1).Image.Shape);
        Assert.StartsWith($"image folder {dir.Path}: 2 images of 3x2x3, unlabelled", r.Description);
    }

    // --- options: channels, image size, unreadable files ---

    [Fact]
    public void Resolve_CifarWithOneChannelAndSize16_ConvertsEveryImage()
    {
        using var dir = new TempDir();
        WriteCifarBatch(dir.File("test_batch.bin"), 3, 5);
        var rgb = DataSpec.Resolve(dir.Path, "test");
        var r = DataSpec.Resolve(dir.Path, "test", 0, new DataOptions { Channels = 1, ImageSize = 16 });
        Assert.Equal([1, 16, 16], r.Dataset.Get(1).Image.Shape);
        Assert.Equal([3, 5], Labels(r.Dataset));
        Assert.Equal(Cifar10.ClassNames, r.Dataset.Classes);
        Assert.Contains("RGB to gray, resized to 16x16: 2 images of 1x16x16, 10 classes", r.Description);
        Assert.Equal([3, 32, 32], rgb.Dataset.Get(0).Image.Shape);
    }

    [Fact]
    public void Resolve_EmbeddedAsRgb32_RepeatsGrayAndResizes()
    {
        var r = DataSpec.Resolve("embedded:class=7", "test", 5, new DataOptions { Channels = 3, ImageSize = 32 });
        Assert.Equal(5, r.Dataset.Count);
        var image = r.Dataset.Get(0).Image;
        Assert.Equal([3, 32, 32], image.Shape);
        Assert.Equal(image.Data.Slice(0, 1024).ToArray(), image.Data.Slice(2048, 1024).ToArray());
        Assert.Contains("class 7 (Sneaker), first 5 of 1000, gray to RGB, resized to 32x32", r.Description);
    }

    [Fact]
    public void Resolve_FolderWithSkipBad_SaysHowManyWereSkipped()
    {
        using var dir = new TempDir();
        WritePngClasses(dir.Path);
        File.WriteAllText(Path.Combine(dir.Path, "a", "broken.png"), "not a png");
        var e = Assert.Throws<InvalidDataException>(() => DataSpec.Resolve(dir.Path));
        Assert.StartsWith($"Data '{dir.Path}': {Path.Combine(dir.Path, "a", "broken.png")}: not a JPEG, PNG, BMP or GIF image", e.Message);

        var r = DataSpec.Resolve(dir.Path, "train", 0, new DataOptions { SkipBad = true });
        Assert.Equal(6, r.Dataset.Count);
        Assert.Single(r.Skipped);
        Assert.Contains("1 unreadable file skipped (first: ", r.Description);
    }

    [Fact]
    public void Resolve_BadOptions_NameTheSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded", "test", 0, new DataOptions { Channels = 2 }));
        Assert.Equal("Data: channels must be 1 (gray) or 3 (RGB), got 2", e.Message);
    }

    [Fact]
    public void Resolve_PathHoldingAColon_FindsThePathBeforeTheFilter()
    {
        using var dir = new TempDir();
        var root = dir.File("run:3");
        WritePngClasses(root);
        Assert.Equal(6, DataSpec.Resolve(root).Dataset.Count);
        Assert.Equal([2], Labels(DataSpec.Resolve(root + ":class=2").Dataset));
    }

    // --- errors ---

    [Fact]
    public void Resolve_UnknownName_NamesTheSpecAndTheKnownForms()
    {
        var e = Assert.Throws<FileNotFoundException>(() => DataSpec.Resolve("fashion-mnsit:class=7"));
        Assert.Contains("Data 'fashion-mnsit:class=7'", e.Message);
        Assert.Contains("embedded", e.Message);
        Assert.Contains("fashion-mnist, or an existing file or folder", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Resolve_UnknownFilterKey_ListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded:label=7"));
        Assert.Contains("Data 'embedded:label=7': unknown filter 'label=7'; known: class=...", e.Message);
        e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded:7"));
        Assert.Contains("unknown filter '7'", e.Message);
    }

    [Fact]
    public void Resolve_UnknownClass_ListsTheClasses()
    {
        var e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded:class=10"));
        Assert.Contains("class '10' is not one of 0=T-shirt/top, 1=Trouser", e.Message);
        Assert.Contains("9=Ankle boot", e.Message);
        e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded:class=jacket"));
        Assert.Contains("class 'jacket'", e.Message);
    }

    [Fact]
    public void Resolve_BadSplitOrLimit_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded", "validation"));
        Assert.Contains("unknown split 'validation'; known: train, test", e.Message);
        e = Assert.Throws<ArgumentException>(() => DataSpec.Resolve("embedded", limit: -1));
        Assert.Contains("limit -1", e.Message);
    }

    [Fact]
    public void Resolve_FolderWithNoData_SaysWhatWasLookedFor()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notes.txt"), "");
        var e = Assert.Throws<FileNotFoundException>(() => DataSpec.Resolve(dir.Path));
        Assert.Contains($"Data '{dir.Path}'", e.Message);
        Assert.Contains("no IDX images", e.Message);
        Assert.Contains("no images (.png, .jpg, .jpeg, .bmp, .gif)", e.Message);
    }

    [Fact]
    public void Resolve_CorruptIdxFile_NamesTheSpecAndTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("bad-images-idx3-ubyte"), [1, 2, 3, 4, 5]);
        var e = Assert.Throws<InvalidDataException>(() => DataSpec.Resolve(dir.File("bad-images-idx3-ubyte")));
        Assert.StartsWith($"Data '{dir.File("bad-images-idx3-ubyte")}': bad-images-idx3-ubyte: bad IDX magic", e.Message);
    }
}
