using GanForge.Data;
using GanForge.Gan;
using GanForge.Metrics.Evaluators;
using GanForge.NN;
using GanForge.Optim;

namespace GanForge.Metrics.Probes;

/// <summary>How `augment` trains and what it adds: the classifier's budget and the generated images.</summary>
/// <param name="PerClass">Real labelled training images per class.</param>
/// <param name="GeneratedPerClass">Generated images added per class.</param>
/// <param name="Seeds">Repeats (labelled draw, classifier initialisation, generated images), for the mean ± sd.</param>
/// <param name="Steps">Classifier updates (Adam 1e-3, batch 64) per training run.</param>
/// <param name="MinConfidence">Keep only generated images the evaluator gives at least this probability of their class (0 = keep all).</param>
/// <param name="TestLimit">Score on the first N test images (0 = all).</param>
public sealed record AugmentationOptions(int PerClass = 10, int GeneratedPerClass = 100, int Seeds = 3, int Steps = 600,
    double MinConfidence = 0, int TestLimit = 0);

/// <summary>One setting of an augmentation study: its name and the test accuracy of each seed.</summary>
public sealed record AugmentationRow(string Setting, int RealPerClass, int GeneratedPerClass, IReadOnlyList<double> Accuracies)
{
    public double Mean => Accuracies.Average();
    /// <summary>Sample standard deviation over seeds (0 for one seed).</summary>
    public double Sd => Accuracies.Count < 2 ? 0 : Math.Sqrt(Accuracies.Sum(a => (a - Mean) * (a - Mean)) / (Accuracies.Count - 1));
}

