using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

public class PngTests
{
    static string PngDir => Path.Combine(Fixtures.Root, "data", "png");

    static ByteImage Pattern(int w, int h, int c, int seed)
    {
        var g = new Generator((ulong)seed);
        var px = new byte[w * h * c];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)((i * 3 % 256 + g.NextInt(30)) % 256); // ramps + noise
        return new ByteImage(w, h, c, px);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EncodeDecode_AllChannelCounts_RoundTrip(int channels)
    {
        var img = Pattern(13, 7, channels, channels);
        var back = PngDecoder.Decode(PngEncoder.Encode(img));
        Assert.Equal((13, 7, channels), (back.Width, back.Height, back.Channels));
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void EncodeDecode_SinglePixel_RoundTrip()
    {
        var img = new ByteImage(1, 1, 3, [10, 20, 30]);
        Assert.Equal(img.Pixels, PngDecoder.Decode(PngEncoder.Encode(img)).Pixels);
    }

    public static TheoryData<string> FixtureNames()
    {
        var d = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(Fixtures.Root, "data", "png"), "*.png").Order()) d.Add(Path.GetFileNameWithoutExtension(f));
        return d;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Decode_IndependentEncoderFixture_MatchesExpectedPixels(string name)
    {
        var expected = Fixtures.Load("data", "png_expected")[name]; // (H,W,C) uint8 as float
        var img = PngDecoder.Decode(Path.Combine(PngDir, name + ".png"));
        Assert.Equal(expected.Shape, new[] { img.Height, img.Width, img.Channels });
        for (int i = 0; i < img.Pixels.Length; i++)
            if (img.Pixels[i] != (byte)expected.Data[i])
                Assert.Fail($"{name}: byte {i} is {img.Pixels[i]}, expected {expected.Data[i]}");
    }

    [Fact]
    public void Fixtures_CoverEveryColourTypeAndInterlace()
    {
        // Guards the fixture set: palette, Adam7 and all channel counts must stay covered.
        var names = Directory.GetFiles(PngDir, "*.png").Select(f => Path.GetFileNameWithoutExtension(f)).ToList();
        Assert.Contains("pil_palette", names);
        Assert.Contains("palette4_trns_adam7", names);
        Assert.Contains("rgb_adam7", names);
        Assert.Contains("graya_paeth", names);
        Assert.Contains("rgba_filters", names);
    }

    [Fact]
    public void Decode_CorruptedCrc_ThrowsNamingChunk()
    {
        var bytes = PngEncoder.Encode(Pattern(4, 4, 3, 1));
        bytes[8 + 8 + 5] ^= 0x01; // a byte inside IHDR's data
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(bytes, "bad.png"));
        Assert.StartsWith("bad.png: CRC mismatch in IHDR chunk", e.Message);
    }

    [Fact]
    public void Decode_Truncated_Throws()
    {
        var bytes = PngEncoder.Encode(Pattern(8, 8, 1, 2));
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode(bytes.AsSpan(0, bytes.Length - 20), "cut.png"));
        Assert.StartsWith("cut.png:", e.Message);
    }

    [Fact]
    public void Decode_NotPng_Throws()
    {
        var e = Assert.Throws<InvalidDataException>(() => PngDecoder.Decode("GIF89a..."u8, "x.png"));
        Assert.Equal("x.png: not a PNG file (bad signature)", e.Message);
    }

    [Fact]
    public void Encode_SmoothImage_CompressesWell()
    {
        // A filter-friendly gradient must compress far below its raw size: filter selection is doing its job.
        var px = new byte[64 * 64];
        for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) px[y * 64 + x] = (byte)(x * 2 + y);
        Assert.True(PngEncoder.Encode(new ByteImage(64, 64, 1, px)).Length < 400);
    }

    [Fact]
    public void FromTensor_ToTensor_RoundTripsBytes()
    {
        var img = Pattern(5, 3, 3, 9);
        var t = img.ToTensor();
        Assert.Equal([3, 3, 5], t.Shape);
        Assert.Equal(img.Pixels, ByteImage.FromTensor(t).Pixels);
    }
}
