using System.Globalization;
using System.Numerics;
using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>Pairs named by a data spec and a pairs kind (<see cref="DataSpec.ResolvePairs(string, string, string, int, DataOptions)"/>), with what they turned out to be.</summary>
/// <param name="Pairs">The pairs, after the spec's filters and the limit, in the split's order.</param>
/// <param name="Spec">The data spec as given.</param>
/// <param name="Kind">The pairs kind, with its settings made explicit (<c>edges:1.5</c>, <c>folders</c>).</param>
/// <param name="Description">One line for logs: the images, how A is made or where A and B come from, how many pairs of which shapes.</param>
/// <param name="Split">The split actually loaded, as <see cref="ResolvedData.Split"/>.</param>
/// <param name="NumClasses">Size of the label space of the source images; 0 when the pairs are unlabelled (label -1).</param>
/// <param name="Skipped">Image files skipped as unreadable (<see cref="DataOptions.SkipBad"/>), each as its one-line error.</param>
public sealed record ResolvedPairs(IPairedDataset Pairs, string Spec, string Kind, string Description, string Split, int NumClasses, IReadOnlyList<string> Skipped);

/// <summary>Two domains for unpaired translation (<see cref="DataSpec.ResolveDomains(string, string, string, int, DataOptions)"/>).</summary>
/// <param name="A">Domain A, resolved as any data spec.</param>
/// <param name="B">Domain B.</param>
/// <param name="Description">One line for logs naming both.</param>
public sealed record ResolvedDomains(ResolvedData A, ResolvedData B, string Description);

public static partial class DataSpec
{
    /// <summary>One line naming every pairs kind, for option descriptions and error messages.</summary>
    public static string PairsHelp =>
        $"edges[:T] (A = the Sobel edge map of the image, magnitude above T, default {SobelEdgesOperator.DefaultThreshold.ToString(CultureInfo.InvariantCulture)}), " +
        "masked[:N] (A = the image with a centred N x N square blanked, default half its side), " +
        "downscale:S (A = the mean of each S x S block, for super-resolution), " +
        "same-class[:SEED] (A an image, B another of its class, for dagan), " +
        "folders (the data folder holds A/ and B/ with the same file names) or side-by-side (it holds A|B images, A on the left)";

    /// <summary>
    /// Resolves pairs for image-to-image translation: <paramref name="pairs"/> either derives A from each image of the
    /// data spec (<c>edges</c>, <c>masked</c>, <c>downscale:S</c>; B is the image, resolved as
    /// <see cref="Resolve(string, string, int, DataOptions)"/> does, filters included), or reads a user's folder of
    /// pairs (<c>folders</c>, <c>side-by-side</c>). A folder of pairs with <c>train/</c> or <c>test/</c> subfolders
    /// (pix2pix's datasets) reads the split's subfolder.
    /// </summary>
    /// <param name="spec">The data: any data spec for derived pairs, a folder for a folder of pairs.</param>
    /// <param name="pairs">The pairs kind; see <see cref="PairsHelp"/>.</param>
    /// <param name="split">"train" or "test".</param>
    /// <param name="limit">When positive, keep only the first <paramref name="limit"/> pairs.</param>
    /// <param name="options">Channels, image size and unreadable files, applied to the images (B, and A of a folder) before A is derived.</param>
    /// <exception cref="ArgumentException">The spec, the pairs kind, the split or the limit is not understood, or the kind does not fit the data.</exception>
    /// <exception cref="FileNotFoundException">The data is not there.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, or a folder's pairs do not match.</exception>
    public static ResolvedPairs ResolvePairs(string spec, string pairs, string split, int limit, DataOptions options) =>
        ResolvePairs(spec, pairs, split, limit, options, FashionMnist.SystemFolder);

