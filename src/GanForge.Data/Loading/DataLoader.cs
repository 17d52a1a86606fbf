using System.Collections.Concurrent;

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
    Worker? _worker;
    OrderCache? _orderCache; // a reference, so the worker and the caller never see a torn pair

    sealed record OrderCache(int Epoch, int[] Order);

    public DataLoader(IDataset dataset, DataLoaderOptions? options = null)
    {
        _dataset = dataset;
        _options = options ?? new DataLoaderOptions();
        if (_options.BatchSize <= 0) throw new ArgumentException($"DataLoader: batch size {_options.BatchSize} must be positive");
        if (dataset.Count == 0) throw new ArgumentException("DataLoader: dataset is empty");
        if (!_options.Shard.IsWhole && (!_options.DropLast || _options.BatchSize % _options.Shard.Count != 0))
            throw new ArgumentException($"DataLoader: {_options.Shard} needs DropLast and a batch size divisible by {_options.Shard.Count}, got {_options.BatchSize}{(_options.DropLast ? "" : " without DropLast")}");
        BatchesPerEpoch = _options.DropLast ? dataset.Count / _options.BatchSize : (dataset.Count + _options.BatchSize - 1) / _options.BatchSize;
        if (BatchesPerEpoch == 0)
            throw new ArgumentException($"DataLoader: {dataset.Count} samples make no full batch of {_options.BatchSize} with DropLast");
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
        if (position.Epoch < 0 || position.Batch < 0 || position.Batch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(position), $"DataLoader.Seek: {position} is outside 0..{BatchesPerEpoch} batches per epoch");
        StopWorker();
        Position = position.Batch == BatchesPerEpoch ? new(position.Epoch + 1, 0) : position;
    }

    /// <summary>The next batch, moving on to the next epoch after the last batch of one.</summary>
    public Batch Next()
    {
        var pos = Position;
        Batch batch;
        if (_options.Prefetch)
        {
            _worker ??= new Worker(this, pos);
            try { batch = _worker.Take(); }
            catch { StopWorker(); throw; } // the worker has exited; the next call starts a fresh one
            if (batch.Position != pos) throw new InvalidOperationException($"DataLoader: worker produced {batch.Position}, expected {pos}");
        }
        else batch = BuildBatch(pos);
        Position = pos.Batch + 1 == BatchesPerEpoch ? new(pos.Epoch + 1, 0) : pos with { Batch = pos.Batch + 1 };
        return batch;
    }

    /// <summary>The rest of the current epoch (all of it when at its start).</summary>
    public IEnumerable<Batch> Epoch()
    {
        int epoch = Position.Epoch;
        while (Position.Epoch == epoch) yield return Next();
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the samples.</summary>
    public int[] EpochOrder(int epoch)
    {
        if (!_options.Shuffle) return Enumerable.Range(0, _dataset.Count).ToArray();
        return new Generator(SeedFor(_options.Seed, (ulong)epoch, 0x5AFF1E)).Permutation(_dataset.Count);
    }

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
        var rng = new Generator(SeedFor(_options.Seed, (ulong)pos.Epoch, (ulong)pos.Batch));
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

    static ulong SeedFor(ulong seed, ulong a, ulong b)
    {
        // Distinct, well-mixed seeds for each (seed, epoch, batch) so nearby runs share no streams.
        ulong h = seed * 0x9E3779B97F4A7C15UL ^ 0xD1B54A32D192ED03UL;
        h = (h ^ a) * 0xBF58476D1CE4E5B9UL; h ^= h >> 29;
        h = (h ^ b) * 0x94D049BB133111EBUL; h ^= h >> 32;
        return h;
    }

    void StopWorker()
    {
        _worker?.Dispose();
        _worker = null;
    }

    public void Dispose() => StopWorker();

    /// <summary>Builds batches from a start position into a queue of two, on its own thread.</summary>
    sealed class Worker : IDisposable
    {
        readonly BlockingCollection<(Batch? Batch, Exception? Error)> _queue = new(boundedCapacity: 2);
        readonly CancellationTokenSource _cts = new();
        readonly Thread _thread;

        public Worker(DataLoader loader, DataLoaderPosition start)
        {
            _thread = new Thread(() => Run(loader, start)) { IsBackground = true, Name = "GanForge.DataLoader" };
            _thread.Start();
        }

        void Run(DataLoader loader, DataLoaderPosition pos)
        {
            try
            {
                while (true)
                {
                    _queue.Add((loader.BuildBatch(pos), null), _cts.Token);
                    pos = pos.Batch + 1 == loader.BatchesPerEpoch ? new(pos.Epoch + 1, 0) : pos with { Batch = pos.Batch + 1 };
                }
            }
            catch (OperationCanceledException) { }
            catch (Exception e)
            {
                try { _queue.Add((null, e), _cts.Token); } catch (OperationCanceledException) { }
            }
        }

        public Batch Take()
        {
            var (batch, error) = _queue.Take();
            if (error != null) throw new InvalidOperationException($"DataLoader: building a batch failed: {error.Message}", error);
            return batch!;
        }

        public void Dispose()
        {
            _cts.Cancel();
            _thread.Join();
            _cts.Dispose();
            _queue.Dispose();
        }
    }
}
