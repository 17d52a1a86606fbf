using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>
/// <see cref="ImageFolderDataset"/> on folders as users have them: JPEG, BMP, GIF and PNG files side by side, of
/// different sizes, gray and colour, hidden files, nested folders and damaged files.
/// </summary>
public class ImageFolderTests
{
    static string ImageDir => Path.Combine(Fixtures.Root, "data", "images");

    static void Copy(string fixture, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(Path.Combine(ImageDir, fixture), to);
    }

    static void WritePng(string path, int w, int h, int c, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var px = new byte[w * h * c];
        Array.Fill(px, value);
        PngEncoder.Save(path, new ByteImage(w, h, c, px));
    }

    /// <summary>Classes "bmp", "gif", "jpeg" (one file in a nested folder) of differently sized files, plus clutter.</summary>
    static void WriteMixedFolder(string root)
    {
        Copy("rgb444.jpg", Path.Combine(root, "jpeg", "a.jpg"));
        Copy("rgb420_progressive.jpg", Path.Combine(root, "jpeg", "2024", "b.JPEG"));
        Copy("rgb24.bmp", Path.Combine(root, "bmp", "c.bmp"));
        Copy("animated.gif", Path.Combine(root, "gif", "d.gif"));
        File.WriteAllText(Path.Combine(root, "jpeg", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(root, "jpeg", "._a.jpg"), "macOS resource fork, not a JPEG");
        Directory.CreateDirectory(Path.Combine(root, ".ipynb_checkpoints"));
        Copy("gray.jpg", Path.Combine(root, ".ipynb_checkpoints", "x.jpg"));
    }

    [Fact]
    public void MixedFormatsAndSizes_WithImageSize_KeepClassesAndSkipClutter()
    {
        using var dir = new TempDir();
        WriteMixedFolder(dir.Path);
        var d = new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 16 });
        Assert.Equal(["bmp", "gif", "jpeg"], d.Classes);
        Assert.Equal(4, d.Count);
        Assert.Equal([0, 1, 2, 2], Enumerable.Range(0, 4).Select(d.Label));
        Assert.Equal(["c.bmp", "d.gif", "b.JPEG", "a.jpg"], d.Files.Select(f => Path.GetFileName(f)));  // "2024/b.JPEG" sorts before "a.jpg"
        Assert.Equal([3, 16, 16], d.Get(3).Image.Shape);
        Assert.Empty(d.Skipped);
    }

    [Fact]
    public void JpegFile_CropResized_MatchesPilCropThenResizeOfWhatItDecodes()
    {
        // The folder's pixel for a file is ImageResize applied to the decoded file: checked against the decode itself.
        using var dir = new TempDir();
        Copy("rgb444.jpg", dir.File("x.jpg"));
        var d = new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 8 });
        var decoded = ImageFile.Load(dir.File("x.jpg"));
        var planar = new byte[3 * decoded.Width * decoded.Height];
        for (int i = 0; i < decoded.Width * decoded.Height; i++)
            for (int c = 0; c < 3; c++) planar[c * decoded.Width * decoded.Height + i] = decoded.Pixels[i * 3 + c];
        var expected = new byte[3 * 8 * 8];
        ImageResize.CropResize(planar, 3, decoded.Height, decoded.Width, 8, expected);
        var image = d.Get(0).Image;
        Fixtures.AssertClose(Tensor.FromArray(expected.Select(b => b / 255f).ToArray(), image.Shape), image, 0, 1e-7, "the cropped, resized JPEG");
    }

    [Fact]
    public void GrayFilesOfAnyFormat_DefaultToOneChannel()
    {
        // gray8.bmp decodes as RGB with R = G = B: it is still gray.
        using var dir = new TempDir();
        Copy("gray.jpg", dir.File("a.jpg"));
        Copy("gray8.bmp", dir.File("b.bmp"));
        var d = new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 8 });
        Assert.Equal(1, d.Channels);
        Assert.Equal(3, new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 8, Channels = 3 }).Channels);
    }

    [Fact]
    public void TruncatedJpeg_IsAOneLineErrorNamingTheFile()
    {
        using var dir = new TempDir();
        WriteMixedFolder(dir.Path);
        var bytes = File.ReadAllBytes(Path.Combine(ImageDir, "rgb444.jpg"));
        File.WriteAllBytes(Path.Combine(dir.Path, "jpeg", "cut.jpg"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 16 }));
        Assert.StartsWith(Path.Combine(dir.Path, "jpeg", "cut.jpg") + ": truncated JPEG", e.Message);
        Assert.EndsWith("(skip unreadable files with --skip-bad)", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void SkipBad_SkipsAndCountsUnreadableFilesInOrder()
    {
        using var dir = new TempDir();
        WriteMixedFolder(dir.Path);
        File.WriteAllBytes(Path.Combine(dir.Path, "jpeg", "empty.jpg"), []);
        File.WriteAllText(Path.Combine(dir.Path, "bmp", "text.bmp"), "hello");
        var d = new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 16, SkipBad = true });
        Assert.Equal(4, d.Count);
        Assert.Equal(2, d.Skipped.Count);
        Assert.StartsWith(Path.Combine(dir.Path, "bmp", "text.bmp") + ": not a JPEG, PNG, BMP or GIF image", d.Skipped[0]);
        Assert.StartsWith(Path.Combine(dir.Path, "jpeg", "empty.jpg") + ": not a JPEG", d.Skipped[1]);
        Assert.DoesNotContain(d.Files, f => f.EndsWith("empty.jpg") || f.EndsWith("text.bmp"));
    }

    [Fact]
    public void SkipBad_NothingReadable_SaysSo()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.png"), "no");
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(dir.Path, new DataOptions { SkipBad = true }));
        Assert.StartsWith($"{dir.Path}: none of its 1 image files can be read (first: {dir.File("a.png")}: not a JPEG", e.Message);
    }

    [Fact]
    public void NoImageFiles_SaysWhichExtensionsAreRead()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.txt"), "no");
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(dir.Path));
        Assert.Equal($"{dir.Path}: no image files (.png, .jpg, .jpeg, .bmp, .gif) in it", e.Message);
    }

    [Fact]
    public void ManyFiles_DecodedInParallel_KeepTheirOrder()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 40; i++) WritePng(dir.File($"{i:D3}.png"), 3 + i % 4, 5, 1, (byte)i);
        var d = new ImageFolderDataset(dir.Path, new DataOptions { ImageSize = 4 });
        for (int i = 0; i < 40; i++) Assert.Equal(i / 255f, d.Get(i).Image.Data[0], 1e-7f);
    }

    [Fact]
    public void ImageResize_CropThenBilinear_MatchesPilWithinOneLevel()
    {
        var fixture = Fixtures.Load(Path.Combine("data", "images"), "expected");
        var src = fixture["resize_src"];                          // (23, 37, 3)
        int h = src.Size(0), w = src.Size(1);
        var planar = new byte[3 * h * w];
        for (int i = 0; i < h * w; i++)
            for (int c = 0; c < 3; c++) planar[c * h * w + i] = (byte)src.Data[i * 3 + c];
        foreach (int size in new[] { 8, 16, 48 })
        {
            var expected = fixture[$"resize_{size}"];             // (size, size, 3)
            var dst = new byte[3 * size * size];
            ImageResize.CropResize(planar, 3, h, w, size, dst);
            int worst = 0;
            for (int i = 0; i < size * size; i++)
                for (int c = 0; c < 3; c++) worst = Math.Max(worst, Math.Abs(dst[c * size * size + i] - (int)expected.Data[i * 3 + c]));
            Assert.True(worst <= 1, $"resize to {size}: largest difference from PIL {worst} levels");
        }
    }

    [Fact]
    public void CenterSquare_WideAndTall_KeepsTheMiddle()
    {
        Assert.Equal((7, 0, 23), ImageResize.CenterSquare(37, 23));
        Assert.Equal((0, 2, 4), ImageResize.CenterSquare(4, 9));
        Assert.Equal((0, 0, 5), ImageResize.CenterSquare(5, 5));
    }
}
