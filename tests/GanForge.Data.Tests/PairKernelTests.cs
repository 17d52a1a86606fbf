namespace GanForge.Data.Tests;

/// <summary>
/// The operators of derived pairs: hand-computed small cases, then PyTorch's results on real images
/// (tools/fixtures/pairs.py: conv2d Sobel with replicate padding, avg_pool2d, a centred slice set to 0).
/// </summary>
public class PairKernelTests
{
    static Tensor Image(float[] values, params int[] shape) => Tensor.FromArray(values, shape);

    /// <summary>Image <paramref name="i"/> (C,H,W) of a batch (N,C,H,W).</summary>
    static Tensor Row(Tensor batch, int i)
    {
        int per = batch.Numel / batch.Size(0);
        return Tensor.FromArray(batch.Data.Slice(i * per, per).ToArray(), batch.Shape[1..]);
    }

    static void Close(float[] expected, Tensor actual, string what) =>
        Fixtures.AssertClose(Tensor.FromArray(expected, actual.Shape), actual, 0, 1e-6, what);

    // --- hand-computed ---

    [Fact]
    public void SobelMagnitude_VerticalStep_IsFourBesideTheStepAndZeroAtTheReplicatedBorder()
    {
        // 3 rows of 0 0 1 1: gx = (1-0) + 2(1-0) + (1-0) = 4 in columns 1 and 2; rows are equal, so gy = 0
        var gray = new float[] { 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1 };
        var m = new float[12];
        PairKernels.SobelMagnitude(gray, 3, 4, m);
        Close([0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0], Tensor.FromArray(m, 3, 4), "Sobel of a vertical step");
    }

    [Fact]
    public void SobelMagnitude_SinglePixel_GivesTheKernelsMagnitudes()
    {
        // one 1 in the middle of 3x3 zeros: at a corner neighbour gx = ±1, gy = ±1 -> √2; at an edge neighbour 2; centre 0
        var gray = new float[9];
        gray[4] = 1;
        var m = new float[9];
        PairKernels.SobelMagnitude(gray, 3, 3, m);
        float r2 = MathF.Sqrt(2);
        Close([r2, 2, r2, 2, 0, 2, r2, 2, r2], Tensor.FromArray(m, 3, 3), "Sobel of an impulse");
    }

    [Fact]
    public void SobelMagnitude_SteepestNeighbourhood_IsTheStatedMaximum()
    {
        // 0 0 1 / 0 x 1 / 0 1 1: gx = 1 + 2 + 1 = 4, gy = 0 + 2 + 0 = 2, so sqrt(20) = 2·√5 at the centre
        var gray = new float[] { 0, 0, 1, 0, 0.5f, 1, 0, 1, 1 };
        var m = new float[9];
        PairKernels.SobelMagnitude(gray, 3, 3, m);
        Assert.Equal(MathF.Sqrt(20), m[4], 1e-5);
        Assert.Equal(PairKernels.MaxSobelMagnitude, m[4], 1e-5);
        Assert.Throws<ArgumentException>(() => new SobelEdgesOperator(PairKernels.MaxSobelMagnitude));
    }

