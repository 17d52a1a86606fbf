using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>Our PNG encoder, checked by decoding what it writes with StbImageSharp (<see cref="ImageFile"/>).</summary>
public class PngTests
{
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
        var back = ImageFile.Decode(PngEncoder.Encode(img));
        Assert.Equal((13, 7, channels), (back.Width, back.Height, back.Channels));
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void EncodeDecode_SinglePixel_RoundTrip()
    {
        var img = new ByteImage(1, 1, 3, [10, 20, 30]);
        Assert.Equal(img.Pixels, ImageFile.Decode(PngEncoder.Encode(img)).Pixels);
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
