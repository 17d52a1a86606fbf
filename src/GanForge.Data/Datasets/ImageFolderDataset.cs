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

        var classDirs = Directory.GetDirectories(root).Where(d => !ImageDecoding.IsHidden(d)).Order(StringComparer.Ordinal).ToList();
        var entries = new List<(string File, int Label)>();
        if (classDirs.Count == 0)
            entries.AddRange(ImageDecoding.ImageFiles(root, recurse: false).Select(f => (f, 0)));
        else
            for (int c = 0; c < classDirs.Count; c++)
                entries.AddRange(ImageDecoding.ImageFiles(classDirs[c], recurse: true).Select(f => (f, c)));
        if (entries.Count == 0)
            throw new InvalidDataException($"{root}: no image files ({string.Join(", ", ImageFile.Extensions)}) in it" + (classDirs.Count > 0 ? " or its class subfolders" : ""));

        var files = entries.Select(e => e.File).ToList();
        var images = ImageDecoding.Decode(files, options, parts: 1, out var errors);
        var good = Enumerable.Range(0, entries.Count).Where(i => images[i] != null).ToList();
        Skipped = [.. errors.Where(e => e != null).Select(e => e!)];
        if (good.Count == 0)
            throw new InvalidDataException($"{root}: none of its {entries.Count} image files can be read (first: {Skipped[0]})");

        Files = good.Select(i => files[i]).ToList();
        Classes = classDirs.Count == 0 ? [] : classDirs.Select(d => Path.GetFileName(d)!).ToList();
        _data = ImageDecoding.Stack(good.Select(i => images[i]![0]).ToList(), Files, good.Select(i => entries[i].Label).ToArray(), options, root);
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
