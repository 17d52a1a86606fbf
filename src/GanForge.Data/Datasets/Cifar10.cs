namespace GanForge.Data;

/// <summary>
/// CIFAR-10 in its binary distribution (cifar-10-batches-bin): data_batch_1..5.bin for training and
/// test_batch.bin for testing, each record 1 label byte followed by 3072 bytes of 32x32 R, G, B planes.
/// </summary>
public static class Cifar10
{
    const int ImageBytes = 3 * 32 * 32, RecordBytes = 1 + ImageBytes;

    /// <summary>Class names indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Loads a split from <paramref name="folder"/> (or its cifar-10-batches-bin subfolder).</summary>
    public static TensorDataset Load(string folder, Split split = Split.Train)
    {
        var sub = Path.Combine(folder, "cifar-10-batches-bin");
        if (Directory.Exists(sub)) folder = sub;
        string[] names = split == Split.Train
            ? [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")]
            : ["test_batch.bin"];
        var missing = names.Where(n => !File.Exists(Path.Combine(folder, n))).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"CIFAR-10: {string.Join(", ", missing)} not found in {folder}");
        return LoadFiles(names.Select(n => Path.Combine(folder, n)).ToArray(), folder);
    }

    /// <summary>Loads and concatenates the given batch files.</summary>
    public static TensorDataset LoadFiles(IReadOnlyList<string> files, string? source = null)
    {
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            string name = Path.GetFileName(file);
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
                throw new InvalidDataException($"{name}: {bytes.Length} bytes is not a whole number of CIFAR-10 records ({RecordBytes} bytes each: 1 label + 3x32x32 pixels)");
            int n = bytes.Length / RecordBytes;
            var px = new byte[n * ImageBytes];
            for (int i = 0; i < n; i++)
            {
                int label = bytes[i * RecordBytes];
                if (label >= ClassNames.Count)
                    throw new InvalidDataException($"{name}: record {i} has label {label}, CIFAR-10 has 10 classes (is this CIFAR-100?)");
                labels.Add(label);
                Array.Copy(bytes, i * RecordBytes + 1, px, i * ImageBytes, ImageBytes);
            }
            pixels.Add(px);
        }
        var all = new byte[pixels.Sum(p => p.Length)];
        int o = 0;
        foreach (var p in pixels) { p.CopyTo(all, o); o += p.Length; }
        return new TensorDataset(all, [.. labels], 3, 32, 32, ClassNames, source ?? string.Join(", ", files));
    }
}