    /// <summary>As <see cref="ResolvePairs(string, string, string, int, DataOptions)"/>, looking for "fashion-mnist" in <paramref name="fashionMnistFolder"/> (tests).</summary>
    internal static ResolvedPairs ResolvePairs(string spec, string pairs, string split, int limit, DataOptions options, string fashionMnistFolder)
    {
        if (string.IsNullOrWhiteSpace(pairs)) throw new ArgumentException($"Pairs kind is empty; give {PairsHelp}");
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException($"Data spec is empty; give {Help}");
        int colon = pairs.IndexOf(':');
        string kind = (colon < 0 ? pairs : pairs[..colon]).Trim().ToLowerInvariant();
        string? arg = colon < 0 ? null : pairs[(colon + 1)..].Trim();
        IPairOperator? op = kind switch
        {
            "edges" => new SobelEdgesOperator(arg == null ? SobelEdgesOperator.DefaultThreshold : PairNumber<float>(pairs, arg, "a threshold")),
            "masked" => new CentreMaskOperator(arg == null ? null : PairNumber<int>(pairs, arg, "the square's side in pixels")),
            "downscale" => new BoxDownscaleOperator(arg == null
                ? throw new ArgumentException($"Pairs '{pairs}': give the scale, downscale:2 or downscale:4")
                : PairNumber<int>(pairs, arg, "the scale")),
            "same-class" => null,
            "folders" or "side-by-side" when arg == null => null,
            "folders" or "side-by-side" => throw new ArgumentException($"Pairs '{pairs}': '{kind}' takes no setting"),
            _ => throw new ArgumentException($"Pairs '{pairs}': unknown kind '{kind}'; known: {PairsHelp}"),
        };
        if (kind == "same-class") return SameClass(spec, arg == null ? 0 : PairNumber<ulong>(pairs, arg, "a seed"), split, limit, options, fashionMnistFolder);
        return op != null ? Derive(spec, op, split, limit, options, fashionMnistFolder) : ReadPairFolder(spec, kind, split, limit, options);
    }

    static ResolvedPairs SameClass(string spec, ulong seed, string split, int limit, DataOptions options, string fashionMnistFolder)
    {
        var data = Resolve(spec, split, limit, options, fashionMnistFolder);
        if (data.NumClasses == 0)
            throw new ArgumentException($"Data '{spec}': pairs 'same-class' pair images of one class, but these images have no classes (a labelled set, or a folder of class subfolders)");
        SameClassPairs pairs;
        try { pairs = new SameClassPairs(data.Dataset, seed); }
        catch (ArgumentException e) { throw new ArgumentException($"Data '{spec}': {e.Message}", e); }
        var shape = data.Dataset.Get(0).Image.Shape;
        return new ResolvedPairs(pairs, spec, $"same-class:{seed}", $"{data.Description}; A an image, B another of its class (paired with seed {seed}), {string.Join("x", shape)}",
            data.Split, data.NumClasses, data.Skipped);
    }

    static T PairNumber<T>(string pairs, string arg, string what) where T : INumber<T> =>
        T.TryParse(arg, typeof(T) == typeof(float) ? NumberStyles.Float : NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"Pairs '{pairs}': '{arg}' is not {what}");

    static ResolvedPairs Derive(string spec, IPairOperator op, string split, int limit, DataOptions options, string fashionMnistFolder)
    {
        var data = Resolve(spec, split, limit, options, fashionMnistFolder);
        var b = data.Dataset.Get(0).Image;
        // Settings that depend on the images are made explicit, so the kind recorded reproduces the pairs by itself.
        if (op is CentreMaskOperator { Side: null } half) op = new CentreMaskOperator(half.SideFor(b.Size(1), b.Size(2)));
        int[] a;
        try { a = op.OutputShape(b.Size(0), b.Size(1), b.Size(2)); }
        catch (ArgumentException e) { throw new ArgumentException($"Data '{spec}': {e.Message}", e); }
        var pairs = new DerivedPairs(data.Dataset, op, labelled: data.NumClasses > 0);
        return new ResolvedPairs(pairs, spec, op.Name, $"{data.Description}; A = {op.Description}, A {string.Join("x", a)}",
            data.Split, data.NumClasses, data.Skipped);
    }

