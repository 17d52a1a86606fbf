using System.Globalization;
using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>A dataset named by a data spec (<see cref="DataSpec.Resolve(string, string, int)"/>), with what it turned out to be.</summary>
/// <param name="Dataset">The images and labels, after the spec's filters and the limit.</param>
/// <param name="Spec">The spec as given.</param>
/// <param name="Description">One line for logs: what was loaded, from where, which filters, how many images of which shape.</param>
/// <param name="Split">
/// The split actually loaded: "train" or "test"; "test" for embedded whichever was asked for; <see cref="DataSpec.AllSplit"/>
/// for data without splits (an image folder, one IDX file).
/// </param>
/// <param name="NumClasses">Size of the label space (a class filter keeps it, as it keeps the labels); 0 when the data is unlabelled.</param>
/// <param name="Skipped">Image files skipped as unreadable (<see cref="DataOptions.SkipBad"/>), each as its one-line error.</param>
public sealed record ResolvedData(IDataset Dataset, string Spec, string Description, string Split, int NumClasses, IReadOnlyList<string> Skipped);

/// <summary>
/// The one place a data spec becomes a dataset, for training, evaluation and every other command.
/// A spec is a source, then optional filters after colons:
/// <list type="bullet">
/// <item><c>embedded</c>: the Fashion-MNIST test split shipped in this assembly (its only split);</item>
/// <item><c>fashion-mnist</c>: Debian's dataset-fashion-mnist files in <see cref="FashionMnist.SystemFolder"/>;</item>
/// <item>a path: a folder of IDX files (train-*/t10k-*, gz or raw), one IDX images file (with its labels file beside
/// it if there is one), a CIFAR-10 binary folder, or a folder of JPEG/PNG/BMP/GIF images (classes from subfolders,
/// <see cref="ImageFolderDataset"/>);</item>
/// <item>filters: <c>:class=7</c>, <c>:class=0,6</c> or <c>:class=Sneaker</c> keep only those classes, labels unchanged.</item>
/// </list>
/// Then <see cref="DataOptions"/> convert every source alike: channels, and a centre crop and resize to square images.
/// </summary>
public static partial class DataSpec
{
    /// <summary>The <see cref="ResolvedData.Split"/> of data that has no splits: all of it is used.</summary>
    public const string AllSplit = "all";

    /// <summary>Filter keys understood after a colon.</summary>
    public static IReadOnlyList<string> FilterKeys { get; } = ["class"];

    /// <summary>One line naming every spec form, for option descriptions and error messages.</summary>
    public static string Help =>
        "embedded (the Fashion-MNIST test split shipped with GanForge), fashion-mnist (Debian's dataset-fashion-mnist), " +
        "or a path: a folder of IDX files, one IDX images file, a CIFAR-10 binary folder, or a folder of JPEG/PNG/BMP/GIF images " +
        "(classes from subfolders); append :class=7 or :class=0,6 to keep only those classes";

    /// <summary>Resolves <paramref name="spec"/> to a dataset.</summary>
    /// <param name="spec">What to load; see <see cref="DataSpec"/> and <see cref="Help"/>.</param>
    /// <param name="split">"train" or "test", for data that has splits; embedded always gives its test split and data without splits all of it.</param>
    /// <param name="limit">When positive, keep only the first <paramref name="limit"/> images (after any class filter).</param>
    /// <exception cref="ArgumentException">The spec, a filter, the split or the limit is not understood.</exception>
    /// <exception cref="FileNotFoundException">The data, or the asked split of it, is not there.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt.</exception>
    public static ResolvedData Resolve(string spec, string split = "train", int limit = 0) =>
        Resolve(spec, split, limit, DataOptions.Default, FashionMnist.SystemFolder);

    /// <summary>As <see cref="Resolve(string, string, int)"/>, then converted as <paramref name="options"/> say (channels, image size, unreadable files).</summary>
    /// <exception cref="InvalidDataException">A file is corrupt (an image file: unless <see cref="DataOptions.SkipBad"/>).</exception>
    public static ResolvedData Resolve(string spec, string split, int limit, DataOptions options) =>
        Resolve(spec, split, limit, options, FashionMnist.SystemFolder);

