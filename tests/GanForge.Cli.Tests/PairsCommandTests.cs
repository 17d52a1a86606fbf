using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>`ganforge pairs`: a paired set written out as A and B files, from Fashion-MNIST and from a user's folder.</summary>
public class PairsCommandTests : CliTestBase
{
    [Fact]
    public void Pairs_FashionMnistEdgesTestSplit_WritesIdxFilesInTheSplitsOrder()
    {
        var (code, output) = Run("pairs", "--data", "fashion-mnist", "--pairs", "edges", "--split", "test", "--limit", "20",
            "--out-a", P("a.idx"), "--out-b", P("b.idx"));
        Assert.True(code == 0, output);
        Assert.Contains($"Wrote 20 pairs (edges:1.5): A 1x28x28 to {P("a.idx")}, B 1x28x28 to {P("b.idx")}", output);
        Assert.Contains("data: Fashion-MNIST test split", output);

        var a = Idx.ReadImages(P("a.idx"));
        var b = Idx.ReadImages(P("b.idx"));
        Assert.Equal([20, 28, 28], a.Dims);
        Assert.Equal([20, 28, 28], b.Dims);
        var test = FashionMnist.LoadEmbedded();   // the t10k files, in their order
        var edges = new SobelEdgesOperator();
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(test.ImageBytes(i).ToArray(), b.Data.AsSpan(i * 784, 784).ToArray());   // B round-trips exactly through [-1, 1]
            var want = edges.Apply(test.Get(i).Image).ToArray().Select(v => (byte)(v * 255)).ToArray();
            Assert.Equal(want, a.Data.AsSpan(i * 784, 784).ToArray());
        }
        Assert.Contains(a.Data, v => v == 255);
        Assert.All(a.Data, v => Assert.True(v is 0 or 255));
    }

    [Fact]
    public void Pairs_SideBySideFolderOfMixedSizes_ImageSizeWritesAPngFolderAndNpy()
    {
        // A user's folder: RGB A|B images of two sizes, left a dark square on grey, right the same in colour.
        var data = P("facades/train");
        Directory.CreateDirectory(data);
        for (int i = 0; i < 5; i++)
        {
            int w = i % 2 == 0 ? 40 : 24, h = i % 2 == 0 ? 18 : 14, half = w / 2;
            var px = new byte[w * h * 3];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    bool inside = Math.Abs(x % half - half / 2) < 4 && Math.Abs(y - h / 2) < 4;
                    for (int c = 0; c < 3; c++)
                        px[(y * w + x) * 3 + c] = x < half ? (byte)(inside ? 30 : 160) : (byte)(inside ? 40 * c + 20 : 200 - 50 * c);
                }
            PngEncoder.Save(Path.Combine(data, $"{i}.png"), new ByteImage(w, h, 3, px));
        }
        var (code, output) = Run("pairs", "--data", P("facades"), "--pairs", "side-by-side", "--image-size", "16", "--channels", "3",
            "--out-a", P("a"), "--out-b", P("b.npy"));
        Assert.True(code == 0, output);
        Assert.Contains("Wrote 5 pairs (side-by-side): A 3x16x16", output);
        Assert.Contains("data: side-by-side pairs in " + data, output);
        Assert.Equal(5, Directory.GetFiles(P("a"), "*.png").Length);
        var a0 = ImageFile.Load(Path.Combine(P("a"), "000000.png"));
        Assert.Equal((16, 16), (a0.Width, a0.Height));
        var b = Npy.Load(P("b.npy"));
        Assert.Equal([5, 3, 16, 16], b.Shape);
        Assert.InRange(b.ToArray().Min(), -1f, 1f);
        Assert.True(b.ToArray().Max() - b.ToArray().Min() > 1f, "B holds the images' contrast");
    }

    [Theory]
    [InlineData("sketch", "Pairs 'sketch': unknown kind 'sketch'; known: edges[:T]")]
    [InlineData("downscale:3", "Data 'embedded': Pairs 'downscale:3': images of 1x28x28 do not divide into 3 x 3 blocks")]
    public void Pairs_BadKind_IsOneLineError(string kind, string message)
    {
        var (code, output) = Run("pairs", "--pairs", kind, "--out-a", P("a.idx"), "--out-b", P("b.idx"));
        Assert.True(code == 2, output);
        Assert.Contains("error: " + message, Assert.Single(output.Trim().Split('\n')));
        Assert.False(File.Exists(P("a.idx")));
    }

    [Fact]
    public void Pairs_SameOutputForAAndB_IsRefused()
    {
        var (code, output) = Run("pairs", "--pairs", "edges", "--out-a", P("x.png"), "--out-b", P("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("--out-a and --out-b are both", output);
    }
}
