using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>
/// Pairs read from a user's image files, in either of pix2pix's layouts: two folders A/ and B/ holding the same file
/// names (<see cref="FromFolders"/>), or side-by-side A|B images, A the left half and B the right
/// (<see cref="FromSideBySide"/>). Files are read as <see cref="ImageFolderDataset"/> reads them (formats, hidden files,
/// <see cref="DataOptions"/>: channels, centre crop and resize, unreadable files), A and B each on its own: each side is
/// gray when all its images are, and without an image size the images of a side must share one size (A's may differ
/// from B's: a user's own super-resolution pairs). Pairs are unlabelled (label -1) and in the ordinal order of their names.
/// </summary>
public sealed class ImagePairs : IPairedDataset
{
    readonly TensorDataset _a, _b;

    ImagePairs(TensorDataset a, TensorDataset b, IReadOnlyList<string> names, IReadOnlyList<string> skipped)
    {
        _a = a; _b = b; Names = names; Skipped = skipped;
    }

    /// <summary>
    /// Pairs from <paramref name="folderA"/> and <paramref name="folderB"/>: the files of the same relative name
    /// (subfolders included) make a pair.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// No image files; a name in one folder only (the message lists them); a file cannot be read (unless
    /// <see cref="DataOptions.SkipBad"/>: its pair is skipped); or, without an image size, a side's images differ in size.
    /// </exception>
    public static ImagePairs FromFolders(string folderA, string folderB, DataOptions? options = null)
    {
        options ??= DataOptions.Default;
        options.Validate();
        var namesA = RelativeImageFiles(folderA);
        var namesB = RelativeImageFiles(folderB);
        if (namesA.Count == 0 && namesB.Count == 0)
            throw new InvalidDataException($"{folderA} and {folderB}: no image files ({string.Join(", ", ImageFile.Extensions)}) in them");
        var onlyA = namesA.Except(namesB, StringComparer.Ordinal).ToList();
        var onlyB = namesB.Except(namesA, StringComparer.Ordinal).ToList();
        if (onlyA.Count > 0 || onlyB.Count > 0)
            throw new InvalidDataException($"{folderA} and {folderB} must hold the same file names, one pair per name: " +
                string.Join("; ", new[] { (onlyA, folderA), (onlyB, folderB) }.Where(x => x.Item1.Count > 0).Select(x => $"only in {x.Item2}: {Listing(x.Item1)}")));

        var filesA = namesA.Select(n => Path.Combine(folderA, n)).ToList();
        var filesB = namesA.Select(n => Path.Combine(folderB, n)).ToList();
        var a = ImageDecoding.Decode(filesA, options, parts: 1, out var errorsA);
        var b = ImageDecoding.Decode(filesB, options, parts: 1, out var errorsB);
        var good = Enumerable.Range(0, namesA.Count).Where(i => a[i] != null && b[i] != null).ToList();
        var skipped = Enumerable.Range(0, namesA.Count).SelectMany(i => new[] { errorsA[i], errorsB[i] }).Where(e => e != null).Select(e => e!).ToList();
        if (good.Count == 0)
            throw new InvalidDataException($"{folderA} and {folderB}: none of their {namesA.Count} pairs can be read (first: {skipped[0]})");
        var labels = new int[good.Count];
        return new ImagePairs(
            ImageDecoding.Stack(good.Select(i => a[i]![0]).ToList(), good.Select(i => filesA[i]).ToList(), labels, options, folderA),
            ImageDecoding.Stack(good.Select(i => b[i]![0]).ToList(), good.Select(i => filesB[i]).ToList(), [.. labels], options, folderB),
            good.Select(i => namesA[i]).ToList(), skipped);
    }

    /// <summary>Pairs from the side-by-side A|B images in <paramref name="folder"/> (not its subfolders): the left half of each is A, the right half B.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// No image files; a file cannot be read or has an odd width (unless <see cref="DataOptions.SkipBad"/>: it is
    /// skipped); or, without an image size, the images differ in size.
    /// </exception>
    public static ImagePairs FromSideBySide(string folder, DataOptions? options = null)
    {
        options ??= DataOptions.Default;
        options.Validate();
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"ImagePairs: folder {folder} not found");
        var files = ImageDecoding.ImageFiles(folder, recurse: false).ToList();
        if (files.Count == 0)
            throw new InvalidDataException($"{folder}: no side-by-side A|B image files ({string.Join(", ", ImageFile.Extensions)}) in it");
        var halves = ImageDecoding.Decode(files, options, parts: 2, out var errors);
        var good = Enumerable.Range(0, files.Count).Where(i => halves[i] != null).ToList();
        var skipped = errors.Where(e => e != null).Select(e => e!).ToList();
        if (good.Count == 0)
            throw new InvalidDataException($"{folder}: none of its {files.Count} image files can be read (first: {skipped[0]})");
        var labels = new int[good.Count];
        return new ImagePairs(
            ImageDecoding.Stack(good.Select(i => halves[i]![0]).ToList(), good.Select(i => files[i] + "'s left half (A)").ToList(), labels, options, folder),
            ImageDecoding.Stack(good.Select(i => halves[i]![1]).ToList(), good.Select(i => files[i] + "'s right half (B)").ToList(), [.. labels], options, folder),
            good.Select(i => Path.GetFileName(files[i])).ToList(), skipped);
    }

    /// <summary>Image files under <paramref name="folder"/> at any depth, as paths relative to it, in ordinal order.</summary>
    static List<string> RelativeImageFiles(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"ImagePairs: folder {folder} not found");
        return ImageDecoding.ImageFiles(folder, recurse: true).Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal).ToList();
    }

    static string Listing(List<string> names) =>
        string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    public int Count => _a.Count;

    /// <summary>The A images, in pair order (labels 0).</summary>
    public IDataset A => _a;

    /// <summary>The B images, in pair order (labels 0).</summary>
    public IDataset B => _b;

    /// <summary>The pairs' names, in pair order: the file name relative to A/ and B/, or the side-by-side file's name.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The files skipped as unreadable (<see cref="DataOptions.SkipBad"/>), each as its one-line error.</summary>
    public IReadOnlyList<string> Skipped { get; }

    public (Tensor A, Tensor B, int Label) Get(int index) => (_a.Get(index).Image, _b.Get(index).Image, -1);
}