    /// <summary>As <see cref="Resolve(string, string, int, DataOptions)"/>, looking for "fashion-mnist" in <paramref name="fashionMnistFolder"/> (tests).</summary>
    internal static ResolvedData Resolve(string spec, string split, int limit, string fashionMnistFolder) =>
        Resolve(spec, split, limit, DataOptions.Default, fashionMnistFolder);

    static ResolvedData Resolve(string spec, string split, int limit, DataOptions options, string fashionMnistFolder)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException($"Data spec is empty; give {Help}");
        var asked = CheckArguments(spec, split, limit, options);

        var (source, filters) = Parse(spec);
        Source data;
        try { data = Load(spec, source, asked, fashionMnistFolder, options); }
        catch (InvalidDataException e) { throw new InvalidDataException($"Data '{spec}': {e.Message}", e); }

        var dataset = data.Dataset;
        var steps = new List<string>();
        foreach (var filter in filters)
        {
            int eq = filter.IndexOf('=');
            string key = eq < 0 ? "" : filter[..eq].Trim().ToLowerInvariant();
            if (key != "class")
                throw new ArgumentException($"Data '{spec}': unknown filter '{filter}'; known: {string.Join(", ", FilterKeys.Select(k => k + "=..."))} (e.g. {source}:class=0,6)");
            (dataset, var step) = KeepClasses(spec, data, dataset, filter[(eq + 1)..]);
            steps.Add(step);
        }
        if (limit > 0 && limit < dataset.Count)
        {
            steps.Add($"first {limit} of {dataset.Count}");
            dataset = dataset.Take(limit);
        }
        if (dataset.Count == 0) throw new InvalidDataException($"Data '{spec}': {data.Description} holds no images");
        (dataset, var converted) = Conform(dataset, options, spec);
        steps.AddRange(converted);

