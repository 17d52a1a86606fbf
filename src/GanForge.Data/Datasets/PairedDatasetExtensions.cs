namespace GanForge.Data;

/// <summary>Selections and conversions that work on any <see cref="IPairedDataset"/>.</summary>
public static class PairedDatasetExtensions
{
    /// <summary>The first <paramref name="count"/> pairs (all of them when there are fewer).</summary>
    public static IPairedDataset Take(this IPairedDataset pairs, int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"Take: count {count} is negative");
        return count >= pairs.Count ? pairs : new PairedSubset(pairs, count);
    }

    /// <summary>
    /// Every pair, in order, as one batch (A (N,C,H,W), B (N,C',H',W'), labels), in [0, 1], or in [-1, 1] with
    /// <paramref name="minusOneToOne"/> (the range of a tanh generator, and of Outputs.WriteImages).
    /// </summary>
    public static PairedBatch Stack(this IPairedDataset pairs, bool minusOneToOne = false)
    {
        if (pairs.Count == 0) throw new ArgumentException("Stack: there are no pairs");
        IReadOnlyList<ITransform> transforms = minusOneToOne ? [new Normalize()] : [];
        return PairedDataLoader.Stack(pairs, Enumerable.Range(0, pairs.Count).ToArray(), transforms, new Generator(0), "Stack");
    }

    sealed class PairedSubset(IPairedDataset source, int count) : IPairedDataset
    {
        public int Count => count;
        public IReadOnlyList<string> Classes => source.Classes;
        public (Tensor A, Tensor B, int Label) Get(int index) =>
            (uint)index < (uint)count ? source.Get(index) : throw new ArgumentOutOfRangeException(nameof(index), $"Pairs: index {index} out of range for {count} pairs");
    }
}
