namespace GanForge.Data;

/// <summary>
/// What <see cref="DataLoader"/> and <see cref="PairedDataLoader"/> share: samples visited in a seeded order per epoch,
/// every batch a pure function of (seed, epoch, batch index) built by <see cref="BuildBatch"/>, background prefetch,
/// and a <see cref="Position"/> that <see cref="Seek"/> restores.
/// </summary>
public abstract class BatchLoader<TBatch> : IDisposable where TBatch : class
{
    readonly int _count;
    readonly string _who;
    Prefetcher<TBatch>? _worker;
    OrderCache? _orderCache; // a reference, so the worker and the caller never see a torn pair

    sealed record OrderCache(int Epoch, int[] Order);

    /// <param name="count">Samples in one pass.</param>
    /// <param name="options">Batch size, shuffle, DropLast, seed, transforms and prefetch.</param>
    /// <param name="who">The loader's name in messages.</param>
    protected BatchLoader(int count, DataLoaderOptions options, string who)
    {
        _count = count;
        _who = who;
        Options = options;
        BatchesPerEpoch = BatchSchedule.BatchesPerEpoch(count, options.BatchSize, options.DropLast, who);
    }

    public DataLoaderOptions Options { get; }

    /// <summary>Batches per epoch after DropLast.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The position of the next batch <see cref="Next"/> returns; save it to resume.</summary>
    public DataLoaderPosition Position { get; private set; }

    /// <summary>Continues from <paramref name="position"/> as if the batches before it had been taken.</summary>
    public void Seek(DataLoaderPosition position)
    {
        var target = BatchSchedule.SeekTarget(position, BatchesPerEpoch, _who);
        StopWorker();
        Position = target;
    }

    /// <summary>The next batch, moving on to the next epoch after the last batch of one.</summary>
    public TBatch Next()
    {
        var pos = Position;
        TBatch batch;
        if (Options.Prefetch)
        {
            _worker ??= new Prefetcher<TBatch>(BuildBatch, pos, BatchesPerEpoch, _who);
            try { batch = _worker.Take(pos); }
            catch { StopWorker(); throw; } // the worker has exited; the next call starts a fresh one
        }
        else batch = BuildBatch(pos);
        Position = BatchSchedule.After(pos, BatchesPerEpoch);
        return batch;
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the samples.</summary>
    public int[] EpochOrder(int epoch) => BatchSchedule.EpochOrder(_count, Options.Shuffle, Options.Seed, epoch);

    /// <summary>Builds the batch at <paramref name="pos"/> (thread-safe apart from the data itself).</summary>
    public abstract TBatch BuildBatch(DataLoaderPosition pos);

    /// <summary>The sample indices of the batch at <paramref name="pos"/>, in order (the epoch's order is computed once).</summary>
    protected ReadOnlySpan<int> Indices(DataLoaderPosition pos)
    {
        var cached = _orderCache;
        int[] order;
        if (cached != null && cached.Epoch == pos.Epoch) order = cached.Order;
        else { order = EpochOrder(pos.Epoch); _orderCache = new OrderCache(pos.Epoch, order); }
        int start = pos.Batch * Options.BatchSize;
        return order.AsSpan(start, Math.Min(Options.BatchSize, _count - start));
    }

    void StopWorker()
    {
        _worker?.Dispose();
        _worker = null;
    }

    public void Dispose() => StopWorker();
}
