namespace GanForge.Data.Tests;

public class ConformTests
{
    // 601 random gray 28 x 28 images: more than the 256 a thread's range starts at, and not a multiple of two.
    static TensorDataset RandomImages(int count = 601, int channels = 1, int height = 28, int width = 28)
    {
        var pixels = new byte[count * channels * height * width];
        new Random(5).NextBytes(pixels);
        return new TensorDataset(pixels, new int[count], channels, height, width);
    }

    [Theory]
    [InlineData(1, 32)]   // enlarged (the zoo's 32 px)
    [InlineData(3, 32)]   // gray to RGB, enlarged
    [InlineData(1, 16)]   // shrunk
    public void Conform_OnTwoThreads_GivesEachImageAsCropResizeAlone(int channels, int size)
    {
        var data = RandomImages();
        int previous = Threading.Threads;
        TensorDataset conformed;
        try { Threading.Threads = 2; conformed = data.Conform(channels, size); }
        finally { Threading.Threads = previous; }
        Assert.Equal((channels, size, size), (conformed.Channels, conformed.Height, conformed.Width));
        var converted = new byte[channels * 28 * 28];
        var expected = new byte[channels * size * size];
        for (int i = 0; i < data.Count; i++)
        {
            PixelConvert.ConvertChannels(data.ImageBytes(i), 1, converted, channels, 28 * 28);
            ImageResize.CropResize(converted, channels, 28, 28, size, expected);
            Assert.True(expected.AsSpan().SequenceEqual(conformed.ImageBytes(i)), $"image {i} differs");
        }
    }

    [Fact]
    public void Plan_ForAnImageAfterAnother_GivesWhatCropResizeGivesIt()
    {
        // A plan keeps nothing from one image to the next but its weights: its scratch is overwritten whole.
        var plan = new ImageResize.Plan(3, 20, 30, 12);
        var scratch = new float[plan.ScratchLength];
        var rng = new Random(7);
        var src = new byte[3 * 20 * 30];
        byte[] got = new byte[3 * 12 * 12], want = new byte[3 * 12 * 12];
        for (int round = 0; round < 3; round++)
        {
            rng.NextBytes(src);
            plan.Apply(src, got, scratch);
            ImageResize.CropResize(src, 3, 20, 30, 12, want);
            Assert.Equal(want, got);
        }
    }
}
