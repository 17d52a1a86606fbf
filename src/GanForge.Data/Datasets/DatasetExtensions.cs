namespace GanForge.Data;

/// <summary>Selections and conversions that work on any <see cref="IDataset"/>.</summary>
public static class DatasetExtensions
{
    /// <summary>The first <paramref name="count"/> samples (all of them when there are fewer).</summary>
    public static IDataset Take(this IDataset dataset, int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"Take: count {count} is negative");
        return count >= dataset.Count ? dataset : new SubsetDataset(dataset, Enumerable.Range(0, count).ToArray());
    }

    /// <summary>
    /// <paramref name="perClass"/> samples of every class, drawn without replacement with <paramref name="seed"/>
    /// (the labelled part of a semi-supervised run, the training set of a probe); indices in class order. A class
    /// with fewer samples is an ArgumentException naming it.
    /// </summary>
    public static int[] BalancedIndices(this IDataset dataset, int perClass, ulong seed)
    {
        if (perClass < 1) throw new ArgumentException($"labels per class must be at least 1, got {perClass}");
        var byClass = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < dataset.Count; i++)
        {
            int label = dataset.Label(i);
            if (!byClass.TryGetValue(label, out var list)) byClass[label] = list = [];
            list.Add(i);
        }
        var rng = new Generator(seed);
        var picked = new List<int>();
        foreach (var (label, indices) in byClass)
        {
            if (indices.Count < perClass)
                throw new ArgumentException($"{perClass} labelled images per class asked for, but class {label} has only {indices.Count}");
            var order = rng.Permutation(indices.Count);
            for (int k = 0; k < perClass; k++) picked.Add(indices[order[k]]);
        }
        return [.. picked];
    }

    public static IDataset WhereLabel(this IDataset dataset, Func<int, bool> keep)
    {
        var rows = new List<int>();
        for (int i = 0; i < dataset.Count; i++)
            if (keep(dataset.Label(i))) rows.Add(i);
        return new SubsetDataset(dataset, rows);
    }

    /// <summary>
    /// The samples as one in-memory <see cref="TensorDataset"/>: the dataset itself when it is one, copied bytes when
    /// it selects from one, else every image converted to bytes (exact for 8-bit images). All images must share a shape.
    /// </summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="source">Where the data came from, for logs and cache keys, when a new dataset is built; null keeps the selected dataset's.</param>
    public static TensorDataset ToTensorDataset(this IDataset dataset, string? source = null)
    {
        switch (dataset)
        {
            case TensorDataset t: return t;
            case SubsetDataset { Source: TensorDataset t } s: return t.Select(s.Indices, source);
        }
        if (dataset.Count == 0) throw new ArgumentException("ToTensorDataset: the dataset is empty, so its image shape is unknown");
        var (first, firstLabel) = dataset.Get(0);
        if (first.Rank != 3) throw new ArgumentException($"ToTensorDataset: images are {Shapes.Format(first.ShapeSpan)}, expected (C,H,W)");
        int c = first.Size(0), h = first.Size(1), w = first.Size(2), per = c * h * w;
        var pixels = new byte[(long)dataset.Count * per <= Array.MaxLength ? dataset.Count * per
            : throw new InvalidOperationException($"ToTensorDataset: {dataset.Count} images of ({c},{h},{w}) do not fit in one array")];
        var labels = new int[dataset.Count];
        for (int i = 0; i < dataset.Count; i++)
        {
            var (image, label) = i == 0 ? (first, firstLabel) : dataset.Get(i);
            if (!image.ShapeSpan.SequenceEqual(first.ShapeSpan))
                throw new ArgumentException($"ToTensorDataset: image {i} is {Shapes.Format(image.ShapeSpan)} but image 0 is ({c},{h},{w})");
            PixelConvert.ToBytes(image.Data, pixels.AsSpan(i * per, per));
            labels[i] = label;
        }
        return new TensorDataset(pixels, labels, c, h, w, dataset.Classes.Count > 0 ? dataset.Classes : null, source ?? "memory");
    }
}
