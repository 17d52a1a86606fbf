using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>Options for <see cref="ImageFolderDataset"/>.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>Convert every image to 1 (gray) or 3 (RGB) channels; null keeps the first image's and rejects others.</summary>
    public int? Channels { get; init; }

    /// <summary>Resize every image to (height, width) bilinearly; null requires all images to match the first.</summary>
    public (int Height, int Width)? Resize { get; init; }
}

/// <summary>
/// PNG images from a folder (as torchvision's ImageFolder): each subfolder is a class, labelled by its
/// position in the ordinal-sorted list of names; a folder with no subfolders is one class. Images are
/// decoded once at construction and kept as bytes.
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    readonly TensorDataset _data;

    public ImageFolderDataset(string root, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolderDataset: folder {root} not found");
        if (options.Channels is { } ch && ch is not (1 or 3))
            throw new ArgumentException($"ImageFolderDataset: Channels must be 1 or 3, got {ch}");

        var classDirs = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToList();
        var entries = new List<(string File, int Label)>();
        if (classDirs.Count == 0)
            entries.AddRange(PngFiles(root).Select(f => (f, 0)));
        else
            for (int c = 0; c < classDirs.Count; c++)
                entries.AddRange(PngFiles(classDirs[c]).Select(f => (f, c)));
        if (entries.Count == 0) throw new InvalidDataException($"ImageFolderDataset: no .png files under {root}");

        int channels = 0, height = 0, width = 0;
        byte[] pixels = [];
        var labels = new int[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var (file, label) = entries[i];
            var img = PngDecoder.Decode(file);
            int imgChannels = img.Channels >= 3 ? 3 : 1;
            if (i == 0)
            {
                channels = options.Channels ?? imgChannels;
                (height, width) = options.Resize ?? (img.Height, img.Width);
                pixels = new byte[(long)entries.Count * channels * height * width <= Array.MaxLength
                    ? entries.Count * channels * height * width
                    : throw new InvalidOperationException($"ImageFolderDataset: {entries.Count} images of {width}x{height} do not fit in memory as one array")];
            }
            if (options.Channels == null && imgChannels != channels)
                throw new InvalidDataException($"ImageFolderDataset: {file} has {imgChannels} channel(s) but the first image has {channels}; the images of a folder must be all gray or all colour");
            if (options.Resize == null && (img.Height != height || img.Width != width))
                throw new InvalidDataException($"ImageFolderDataset: {file} is {img.Width}x{img.Height} but the first image is {width}x{height}; the images of a folder must all be one size");
            var dst = pixels.AsSpan(i * channels * height * width, channels * height * width);
            img = img.ToChannels(channels);
            if (img.Height == height && img.Width == width) img.ToPlanarBytes(dst);
            else
            {
                var resized = Transforms.ResizeBilinear(img.ToTensor(), height, width);
                PixelConvert.ToBytes(resized.Data, dst);
            }
            labels[i] = label;
        }
        Files = entries.Select(e => e.File).ToList();
        Classes = classDirs.Count == 0 ? [] : classDirs.Select(d => Path.GetFileName(d)!).ToList();
        _data = new TensorDataset(pixels, labels, channels, height, width, null, root);
    }

    static IEnumerable<string> PngFiles(string dir) =>
        Directory.GetFiles(dir).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);

    public int Count => _data.Count;
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The image files in sample order.</summary>
    public IReadOnlyList<string> Files { get; }

    public int Channels => _data.Channels;
    public int Height => _data.Height;
    public int Width => _data.Width;

    public (Tensor Image, int Label) Get(int index) => _data.Get(index);

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _data.Label(index);
}
