using System.Reflection;
using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>Which half of a dataset to load.</summary>
public enum Split { Train, Test }

/// <summary>
/// Fashion-MNIST (70 000 grayscale 28x28 clothing images, 10 classes). Files are searched in an explicit
/// folder, then Debian's dataset-fashion-mnist folder; the test split is also embedded in this assembly,
/// so it always loads without a download.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's dataset-fashion-mnist package installs the files.</summary>
    public const string SystemFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Class names indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads a split: from <paramref name="folder"/> if given (no fallback), else the system folder, else the embedded test split.</summary>
    /// <exception cref="FileNotFoundException">The files are in none of the places searched.</exception>
    public static TensorDataset Load(Split split = Split.Train, string? folder = null)
    {
        string prefix = split == Split.Train ? "train" : "t10k";
        if (folder != null)
        {
            return TryLoadFolder(folder, prefix)
                ?? throw new FileNotFoundException($"Fashion-MNIST: {prefix}-images-idx3-ubyte[.gz] and {prefix}-labels-idx1-ubyte[.gz] not found in {folder}");
        }
        if (TryLoadFolder(SystemFolder, prefix) is { } system) return system;
        if (split == Split.Test) return LoadEmbedded();
        throw new FileNotFoundException(
            $"Fashion-MNIST: the train split is not in {SystemFolder} (apt install dataset-fashion-mnist) and only the test split is embedded; pass a folder or use the test split");
    }

    /// <summary>The test split embedded in this assembly (10 000 images).</summary>
    public static TensorDataset LoadEmbedded()
    {
        const string images = "t10k-images-idx3-ubyte.gz", labels = "t10k-labels-idx1-ubyte.gz";
        var asm = typeof(FashionMnist).Assembly;
        using var im = OpenResource(asm, images);
        using var lb = OpenResource(asm, labels);
        return FromIdx(Idx.ReadImages(im, images), images, Idx.ReadLabels(lb, labels), labels, "embedded Fashion-MNIST test split");
    }

    static Stream OpenResource(Assembly asm, string file) =>
        asm.GetManifestResourceStream("GanForge.Data.fashion-mnist." + file)
        ?? throw new InvalidOperationException($"Fashion-MNIST: embedded resource {file} is missing from {asm.GetName().Name}");

    static TensorDataset? TryLoadFolder(string folder, string prefix)
    {
        string? images = Find(folder, $"{prefix}-images-idx3-ubyte"), labels = Find(folder, $"{prefix}-labels-idx1-ubyte");
        if (images == null || labels == null) return null;
        return FromIdx(Idx.ReadImages(images), Path.GetFileName(images), Idx.ReadLabels(labels), Path.GetFileName(labels), folder);
    }

    static string? Find(string folder, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") })
        {
            var p = Path.Combine(folder, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>A dataset (1,rows,cols) from an IDX image/label pair, checking that they match.</summary>
    public static TensorDataset FromIdx(IdxArray images, string imagesName, IdxArray labels, string labelsName, string source)
    {
        Idx.CheckPair(images, imagesName, labels, labelsName);
        var lab = new int[labels.Count];
        for (int i = 0; i < lab.Length; i++)
        {
            lab[i] = labels.Data[i];
            if (lab[i] >= ClassNames.Count)
                throw new InvalidDataException($"{labelsName}: label {lab[i]} at index {i} is not a Fashion-MNIST class (0-9)");
        }
        return new TensorDataset(images.Data, lab, 1, images.Dims[1], images.Dims[2], ClassNames, source);
    }
}
