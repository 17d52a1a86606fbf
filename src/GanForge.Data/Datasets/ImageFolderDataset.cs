using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>
/// The images of a folder, as torchvision's ImageFolder reads them: each subfolder is a class, labelled by its position
/// in the ordinal-sorted list of names, holding image files at any depth; a folder with no subfolders is unlabelled.
/// JPEG, PNG, BMP and GIF files are read (<see cref="ImageFile"/>, by extension, case-insensitively); other files and
/// hidden ones (names starting with '.', such as macOS's ._x.jpg) are ignored. Images are decoded once, in parallel,
/// and kept as bytes, converted as <see cref="DataOptions"/> says.
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    readonly TensorDataset _data;

    /// <param name="root">The folder.</param>
    /// <param name="options">Channels, image size and whether to skip unreadable files; null for <see cref="DataOptions.Default"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// No image files; a file cannot be read (unless <see cref="DataOptions.SkipBad"/>: then none can); or, without an
    /// image size, the images differ in size.
    /// </exception>
    public ImageFolderDataset(string root, DataOptions? options = null)
    {
        options ??= DataOptions.Default;
        options.Validate();
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolderDataset: folder {root} not found");

        var classDirs = Directory.GetDirectories(root).Where(d => !IsHidden(d)).Order(StringComparer.Ordinal).ToList();
        var entries = new List<(string File, int Label)>();
        if (classDirs.Count == 0)
            entries.AddRange(ImageFiles(root, recurse: false).Select(f => (f, 0)));
        else
            for (int c = 0; c < classDirs.Count; c++)
                entries.AddRange(ImageFiles(classDirs[c], recurse: true).Select(f => (f, c)));
        if (entries.Count == 0)
            throw new InvalidDataException($"{root}: no image files ({string.Join(", ", ImageFile.Extensions)}) in it" + (classDirs.Count > 0 ? " or its class subfolders" : ""));

        var images = Decode(entries.Select(e => e.File).ToList(), options, out var errors);
        var good = Enumerable.Range(0, entries.Count).Where(i => images[i] != null).ToList();
        Skipped = [.. errors.Where(e => e != null).Select(e => e!)];
        if (good.Count == 0)
            throw new InvalidDataException($"{root}: none of its {entries.Count} image files can be read (first: {Skipped[0]})");

        // Without an image size every image keeps its own, so they must all have the first one's.
        var first = images[good[0]]!;
        int height = first.Height, width = first.Width;
        foreach (int i in good)
            if (images[i]!.Height != height || images[i]!.Width != width)
                throw new InvalidDataException($"{entries[i].File} is {images[i]!.Width}x{images[i]!.Height} but {entries[good[0]].File} is {width}x{height}; " +
                                               "give an image size (train --image-size N) to centre-crop and resize every image to N x N");
        int channels = options.Channels != 0 ? options.Channels : good.All(i => images[i]!.Gray) ? 1 : 3;
        int per = channels * height * width;
        var pixels = new byte[(long)good.Count * per <= Array.MaxLength ? good.Count * per
            : throw new InvalidOperationException($"ImageFolderDataset: {good.Count} images of {channels}x{height}x{width} do not fit in memory as one array")];
        var labels = new int[good.Count];
        for (int k = 0; k < good.Count; k++)
        {
            // Images were kept with 3 channels when the count was not yet known; a gray set keeps the first plane (R = G = B).
            images[good[k]]!.Pixels.AsSpan(0, per).CopyTo(pixels.AsSpan(k * per, per));
            labels[k] = entries[good[k]].Label;
            images[good[k]] = null;
        }
        Files = good.Select(i => entries[i].File).ToList();
        Classes = classDirs.Count == 0 ? [] : classDirs.Select(d => Path.GetFileName(d)!).ToList();
        _data = new TensorDataset(pixels, labels, channels, height, width, null, root);
    }

    /// <summary>One decoded image, planar, converted and resized; <see cref="Gray"/> when it had no colour.</summary>
    sealed record Decoded(byte[] Pixels, int Height, int Width, bool Gray);

    /// <summary>
    /// Decodes <paramref name="files"/> in parallel. Without <see cref="DataOptions.SkipBad"/> the first unreadable file
    /// (in the files' order, whichever thread met it) is thrown; with it, <paramref name="errors"/> holds each one's message.
    /// </summary>
    static Decoded?[] Decode(List<string> files, DataOptions options, out string?[] errors)
    {
        var images = new Decoded?[files.Count];
        var messages = new string?[files.Count];
        int keep = options.Channels != 0 ? options.Channels : 3, size = options.ImageSize;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Threading.Threads) };
        Parallel.For(0, files.Count, parallel, (i, loop) =>
        {
            // After a failure, later files need not be read; Break still runs every earlier one, so the first failure is found.
            if (loop.LowestBreakIteration is { } stop && i > stop) return;
            try
            {
                var image = ImageFile.Load(files[i]);
                bool gray = image.IsGray;
                image = image.ToChannels(keep);
                var planar = new byte[keep * image.Height * image.Width];
                image.ToPlanarBytes(planar);
                if (size > 0)
                {
                    var resized = new byte[keep * size * size];
                    ImageResize.CropResize(planar, keep, image.Height, image.Width, size, resized);
                    images[i] = new Decoded(resized, size, size, gray);
                }
                else images[i] = new Decoded(planar, image.Height, image.Width, gray);
            }
            catch (InvalidDataException e)
            {
                messages[i] = e.Message;
                if (!options.SkipBad) loop.Break();
            }
        });
        errors = messages;
        if (!options.SkipBad && Array.FindIndex(messages, m => m != null) is var bad and >= 0)
            throw new InvalidDataException(messages[bad] + " (skip unreadable files with --skip-bad)");
        return images;
    }

    static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>Image files under <paramref name="dir"/>, by ordinal path; hidden files and folders are left out.</summary>
    static IEnumerable<string> ImageFiles(string dir, bool recurse)
    {
        var found = Directory.GetFiles(dir).Where(f => !IsHidden(f) && ImageFile.HasImageExtension(f));
        if (recurse)
            found = found.Concat(Directory.GetDirectories(dir).Where(d => !IsHidden(d)).SelectMany(d => ImageFiles(d, true)));
        return found.Order(StringComparer.Ordinal);
    }

    public int Count => _data.Count;
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The image files in sample order (those skipped left out).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The files skipped as unreadable (<see cref="DataOptions.SkipBad"/>), each as its one-line error, in the files' order.</summary>
    public IReadOnlyList<string> Skipped { get; }

    public int Channels => _data.Channels;
    public int Height => _data.Height;
    public int Width => _data.Width;

    public (Tensor Image, int Label) Get(int index) => _data.Get(index);

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _data.Label(index);
}
