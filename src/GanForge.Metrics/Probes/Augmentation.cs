using GanForge.Data;
using GanForge.Gan;
using GanForge.Gan.Training;
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
/// <param name="GeneratedShare">The share of each batch drawn from the generated images, the rest from the real ones
/// (the mixing ratio); 0 draws from the union, so each image is as likely as any other.</param>
public sealed record AugmentationOptions(int PerClass = 10, int GeneratedPerClass = 100, int Seeds = 3, int Steps = 600,
    double MinConfidence = 0, int TestLimit = 0, double GeneratedShare = 0);

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

    /// <summary>
    /// Trains a fresh classifier on (x, y) for <paramref name="steps"/> updates and returns its accuracy on the test set.
    /// With <paramref name="generatedShare"/> above 0 the images from <paramref name="realCount"/> on are the generated
    /// ones, and that share of each batch is drawn from them, the rest from the real ones; otherwise from all alike.
    /// </summary>
    public static double TrainAndScore(Tensor x, int[] y, Tensor testX, int[] testY, int classes, int steps, ulong seed,
        int realCount = 0, double generatedShare = 0)
    {
        var rng = new Generator(seed);
        var net = Classifier(x.Size(1), x.Size(2), classes, rng);
        var adam = new Adam(net.Parameters(), lr: 1e-3);
        var labels = Tensor.FromArray(y.Select(v => (float)v).ToArray(), [y.Length]);
        int batch = Math.Min(64, y.Length);
        using (GradMode.EnableGrad())
            for (int step = 0; step < steps; step++)
            {
                var picks = BatchIndices(rng, batch, y.Length, realCount, generatedShare);
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
    /// A batch of indices into <paramref name="count"/> images, the first <paramref name="realCount"/> real: with a
    /// <paramref name="generatedShare"/> above 0 (and both kinds there) round(batch · share) of them from the generated
    /// images and the rest from the real ones, otherwise all drawn alike.
    /// </summary>
    public static int[] BatchIndices(Generator rng, int batch, int count, int realCount, double generatedShare)
    {
        bool mixed = generatedShare > 0 && realCount > 0 && realCount < count;
        int fromGenerated = (int)Math.Round(batch * generatedShare);
        var picks = new int[batch];
        for (int i = 0; i < batch; i++)
            picks[i] = !mixed ? rng.NextInt(count)
                : i < fromGenerated ? realCount + rng.NextInt(count - realCount) : rng.NextInt(realCount);
        return picks;
    }

    /// <summary>
    /// The study: for each seed, N real images per class from the data's train split, the classifier trained on them
    /// alone and on them plus the generator's images; accuracy on the test split. Returns the two rows and the protocol.
    /// </summary>
    public static (IReadOnlyList<AugmentationRow> Rows, string Protocol) Run(string checkpoint, string data, AugmentationOptions o)
    {
        var source = GeneratedSource.Load(checkpoint);
        int channels = source.ImageShape[0], size = source.ImageShape[1], classes = source.Classes;
        var train = DataSpec.Resolve(data, "train");
        var test = DataSpec.Resolve(data, "test");
        if (train.Split == test.Split)
            throw new ArgumentException($"augment: {data} has one split only; it needs a train and a test split (fashion-mnist has both)");
        if (classes == 0) classes = train.NumClasses;
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
            var (gx, gy) = Filter(source.Generate(x, y, classes, o.GeneratedPerClass, seed), o.MinConfidence, filter);
            keptTotal += gy.Length;
            augmented.Add(TrainAndScore(Tensor.Cat([x, gx], 0), [.. y, .. gy], testX, testY, classes, o.Steps, seed, y.Length, o.GeneratedShare));
        }
        string filterText = o.MinConfidence > 0
            ? $", kept when the evaluator gives their class p >= {o.MinConfidence} ({keptTotal / o.Seeds} of {o.GeneratedPerClass * classes} a seed on average)" : "";
        string mixText = o.GeneratedShare > 0 ? $"; each batch {o.GeneratedShare * 100:0.#}% generated" : "; batches drawn from real and generated alike";
        return ([
            new AugmentationRow("real only", o.PerClass, 0, realOnly),
            new AugmentationRow("real + generated", o.PerClass, o.GeneratedPerClass, augmented),
        ], $"small CNN, {o.Steps} Adam updates of batch 64 each; {o.PerClass} real images per class from {train.Description}; " +
           $"{o.GeneratedPerClass} generated per class {source.Description}{filterText}{mixText}; {testY.Length} test images; {o.Seeds} seeds");
    }

    /// <summary>The images the evaluator gives at least <paramref name="minConfidence"/> probability of their label (all when 0).</summary>
    static (Tensor Images, int[] Labels) Filter((Tensor Images, int[] Labels) generated, double minConfidence, NetworkFeatureExtractor? filter)
    {
        if (filter == null) return generated;
        var (images, labels) = generated;
        var (_, probabilities) = filter.Extract(images);
        var keep = Enumerable.Range(0, labels.Length).Where(i => probabilities![i, labels[i]] >= minConfidence).ToArray();
        return (images.IndexSelect(0, keep), keep.Select(i => labels[i]).ToArray());
    }
}