    [Fact]
    public void SobelEdges_RgbStep_UsesLumaAndRepeatsTheMapInEveryChannel()
    {
        // a pure blue step (luma 0.114 -> Sobel 0.456) is no edge at 1.5; a white step (luma 1 -> 4) is
        var blue = new float[3 * 2 * 4];
        var white = new float[3 * 2 * 4];
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 2; y++)
                for (int x = 2; x < 4; x++)
                {
                    white[(ch * 2 + y) * 4 + x] = 1;
                    if (ch == 2) blue[(ch * 2 + y) * 4 + x] = 1;
                }
        var op = new SobelEdgesOperator();
        Assert.All(op.Apply(Image(blue, 3, 2, 4)).ToArray(), v => Assert.Equal(0f, v));
        var edges = op.Apply(Image(white, 3, 2, 4));
        Assert.Equal([3, 2, 4], edges.Shape);
        float[] plane = [0, 1, 1, 0, 0, 1, 1, 0];
        Assert.Equal([.. plane, .. plane, .. plane], edges.ToArray());
        // a threshold below the blue step's 0.456 finds it
        Assert.Equal([.. plane, .. plane, .. plane], new SobelEdgesOperator(0.4f).Apply(Image(blue, 3, 2, 4)).ToArray());
    }

    [Fact]
    public void CentreMask_OddAndEvenSizes_BlanksTheSquareFromTheRoundedDownOffset()
    {
        // 5x5, side 2: offset (5-2)/2 = 1, so rows 1-2 and columns 1-2
        var x = Enumerable.Range(1, 25).Select(v => (float)v).ToArray();
        var y = new CentreMaskOperator(2).Apply(Image(x, 1, 5, 5)).ToArray();
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++)
                Assert.Equal(r is 1 or 2 && c is 1 or 2 ? 0f : x[r * 5 + c], y[r * 5 + c]);
        // 4x6 RGB, default side min(4,6)/2 = 2: rows 1-2, columns 2-3 of every channel
        var rgb = Enumerable.Repeat(0.5f, 3 * 4 * 6).ToArray();
        var masked = new CentreMaskOperator().Apply(Image(rgb, 3, 4, 6)).ToArray();
        for (int i = 0; i < masked.Length; i++)
        {
            int r = i / 6 % 4, c = i % 6;
            Assert.Equal(r is 1 or 2 && c is 2 or 3 ? 0f : 0.5f, masked[i]);
        }
    }

    [Fact]
    public void BoxDownscale_FourByFour_IsTheMeanOfEachBlock()
    {
        var x = Enumerable.Range(0, 16).Select(v => (float)v).ToArray();
        var two = new BoxDownscaleOperator(2).Apply(Image(x, 1, 4, 4));
        Assert.Equal([1, 2, 2], two.Shape);
        Close([2.5f, 4.5f, 10.5f, 12.5f], two, "2x2 blocks");   // (0+1+4+5)/4, (2+3+6+7)/4, ...
        var four = new BoxDownscaleOperator(4).Apply(Image(x, 1, 4, 4));
        Close([7.5f], four, "one 4x4 block");
    }

    [Fact]
    public void BoxDownscale_IndivisibleSize_SaysWhichSizeToGive()
    {
        var e = Assert.Throws<ArgumentException>(() => new BoxDownscaleOperator(4).Apply(new Tensor(1, 30, 28)));
        Assert.Equal("Pairs 'downscale:4': images of 1x30x28 do not divide into 4 x 4 blocks; give an image size that is a multiple of 4 (--image-size)", e.Message);
        Assert.Throws<ArgumentException>(() => new BoxDownscaleOperator(1));
    }

    [Fact]
    public void Operators_InputUnchanged_AndOutOfRangeSettingsRefused()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 16).Select(v => v / 16f).ToArray(), 1, 4, 4);
        var before = x.ToArray();
        new SobelEdgesOperator().Apply(x);
        new CentreMaskOperator().Apply(x);
        new BoxDownscaleOperator(2).Apply(x);
        Assert.Equal(before, x.ToArray());
        Assert.Throws<ArgumentException>(() => new SobelEdgesOperator(-0.1f));
        Assert.Throws<ArgumentException>(() => new SobelEdgesOperator(4.5f));
        Assert.Throws<ArgumentException>(() => new CentreMaskOperator(0));
        Assert.Contains("a 5 x 5 square does not fit in images of 1x4x4", Assert.Throws<ArgumentException>(() => new CentreMaskOperator(5).Apply(x)).Message);
    }

    // --- PyTorch on real images ---

    [Theory]
    [InlineData("gray", 6)]
    [InlineData("rgb", 2)]
    [InlineData("rect", 2)]
    public void SobelEdges_FashionMnist_MatchesTorchConv2d(string set, int n)
    {
        var f = Fixtures.Load("data", "pairs");
        int compared = 0, edges = 0;
        for (int i = 0; i < n; i++)
        {
            var image = Row(f[$"{set}_image"], i);
            int c = image.Size(0), h = image.Size(1), w = image.Size(2);
            var gray = new float[h * w];
            var magnitude = new float[h * w];
            PairKernels.Luma(image.Data, c, h, w, gray);
            PairKernels.SobelMagnitude(gray, h, w, magnitude);
            var expected = Row(f[$"{set}_sobel"], i);
            Fixtures.AssertClose(expected, Tensor.FromArray(magnitude, 1, h, w), 1e-5, 1e-5, $"{set} image {i}: Sobel magnitude");

            // The 0/1 map agrees wherever the magnitude is not within rounding of the threshold.
            var map = new SobelEdgesOperator().Apply(image);
            var want = Row(f[$"{set}_edges"], i);
            Assert.Equal(want.Shape, map.Shape);
            for (int k = 0; k < map.Numel; k++)
            {
                if (Math.Abs(expected.Data[k % (h * w)] - SobelEdgesOperator.DefaultThreshold) < 1e-4) continue;
                Assert.True(want.Data[k] == map.Data[k], $"{set} image {i}: edge {k} is {map.Data[k]}, torch says {want.Data[k]}");
                compared++;
                edges += (int)map.Data[k];
            }
        }
        Assert.True(compared > n * 28 * 24 * 0.99, $"only {compared} pixels compared");
        Assert.True(edges > compared / 20, $"only {edges} of {compared} pixels are edges");   // outlines, not an empty map
    }

    [Theory]
    [InlineData("gray", 6, 0, "gray_masked")]
    [InlineData("gray", 6, 10, "gray_masked10")]
    [InlineData("rgb", 2, 0, "rgb_masked")]
    [InlineData("rect", 2, 0, "rect_masked")]
    public void CentreMask_FashionMnist_MatchesTorchSlice(string set, int n, int side, string key)
    {
        var f = Fixtures.Load("data", "pairs");
        var op = new CentreMaskOperator(side == 0 ? null : side);
        for (int i = 0; i < n; i++)
            Fixtures.AssertClose(Row(f[key], i), op.Apply(Row(f[$"{set}_image"], i)), 0, 1e-7, $"{key} image {i}");
    }

    [Theory]
    [InlineData("gray", 6, 2)]
    [InlineData("gray", 6, 4)]
    [InlineData("rgb", 2, 2)]
    [InlineData("rgb", 2, 4)]
    [InlineData("rect", 2, 2)]
    public void BoxDownscale_FashionMnist_MatchesTorchAvgPool2d(string set, int n, int s)
    {
        var f = Fixtures.Load("data", "pairs");
        for (int i = 0; i < n; i++)
            Fixtures.AssertClose(Row(f[$"{set}_down{s}"], i), new BoxDownscaleOperator(s).Apply(Row(f[$"{set}_image"], i)), 1e-6, 1e-7, $"{set} image {i}, downscale {s}");
    }

    [Fact]
    public void Fixture_GrayImages_AreTheEmbeddedTestSplitsFirst()
    {
        var f = Fixtures.Load("data", "pairs");
        var data = FashionMnist.LoadEmbedded();
        for (int i = 0; i < 6; i++)
            Fixtures.AssertClose(Row(f["gray_image"], i), data.Get(i).Image, 0, 1e-7, $"image {i}");
    }
}
