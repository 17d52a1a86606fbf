using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// What the image-to-image variants (pix2pix, SRGAN, CycleGAN) share: a generator conditioned on an input image
/// rather than on z, paired (or unpaired) data, the input's channels recorded as an option, no EMA (the papers keep
/// none), and sample grids drawn from a fixed batch of the data.
/// </summary>
public abstract class ImageToImageVariant : Variant
{
    /// <summary>The option the trainer fills in from the data: the channels of the input images A.</summary>
    public const string InputChannelsKey = "input-channels";

    /// <summary>The input-channels option (0 = as many as the output's).</summary>
    public static ModelOption InputChannels { get; } =
        ModelOption.Int(InputChannelsKey, 0, "channels of the input images A (filled in from the data; 0 = as many as the output images B)", max: 4);

    public override TrainingData Data => TrainingData.Pairs;

    /// <summary>The input's channels for a model spec (the option, or the output's when it is 0).</summary>
    public static int InputChannelsOf(ModelSpec spec) =>
        spec.Options.Has(InputChannelsKey) && spec.Options.Int(InputChannelsKey) > 0 ? spec.Options.Int(InputChannelsKey) : spec.Channels;

    /// <summary>
    /// Replaces the options whose 0 means "by image size" (the PatchGAN's layers, CycleGAN's blocks) with the value
    /// chosen for <paramref name="size"/>, once the data's size is known, so config.yaml records what was built.
    /// </summary>
    public virtual void ResolveSizeOptions(IDictionary<string, string> options, int size)
    {
        if (options.TryGetValue("d-layers", out var layers) && layers == "0")
            options["d-layers"] = PatchGan.LayersFor(size).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The input's height and width for an output of <paramref name="size"/> (smaller for super-resolution).</summary>
    public virtual int InputSize(ModelOptions options, int size) => size;

    /// <summary>Paired data is required, domains refused; the run keeps no EMA (resolved to 0).</summary>
    public override void ResolveData(TrainConfig config)
    {
        CommonSettings(config);
        if (config.DomainA != null || config.DomainB != null)
            throw new ArgumentException($"{Name}: trains on pairs (--pairs KIND with --data), not on two domains (--domain-a/--domain-b are for cyclegan)");
        if (config.Scale != 0)
            throw new ArgumentException($"{Name}: --scale is for the super-resolution models (srresnet, srgan)");
        if (string.IsNullOrWhiteSpace(config.Pairs))
            throw new ArgumentException($"{Name}: needs paired data; give --pairs KIND: {GanForge.Data.DataSpec.PairsHelp}");
    }

    /// <summary>
    /// What every image-to-image game resolves alike: no EMA (the papers keep none), and no settings of the noise games
    /// (evaluation of samples from noise during training, autoencoder pre-training of a generator from z).
    /// </summary>
    protected void CommonSettings(TrainConfig config)
    {
        config.Ema = 0;
        if (config.EvalEvery > 0)
            throw new ArgumentException($"{Name}: --eval-every scores samples generated from noise; score an image-to-image model with `ganforge translate --target B --labels L` instead");
        if (config.PretrainAe > 0)
            throw new ArgumentException($"{Name}: --pretrain-ae pre-trains a generator from z; {Name}'s generator maps images to images");
    }

    /// <summary>
    /// Checks that pairs of these shapes (C,H,W each) fit the networks: by default A and B of one height and width.
    /// An ArgumentException names both shapes.
    /// </summary>
    public virtual void CheckPairs(int[] a, int[] b, ModelOptions options)
    {
        int expected = InputSize(options, b[1]);
        if (a[1] != expected || a[2] != expected)
            throw new ArgumentException($"{Name}: inputs A are {string.Join("x", a)} and targets B {string.Join("x", b)}; " +
                                        $"{Name} makes B from an A of {expected}x{expected}");
    }
}

/// <summary>The sample grid of a paired game: one row per pair, input | output | target, the input resized to the output's size for display.</summary>
public sealed class PairedPreview : ImagePreview
{
    public override int Columns => 3;

    public override Tensor Render(GanModel model, GanBatch batch)
    {
        var output = model.Generator.Forward(batch.Images);
        var input = DisplayLike(batch.Images, output);
        var target = batch.Target!;
        int n = batch.Size;
        var rows = new List<Tensor>(3 * n);
        for (int i = 0; i < n; i++)
        {
            rows.Add(input.Narrow(0, i, 1));
            rows.Add(output.Narrow(0, i, 1));
            rows.Add(target.Narrow(0, i, 1));
        }
        return Tensor.Cat([.. rows], 0);
    }

    /// <summary>
    /// <paramref name="images"/> shown beside <paramref name="like"/>: gray repeated to RGB (or RGB averaged to gray),
    /// enlarged by nearest neighbour to its size (a low-resolution input shows its pixels as blocks).
    /// </summary>
    public static Tensor DisplayLike(Tensor images, Tensor like)
    {
        int c = like.Size(1), h = like.Size(2), w = like.Size(3);
        if (images.Size(1) != c)
            images = images.Size(1) == 1 ? Tensor.Cat([images, images, images], 1).Narrow(1, 0, c) : images.Mean([1], keepDim: true);
        if (images.Size(2) != h || images.Size(3) != w) images = Tensor.Interpolate(images, new Size2(h, w), null, "nearest", null);
        return images;
    }
}
