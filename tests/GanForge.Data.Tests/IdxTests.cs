using System.IO.Compression;
using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

public class IdxTests
{
    static byte[] Pixels(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 % 256)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteRead_ImagesAndLabels_RoundTrip(bool gzip)
    {
        using var dir = new TempDir();
        var px = Pixels(3 * 4 * 5);
        Idx.WriteImages(dir.File("im"), px, 3, 4, 5, gzip);
        Idx.WriteLabels(dir.File("lb"), [2, 0, 9], gzip);
        var im = Idx.ReadImages(dir.File("im"));
        var lb = Idx.ReadLabels(dir.File("lb"));
        Assert.Equal([3, 4, 5], im.Dims);
        Assert.Equal(px, im.Data);
        Assert.Equal(new byte[] { 2, 0, 9 }, lb.Data);
        Assert.Equal(gzip, File.ReadAllBytes(dir.File("im"))[0] == 0x1F);
    }

    [Fact]
    public void WriteImages_Tensor_MapsMinusOneOneToBytes()
    {
        using var dir = new TempDir();
        var t = Tensor.FromArray([-1f, 0f, 1f, 2f], 1, 1, 2, 2);
        Idx.WriteImages(dir.File("s.idx"), t);
        Assert.Equal(new byte[] { 0, 128, 255, 255 }, Idx.ReadImages(dir.File("s.idx")).Data);
    }

    [Fact]
    public void Read_TruncatedPixels_NamesFileAndCounts()
    {
        using var dir = new TempDir();
        var path = dir.File("t10k-images-idx3-ubyte.gz");
        Idx.WriteImages(path, Pixels(10 * 28 * 28), 10, 28, 28, gzip: true);
        // Re-write with the pixel data cut short, still gzip.
        var raw = Idx.Read(path);
        using (var fs = File.Create(path))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        {
            gz.Write([0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28]);
            gz.Write(raw.Data.AsSpan(0, 3712));
        }
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.Equal("t10k-images-idx3-ubyte.gz: header says 10 images of 28x28 but file holds 3712 bytes of pixel data (expected 7840)", e.Message);
    }

    [Fact]
    public void Read_BadMagic_Throws()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x.idx"), [1, 2, 8, 1, 0, 0, 0, 1, 5]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(dir.File("x.idx")));
        Assert.Contains("x.idx: bad IDX magic", e.Message);
    }

    [Fact]
    public void Read_FloatDtype_ThrowsNamingType()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("f.idx"), [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(dir.File("f.idx")));
        Assert.Contains("0x0D is not supported", e.Message);
    }

    [Fact]
    public void ReadImages_LabelFile_ThrowsWrongDims()
    {
        using var dir = new TempDir();
        Idx.WriteLabels(dir.File("lb"), [1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(dir.File("lb")));
        Assert.Contains("3 dimensions", e.Message);
    }

    [Fact]
    public void Read_GarbledGzip_ThrowsNamingFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("g.gz"), [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x00, 0x12]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(dir.File("g.gz")));
        Assert.StartsWith("g.gz:", e.Message);
    }

    [Fact]
    public void CheckPair_CountMismatch_NamesBothFiles()
    {
        var im = new IdxArray([3, 2, 2], new byte[12]);
        var lb = new IdxArray([2], new byte[2]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.CheckPair(im, "a-images", lb, "a-labels"));
        Assert.Equal("a-images holds 3 images but a-labels holds 2 labels", e.Message);
    }
}