/// <summary>
/// GAN data augmentation (Antoniou et al. 2017 and the like): a small classifier trained on N real images per class,
/// with and without images of a class-conditional generator added (labelled with the class they were made for),
/// accuracy on the test split. The classifier is the evaluator's architecture (two conv blocks, a 128-wide layer)
/// trained from scratch; both settings get the same number of updates.
/// </summary>
public static class Augmentation
{
    /// <summary>The small classifier: conv3(32)-BN-ReLU-pool, conv3(64)-BN-ReLU-pool, linear 128-ReLU, dropout 0.3, linear C.</summary>
    public static Module Classifier(int channels, int size, int classes, Generator rng)
    {
        int s = size / 4;
        return new Sequential(
            new Conv2d(channels, 32, 3, padding: 1, bias: false, generator: rng), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1, bias: false, generator: rng), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),   // 64 x size/4
            new Flatten(), new Linear(64 * s * s, 128, generator: rng), new ReLU(),
            new Dropout(0.3f, rng), new Linear(128, classes, generator: rng));
    }

    /// <summary>Trains a fresh classifier on (x, y) for <paramref name="steps"/> updates and returns its accuracy on the test set.</summary>
    public static double TrainAndScore(Tensor x, int[] y, Tensor testX, int[] testY, int classes, int steps, ulong seed)
    {
        var rng = new Generator(seed);
        var net = Classifier(x.Size(1), x.Size(2), classes, rng);
        var adam = new Adam(net.Parameters(), lr: 1e-3);
        var labels = Tensor.FromArray(y.Select(v => (float)v).ToArray(), [y.Length]);
        int batch = Math.Min(64, y.Length);
        using (GradMode.EnableGrad())
            for (int step = 0; step < steps; step++)
            {
                var picks = new int[batch];
                for (int i = 0; i < batch; i++) picks[i] = rng.NextInt(y.Length);
                adam.ZeroGrad();
                F.CrossEntropy(net.Forward(x.IndexSelect(0, picks)), labels.IndexSelect(0, picks)).Backward();
                adam.Step();
            }
        net.Eval();
        var predicted = new List<int>(testY.Length);
        using (GradMode.NoGrad())
            for (int start = 0; start < testY.Length; start += 500)
                predicted.AddRange(net.Forward(testX.Narrow(0, start, Math.Min(500, testY.Length - start))).ArgMax(1).ToArray().Select(c => (int)c));
        return Probes.Accuracy([.. predicted], testY);
    }

    /// <summary>
    /// The study: for each seed, N real images per class from the data's train split, the classifier trained on them
    /// alone and on them plus the generator's images; accuracy on the test split. Returns the two rows and the protocol.
    /// </summary>
    public static (IReadOnlyList<AugmentationRow> Rows, string Protocol) Run(string checkpoint, string data, AugmentationOptions o)
    {
        var sampler = Sampler.Load(checkpoint);
        var model = sampler.Model;
        if (model.Classes == 0)
            throw new ArgumentException($"augment: model '{model.Name}' is not class-conditional; train cgan or acgan to make labelled images");
        int channels = model.ImageShape[0], size = model.ImageShape[1], classes = model.Classes;
        var train = DataSpec.Resolve(data, "train");
        var test = DataSpec.Resolve(data, "test");
        if (train.Split == test.Split)
            throw new ArgumentException($"augment: {data} has one split only; it needs a train and a test split (fashion-mnist has both)");
        IDataset testSet = o.TestLimit > 0 && o.TestLimit < test.Dataset.Count
            ? new SubsetDataset(test.Dataset, Enumerable.Range(0, o.TestLimit).ToArray()) : test.Dataset;
        var (testX, testY) = DiscriminatorProbe.Images(testSet, Enumerable.Range(0, testSet.Count).ToArray(), channels, size);
        var filter = o.MinConfidence > 0 ? EvaluatorRegistry.Load() : null;

        var realOnly = new List<double>();
        var augmented = new List<double>();
        int keptTotal = 0;
        for (int s = 0; s < o.Seeds; s++)
        {
            ulong seed = (ulong)(s + 1);
            var (x, y) = DiscriminatorProbe.Images(train.Dataset, train.Dataset.BalancedIndices(o.PerClass, seed), channels, size);
            realOnly.Add(TrainAndScore(x, y, testX, testY, classes, o.Steps, seed));
            var (gx, gy) = Generated(sampler, o, seed, filter);
            keptTotal += gy.Length;
            augmented.Add(TrainAndScore(Tensor.Cat([x, gx], 0), [.. y, .. gy], testX, testY, classes, o.Steps, seed));
        }
        string filterText = o.MinConfidence > 0
            ? $", kept when the evaluator gives their class p >= {o.MinConfidence} ({keptTotal / o.Seeds} of {o.GeneratedPerClass * model.Classes} a seed on average)" : "";
        return ([
            new AugmentationRow("real only", o.PerClass, 0, realOnly),
            new AugmentationRow("real + generated", o.PerClass, o.GeneratedPerClass, augmented),
        ], $"small CNN, {o.Steps} Adam updates of batch 64 each; {o.PerClass} real images per class from {train.Description}; " +
           $"{o.GeneratedPerClass} generated per class from {model.Name}{filterText}; {testY.Length} test images; {o.Seeds} seeds");
    }

    /// <summary>GeneratedPerClass images of every class, labelled with their class, optionally filtered by the evaluator.</summary>
    static (Tensor Images, int[] Labels) Generated(Sampler sampler, AugmentationOptions o, ulong seed, NetworkFeatureExtractor? filter)
    {
        int classes = sampler.Model.Classes, n = o.GeneratedPerClass * classes;
        var latents = sampler.Latents(n, seed * 7919 + 17);      // classes go round 0..C-1
        var images = sampler.Generate(latents);
        var labels = latents.Classes!.ToArray().Select(c => (int)c).ToArray();
        if (filter == null) return (images, labels);
        var (_, probabilities) = filter.Extract(images);
        var keep = Enumerable.Range(0, n).Where(i => probabilities![i, labels[i]] >= o.MinConfidence).ToArray();
        return (images.IndexSelect(0, keep), keep.Select(i => labels[i]).ToArray());
    }
}