    /// <summary>A user's folder of pairs: A/ and B/ subfolders (<c>folders</c>) or side-by-side A|B images, in the split's subfolder if it has split subfolders.</summary>
    static ResolvedPairs ReadPairFolder(string spec, string kind, string split, int limit, DataOptions options)
    {
        var asked = CheckArguments(spec, split, limit, options);
        var (source, filters) = Parse(spec);
        if (filters.Length > 0)
            throw new ArgumentException($"Data '{spec}': pairs '{kind}' read a folder of pairs as it is; filters (:{filters[0]}) do not apply");
        if (!Directory.Exists(source))
            throw new FileNotFoundException($"Data '{spec}': folder '{source}' not found; pairs '{kind}' read a folder (A/ and B/ subfolders, or side-by-side A|B images)", source);

        string name = asked == Split.Train ? "train" : "test", resolvedSplit = AllSplit, folder = source;
        var splits = new[] { "train", "test" }.Where(s => Directory.Exists(Path.Combine(source, s))).ToList();
        if (splits.Count > 0)
        {
            if (!splits.Contains(name))
                throw new FileNotFoundException($"Data '{spec}': {source} has no {name}/ subfolder for the {name} split (it has {string.Join(", ", splits.Select(s => s + "/"))})", source);
            folder = Path.Combine(source, name);
            resolvedSplit = name;
        }

        string? a = Subfolder(folder, "A"), b = Subfolder(folder, "B");
        bool images = ImageDecoding.ImageFiles(folder, recurse: false).Any();
        if (a == null && b == null && !images)
            throw new ArgumentException($"Data '{spec}': {folder} holds neither layout of pairs: no A/ and B/ subfolders (--pairs folders) " +
                                        $"and no side-by-side A|B images ({string.Join(", ", ImageFile.Extensions)}) (--pairs side-by-side)");
        ImagePairs pairs;
        string from;
        try
        {
            if (kind == "folders")
            {
                if (a == null || b == null)
                    throw new ArgumentException($"Data '{spec}': pairs 'folders' need subfolders A/ and B/ with the same file names, but {folder} has no {(a == null ? "A" : "B")}/" +
                                                (images ? "; its images may be side-by-side A|B pairs (--pairs side-by-side)" : ""));
                pairs = ImagePairs.FromFolders(a, b, options);
                from = $"pairs of {a} and {b} (same file names)";
            }
            else
            {
                if (!images)
                    throw new ArgumentException($"Data '{spec}': {folder} holds no side-by-side A|B images" +
                                                (a != null && b != null ? ", but A/ and B/ subfolders (--pairs folders)" : $" ({string.Join(", ", ImageFile.Extensions)}) in it"));
                pairs = ImagePairs.FromSideBySide(folder, options);
                from = $"side-by-side pairs in {folder} (A left, B right)";
            }
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"Data '{spec}': {e.Message}", e); }

        var steps = new List<string> { from };
        if (pairs.Skipped.Count > 0)
            steps.Add($"{pairs.Skipped.Count} unreadable file{(pairs.Skipped.Count == 1 ? "" : "s")} skipped (first: {pairs.Skipped[0]})");
        IPairedDataset kept = pairs;
        if (limit > 0 && limit < pairs.Count)
        {
            steps.Add($"first {limit} of {pairs.Count}");
            kept = pairs.Take(limit);
        }
        var (ia, ib, _) = kept.Get(0);
        string description = string.Join(", ", steps) + $": {kept.Count} pairs, A {string.Join("x", ia.Shape)}, B {string.Join("x", ib.Shape)}, unlabelled";
        return new ResolvedPairs(kept, spec, kind, description, resolvedSplit, 0, pairs.Skipped);
    }

    /// <summary>The subfolder of <paramref name="folder"/> called <paramref name="name"/> in either case, or null.</summary>
    static string? Subfolder(string folder, string name) =>
        Directory.GetDirectories(folder).Where(d => string.Equals(Path.GetFileName(d), name, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).FirstOrDefault();

    /// <summary>
    /// Resolves two domains for unpaired translation (CycleGAN), each any data spec (<c>fashion-mnist:class=7</c>, a
    /// folder), as <see cref="Resolve(string, string, int, DataOptions)"/> does with the same split, limit and options.
    /// Their sizes may differ; their images must share a height and width (channels may differ).
    /// </summary>
    /// <exception cref="ArgumentException">A spec is not understood, or the domains' images differ in size (give an image size).</exception>
    /// <exception cref="FileNotFoundException">The data is not there.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt.</exception>
    public static ResolvedDomains ResolveDomains(string specA, string specB, string split, int limit, DataOptions options) =>
        ResolveDomains(specA, specB, split, limit, options, FashionMnist.SystemFolder);

    /// <summary>As <see cref="ResolveDomains(string, string, string, int, DataOptions)"/>, looking for "fashion-mnist" in <paramref name="fashionMnistFolder"/> (tests).</summary>
    internal static ResolvedDomains ResolveDomains(string specA, string specB, string split, int limit, DataOptions options, string fashionMnistFolder)
    {
        var a = Resolve(specA, split, limit, options, fashionMnistFolder);
        var b = Resolve(specB, split, limit, options, fashionMnistFolder);
        var sa = a.Dataset.Get(0).Image.Shape;
        var sb = b.Dataset.Get(0).Image.Shape;
        if (sa[1] != sb[1] || sa[2] != sb[2])
            throw new ArgumentException($"Domains '{specA}' ({string.Join("x", sa)}) and '{specB}' ({string.Join("x", sb)}) differ in image size; " +
                                        "give an image size (--image-size N) to centre-crop and resize both to N x N");
        return new ResolvedDomains(a, b, $"A: {a.Description}; B: {b.Description}");
    }
}
