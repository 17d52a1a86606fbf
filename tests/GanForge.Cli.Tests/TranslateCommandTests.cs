using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Cli.Tests;

/// <summary>`train` on pairs and domains, `translate` and `upscale`: outputs in every format, a user's RGB folder, clear errors.</summary>
public class TranslateCommandTests : CliTestBase
{
    /// <summary>A tiny run of <paramref name="model"/> in folder <paramref name="name"/> (a few steps; the commands only need its weights).</summary>
    string TrainSmall(string name, params string[] args)
    {
        var (code, output) = Run(["train", "--out", P(name), "--max-steps", "2", "--batch-size", "8", "--limit", "32", "--log-every", "1", .. args]);
        Assert.True(code == 0, output);
        return P(name);
    }

    [Fact]
    public void Translate_Pix2PixRun_WritesIdxNpyPngAndAFolder()
    {
        var run = TrainSmall("p2p", "--model", "pix2pix", "--pairs", "edges", "--set", "ngf=8", "--set", "ndf=8");
        var config = File.ReadAllText(Path.Combine(run, "config.yaml"));
        Assert.Contains("pairs: edges:1.5", config);
        Assert.Contains("input-channels: 1", config);
        Assert.Contains("ema: 0", config);
        Assert.Contains("d-layers: 1", config);   // "0 = by image size" recorded as what was built
        var grid = ImageFile.Load(Path.Combine(run, "samples.png"));
        Assert.Equal(3 * 28 + 4 * 2, grid.Width);   // input | output | target, 2 pixels of padding
        Assert.Equal(8 * 28 + 9 * 2, grid.Height);  // 8 fixed pairs

        var (code, output) = Run("pairs", "--pairs", "edges", "--split", "test", "--limit", "10", "--out-a", P("a.idx"), "--out-b", P("b.idx"), "--out-labels", P("l.idx"));
        Assert.True(code == 0, output);
        Assert.Equal(10, Idx.ReadLabels(P("l.idx")).Count);
        foreach (var (path, check) in new (string, Action)[]
        {
            (P("t.idx"), () => Assert.Equal([10, 28, 28], Idx.ReadImages(P("t.idx")).Dims)),
            (P("t.npy"), () => Assert.Equal([10, 1, 28, 28], Npy.Load(P("t.npy")).Shape)),
            (P("t.png"), () => Assert.True(File.Exists(P("t.png")))),
            (P("tdir"), () => Assert.Equal(10, Directory.GetFiles(P("tdir"), "*.png").Length)),
        })
        {
            (code, output) = Run("translate", "--checkpoint", run, "--images", P("a.idx"), "--out", path, "--batch-size", "4");
            Assert.True(code == 0, output);
            Assert.Contains($"Wrote 10 images 1x28x28 (pix2pix, a2b) from 1x28x28 inputs to {path}", output);
            check();
        }
        // A folder of PNGs and .npy in, as well as IDX.
        (code, output) = Run("translate", "--checkpoint", run, "--images", P("tdir"), "--out", P("again.npy"));
        Assert.True(code == 0, output);
        (code, output) = Run("translate", "--checkpoint", run, "--images", P("t.npy"), "--out", P("again2.idx"));
        Assert.True(code == 0, output);
        Assert.Equal(10, Idx.ReadImages(P("again2.idx")).Count);

        // Scored against the targets and the inputs' classes.
        (code, output) = Run("translate", "--checkpoint", run, "--images", P("a.idx"), "--out", P("s.idx"), "--target", P("b.idx"),
            "--labels", P("l.idx"), "--target-class", "9", "--json", P("s.json"));
        Assert.True(code == 0, output);
        Assert.Matches(@"class_agreement [0-9.]+, l1 [0-9.]+, psnr [0-9.]+, ssim [-0-9.]+, target_class_rate [0-9.]+", output);
        var scores = System.Text.Json.JsonDocument.Parse(File.ReadAllText(P("s.json"))).RootElement;
        Assert.InRange(scores.GetProperty("l1").GetDouble(), 0.01, 2);
        Assert.InRange(scores.GetProperty("class_agreement").GetDouble(), 0, 1);
        (code, output) = Run("translate", "--checkpoint", run, "--images", P("a.idx"), "--out", P("s2.idx"), "--target", P("hr-missing.idx"));
        Assert.Equal(2, code);
    }

