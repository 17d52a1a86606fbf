using GanForge.Data;
using GanForge.Gan;

namespace GanForge.Metrics.Probes;

/// <summary>One row of a probe: the representation, its width, the test accuracy of a linear classifier on it.</summary>
public sealed record ProbeResult(string Representation, int Features, double Accuracy);

/// <summary>
/// The discriminator as a pretrained feature extractor: a linear probe (<see cref="LinearProbe"/>) on the frozen
/// features of D's last hidden layer, trained on N labelled training images per class (class-balanced, drawn with the
/// seed) and scored on the test split; beside it the same probe on a randomly initialised D of the same architecture
/// and on the raw pixels.
/// </summary>
public static class DiscriminatorProbe
{
    /// <param name="checkpoint">The run whose D is probed.</param>
    /// <param name="data">Data spec; its train split gives the labelled images, its test split the score. Data with one
    /// split only (embedded) is cut in two halves: labelled images from the first, the score on the second.</param>
    /// <param name="perClass">Labelled training images per class the probe is trained on.</param>
    /// <param name="seed">Draws the labelled images, the random D's initialisation and the probe's training.</param>
    /// <param name="testLimit">Score on the first N test images only (0 = all).</param>
    public static (IReadOnlyList<ProbeResult> Rows, string Protocol) Run(string checkpoint, string data, int perClass, ulong seed = 0, int testLimit = 0)
    {
        var trained = TrainedDiscriminator.Load(checkpoint);
        var random = TrainedDiscriminator.Load(checkpoint, randomSeed: seed + 1000);
        int size = trained.Model.ImageShape[1], channels = trained.Model.ImageShape[0];

        var test = DataSpec.Resolve(data, "test");
        var train = DataSpec.Resolve(data, "train");
        IDataset trainSet = train.Dataset, testSet = test.Dataset;
        string protocol = $"{perClass} labelled images per class from {train.Description} ({train.Split} split), scored on {test.Split} split";
        if (train.Split == test.Split)
        {
            int half = test.Dataset.Count / 2;
            trainSet = new SubsetDataset(test.Dataset, Enumerable.Range(0, half).ToArray());
            testSet = new SubsetDataset(test.Dataset, Enumerable.Range(half, test.Dataset.Count - half).ToArray());
            protocol = $"{perClass} labelled images per class from the first half of {test.Description}, scored on the second half";
        }
        if (testLimit > 0 && testLimit < testSet.Count) testSet = new SubsetDataset(testSet, Enumerable.Range(0, testLimit).ToArray());

        var trainIndices = trainSet.BalancedIndices(perClass, seed);
        var (trainImages, trainLabels) = Images(trainSet, trainIndices, channels, size);
        var (testImages, testLabels) = Images(testSet, Enumerable.Range(0, testSet.Count).ToArray(), channels, size);
        int classes = Math.Max(trainLabels.Max(), testLabels.Max()) + 1;

        ProbeResult Probe(string name, Func<Tensor, Tensor> features)
        {
            var (trainF, testF) = (features(trainImages), features(testImages));
            var probe = LinearProbe.Fit(trainF, trainLabels, classes, seed: seed);
            return new ProbeResult(name, trainF.Size(1), probe.Accuracy(testF, testLabels));
        }
        return ([
            Probe("trained D", x => trained.Features(x)),
            Probe("random D", x => random.Features(x)),
            Probe("pixels", x => x.Reshape(x.Size(0), -1)),
        ], protocol + $"; {testImages.Size(0)} test images");
    }

    /// <summary>Images (N, C, size, size) in [-1, 1] of <paramref name="indices"/> and their labels.</summary>
    public static (Tensor Images, int[] Labels) Images(IDataset dataset, int[] indices, int channels, int size)
    {
        var labels = new int[indices.Length];
        var parts = new Tensor[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            var (image, label) = dataset.Get(indices[i]);
            if (image.Size(0) != channels)
                throw new ArgumentException($"probe: the data's images have {image.Size(0)} channels, the model takes {channels}");
            parts[i] = image.Unsqueeze(0);
            labels[i] = label;
        }
        var x = Tensor.Cat(parts, 0) * 2f - 1f;
        if (x.Size(2) != size || x.Size(3) != size) x = Tensor.Interpolate(x, new Size2(size, size), mode: "bilinear");
        return (x, labels);
    }
}
