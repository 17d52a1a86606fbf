namespace GanForge.Data;

/// <summary>
/// Some samples of another dataset, by index, in the given order (as torch.utils.data.Subset). Nothing is
/// copied: samples are read from the source when asked for; labels and class names are the source's.
/// </summary>
public sealed class SubsetDataset : IDataset
{
    readonly int[] _indices;

    /// <param name="source">The dataset to select from.</param>
    /// <param name="indices">Indices into <paramref name="source"/>; each must be in range.</param>
    public SubsetDataset(IDataset source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        for (int i = 0; i < indices.Count; i++)
            if ((uint)indices[i] >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"SubsetDataset: index {indices[i]} (position {i}) is out of range for {source.Count} samples");
        Source = source;
        _indices = [.. indices];
    }

    /// <summary>The dataset selected from.</summary>
    public IDataset Source { get; }

    /// <summary>Indices into <see cref="Source"/>, in sample order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    public int Count => _indices.Length;
    public IReadOnlyList<string> Classes => Source.Classes;
    public (Tensor Image, int Label) Get(int index) => Source.Get(_indices[index]);
    public int Label(int index) => Source.Label(_indices[index]);
}