    [Fact]
    public void Upscale_SrResNetX2_WritesImagesTwiceTheSide_AndRefusesOtherSizes()
    {
        var run = TrainSmall("sr", "--model", "srresnet", "--scale", "2", "--set", "blocks=1", "--set", "width=8");
        Assert.Contains("pairs: downscale:2", File.ReadAllText(Path.Combine(run, "config.yaml")));
        var (code, output) = Run("pairs", "--pairs", "downscale:2", "--limit", "5", "--out-a", P("lr.npy"), "--out-b", P("hr.idx"));
        Assert.True(code == 0, output);
        (code, output) = Run("upscale", "--checkpoint", run, "--images", P("lr.npy"), "--out", P("up.npy"));
        Assert.True(code == 0, output);
        Assert.Contains("Wrote 5 images 1x28x28 (srresnet, a2b) from 1x14x14 inputs", output);
        Assert.Equal([5, 1, 28, 28], Npy.Load(P("up.npy")).Shape);

        // The baseline: bicubic interpolation, no model, scored against the high-resolution images.
        (code, output) = Run("upscale", "--bicubic", "2", "--images", P("lr.npy"), "--out", P("bicubic.npy"), "--target", P("hr.idx"));
        Assert.True(code == 0, output);
        Assert.Contains("Wrote 5 images 1x28x28 (bicubic x2) from 1x14x14 inputs", output);
        Assert.Matches(@"l1 [0-9.]+, psnr [0-9.]+, ssim [0-9.]+", output);
        (code, output) = Run("upscale", "--images", P("lr.npy"), "--out", P("none.npy"));
        Assert.Equal(2, code);
        Assert.Contains("error: upscale: give --checkpoint DIR (an srresnet or srgan run) or --bicubic S", output);

        (code, output) = Run("upscale", "--checkpoint", run, "--images", P("hr.idx"), "--out", P("x.npy"));
        Assert.Equal(2, code);
        Assert.Contains("error: upscale: the images are 28x28 but the srresnet model takes 14x14 (A of its training data); resize them first", output);
        (code, output) = Run("sample", "--checkpoint", run, "--out", P("s.png"));
        Assert.Equal(2, code);
        Assert.Contains("which makes images from images, not from noise; use `ganforge upscale --checkpoint DIR --images IN --out OUT`", output);
    }

    [Fact]
    public void Translate_CycleGanBothWays_AndUserRgbFolders()
    {
        // Two user folders of RGB images of several sizes: --image-size centre-crops and resizes both to 16x16.
        foreach (var (domain, shade) in new[] { ("horses", 60), ("zebras", 200) })
        {
            Directory.CreateDirectory(P(domain));
            for (int i = 0; i < 10; i++)
            {
                int w = 20 + 3 * i, h = 18 + i;
                var px = new byte[w * h * 3];
                for (int k = 0; k < px.Length; k++) px[k] = (byte)((shade + k * (i + 1)) % 256);
                PngEncoder.Save(Path.Combine(P(domain), $"{i:D2}.png"), new ByteImage(w, h, 3, px));
            }
        }
        var run = TrainSmall("cg", "--model", "cyclegan", "--domain-a", P("horses"), "--domain-b", P("zebras"), "--image-size", "16",
            "--set", "ngf=4", "--set", "ndf=4", "--set", "blocks=1");
        var grid = ImageFile.Load(Path.Combine(run, "samples.png"));
        Assert.Equal(6 * 16 + 7 * 2, grid.Width);   // a, G(a), F(G(a)), b, F(b), G(F(b))
        Assert.Equal(3, grid.Channels);
        var (code, output) = Run("pairs", "--data", P("horses"), "--pairs", "edges", "--image-size", "16", "--out-a", P("e.npy"), "--out-b", P("h.npy"));
        Assert.True(code == 0, output);
        foreach (var direction in new[] { "a2b", "b2a" })
        {
            (code, output) = Run("translate", "--checkpoint", run, "--images", P("h.npy"), "--out", P($"{direction}.npy"), "--direction", direction);
            Assert.True(code == 0, output);
            Assert.Contains($"Wrote 10 images 3x16x16 (cyclegan, {direction})", output);
        }
        // A gray input is repeated to RGB.
        (code, output) = Run("translate", "--checkpoint", run, "--images", P("e.npy"), "--out", P("gray.npy"));
        Assert.True(code == 0, output);
        Assert.Equal([10, 3, 16, 16], Npy.Load(P("gray.npy")).Shape);
    }

