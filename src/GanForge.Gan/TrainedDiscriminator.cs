using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan;

/// <summary>
/// The discriminator of a run, in eval mode: a classifier where the variant's D has a class head (AC-GAN, the
/// semi-supervised GAN), and a feature extractor for any variant (its last hidden layer, for linear probes).
/// </summary>
public sealed class TrainedDiscriminator
{
    public GanModel Model { get; }
    public Variant Variant { get; }
    public Module Network { get; }
    /// <summary>The checkpoint read, or "random initialisation (seed S)" for an untrained copy.</summary>
    public string Source { get; }

    TrainedDiscriminator(GanModel model, Variant variant, string source)
    {
        Model = model; Variant = variant; Network = model.Discriminator; Source = source;
        Network.Eval();
    }

    /// <summary>
    /// The discriminator of a run folder or checkpoint; with <paramref name="randomSeed"/>, a freshly initialised
    /// discriminator of the same architecture instead (the baseline of a probe).
    /// </summary>
    public static TrainedDiscriminator Load(string checkpoint, ulong? randomSeed = null)
    {
        var path = Checkpoint.Locate(checkpoint);
        var (tensors, state) = Checkpoint.Read(path, Checkpoint.Under(GanModel.DiscriminatorName + "."));
        var config = state.Config;
        var variant = ModelZoo.Get(state.Model);
        var model = ModelZoo.Create(state.Model, new ModelSpec(state.ImageShape[0], state.ImageShape[1], state.LatentDim,
            randomSeed ?? config.Seed, TrainingSetup.Options(config)));
        if (randomSeed is { } seed) return new TrainedDiscriminator(model, variant, $"random initialisation (seed {seed})");
        Checkpoint.LoadInto(model.Discriminator, tensors, GanModel.DiscriminatorName + ".", path, state.Model);
        return new TrainedDiscriminator(model, variant, path);
    }

    /// <summary>True when D has a class head (`classify` works).</summary>
    public bool Classifies => Variant.ClassLogits(Model, new Tensor(1, 1 + Model.HeadOutputs)) != null;

    /// <summary>Class logits (N, C) of images (N,C,H,W) in [-1, 1]; an error for a variant whose D has no class head.</summary>
    public Tensor ClassLogits(Tensor images, int batchSize = 256)
    {
        if (!Classifies)
            throw new ArgumentException($"classify: the discriminator of '{Model.Name}' has no class head (acgan and sgan have one)");
        if (Model.Discriminator is ConditionalModule)
            throw new ArgumentException($"classify: the discriminator of '{Model.Name}' takes the class as input; it cannot name one");
        return Batched(images, batchSize, x => Variant.ClassLogits(Model, Network.Forward(x))!);
    }

    /// <summary>The predicted class of each image.</summary>
    public int[] Classify(Tensor images, int batchSize = 256) =>
        [.. ClassLogits(images, batchSize).ArgMax(1).ToArray().Select(c => (int)c)];

    /// <summary>D's last hidden features (N, F) of images (N,C,H,W) in [-1, 1] (see <see cref="DiscriminatorFeatures"/>).</summary>
    public Tensor Features(Tensor images, int batchSize = 256) =>
        Batched(images, batchSize, x => DiscriminatorFeatures.Of(Network, x));

    Tensor Batched(Tensor images, int batchSize, Func<Tensor, Tensor> f)
    {
        CheckImages(images);
        var parts = new List<Tensor>();
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < images.Size(0); start += batchSize)
            parts.Add(f(images.Narrow(0, start, Math.Min(batchSize, images.Size(0) - start))));
        return Tensor.Cat([.. parts], 0);
    }

    void CheckImages(Tensor images)
    {
        if (images.Rank != 4 || !images.ShapeSpan[1..].SequenceEqual(Model.ImageShape))
            throw new ArgumentException($"{Model.Name} discriminator: images {Shapes.Format(images.ShapeSpan)} do not match the model's {string.Join("x", Model.ImageShape)}");
    }
}
