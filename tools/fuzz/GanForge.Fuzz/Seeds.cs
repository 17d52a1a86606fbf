using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Serialization;

namespace GanForge.Fuzz;

/// <summary>
/// Writes the GanForge-made seeds into tests/fixtures/fuzz/NAME/seeds: small valid files of each format, written by
/// GanForge's own writers (the seeds made by other tools, PIL's PNGs, NumPy's and PyTorch's files, are fixtures already).
/// </summary>
static class Seeds
{
    public static void Write(string fixtures)
    {
        string Dir(string target) { var d = Path.Combine(fixtures, "fuzz", target, "seeds"); Directory.CreateDirectory(d); return d; }

        var data = FashionMnist.LoadEmbedded();
        var images = new byte[4 * 28 * 28];
        var labels = new byte[4];
        for (int i = 0; i < 4; i++)
        {
            var (image, label) = data.Get(i);
            PixelConvert.ToBytes(image.Data, images.AsSpan(i * 784, 784), 0f, 1f);
            labels[i] = (byte)label;
        }
        Idx.WriteImages(Path.Combine(Dir("idx"), "t10k-images-idx3-ubyte"), images, 4, 28, 28);
        Idx.WriteLabels(Path.Combine(Dir("idx"), "t10k-labels-idx1-ubyte"), labels);
        Idx.WriteImages(Path.Combine(Dir("idx-gz"), "t10k-images-idx3-ubyte.gz"), images, 4, 28, 28, gzip: true);
        Idx.WriteLabels(Path.Combine(Dir("idx-gz"), "t10k-labels-idx1-ubyte.gz"), labels, gzip: true);

        PngEncoder.Save(Path.Combine(Dir("png"), "gray28.png"), new ByteImage(28, 28, 1, images[..784]));
        var rgb = new byte[8 * 6 * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 37);
        PngEncoder.Save(Path.Combine(Dir("png"), "rgb8x6.png"), new ByteImage(8, 6, 3, rgb));

        var rng = new Generator(1);
        Npy.Save(Path.Combine(Dir("npy"), "z.npy"), Tensor.Randn([3, 5], rng));

        SafeTensors.Save(Path.Combine(Dir("safetensors"), "weights.safetensors"),
            [new("layer.weight", Tensor.Randn([3, 4], rng)), new("layer.bias", Tensor.Randn([3], rng)), new("bn.num_batches_tracked", Tensor.Scalar(7))],
            new Dictionary<string, string> { ["format"] = "pt" }, new HashSet<string> { "bn.num_batches_tracked" });

        var work = Directory.CreateTempSubdirectory("ganforge-fuzz-seeds-").FullName;
        try
        {
            foreach (var (model, ema) in new[] { ("dcgan", 0.9f), ("sngan", 0f) })
            {
                var config = new TrainConfig
                {
                    Model = model, Data = "embedded", Limit = 64, BatchSize = 32, Epochs = 1, MaxSteps = 2, ImageSize = 16, LatentDim = 4,
                    Ema = ema, Out = Path.Combine(work, model), LogEvery = 1, ModelOptions = { ["width"] = "2" },
                };
                using (var trainer = TrainingSetup.Create(config, resume: false)) trainer.Run();
                File.Copy(Path.Combine(config.Out, Checkpoint.FileName), Path.Combine(Dir("checkpoint"), $"{model}-checkpoint.safetensors"), overwrite: true);
                // The run's config.yaml, with the temporary folder it ran in replaced by a plain one.
                var yaml = File.ReadAllText(Path.Combine(config.Out, "config.yaml")).Replace(config.Out, $"runs/{model}");
                File.WriteAllText(Path.Combine(Dir("yaml"), $"{model}.yaml"), yaml);
            }
        }
        finally { Directory.Delete(work, recursive: true); }
        File.WriteAllText(Path.Combine(Dir("yaml"), "run.yaml"),
            "model: wgan-gp\nepochs: 2\nbatch-size: 64\noptimizers:\n  d:\n    lr: 0.0001\n    beta1: 0\nmodel-options:\n  gp: 10\nema: 0.999\nseed: 3\n");

        var records = new byte[3 * 3073];
        for (int r = 0; r < 3; r++)
        {
            records[r * 3073] = (byte)(r * 4);
            for (int i = 1; i < 3073; i++) records[r * 3073 + i] = (byte)(i * (r + 1));
        }
        File.WriteAllBytes(Path.Combine(Dir("cifar"), "data_batch_1.bin"), records);
    }
}
