using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

public class ImageGridTests
{
    [Fact]
    public void Make_ThreeImagesTwoPerRow_LaysOutAsMakeGrid()
    {
        // Image k is filled with value v_k in [-1,1]; grid is (2*(2+1)+1) square with padding 1.
        float[] v = [-1f, 0f, 1f];
        var batch = new Tensor(3, 1, 2, 2);
        for (int k = 0; k < 3; k++) batch.Data.Slice(k * 4, 4).Fill(v[k]);
        var grid = ImageGrid.Make(batch, new ImageGridOptions { NRow = 2, Padding = 1, PadValue = 1f });
        Assert.Equal((7, 7, 1), (grid.Width, grid.Height, grid.Channels));
        byte At(int x, int y) => grid.Pixels[y * 7 + x];
        Assert.Equal(255, At(0, 0));   // padding
        Assert.Equal(0, At(1, 1));     // image 0: -1 -> 0
        Assert.Equal(128, At(4, 2));   // image 1: 0 -> 0.5*255+0.5 = 128
        Assert.Equal(255, At(2, 5));   // image 2: 1 -> 255
        Assert.Equal(255, At(5, 5));   // empty fourth cell keeps the pad value
        Assert.Equal(255, At(3, 1));   // column of padding between cells
    }

    [Fact]
    public void Make_ZeroToOneRange_ClampsOutOfRange()
    {
        var batch = Tensor.FromArray([-0.5f, 0.25f, 1.5f, 1f], 1, 1, 2, 2);
        var grid = ImageGrid.Make(batch, ImageGridOptions.ZeroToOne with { Padding = 0 });
        Assert.Equal(new byte[] { 0, 64, 255, 255 }, grid.Pixels); // 0.25*255+0.5 = 64.25 -> 64
    }

    [Fact]
    public void Make_AutoRangeScaleEach_StretchesEachImage()
    {
        var batch = Tensor.FromArray([0f, 1f, 10f, 30f], 2, 1, 1, 2);
        var grid = ImageGrid.Make(batch, new ImageGridOptions { AutoRange = true, ScaleEach = true, Padding = 0 });
        Assert.Equal(new byte[] { 0, 255, 0, 255 }, grid.Pixels);
        var shared = ImageGrid.Make(batch, new ImageGridOptions { AutoRange = true, Padding = 0 });
        Assert.Equal(new byte[] { 0, 9, 85, 255 }, shared.Pixels); // (x-0)/30*255+0.5
    }

    [Fact]
    public void Save_RgbBatch_WritesDecodablePng()
    {
        using var dir = new TempDir();
        var batch = Tensor.Uniform([5, 3, 4, 6], -1f, 1f, new Generator(2));
        ImageGrid.Save(dir.File("grid.png"), batch, new ImageGridOptions { NRow = 4 });
        var png = ImageFile.Load(dir.File("grid.png"));
        Assert.Equal((4 * 8 + 2, 2 * 6 + 2, 3), (png.Width, png.Height, png.Channels));
        // Pixel (row 0, col 0) of image 0, green channel, lies at (2, 2).
        var expected = (byte)Math.Clamp((int)((batch[0, 1, 0, 0] + 1f) / 2f * 255f + 0.5f), 0, 255);
        Assert.Equal(expected, png.Pixels[(2 * png.Width + 2) * 3 + 1]);
    }

    [Fact]
    public void Make_TwoChannels_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageGrid.Make(new Tensor(1, 2, 3, 3)));
        Assert.Contains("(1,2,3,3)", e.Message);
    }
}
