namespace GanForge.Data;

/// <summary>Where a loader stands: the epoch and the index within it of the next batch it will return.</summary>
public readonly record struct DataLoaderPosition(int Epoch, int Batch)
{
    public override string ToString() => $"epoch {Epoch}, batch {Batch}";
}

/// <summary>A batch of images (N,C,H,W) and their labels (N) as floats.</summary>
public sealed record Batch(Tensor Images, Tensor Labels)
{
    /// <summary>The position this batch was taken from.</summary>
    public DataLoaderPosition Position { get; init; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Numel;
}

/// <summary>Options for <see cref="DataLoader"/>.</summary>
public sealed record DataLoaderOptions
{
    public int BatchSize { get; init; } = 64;

    /// <summary>Reorder the samples every epoch (from <see cref="Seed"/> and the epoch number).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Skip the last batch of an epoch when it would be smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; init; }

    /// <summary>Seed of the shuffles and random transforms; the same seed gives the same batches.</summary>
    public ulong Seed { get; init; }

    /// <summary>Applied to each sample in order (for example Resize, RandomHorizontalFlip, Normalize).</summary>
    public IReadOnlyList<ITransform> Transforms { get; init; } = [];

    /// <summary>
    /// This process's share of every batch in data-parallel training: batches are drawn as one process draws them
    /// (order, transforms' randomness) and only the shard's rows are returned. Needs <see cref="DropLast"/> and a
    /// batch size that the shard count divides.
    /// </summary>
    public Shard Shard { get; init; }

    /// <summary>Build the next batches on a worker thread (up to two ahead) so the consumer does not wait.</summary>
    public bool Prefetch { get; init; } = true;
}

/// <summary>
/// Batches a dataset, shuffled per epoch, with seeded transforms and background prefetch (as
/// torch.utils.data.DataLoader). Every batch is a pure function of (seed, epoch, batch index), so a run
/// resumed with <see cref="BatchLoader{TBatch}.Seek"/> from a saved <see cref="BatchLoader{TBatch}.Position"/> sees exactly the batches it would have seen.
/// </summary>
public sealed class DataLoader : BatchLoader<Batch>
{
    readonly IDataset _dataset;

    public DataLoader(IDataset dataset, DataLoaderOptions? options = null)
        : base(dataset.Count, CheckShard(options ?? new DataLoaderOptions()), "DataLoader")
    {
        _dataset = dataset;
    }

    static DataLoaderOptions CheckShard(DataLoaderOptions o) =>
        o.Shard.IsWhole || (o.DropLast && o.BatchSize % o.Shard.Count == 0) ? o
        : throw new ArgumentException($"DataLoader: {o.Shard} needs DropLast and a batch size divisible by {o.Shard.Count}, got {o.BatchSize}{(o.DropLast ? "" : " without DropLast")}");

    public IDataset Dataset => _dataset;

    /// <summary>The rest of the current epoch (all of it when at its start).</summary>
    public IEnumerable<Batch> Epoch()
    {
        int epoch = Position.Epoch;
        while (Position.Epoch == epoch) yield return Next();
    }

    /// <summary>Builds the batch at <paramref name="pos"/> (thread-safe apart from the dataset itself).</summary>
    public override Batch BuildBatch(DataLoaderPosition pos)
    {
        var indices = Indices(pos);
        int global = indices.Length;
        // A shard keeps rows [first, first + n) of the global batch; the samples before them are only built when a
        // transform draws randomness, so that the shard's own draws are those one process would make.
        var shard = Options.Shard;
        int n = shard.IsWhole ? global : shard.Rows(global), first = shard.IsWhole ? 0 : shard.Start(global);
        bool drawsBefore = first > 0 && Options.Transforms.Any(t => t.DrawsRandomness);
        var rng = BatchSchedule.BatchGenerator(Options.Seed, pos);
        Tensor? images = null;
        int[] sampleShape = [];
        var labels = new Tensor(n);
        for (int j = drawsBefore ? 0 : first; j < first + n; j++)
        {
            int index = indices[j];
            var (image, label) = _dataset.Get(index);
            foreach (var t in Options.Transforms) image = t.Apply(image, rng);
            int i = j - first;
            if (i < 0) continue;
            if (images == null)
            {
                sampleShape = image.Shape;
                if (sampleShape.Length != 3)
                    throw new InvalidOperationException($"DataLoader: sample {index} has shape {Shapes.Format(sampleShape)}, expected (C,H,W)");
                images = new Tensor([n, .. sampleShape]);
            }
            else if (!image.ShapeSpan.SequenceEqual(sampleShape))
                throw new InvalidOperationException($"DataLoader: sample {index} has shape {Shapes.Format(image.ShapeSpan)} but the batch's first sample has {Shapes.Format(sampleShape)}; add a Resize transform");
            image.Data.CopyTo(images.Data.Slice(i * image.Numel, image.Numel));
            labels.Data[i] = label;
        }
        return new Batch(images!, labels) { Position = pos };
    }
}
