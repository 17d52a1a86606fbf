using System.Diagnostics;
using System.Globalization;
using GanForge.Data;
using GanForge.NN;
using GanForge.Optim;

namespace GanForge.Metrics.Evaluators;

/// <summary>Settings of <see cref="EvaluatorTraining.Train"/>.</summary>
public sealed record EvaluatorTrainingOptions
{
    /// <summary>Registered architecture to train.</summary>
    public string Architecture { get; init; } = FashionMnistCnn.ArchitectureName;
    public int Epochs { get; init; } = 6;
    public int BatchSize { get; init; } = 64;
    public double Lr { get; init; } = 1e-3;
    public ulong Seed { get; init; } = 1;

    /// <summary>Train on the first this-many training images only (0 = all), for quick runs.</summary>
    public int TrainLimit { get; init; }

    /// <summary>Random translation of up to this many pixels (zero-padded) on top of horizontal flips; 0 = flips only.</summary>
    public int MaxShift { get; init; }

    /// <summary>Folder holding the Fashion-MNIST files, or null for the system folder.</summary>
    public string? DataFolder { get; init; }
}

/// <summary>One epoch's outcome.</summary>
public sealed record EvaluatorEpoch(int Epoch, double TrainLoss, double TestAccuracy, TimeSpan Elapsed);

/// <summary>
/// Trains an evaluator classifier on Fashion-MNIST's train split (images in [-1, 1] as GAN samples are,
/// random shifts and horizontal flips) with Adam and a cosine learning rate, reporting test accuracy each epoch.
/// </summary>
public static class EvaluatorTraining
{
    /// <summary>
    /// Trains and returns the network with its per-epoch history; <paramref name="onEpoch"/> sees each epoch as it ends.
    /// </summary>
    public static (IEvaluatorNetwork Network, IReadOnlyList<EvaluatorEpoch> History) Train(
        EvaluatorTrainingOptions options, Action<EvaluatorEpoch>? onEpoch = null, Action<int, int, double>? onBatch = null)
    {
        if (options.Epochs < 1) throw new ArgumentException($"train-evaluator: epochs {options.Epochs} must be at least 1");
        Generator.ManualSeedAll(options.Seed);
        var network = EvaluatorRegistry.Create(options.Architecture);
        var train = FashionMnist.Load(Split.Train, options.DataFolder);
        if (options.TrainLimit > 0) train = train.Take(options.TrainLimit);
        var test = FashionMnist.Load(Split.Test, options.DataFolder);

        using var loader = new DataLoader(train, new DataLoaderOptions
        {
            BatchSize = options.BatchSize, Shuffle = true, DropLast = true, Seed = options.Seed,
            Transforms = [new RandomShift(options.MaxShift), new RandomHorizontalFlip(), new Normalize()],
        });
        var module = network.Module;
        var optimizer = new Adam(module.Parameters(), lr: options.Lr);
        int totalSteps = options.Epochs * loader.BatchesPerEpoch, step = 0;
        var history = new List<EvaluatorEpoch>();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            module.Train();
            double lossSum = 0;
            int batches = 0;
            foreach (var batch in loader.Epoch())
            {
                // Cosine decay to zero over the whole run: a few epochs reach their best accuracy at the end.
                optimizer.ParamGroups[0].Lr = options.Lr * 0.5 * (1 + Math.Cos(Math.PI * step / totalSteps));
                optimizer.ZeroGrad();
                var loss = F.CrossEntropy(module.Forward(batch.Images), batch.Labels);
                loss.Backward();
                optimizer.Step();
                lossSum += loss.Item();
                batches++;
                step++;
                onBatch?.Invoke(epoch, batches, lossSum / batches);
            }
            double accuracy = Accuracy(network, test);
            var e = new EvaluatorEpoch(epoch + 1, lossSum / batches, accuracy, clock.Elapsed);
            history.Add(e);
            onEpoch?.Invoke(e);
        }
        module.Eval();
        return (network, history);
    }

    /// <summary>Fraction of <paramref name="data"/> (images in [0, 1], normalised here) that the network classifies correctly.</summary>
    public static double Accuracy(IEvaluatorNetwork network, TensorDataset data, int limit = 0, int batchSize = 500)
    {
        int n = limit > 0 ? Math.Min(limit, data.Count) : data.Count;
        var extractor = new NetworkFeatureExtractor("accuracy", network);
        var (_, probs) = extractor.Extract(ToImages(data, n), batchSize);
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int j = 1; j < network.Classes; j++) if (probs![i, j] > probs[i, best]) best = j;
            if (best == data.Label(i)) correct++;
        }
        return (double)correct / n;
    }

    /// <summary>The first <paramref name="count"/> images of <paramref name="data"/> as one tensor (N,C,H,W) in [-1, 1].</summary>
    public static Tensor ToImages(TensorDataset data, int count)
    {
        count = Math.Clamp(count, 0, data.Count);
        int per = data.Channels * data.Height * data.Width;
        var t = new Tensor(count, data.Channels, data.Height, data.Width);
        var d = t.Data;
        for (int i = 0; i < count; i++)
        {
            var src = data.ImageBytes(i);
            for (int j = 0; j < per; j++) d[i * per + j] = src[j] * (2f / 255f) - 1f;
        }
        return t;
    }

    /// <summary>Metadata written beside the weights so a file says how good it is and how it was made.</summary>
    public static Dictionary<string, string> Metadata(EvaluatorTrainingOptions options, IReadOnlyList<EvaluatorEpoch> history) => new()
    {
        ["architecture"] = options.Architecture,
        ["test_accuracy"] = history[^1].TestAccuracy.ToString("F4", CultureInfo.InvariantCulture),
        ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
        ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = options.Lr.ToString("R", CultureInfo.InvariantCulture),
        ["train_images"] = (options.TrainLimit > 0 ? options.TrainLimit : 60000).ToString(CultureInfo.InvariantCulture),
        ["max_shift"] = options.MaxShift.ToString(CultureInfo.InvariantCulture),
        ["input_range"] = "[-1, 1]",
        ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };
}

/// <summary>Translates an image by up to <c>maxShift</c> pixels in each direction, filling with 0 (a seeded draw per sample).</summary>
public sealed class RandomShift(int maxShift) : ITransform
{
    public int MaxShift { get; } = maxShift >= 0 ? maxShift : throw new ArgumentException($"RandomShift: max shift {maxShift} must not be negative");

    public Tensor Apply(Tensor image, Generator rng)
    {
        int dy = rng.NextInt(2 * MaxShift + 1) - MaxShift, dx = rng.NextInt(2 * MaxShift + 1) - MaxShift;
        if (dx == 0 && dy == 0) return image;
        int c = image.Size(0), h = image.Size(1), w = image.Size(2);
        var result = new Tensor(c, h, w);
        var src = image.Data;
        var dst = result.Data;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
            {
                int sy = y - dy;
                if ((uint)sy >= (uint)h) continue;
                for (int x = 0; x < w; x++)
                {
                    int sx = x - dx;
                    if ((uint)sx < (uint)w) dst[(ch * h + y) * w + x] = src[(ch * h + sy) * w + sx];
                }
            }
        return result;
    }
}
