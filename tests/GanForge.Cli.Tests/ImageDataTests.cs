using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan.Training;
using StbImageWriteSharp;

namespace GanForge.Cli.Tests;

/// <summary>
/// Data a user may have, trained end to end through the command line: a folder of JPEGs of mixed sizes in class
/// subfolders (with a truncated file), a folder of RGB PNGs, and CIFAR-10's binary folder, on the 32 x 32 DCGAN.
/// </summary>
public class ImageDataTests : CliTestBase
{
    /// <summary>
    /// <paramref name="perClass"/> JPEGs in "red/" and "blue/", alternately 40x30 and 24x36 pixels: a bright disc of
    /// the class's colour on a dark noisy background, written by stb_image_write.
    /// </summary>
    string WriteJpegFolder(string name, int perClass)
    {
        var root = P(name);
        var rng = new Random(7);
        foreach (var (cls, colour) in new[] { ("red", new byte[] { 230, 40, 30 }), ("blue", new byte[] { 30, 60, 220 }) })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < perClass; i++)
            {
                int w = i % 2 == 0 ? 40 : 24, h = i % 2 == 0 ? 30 : 36;
                var px = new byte[w * h * 3];
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        bool inside = (x - w / 2) * (x - w / 2) + (y - h / 2) * (y - h / 2) < 100;
                        for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = inside ? colour[c] : (byte)rng.Next(40);
                    }
                using var file = File.Create(Path.Combine(root, cls, $"{i:D3}.jpg"));
                new ImageWriter().WriteJpg(px, w, h, ColorComponents.RedGreenBlue, file, 90);
            }
        }
        return root;
    }

    [Fact]
    public void Train_JpegFolderWithClassesAndABadFile_SkipBadTrainsSamplesAndExports()
    {
        var data = WriteJpegFolder("photos", 24);
        var good = File.ReadAllBytes(Path.Combine(data, "red", "000.jpg"));
        File.WriteAllBytes(Path.Combine(data, "red", "cut.jpg"), good[..(good.Length / 2)]);

        // Without --skip-bad: one line naming the file, nothing trained.
        var (code, output) = Run("train", "--model", "dcgan", "--data", data, "--image-size", "32", "--out", P("refused"));
        Assert.Equal(2, code);
        Assert.Contains($"{Path.Combine(data, "red", "cut.jpg")}: truncated JPEG", output);
        Assert.Single(output.Trim().Split('\n'));
        Assert.False(File.Exists(P("refused/checkpoint.safetensors")));

        (code, output) = Run("train", "--model", "dcgan", "--data", data, "--image-size", "32", "--skip-bad", "--set", "width=8",
            "--batch-size", "16", "--max-steps", "3", "--log-every", "1", "--out", P("run"));
        Assert.True(code == 0, output);
        Assert.Contains($"data: image folder {data} (classes from subfolders), 1 unreadable file skipped (first: {Path.Combine(data, "red", "cut.jpg")}: truncated JPEG", output);
        Assert.Contains("48 images of 3x32x32, 2 classes", output);
        var config = TrainConfig.FromYaml(File.ReadAllText(P("run/config.yaml")));
        Assert.Equal((32, 3, true), (config.ImageSize, config.Channels, config.SkipBad));

        Assert.Equal(0, Run("sample", "--checkpoint", P("run"), "--count", "4", "--out", P("samples")).Code);
        var sample = ImageFile.Load(Directory.GetFiles(P("samples"), "*.png").Order().First());
        Assert.Equal((32, 32, 3), (sample.Width, sample.Height, sample.Channels));
        Assert.Equal(0, Run("export", "--checkpoint", P("run"), "--onnx", P("g.onnx")).Code);
        Assert.True(new FileInfo(P("g.onnx")).Length > 1000);
    }

    [Fact]
    public void Train_RgbPngFolderWithChannels3_Dcgan32RunsAndResumes()
    {
        // An RGB folder made here, 32x32 already: the 32 x 32 DCGAN trains on it, and a resume keeps its settings.
        var root = P("rgb");
        Directory.CreateDirectory(root);
        var rng = new Random(3);
        for (int i = 0; i < 32; i++)
        {
            var px = new byte[32 * 32 * 3];
            rng.NextBytes(px);
            PngEncoder.Save(Path.Combine(root, $"{i:D2}.png"), new ByteImage(32, 32, 3, px));
        }
        var (code, output) = Run("train", "--model", "dcgan", "--data", root, "--channels", "3", "--set", "width=8",
            "--batch-size", "16", "--max-steps", "2", "--out", P("run"));
        Assert.True(code == 0, output);
        Assert.Contains("32 images of 3x32x32, unlabelled", output);
        Assert.Equal(0, Run("sample", "--checkpoint", P("run"), "--count", "2", "--out", P("s.npy")).Code);

        (code, output) = Run("train", "--resume", "--out", P("run"), "--max-steps", "3");
        Assert.True(code == 0, output);
        (code, output) = Run("train", "--resume", "--out", P("run"), "--max-steps", "4", "--channels", "1");
        Assert.Equal(2, code);
        Assert.Contains("'channels' is '3' in the run and '1' now", output);
    }

    [Fact]
    public void Train_Cifar10BinaryFolder_Dcgan32AsRgbAndAsGray()
    {
        // CIFAR-10's layout: cifar-10-batches-bin/data_batch_1..5.bin of (label, 3x32x32) records.
        var bin = P("cifar/cifar-10-batches-bin");
        Directory.CreateDirectory(bin);
        var rng = new Random(5);
        for (int b = 1; b <= 5; b++)
        {
            var bytes = new byte[8 * 3073];
            rng.NextBytes(bytes);
            for (int i = 0; i < 8; i++) bytes[i * 3073] = (byte)(i % 10);
            File.WriteAllBytes(Path.Combine(bin, $"data_batch_{b}.bin"), bytes);
        }
        var (code, output) = Run("train", "--model", "dcgan", "--data", P("cifar"), "--channels", "3", "--set", "width=8",
            "--batch-size", "16", "--max-steps", "2", "--out", P("rgb"));
        Assert.True(code == 0, output);
        Assert.Contains("CIFAR-10 train split", output);
        Assert.Contains("40 images of 3x32x32, 10 classes", output);

        (code, output) = Run("train", "--model", "dcgan", "--data", P("cifar"), "--channels", "1", "--set", "width=8",
            "--batch-size", "16", "--max-steps", "1", "--out", P("gray"));
        Assert.True(code == 0, output);
        Assert.Contains("RGB to gray: 40 images of 1x32x32", output);
        Assert.Equal(1, TrainConfig.FromYaml(File.ReadAllText(P("gray/config.yaml"))).Channels);
    }

    [Fact]
    public void Train_ChannelsOutOfRange_IsAOneLineError()
    {
        var (code, output) = Run("train", "--channels", "2", "--out", P("x"));
        Assert.Equal(2, code);
        Assert.Contains("error: --channels must be 1 (gray) or 3 (RGB), got 2", output);
    }
}
