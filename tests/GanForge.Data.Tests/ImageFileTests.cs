using System.Buffers.Binary;
using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>
/// <see cref="ImageFile"/>: files written by independent encoders (a hand-written PNG encoder and PIL) decode to the
/// pixels those tools read back; damaged, truncated and lying files give one InvalidDataException naming the file.
/// </summary>
public class ImageFileTests
{
    static string PngDir => Path.Combine(Fixtures.Root, "data", "png");
    static string ImageDir => Path.Combine(Fixtures.Root, "data", "images");

    static List<string> Files(string dir) =>
        Directory.GetFiles(dir).Where(ImageFile.HasImageExtension).Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f)).ToList();

    public static TheoryData<string> PngFixtures() => [.. Files(PngDir)];
    public static TheoryData<string> PilFixtures() => [.. Files(ImageDir)];

    /// <summary>Every fixture file of every format, as (folder, name).</summary>
    public static TheoryData<string, string> AllFixtures()
    {
        var d = new TheoryData<string, string>();
        foreach (var f in Files(PngDir)) d.Add("png", f);
        foreach (var f in Files(ImageDir)) d.Add("images", f);
        return d;
    }

    static byte[] Bytes(string folder, string name) => File.ReadAllBytes(Path.Combine(Fixtures.Root, "data", folder, name));

    [Theory]
    [MemberData(nameof(PngFixtures))]
    public void Decode_PngFromIndependentEncoders_MatchesExpectedPixels(string file)
    {
        var expected = Fixtures.Load("data", "png_expected")[Path.GetFileNameWithoutExtension(file)]; // (H,W,C) uint8 as float
        var img = ImageFile.Load(Path.Combine(PngDir, file));
        Assert.Equal(expected.Shape, new[] { img.Height, img.Width, img.Channels });
        for (int i = 0; i < img.Pixels.Length; i++)
            if (img.Pixels[i] != (byte)expected.Data[i])
                Assert.Fail($"{file}: byte {i} is {img.Pixels[i]}, expected {expected.Data[i]}");
    }

    [Theory]
    [MemberData(nameof(PilFixtures))]
    public void Decode_JpegBmpGifWrittenByPil_MatchesWhatPilReads(string file)
    {
        var expected = Fixtures.Load(Path.Combine("data", "images"), "expected")[file]; // (H,W,C) uint8 as float
        var img = ImageFile.Load(Path.Combine(ImageDir, file));
        int h = expected.Size(0), w = expected.Size(1), c = expected.Size(2);
        Assert.Equal((w, h), (img.Width, img.Height));
        // PIL reads an 8-bit gray BMP as gray, stb_image as RGB with R = G = B; a GIF frame comes as RGBA, PIL's as RGB.
        if (img.Channels != c)
        {
            Assert.True(img.Channels == 3 && c == 1 ? img.IsGray : img.Channels == 4 && c == 3, $"{file}: {img.Channels} channels, PIL reads {c}");
            img = img.ToChannels(c);
        }
        double sum = 0, worst = 0;
        for (int i = 0; i < img.Pixels.Length; i++)
        {
            double d = Math.Abs(img.Pixels[i] - expected.Data[i]);
            sum += d; worst = Math.Max(worst, d);
        }
        // Lossless formats match exactly; JPEG decoders may differ in IDCT rounding and chroma upsampling
        // (stb_image and PIL's libjpeg differ by at most 2 levels here, 0.08 on average).
        bool jpeg = file.EndsWith(".jpg");
        Assert.True(worst <= (jpeg ? 3 : 0) && sum / img.Pixels.Length <= (jpeg ? 0.25 : 0),
            $"{file}: mean |difference| from PIL {sum / img.Pixels.Length:F3}, largest {worst}");
    }

    [Fact]
    public void Decode_AnimatedGif_GivesTheFirstFrame()
    {
        var expected = Fixtures.Load(Path.Combine("data", "images"), "expected")["animated.gif"];
        var img = ImageFile.Load(Path.Combine(ImageDir, "animated.gif")).ToChannels(3);
        // The second frame is the negative of the first: a mix-up would be far off, not off by one.
        Assert.Equal(expected.Data[..30].ToArray().Select(v => (byte)v), img.Pixels[..30]);
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Decode_TruncatedFile_ThrowsNamingFileUnlessTheFirstGifFrameIsWhole(string folder, string file)
    {
        var bytes = Bytes(folder, file);
        var whole = ImageFile.Decode(bytes, file);
        foreach (double keep in new[] { 0.02, 0.3, 0.6, 0.9, -1 })
        {
            int length = keep < 0 ? bytes.Length - 1 : (int)(bytes.Length * keep);
            try
            {
                var img = ImageFile.Decode(bytes[..length], file);
                // Only a GIF cut after its first frame may decode, and then to that whole frame.
                Assert.True(file.EndsWith(".gif"), $"{file} cut to {length} of {bytes.Length} bytes decoded without error");
                Assert.Equal(whole.Pixels, img.Pixels);
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith(file + ": ", e.Message);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Decode_RandomlyDamagedFile_DecodesOrThrowsInvalidData(string folder, string file)
    {
        // A small fuzz: whatever damage is done, the only failure is an InvalidDataException naming the file.
        var original = Bytes(folder, file);
        var rng = new Random(file.Length * 31 + original.Length);
        for (int round = 0; round < 60; round++)
        {
            var bytes = (byte[])original.Clone();
            for (int k = rng.Next(1, 5); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            try { ImageFile.Decode(bytes, file); }
            catch (InvalidDataException e) { Assert.StartsWith(file + ": ", e.Message); }
        }
    }

    [Fact]
    public void Decode_PngWithDamagedChunk_ReportsCrcMismatch()
    {
        var bytes = PngEncoder.Encode(new ByteImage(4, 4, 3));
        bytes[8 + 8 + 5] ^= 0x01; // a byte inside IHDR's data
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(bytes, "bad.png"));
        Assert.Equal("bad.png: corrupt PNG (CRC mismatch in the IHDR chunk at byte 8)", e.Message);
    }

    [Fact]
    public void Decode_NotAnImage_SaysWhatItStartsWith()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode("%PDF-1.7 ..."u8.ToArray(), "doc.jpg"));
        Assert.Equal("doc.jpg: not a JPEG, PNG, BMP or GIF image (it starts with 255044462D312E37)", e.Message);
        e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode([], "empty.png"));
        Assert.Equal("empty.png: not a JPEG, PNG, BMP or GIF image (it starts with nothing: the file is empty)", e.Message);
    }

    [Fact]
    public void Load_MissingFile_ThrowsInvalidDataNamingIt()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Load("/nonexistent/x.jpg"));
        Assert.StartsWith("/nonexistent/x.jpg: cannot read", e.Message);
    }

    /// <summary>Headers that claim a huge image, each otherwise well formed: refused before anything is allocated.</summary>
    public static TheoryData<string> LyingHeaders() => ["png", "jpg", "bmp", "gif"];

    [Theory]
    [MemberData(nameof(LyingHeaders))]
    public void Decode_HeaderClaimingAHugeImage_IsRefusedBeforeDecoding(string format)
    {
        byte[] bytes;
        switch (format)
        {
            case "png":
                bytes = PngEncoder.Encode(new ByteImage(2, 2, 1));
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), 100_000);      // IHDR width
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), 100_000);      // IHDR height
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc(bytes.AsSpan(12, 17)));
                break;
            case "jpg":
                bytes = Bytes("images", "gray.jpg");
                int sof = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 5), 65_000);  // height
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 7), 65_000);  // width
                break;
            case "bmp":
                bytes = Bytes("images", "rgb24.bmp");
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), 60_000);
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), -60_000);
                break;
            default:
                bytes = Bytes("images", "animated.gif");
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), 65_000);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 65_000);
                break;
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(bytes, "big." + format));
        Assert.Contains("larger than accepted", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "a refused header must not allocate the image it claims");
    }

    static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    [Fact]
    public void ReadHeader_WholeFiles_GiveFormatAndSize()
    {
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 40, 24), ImageFile.ReadHeader(Bytes("images", "rgb444.jpg")));
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 40, 24), ImageFile.ReadHeader(Bytes("images", "rgb420_progressive.jpg")));
        Assert.Equal(new ImageHeader(ImageFormat.Bmp, 21, 13), ImageFile.ReadHeader(Bytes("images", "rgb24.bmp")));
        Assert.Equal(new ImageHeader(ImageFormat.Gif, 20, 16), ImageFile.ReadHeader(Bytes("images", "animated.gif")));
        Assert.Equal(new ImageHeader(ImageFormat.Png, 10, 13), ImageFile.ReadHeader(Bytes("png", "rgb_adam7.png")));
    }
}
