namespace GanForge.Data;

/// <summary>A batch of pairs: inputs A (N,C,H,W), targets B (N,C',H',W') and the source images' classes (-1 where unknown).</summary>
public sealed record PairedBatch(Tensor A, Tensor B, int[] Labels)
{
    /// <summary>The position this batch was taken from.</summary>
    public DataLoaderPosition Position { get; init; }

    /// <summary>Number of pairs.</summary>
    public int Count => Labels.Length;
}

/// <summary>
/// Batches a paired dataset (pix2pix, super-resolution) as <see cref="DataLoader"/> batches a dataset: shuffled per
/// epoch, seeded, prefetched, every batch a pure function of (seed, epoch, batch index), resumable with
/// <see cref="BatchLoader{TBatch}.Seek"/>. Each transform is applied to A and to B of a pair with the same random draws, so a
/// <see cref="RandomHorizontalFlip"/> mirrors both or neither.
/// </summary>
public sealed class PairedDataLoader : BatchLoader<PairedBatch>
{
    readonly IPairedDataset _pairs;

    /// <param name="pairs">The pairs.</param>
    /// <param name="options">Batch size, shuffle, DropLast, seed, transforms (applied to A and B alike) and prefetch.</param>
    public PairedDataLoader(IPairedDataset pairs, DataLoaderOptions? options = null)
        : base((pairs ?? throw new ArgumentNullException(nameof(pairs))).Count, options ?? new DataLoaderOptions(), "PairedDataLoader")
    {
        _pairs = pairs;
    }

    public IPairedDataset Pairs => _pairs;

    /// <summary>Builds the batch at <paramref name="pos"/> (thread-safe apart from the dataset itself).</summary>
    public override PairedBatch BuildBatch(DataLoaderPosition pos) =>
        Stack(_pairs, Indices(pos), Options.Transforms, BatchSchedule.BatchGenerator(Options.Seed, pos), "PairedDataLoader") with { Position = pos };

    /// <summary>
    /// The pairs at <paramref name="indices"/> as one batch, each transform applied to A and to B with the same draws
    /// from <paramref name="rng"/>; every A must have one shape, and every B one.
    /// </summary>
    internal static PairedBatch Stack(IPairedDataset pairs, ReadOnlySpan<int> indices, IReadOnlyList<ITransform> transforms, Generator rng, string who)
    {
        int n = indices.Length;
        Tensor? a = null, b = null;
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int index = indices[i];
            var (x, y, label) = pairs.Get(index);
            if (transforms.Count > 0)
            {
                var state = rng.GetState();
                foreach (var t in transforms) x = t.Apply(x, rng);
                rng.SetState(state);
                foreach (var t in transforms) y = t.Apply(y, rng);
            }
            a = Place(a, x, i, n, index, "A", who);
            b = Place(b, y, i, n, index, "B", who);
            labels[i] = label;
        }
        return new PairedBatch(a!, b!, labels);
    }

    /// <summary>Copies <paramref name="image"/> into row <paramref name="i"/> of the batch, made on the first image.</summary>
    static Tensor Place(Tensor? batch, Tensor image, int i, int n, int index, string side, string who)
    {
        if (batch == null)
        {
            if (image.Rank != 3)
                throw new InvalidOperationException($"{who}: {side} of pair {index} has shape {Shapes.Format(image.ShapeSpan)}, expected (C,H,W)");
            batch = new Tensor([n, .. image.Shape]);
        }
        else if (!image.ShapeSpan.SequenceEqual(batch.ShapeSpan[1..]))
            throw new InvalidOperationException($"{who}: {side} of pair {index} has shape {Shapes.Format(image.ShapeSpan)} but the batch's first has {Shapes.Format(batch.ShapeSpan[1..])}");
        image.Data.CopyTo(batch.Data.Slice(i * image.Numel, image.Numel));
        return batch;
    }
}
