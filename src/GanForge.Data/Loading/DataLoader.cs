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
/// resumed with <see cref="Seek"/> from a saved <see cref="Position"/> sees exactly the batches it would have seen.
/// </summary>
public sealed class DataLoader : IDisposable
{
    readonly IDataset _dataset;
    readonly DataLoaderOptions _options;
    Prefetcher<Batch>? _worker;
    OrderCache? _orderCache; // a reference, so the worker and the caller never see a torn pair

    sealed record OrderCache(int Epoch, int[] Order);

    public DataLoader(IDataset dataset, DataLoaderOptions? options = null)
    {
        _dataset = dataset;
        _options = options ?? new DataLoaderOptions();
        if (!_options.Shard.IsWhole && (!_options.DropLast || _options.BatchSize % _options.Shard.Count != 0))
            throw new ArgumentException($"DataLoader: {_options.Shard} needs DropLast and a batch size divisible by {_options.Shard.Count}, got {_options.BatchSize}{(_options.DropLast ? "" : " without DropLast")}");
        BatchesPerEpoch = BatchSchedule.BatchesPerEpoch(dataset.Count, _options.BatchSize, _options.DropLast, "DataLoader");
    }

    public IDataset Dataset => _dataset;
    public DataLoaderOptions Options => _options;

    /// <summary>Batches per epoch after DropLast.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The position of the next batch <see cref="Next"/> returns; save it to resume.</summary>
    public DataLoaderPosition Position { get; private set; }

    /// <summary>Continues from <paramref name="position"/> as if the batches before it had been taken.</summary>
    public void Seek(DataLoaderPosition position)
    {
        var target = BatchSchedule.SeekTarget(position, BatchesPerEpoch, "DataLoader");
        StopWorker();
        Position = target;
    }

    /// <summary>The next batch, moving on to the next epoch after the last batch of one.</summary>
    public Batch Next()
    {
        var pos = Position;
        Batch batch;
        if (_options.Prefetch)
        {
            _worker ??= new Prefetcher<Batch>(BuildBatch, pos, BatchesPerEpoch, "DataLoader");
            try { batch = _worker.Take(pos); }
            catch { StopWorker(); throw; } // the worker has exited; the next call starts a fresh one
        }
        else batch = BuildBatch(pos);
        Position = BatchSchedule.After(pos, BatchesPerEpoch);
        return batch;
    }

    /// <summary>The rest of the current epoch (all of it when at its start).</summary>
    public IEnumerable<Batch> Epoch()
    {
        int epoch = Position.Epoch;
        while (Position.Epoch == epoch) yield return Next();
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the samples.</summary>
    public int[] EpochOrder(int epoch) => BatchSchedule.EpochOrder(_dataset.Count, _options.Shuffle, _options.Seed, epoch);

    /// <summary>Builds the batch at <paramref name="pos"/> (thread-safe apart from the dataset itself).</summary>
    public Batch BuildBatch(DataLoaderPosition pos)
    {
        var cached = _orderCache;
        int[] order;
        if (cached != null && cached.Epoch == pos.Epoch) order = cached.Order;
        else { order = EpochOrder(pos.Epoch); _orderCache = new OrderCache(pos.Epoch, order); }

        int start = pos.Batch * _options.BatchSize;
        int global = Math.Min(_options.BatchSize, _dataset.Count - start);
        // A shard keeps rows [first, first + n) of the global batch; the samples before them are only built when a
        // transform draws randomness, so that the shard's own draws are those one process would make.
        var shard = _options.Shard;
        int n = shard.IsWhole ? global : shard.Rows(global), first = shard.IsWhole ? 0 : shard.Start(global);
        bool drawsBefore = first > 0 && _options.Transforms.Any(t => t.DrawsRandomness);
        var rng = BatchSchedule.BatchGenerator(_options.Seed, pos);
        Tensor? images = null;
        int[] sampleShape = [];
        var labels = new Tensor(n);
        for (int j = drawsBefore ? 0 : first; j < first + n; j++)
        {
            int index = order[start + j];
            var (image, label) = _dataset.Get(index);
            foreach (var t in _options.Transforms) image = t.Apply(image, rng);
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

    void StopWorker()
    {
        _worker?.Dispose();
        _worker = null;
    }

    public void Dispose() => StopWorker();

}
