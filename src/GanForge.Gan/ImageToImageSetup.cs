using GanForge.Data;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;

namespace GanForge.Gan;

/// <summary>
/// The data of the image-to-image variants for <see cref="TrainingSetup"/>: pairs (pix2pix, super-resolution) or two
/// domains (CycleGAN), resolved from the configuration, their shapes recorded in it (image size, channels, the input's
/// channels as a model option, the pairs kind with its settings), and their batch source.
/// </summary>
static class ImageToImageSetup
{
    /// <summary>The pairs of <see cref="TrainConfig.Data"/> made as <see cref="TrainConfig.Pairs"/> says.</summary>
    public static (IBatchSource Source, int Channels, int Size, string Description) Pairs(Variant variant, TrainConfig resolved, TrainConfig given)
    {
        var i2i = (ImageToImageVariant)variant;
        var pairs = DataSpec.ResolvePairs(resolved.Data, resolved.Pairs!, resolved.Split, resolved.Limit, TrainingSetup.DataOptions(resolved));
        if (pairs.Split is "train" or "test") resolved.Split = pairs.Split;
        resolved.Pairs = pairs.Kind;
        var (a, b, _) = pairs.Pairs.Get(0);
        int channels = b.Size(0), size = b.Size(1);
        if (b.Size(1) != b.Size(2))
            throw new ArgumentException($"{variant.Name}: the targets B of {resolved.Data} are {b.Size(1)}x{b.Size(2)}; pass --image-size to centre-crop and resize them to squares");
        if (!variant.SupportsImageSize(size))
            throw new ArgumentException($"{variant.Name}: image size {size} is not supported ({variant.ImageSizes}; use --image-size to resize)");
        (resolved.ImageSize, resolved.Channels) = (size, channels);
        FillInputChannels(resolved, given, a.Size(0));
        ((ImageToImageVariant)variant).ResolveSizeOptions(resolved.ModelOptions, size);
        i2i.CheckPairs(a.Shape, b.Shape, TrainingSetup.Options(resolved));
        return (new PairedBatchSource(pairs.Pairs, resolved.BatchSize, resolved.Seed), channels, size, pairs.Description);
    }

    /// <summary>The two domains <see cref="TrainConfig.DomainA"/> and <see cref="TrainConfig.DomainB"/>.</summary>
    public static (IBatchSource Source, int Channels, int Size, string Description) Domains(Variant variant, TrainConfig resolved, TrainConfig given)
    {
        var domains = DataSpec.ResolveDomains(resolved.DomainA!, resolved.DomainB!, resolved.Split, resolved.Limit, TrainingSetup.DataOptions(resolved));
        if (domains.B.Split is "train" or "test") resolved.Split = domains.B.Split;
        var a = domains.A.Dataset.Get(0).Image;
        var b = domains.B.Dataset.Get(0).Image;
        int channels = b.Size(0), size = b.Size(1);
        if (b.Size(1) != b.Size(2))
            throw new ArgumentException($"{variant.Name}: the images of domain B ({resolved.DomainB}) are {b.Size(1)}x{b.Size(2)}; pass --image-size to centre-crop and resize them to squares");
        if (!variant.SupportsImageSize(size))
            throw new ArgumentException($"{variant.Name}: image size {size} is not supported ({variant.ImageSizes}; use --image-size to resize)");
        (resolved.ImageSize, resolved.Channels) = (size, channels);
        FillInputChannels(resolved, given, a.Size(0));
        ((ImageToImageVariant)variant).ResolveSizeOptions(resolved.ModelOptions, size);
        return (new UnpairedBatchSource(domains.A.Dataset, domains.B.Dataset, resolved.BatchSize, resolved.Seed), channels, size, domains.Description);
    }

    /// <summary>The input-channels option from the data, unless the user set it; then it must agree.</summary>
    static void FillInputChannels(TrainConfig resolved, TrainConfig given, int found)
    {
        const string key = ImageToImageVariant.InputChannelsKey;
        string value = found.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (given.ModelOptions.TryGetValue(key, out var set) && set.Trim() != "0" && set.Trim() != value)
            throw new ArgumentException($"{resolved.Model}: --set {key}={set} but the input images A have {found} channels (use --channels to convert them)");
        resolved.ModelOptions[key] = value;
    }
}