    [Fact]
    public void Train_UserFolderOfRgbPairs_TrainsPix2PixWithoutChanges()
    {
        // A|B side-by-side RGB images of two sizes; --image-size 16 makes each half 16x16.
        Directory.CreateDirectory(P("facades"));
        for (int i = 0; i < 12; i++)
        {
            int w = i % 2 == 0 ? 48 : 36, h = i % 2 == 0 ? 22 : 18, half = w / 2;
            var px = new byte[w * h * 3];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++)
                        px[(y * w + x) * 3 + c] = x < half ? (byte)(((x + y) % 5) * 50) : (byte)((x * 7 + y * 3 + c * 60 + i) % 256);
            PngEncoder.Save(Path.Combine(P("facades"), $"{i:D2}.png"), new ByteImage(w, h, 3, px));
        }
        var run = TrainSmall("facades-run", "--model", "pix2pix", "--data", P("facades"), "--pairs", "side-by-side", "--image-size", "16",
            "--set", "ngf=8", "--set", "ndf=8");
        var config = File.ReadAllText(Path.Combine(run, "config.yaml"));
        Assert.Contains("image-size: 16", config);
        Assert.Contains("channels: 3", config);
        var (code, output) = Run("pairs", "--data", P("facades"), "--pairs", "side-by-side", "--image-size", "16", "--out-a", P("a"), "--out-b", P("b.npy"));
        Assert.True(code == 0, output);
        (code, output) = Run("translate", "--checkpoint", run, "--images", P("a"), "--out", P("out"));
        Assert.True(code == 0, output);
        Assert.Equal(12, Directory.GetFiles(P("out"), "*.png").Length);
        Assert.Equal(3, ImageFile.Load(Path.Combine(P("out"), "000000.png")).Channels);
    }

    [Theory]
    [InlineData("upscale", "a2b", "upscale takes a super-resolution model (srresnet, srgan); use `ganforge translate` for it")]
    [InlineData("translate", "b2a", "translate: --direction b2a: pix2pix has one generator, from A to B; only cyclegan translates both ways")]
    [InlineData("translate", "sideways", "translate: --direction 'sideways' is not a2b or b2a")]
    public void Translate_WrongModelOrDirection_IsOneLineError(string command, string direction, string message)
    {
        var run = TrainSmall("p2p", "--model", "pix2pix", "--pairs", "masked", "--set", "ngf=8", "--set", "ndf=8");
        var (code, output) = Run("pairs", "--pairs", "masked", "--limit", "3", "--out-a", P("a.npy"), "--out-b", P("b.npy"));
        Assert.True(code == 0, output);
        string[] args = command == "upscale"
            ? [command, "--checkpoint", run, "--images", P("a.npy"), "--out", P("o.npy")]
            : [command, "--checkpoint", run, "--images", P("a.npy"), "--out", P("o.npy"), "--direction", direction];
        (code, output) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, Assert.Single(output.Trim().Split('\n')));
        Assert.False(File.Exists(P("o.npy")));
    }

    [Fact]
    public void Translate_NoiseModelOrMissingImages_SaysWhat()
    {
        var run = TrainSmall("dc", "--model", "dcgan", "--set", "width=8");
        var (code, output) = Run("translate", "--checkpoint", run, "--images", P("nope.idx"), "--out", P("o.npy"));
        Assert.Equal(2, code);
        Assert.Contains("holds a dcgan run, which makes images from noise; translate takes an image-to-image model", output);
        (code, output) = Run("train", "--model", "pix2pix", "--out", P("x"));
        Assert.Equal(2, code);
        Assert.Contains("error: pix2pix: needs paired data; give --pairs KIND: edges[:T]", output);
    }
}