/// <summary>
/// Where `augment` gets its generated images: a class-conditional generator (cgan, acgan) makes each class from
/// noise; DAGAN makes each from the labelled real images themselves, labelled with their class.
/// </summary>
abstract class GeneratedSource
{
    /// <summary>The images' shape (C,H,W).</summary>
    public abstract int[] ImageShape { get; }

    /// <summary>The classes the generator knows (0 when it takes them from the real images).</summary>
    public abstract int Classes { get; }

    /// <summary>For the protocol line: "from MODEL ...".</summary>
    public abstract string Description { get; }

    /// <summary><paramref name="perClass"/> images of each class in [-1, 1] with their labels; <paramref name="x"/>, <paramref name="y"/> the labelled real images.</summary>
    public abstract (Tensor Images, int[] Labels) Generate(Tensor x, int[] y, int classes, int perClass, ulong seed);

    public static GeneratedSource Load(string checkpoint)
    {
        var state = Checkpoint.Read(Checkpoint.Locate(checkpoint), Checkpoint.NoTensors).State;
        if (state.Model == "dagan") return new FromRealImages(Translator.Load(checkpoint, who: "augment"));
        var sampler = Sampler.Load(checkpoint);
        if (sampler.Model.Classes == 0)
            throw new ArgumentException($"augment: model '{sampler.Model.Name}' is not class-conditional; train cgan or acgan (or dagan) to make labelled images");
        return new FromClasses(sampler);
    }

    sealed class FromClasses(Sampler sampler) : GeneratedSource
    {
        public override int[] ImageShape => sampler.Model.ImageShape;
        public override int Classes => sampler.Model.Classes;
        public override string Description => $"from {sampler.Model.Name}";

        public override (Tensor Images, int[] Labels) Generate(Tensor x, int[] y, int classes, int perClass, ulong seed)
        {
            var latents = sampler.Latents(perClass * classes, seed * 7919 + 17);      // classes go round 0..C-1
            return (sampler.Generate(latents), latents.Classes!.ToArray().Select(c => (int)c).ToArray());
        }
    }

    /// <summary>DAGAN: each class's real images in turn, each through G as often as needed (new noise each time).</summary>
    sealed class FromRealImages(Translator dagan) : GeneratedSource
    {
        public override int[] ImageShape => dagan.OutputShape;
        public override int Classes => 0;
        public override string Description => "by dagan from the labelled real images of the class, in turn";

        public override (Tensor Images, int[] Labels) Generate(Tensor x, int[] y, int classes, int perClass, ulong seed)
        {
            var sources = new List<int>(perClass * classes);
            for (int c = 0; c < classes; c++)
            {
                var members = Enumerable.Range(0, y.Length).Where(i => y[i] == c).ToArray();
                if (members.Length == 0) throw new ArgumentException($"augment: no labelled real image of class {c} for dagan to start from");
                for (int k = 0; k < perClass; k++) sources.Add(members[k % members.Length]);
            }
            var picks = sources.ToArray();
            return (dagan.Translate(x.IndexSelect(0, picks), who: "augment"), picks.Select(i => y[i]).ToArray());
        }
    }
}
