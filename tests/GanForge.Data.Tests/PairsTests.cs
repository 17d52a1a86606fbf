using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>
/// Paired and unpaired data as the one resolver gives them (<see cref="DataSpec.ResolvePairs(string, string, string, int, DataOptions)"/>,
/// <see cref="DataSpec.ResolveDomains(string, string, string, int, DataOptions)"/>): pairs derived from any data spec,
/// a user's folder of pairs in either layout, and two domains.
/// </summary>
public class PairsTests
{
    static readonly DataOptions Plain = DataOptions.Default;

    /// <summary>A w x h PNG of <paramref name="c"/> channels, every byte <paramref name="value"/>.</summary>
    static void WritePng(string path, int w, int h, int c, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var px = new byte[w * h * c];
        Array.Fill(px, value);
        PngEncoder.Save(path, new ByteImage(w, h, c, px));
    }

    /// <summary>A side-by-side A|B RGB PNG, w x h in all: the left half all <paramref name="left"/>, the right half all <paramref name="right"/>.</summary>
    static void WriteSideBySide(string path, int w, int h, byte left, byte right)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = x < w / 2 ? left : (byte)(right + c);
        PngEncoder.Save(path, new ByteImage(w, h, 3, px));
    }

    // --- derived pairs ---

    [Fact]
    public void ResolvePairs_EmbeddedEdges_BIsTheImageAIsItsEdgeMapAndLabelIsItsClass()
    {
        var images = DataSpec.Resolve("embedded", "test", 5).Dataset;
        var r = DataSpec.ResolvePairs("embedded", "edges", "test", 5, Plain);
        Assert.Equal((5, "edges:1.5", "test", 10), (r.Pairs.Count, r.Kind, r.Split, r.NumClasses));
        Assert.Equal(FashionMnist.ClassNames, r.Pairs.Classes);
        Assert.Contains("first 5 of 10000: 5 images of 1x28x28, 10 classes; A = edges: Sobel gradient magnitude of the luma (border replicated) > 1.5 gives 1, else 0, A 1x28x28", r.Description);
        for (int i = 0; i < 5; i++)
        {
            var (a, b, label) = r.Pairs.Get(i);
            var (image, want) = images.Get(i);
            Fixtures.AssertClose(image, b, 0, 1e-7, $"B of pair {i}");
            Fixtures.AssertClose(new SobelEdgesOperator().Apply(image), a, 0, 1e-7, $"A of pair {i}");
            Assert.Equal(want, label);
            Assert.All(a.ToArray(), v => Assert.True(v is 0f or 1f));
        }
    }

    [Fact]
    public void ResolvePairs_ClassFilterMaskedWithSide_KeepsTheFilterAndTheSplitsOrder()
    {
        var r = DataSpec.ResolvePairs("embedded:class=7", "masked:10", "test", 3, Plain);
        var sneakers = DataSpec.Resolve("embedded:class=7", "test", 3).Dataset;
        Assert.Equal("masked:10", r.Kind);
        Assert.Contains("A = masked: a centred 10 x 10 square set to 0", r.Description);
        for (int i = 0; i < 3; i++)
        {
            var (a, b, label) = r.Pairs.Get(i);
            Assert.Equal(7, label);
            Fixtures.AssertClose(sneakers.Get(i).Image, b, 0, 1e-7, $"B of pair {i}");
            Assert.Equal(0f, a.Data[14 * 28 + 14]);     // inside rows/columns 9..18
            Assert.Equal(b.Data[8 * 28 + 14], a.Data[8 * 28 + 14]);
        }
    }

    [Fact]
    public void ResolvePairs_FashionMnistTestSplitEdges_IsTheInstalledSplitInOrder()
    {
        var r = DataSpec.ResolvePairs("fashion-mnist", "edges", "test", 4, Plain);
        var embedded = FashionMnist.LoadEmbedded();   // the same t10k files
        Assert.Equal("test", r.Split);
        for (int i = 0; i < 4; i++)
        {
            Fixtures.AssertClose(embedded.Get(i).Image, r.Pairs.Get(i).B, 0, 1e-7, $"B of pair {i}");
            Assert.Equal(embedded.Label(i), r.Pairs.Get(i).Label);
        }
    }

    [Fact]
    public void ResolvePairs_Downscale4AtImageSize32_AIsTheBlockMeansOfTheResizedImage()
    {
        var r = DataSpec.ResolvePairs("embedded", "downscale:4", "test", 2, new DataOptions { ImageSize = 32, Channels = 3 });
        var (a, b, _) = r.Pairs.Get(1);
        Assert.Equal([3, 32, 32], b.Shape);
        Assert.Equal([3, 8, 8], a.Shape);
        Assert.EndsWith("A = downscale by 4: the mean of each 4 x 4 block (box filter), A 3x8x8", r.Description);
        // A[c=2, y=3, x=5] is the mean of B[2, 12..15, 20..23]
        double sum = 0;
        for (int y = 12; y < 16; y++)
            for (int x = 20; x < 24; x++) sum += b.Data[(2 * 32 + y) * 32 + x];
        Assert.Equal(sum / 16, a.Data[(2 * 8 + 3) * 8 + 5], 1e-5);
    }

    [Fact]
    public void ResolvePairs_DownscaleThatDoesNotDivide_IsOneLineNamingTheSizeAndTheFix()
    {
        var e = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs("embedded", "downscale:3", "test", 2, Plain));
        Assert.Equal("Data 'embedded': Pairs 'downscale:3': images of 1x28x28 do not divide into 3 x 3 blocks; give an image size that is a multiple of 3 (--image-size)", e.Message);
    }

    [Theory]
    [InlineData("sketch", "Pairs 'sketch': unknown kind 'sketch'; known: edges[:T]")]
    [InlineData("edges:abc", "Pairs 'edges:abc': 'abc' is not a threshold")]
    [InlineData("edges:9", "Pairs 'edges:9': the threshold must be from 0 to below 4.472")]
    [InlineData("masked:0", "Pairs 'masked:0': the square's side must be at least 1 pixel")]
    [InlineData("masked:2.5", "Pairs 'masked:2.5': '2.5' is not the square's side in pixels")]
    [InlineData("downscale", "Pairs 'downscale': give the scale, downscale:2 or downscale:4")]
    [InlineData("downscale:1", "Pairs 'downscale:1': the scale must be at least 2")]
    [InlineData("folders:x", "Pairs 'folders:x': 'folders' takes no setting")]
    [InlineData(" ", "Pairs kind is empty; give edges[:T]")]
    public void ResolvePairs_BadKind_IsOneLineSayingWhatIsWrong(string pairs, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs("embedded", pairs, "test", 1, Plain));
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ResolvePairs_UnlabelledFolderDerived_LabelIsMinusOne()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 3; i++) WritePng(dir.File($"{i}.png"), 8, 8, 1, (byte)(50 * i));
        var r = DataSpec.ResolvePairs(dir.Path, "downscale:2", "train", 0, Plain);
        Assert.Equal((3, 0, DataSpec.AllSplit), (r.Pairs.Count, r.NumClasses, r.Split));
        Assert.Empty(r.Pairs.Classes);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(-1, r.Pairs.Get(i).Label));
        Assert.Equal(100 / 255f, r.Pairs.Get(2).A.Data[5], 1e-6);
    }

    // --- a user's folder of pairs ---

    [Fact]
    public void ResolvePairs_FoldersAB_PairsFilesOfTheSameNameEachSideReadOnItsOwn()
    {
        using var dir = new TempDir();
        foreach (var (name, v) in new[] { ("b.png", 20), ("a.png", 10), ("sub/c.png", 30) })
        {
            WritePng(dir.File("A/" + name), 4, 4, 1, (byte)v);          // edges: small and gray
            WriteSideBySide(dir.File("B/" + name), 8, 8, (byte)(v + 100), (byte)(v + 100));  // photos: larger and in colour
        }
        File.WriteAllText(dir.File("A/notes.txt"), "ignored");
        var r = DataSpec.ResolvePairs(dir.Path, "folders", "train", 0, Plain);
        var pairs = Assert.IsType<ImagePairs>(r.Pairs);
        Assert.Equal(["a.png", "b.png", Path.Combine("sub", "c.png")], pairs.Names);
        Assert.Equal((3, "folders", DataSpec.AllSplit, 0), (r.Pairs.Count, r.Kind, r.Split, r.NumClasses));
        Assert.Contains("3 pairs, A 1x4x4, B 3x8x8, unlabelled", r.Description);
        for (int i = 0; i < 3; i++)
        {
            var (a, b, label) = r.Pairs.Get(i);
            Assert.Equal(-1, label);
            Assert.Equal([1, 4, 4], a.Shape);
            Assert.Equal([3, 8, 8], b.Shape);
            Assert.Equal((10 * (i + 1) + 100) / 255f, b.Data[0], 1e-7f);
            Assert.Equal((10 * (i + 1) + 102) / 255f, b.Data[^1], 1e-7f);
            Assert.Equal(10 * (i + 1) / 255f, a.Data[0], 1e-7f);
        }

        // The same options as every data spec: channels and size apply to both sides.
        var conformed = DataSpec.ResolvePairs(dir.Path, "folders", "train", 2, new DataOptions { Channels = 3, ImageSize = 6 });
        Assert.Equal(2, conformed.Pairs.Count);
        Assert.Equal([3, 6, 6], conformed.Pairs.Get(0).A.Shape);
        Assert.Equal([3, 6, 6], conformed.Pairs.Get(0).B.Shape);
        Assert.Contains("first 2 of 3: 2 pairs", conformed.Description);
    }

    [Fact]
    public void ResolvePairs_FoldersWithNamesInOneOnly_ListsThem()
    {
        using var dir = new TempDir();
        WritePng(dir.File("A/1.png"), 4, 4, 1, 0);
        WritePng(dir.File("A/2.png"), 4, 4, 1, 0);
        WritePng(dir.File("b/1.png"), 4, 4, 1, 0);   // either case of the folders' names
        WritePng(dir.File("b/3.jpg.png"), 4, 4, 1, 0);
        var e = Assert.Throws<InvalidDataException>(() => DataSpec.ResolvePairs(dir.Path, "folders", "train", 0, Plain));
        Assert.Equal($"Data '{dir.Path}': {dir.File("A")} and {dir.File("b")} must hold the same file names, one pair per name: " +
                     $"only in {dir.File("A")}: 2.png; only in {dir.File("b")}: 3.jpg.png", e.Message);
    }

    [Fact]
    public void ResolvePairs_SideBySide_SplitsEachImageIntoLeftAAndRightB()
    {
        using var dir = new TempDir();
        WriteSideBySide(dir.File("x1.png"), 8, 4, 10, 200);
        WriteSideBySide(dir.File("x0.png"), 8, 4, 20, 100);
        var r = DataSpec.ResolvePairs(dir.Path, "side-by-side", "test", 0, Plain);
        Assert.Equal(["x0.png", "x1.png"], ((ImagePairs)r.Pairs).Names);
        Assert.Contains("(A left, B right): 2 pairs, A 1x4x4, B 3x4x4", r.Description);   // the left halves are gray
        var (a, b, label) = r.Pairs.Get(0);
        Assert.Equal(-1, label);
        Assert.All(a.ToArray(), v => Assert.Equal(20 / 255f, v, 1e-7f));
        Assert.Equal(100 / 255f, b.Data[0], 1e-7f);
        Assert.Equal(101 / 255f, b.Data[16], 1e-7f);
        Assert.Equal(102 / 255f, b.Data[32], 1e-7f);
    }

    [Fact]
    public void ResolvePairs_SideBySideOfMixedSizes_ImageSizeCropsAndResizesEachHalf()
    {
        using var dir = new TempDir();
        WriteSideBySide(dir.File("wide.png"), 24, 6, 10, 200);
        WriteSideBySide(dir.File("tall.png"), 10, 15, 30, 120);
        var e = Assert.Throws<InvalidDataException>(() => DataSpec.ResolvePairs(dir.Path, "side-by-side", "train", 0, Plain));
        Assert.Contains("wide.png's left half (A) is 12x6 but", e.Message);
        Assert.Contains("give an image size", e.Message);

        var r = DataSpec.ResolvePairs(dir.Path, "side-by-side", "train", 0, new DataOptions { ImageSize = 4 });
        Assert.Equal([1, 4, 4], r.Pairs.Get(1).A.Shape);
        Assert.Equal([3, 4, 4], r.Pairs.Get(1).B.Shape);
        Assert.All(r.Pairs.Get(1).A.ToArray(), v => Assert.Equal(10 / 255f, v, 1e-6));   // 'wide' sorts after 'tall'
        Assert.All(r.Pairs.Get(0).A.ToArray(), v => Assert.Equal(30 / 255f, v, 1e-6));
    }

    [Fact]
    public void ResolvePairs_SideBySideOddWidth_RefusedOrSkipped()
    {
        using var dir = new TempDir();
        WriteSideBySide(dir.File("a.png"), 8, 4, 10, 200);
        WriteSideBySide(dir.File("b.png"), 9, 4, 10, 200);
        var e = Assert.Throws<InvalidDataException>(() => DataSpec.ResolvePairs(dir.Path, "side-by-side", "train", 0, Plain));
        Assert.Equal($"Data '{dir.Path}': {dir.File("b.png")}: a side-by-side A|B image must have an even width to split in two halves, but it is 9x4 (skip unreadable files with --skip-bad)", e.Message);

        var r = DataSpec.ResolvePairs(dir.Path, "side-by-side", "train", 0, new DataOptions { SkipBad = true });
        Assert.Equal(1, r.Pairs.Count);
        Assert.Single(r.Skipped);
        Assert.Contains("1 unreadable file skipped (first: ", r.Description);
    }

    [Fact]
    public void ResolvePairs_SplitSubfolders_ReadTheAskedSplit()
    {
        using var dir = new TempDir();
        WriteSideBySide(dir.File("train/1.png"), 8, 4, 10, 200);
        WriteSideBySide(dir.File("train/2.png"), 8, 4, 10, 200);
        WriteSideBySide(dir.File("val/1.png"), 8, 4, 10, 200);
        var train = DataSpec.ResolvePairs(dir.Path, "side-by-side", "train", 0, Plain);
        Assert.Equal((2, "train"), (train.Pairs.Count, train.Split));
        var e = Assert.Throws<FileNotFoundException>(() => DataSpec.ResolvePairs(dir.Path, "side-by-side", "test", 0, Plain));
        Assert.Equal($"Data '{dir.Path}': {dir.Path} has no test/ subfolder for the test split (it has train/)", e.Message);

        WriteSideBySide(dir.File("test/9.png"), 8, 4, 10, 200);
        Assert.Equal((1, "test"), (DataSpec.ResolvePairs(dir.Path, "side-by-side", "test", 0, Plain).Pairs.Count, "test"));
    }

    [Fact]
    public void ResolvePairs_FolderOfNeitherLayoutOrTheOther_SaysWhichKindFits()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("readme.txt"), "no images");
        var neither = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs(dir.Path, "folders", "train", 0, Plain));
        Assert.Equal($"Data '{dir.Path}': {dir.Path} holds neither layout of pairs: no A/ and B/ subfolders (--pairs folders) and no side-by-side A|B images (.png, .jpg, .jpeg, .bmp, .gif) (--pairs side-by-side)", neither.Message);

        WriteSideBySide(dir.File("x.png"), 8, 4, 10, 200);
        var notFolders = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs(dir.Path, "folders", "train", 0, Plain));
        Assert.Equal($"Data '{dir.Path}': pairs 'folders' need subfolders A/ and B/ with the same file names, but {dir.Path} has no A/; its images may be side-by-side A|B pairs (--pairs side-by-side)", notFolders.Message);

        using var ab = new TempDir();
        WritePng(ab.File("A/1.png"), 4, 4, 1, 0);
        WritePng(ab.File("B/1.png"), 4, 4, 1, 0);
        var notSideBySide = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs(ab.Path, "side-by-side", "train", 0, Plain));
        Assert.Equal($"Data '{ab.Path}': {ab.Path} holds no side-by-side A|B images, but A/ and B/ subfolders (--pairs folders)", notSideBySide.Message);
    }

    [Fact]
    public void ResolvePairs_FolderKindWithFilterOrMissingFolder_IsRefused()
    {
        using var dir = new TempDir();
        WriteSideBySide(dir.File("x.png"), 8, 4, 10, 200);
        var filtered = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs(dir.Path + ":class=1", "side-by-side", "train", 0, Plain));
        Assert.Contains("filters (:class=1) do not apply", filtered.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => DataSpec.ResolvePairs(dir.File("nope"), "folders", "train", 0, Plain));
        Assert.Contains("not found; pairs 'folders' read a folder", missing.Message);
    }

    // --- two domains ---

    [Fact]
    public void ResolveDomains_TwoClasses_EachResolvedAsAnyDataSpec()
    {
        var d = DataSpec.ResolveDomains("embedded:class=7", "embedded:class=Ankle boot", "test", 0, Plain);
        Assert.Equal((1000, 1000), (d.A.Dataset.Count, d.B.Dataset.Count));
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(7, d.A.Dataset.Label(i)));
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(9, d.B.Dataset.Label(i)));
        Assert.StartsWith("A: embedded Fashion-MNIST test split, class 7 (Sneaker)", d.Description);
        Assert.Contains("; B: embedded Fashion-MNIST test split, class 9 (Ankle boot)", d.Description);
    }

    [Fact]
    public void ResolveDomains_FolderAndClassOfDifferentSizes_NeedAnImageSize()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 3; i++) WriteSideBySide(dir.File($"{i}.png"), 12, 10, (byte)(40 * i), 100);   // colour images
        var e = Assert.Throws<ArgumentException>(() => DataSpec.ResolveDomains(dir.Path, "embedded:class=7", "train", 0, Plain));
        Assert.Equal($"Domains '{dir.Path}' (3x10x12) and 'embedded:class=7' (1x28x28) differ in image size; give an image size (--image-size N) to centre-crop and resize both to N x N", e.Message);

        var d = DataSpec.ResolveDomains(dir.Path, "embedded:class=7", "train", 10, new DataOptions { ImageSize = 16 });
        Assert.Equal((3, 10), (d.A.Dataset.Count, d.B.Dataset.Count));   // sizes may differ
        Assert.Equal([3, 16, 16], d.A.Dataset.Get(0).Image.Shape);
        Assert.Equal([1, 16, 16], d.B.Dataset.Get(0).Image.Shape);      // and channels
    }
}