        var (image, _) = dataset.Get(0);
        string description = string.Join(", ", [data.Description, .. steps]) +
            $": {dataset.Count} images of {string.Join("x", image.Shape)}" + (data.NumClasses > 0 ? $", {data.NumClasses} classes" : ", unlabelled");
        return new ResolvedData(dataset, spec, description, data.Split, data.NumClasses, data.Skipped ?? []);
    }

    /// <summary>The split asked for, after checking the split, the limit and the options (ArgumentExceptions naming the spec).</summary>
    static Split CheckArguments(string spec, string split, int limit, DataOptions options)
    {
        var asked = split.ToLowerInvariant() switch
        {
            "train" => Split.Train,
            "test" => Split.Test,
            _ => throw new ArgumentException($"Data '{spec}': unknown split '{split}'; known: train, test"),
        };
        if (limit < 0) throw new ArgumentException($"Data '{spec}': limit {limit} is negative; give 0 for every image or a positive count");
        options.Validate();
        return asked;
    }

    /// <summary>
    /// The selected images with <see cref="DataOptions.Channels"/> and <see cref="DataOptions.ImageSize"/> applied
    /// (an image folder applied them as it read its files, so it passes through), and the steps taken, for the description.
    /// </summary>
    static (IDataset Dataset, List<string> Steps) Conform(IDataset dataset, DataOptions options, string spec)
    {
        var shape = dataset.Get(0).Image.ShapeSpan;
        int c = shape[0], h = shape[1], w = shape[2];
        int channels = options.Channels == 0 ? c : options.Channels, size = options.ImageSize;
        bool convert = channels != c, resize = size > 0 && (h != size || w != size);
        if (!convert && !resize) return (dataset, []);
        if (c is not (1 or 3))
            throw new ArgumentException($"Data '{spec}': images of {c} channels cannot be converted to {channels}");
        var steps = new List<string>();
        if (convert) steps.Add(channels == 3 ? "gray to RGB" : "RGB to gray");
        if (resize) steps.Add((h != w ? "centre-cropped, " : "") + $"resized to {size}x{size}");
        return (dataset.ToTensorDataset(spec).Conform(channels, resize ? size : 0), steps);
    }

    /// <summary>What a source loads to, before filters.</summary>
    sealed record Source(IDataset Dataset, string Description, string Split, int NumClasses, IReadOnlyList<string>? Skipped = null);

    static bool IsName(string s) => s.ToLowerInvariant() is "embedded" or "fashion-mnist-embedded" or "fashion-mnist";

    /// <summary>
    /// Splits the spec at the first colon whose left side is a known name or an existing path, so paths may hold
    /// colons (C:\data:class=3); a spec that exists as a path as a whole has no filters.
    /// </summary>
    static (string Source, string[] Filters) Parse(string spec)
    {
        if (File.Exists(spec) || Directory.Exists(spec)) return (spec, []);
        for (int i = spec.IndexOf(':'); i > 0; i = spec.IndexOf(':', i + 1))
        {
            var head = spec[..i];
            if (IsName(head) || File.Exists(head) || Directory.Exists(head)) return (head, spec[(i + 1)..].Split(':'));
        }
        return (spec, []);
    }

    static Source Load(string spec, string source, Split asked, string fashionMnistFolder, DataOptions options)
    {
        string name = asked == Split.Train ? "train" : "test";
        switch (source.ToLowerInvariant())
        {
            case "embedded" or "fashion-mnist-embedded":
                return new(FashionMnist.LoadEmbedded(),
                    "embedded Fashion-MNIST test split" + (asked == Split.Test ? "" : " (its only split; train was asked for)"), "test", FashionMnist.ClassNames.Count);
            case "fashion-mnist":
                try
                {
                    return new(FashionMnist.Load(asked, fashionMnistFolder), $"Fashion-MNIST {name} split from {fashionMnistFolder}", name, FashionMnist.ClassNames.Count);
                }
                catch (FileNotFoundException) when (asked == Split.Test)
                {
                    // The embedded split is the same t10k files, so evaluation works before the package is installed.
                    return new(FashionMnist.LoadEmbedded(),
                        $"Fashion-MNIST test split (embedded copy: not in {fashionMnistFolder})", "test", FashionMnist.ClassNames.Count);
                }
                catch (FileNotFoundException e)
                {
                    throw new FileNotFoundException(
                        $"Data '{spec}': Fashion-MNIST's train split is not in {fashionMnistFolder}; apt-get install dataset-fashion-mnist, or use 'embedded' (the test split shipped with GanForge)", e);
                }
        }
        if (File.Exists(source)) return LoadIdxFile(source);
        if (!Directory.Exists(source))
            throw new FileNotFoundException($"Data '{spec}': '{source}' not found; give embedded, fashion-mnist, or an existing file or folder (IDX, CIFAR-10, images)", source);

        var files = Directory.GetFiles(source).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
        try
        {
            if (files.Any(f => f.Contains("-images-idx3-ubyte") || f.Contains("-images.idx3-ubyte")))
                return new(FashionMnist.Load(asked, source), $"Fashion-MNIST-format IDX {name} split from {source}", name, FashionMnist.ClassNames.Count);
            if (files.Any(f => f.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)) || Directory.Exists(Path.Combine(source, "cifar-10-batches-bin")))
                return new(Cifar10.Load(source, asked), $"CIFAR-10 {name} split from {source}", name, Cifar10.ClassNames.Count);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"Data '{spec}': {e.Message} (the folder holds {Listing(files)})", source, e);
        }
        var everywhere = new EnumerationOptions { RecurseSubdirectories = true };
        if (!Directory.EnumerateFiles(source, "*", everywhere).Any(ImageFile.HasImageExtension))
            throw new FileNotFoundException(
                $"Data '{spec}': {source} holds no IDX images (*-images-idx3-ubyte[.gz]), no CIFAR-10 batches (*.bin) and no images " +
                $"({string.Join(", ", ImageFile.Extensions)}), in it or its subfolders", source);
        var folder = new ImageFolderDataset(source, options);
        string skipped = folder.Skipped.Count == 0 ? ""
            : $", {folder.Skipped.Count} unreadable file{(folder.Skipped.Count == 1 ? "" : "s")} skipped (first: {folder.Skipped[0]})";
        return new(folder, $"image folder {source}" + (folder.Classes.Count > 0 ? " (classes from subfolders)" : "") + skipped,
            AllSplit, folder.Classes.Count, folder.Skipped);
    }

    /// <summary>One IDX images file; labels come from the matching *-labels-idx1-ubyte file beside it when there is one.</summary>
    static Source LoadIdxFile(string path)
    {
        var images = Idx.ReadImages(path);
        int n = images.Dims[0], h = images.Dims[1], w = images.Dims[2];
        if (LabelsBeside(path) is { } labelsPath)
        {
            var labels = Idx.ReadLabels(labelsPath);
            Idx.CheckPair(images, Path.GetFileName(path), labels, Path.GetFileName(labelsPath));
            var lab = labels.Data.Select(b => (int)b).ToArray();
            return new(new TensorDataset(images.Data, lab, 1, h, w, null, path), $"IDX file {path} with labels {Path.GetFileName(labelsPath)}",
                AllSplit, lab.Length == 0 ? 0 : lab.Max() + 1);
        }
        return new(new TensorDataset(images.Data, new int[n], 1, h, w, null, path), $"IDX file {path}", AllSplit, 0);
    }

    static string? LabelsBeside(string imagesPath)
    {
        string file = Path.GetFileName(imagesPath);
        foreach (var (images, labels) in new[] { ("-images-idx3-ubyte", "-labels-idx1-ubyte"), ("-images.idx3-ubyte", "-labels.idx1-ubyte") })
        {
            int at = file.IndexOf(images, StringComparison.Ordinal);
            if (at < 0) continue;
            string stem = Path.Combine(Path.GetDirectoryName(imagesPath) ?? "", file[..at] + labels);
            foreach (var candidate in new[] { stem + ".gz", stem })
                if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Keeps the samples whose label is one of <paramref name="values"/> (labels or class names, comma-separated).</summary>
    static (IDataset Dataset, string Step) KeepClasses(string spec, Source data, IDataset dataset, string values)
    {
        var classes = dataset.Classes;
        if (data.NumClasses == 0)
            throw new ArgumentException($"Data '{spec}': {data.Description} is unlabelled, so it has no classes to filter");
        string known = classes.Count > 0
            ? string.Join(", ", classes.Select((c, i) => $"{i}={c}"))
            : $"labels 0-{data.NumClasses - 1}";
        var keep = new SortedSet<int>();
        foreach (var raw in values.Split(','))
        {
            var v = raw.Trim();
            int label = ClassLabel(v, classes);
            if (label < 0 || label >= data.NumClasses)
                throw new ArgumentException($"Data '{spec}': class '{v}' is not one of {known}");
            keep.Add(label);
        }
        var kept = dataset.WhereLabel(keep.Contains);
        string named = string.Join(", ", keep.Select(k => classes.Count > 0 ? $"{k} ({classes[k]})" : $"{k}"));
        if (kept.Count == 0) throw new ArgumentException($"Data '{spec}': no images of class {named} in {data.Description}");
        return (kept, (keep.Count == 1 ? "class " : "classes ") + named);
    }

    /// <summary>A label given as a number, or as a class name (case-insensitive); -1 when it is neither.</summary>
    static int ClassLabel(string value, IReadOnlyList<string> classes)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int label)) return label;
        for (int i = 0; i < classes.Count; i++)
            if (string.Equals(classes[i], value, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    static string Listing(List<string> files) =>
        files.Count == 0 ? "no files" : string.Join(", ", files.Take(8)) + (files.Count > 8 ? $" and {files.Count - 8} more" : "");
}
