using System.Collections.Concurrent;

namespace GanForge.Data;

/// <summary>
/// What every loader shares (<see cref="DataLoader"/>, <see cref="PairedDataLoader"/>): an epoch's order and a batch's
/// seed as pure functions of (seed, epoch, batch), so a resumed run sees the batches it would have seen.
/// </summary>
static class BatchSchedule
{
    /// <summary>The order in which epoch <paramref name="epoch"/> visits <paramref name="count"/> samples.</summary>
    internal static int[] EpochOrder(int count, bool shuffle, ulong seed, int epoch) =>
        shuffle ? new Generator(SeedFor(seed, (ulong)epoch, 0x5AFF1E)).Permutation(count) : Enumerable.Range(0, count).ToArray();

    /// <summary>The generator of the random transforms of the batch at <paramref name="pos"/>.</summary>
    internal static Generator BatchGenerator(ulong seed, DataLoaderPosition pos) => new(SeedFor(seed, (ulong)pos.Epoch, (ulong)pos.Batch));

    /// <summary>The position after <paramref name="pos"/>: the next batch, or the next epoch's first after its last.</summary>
    internal static DataLoaderPosition After(DataLoaderPosition pos, int batchesPerEpoch) =>
        pos.Batch + 1 >= batchesPerEpoch ? new(pos.Epoch + 1, 0) : pos with { Batch = pos.Batch + 1 };

    /// <summary>Batches per epoch of <paramref name="count"/> samples, after DropLast; an ArgumentException naming <paramref name="who"/> when there are none.</summary>
    internal static int BatchesPerEpoch(int count, int batchSize, bool dropLast, string who)
    {
        if (batchSize <= 0) throw new ArgumentException($"{who}: batch size {batchSize} must be positive");
        if (count == 0) throw new ArgumentException($"{who}: dataset is empty");
        int batches = dropLast ? count / batchSize : (count + batchSize - 1) / batchSize;
        if (batches == 0) throw new ArgumentException($"{who}: {count} samples make no full batch of {batchSize} with DropLast");
        return batches;
    }

    /// <summary>A checked <see cref="BatchLoader{TBatch}.Seek"/> target: the next epoch's start when <paramref name="position"/> is just past an epoch's last batch.</summary>
    internal static DataLoaderPosition SeekTarget(DataLoaderPosition position, int batchesPerEpoch, string who)
    {
        if (position.Epoch < 0 || position.Batch < 0 || position.Batch > batchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(position), $"{who}.Seek: {position} is outside 0..{batchesPerEpoch} batches per epoch");
        return position.Batch == batchesPerEpoch ? new(position.Epoch + 1, 0) : position;
    }

    /// <summary>Distinct, well-mixed seeds for each (seed, a, b), so nearby runs share no streams.</summary>
    internal static ulong SeedFor(ulong seed, ulong a, ulong b)
    {
        ulong h = seed * 0x9E3779B97F4A7C15UL ^ 0xD1B54A32D192ED03UL;
        h = (h ^ a) * 0xBF58476D1CE4E5B9UL; h ^= h >> 29;
        h = (h ^ b) * 0x94D049BB133111EBUL; h ^= h >> 32;
        return h;
    }
}

/// <summary>Builds the batches from a start position into a queue of two, on its own thread.</summary>
sealed class Prefetcher<T> : IDisposable where T : class
{
    readonly BlockingCollection<(DataLoaderPosition Position, T? Batch, Exception? Error)> _queue = new(boundedCapacity: 2);
    readonly CancellationTokenSource _cts = new();
    readonly Thread _thread;
    readonly string _who;

    /// <param name="build">Builds the batch at a position; thread-safe apart from the dataset itself.</param>
    /// <param name="start">The first position built.</param>
    /// <param name="batchesPerEpoch">For the positions that follow.</param>
    /// <param name="who">The loader, for the thread's name and errors.</param>
    public Prefetcher(Func<DataLoaderPosition, T> build, DataLoaderPosition start, int batchesPerEpoch, string who)
    {
        _who = who;
        _thread = new Thread(() => Run(build, start, batchesPerEpoch)) { IsBackground = true, Name = "GanForge." + who };
        _thread.Start();
    }

    void Run(Func<DataLoaderPosition, T> build, DataLoaderPosition pos, int batchesPerEpoch)
    {
        try
        {
            while (true)
            {
                _queue.Add((pos, build(pos), null), _cts.Token);
                pos = BatchSchedule.After(pos, batchesPerEpoch);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            try { _queue.Add((pos, null, e), _cts.Token); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>The next batch, which must be the one at <paramref name="expected"/>.</summary>
    public T Take(DataLoaderPosition expected)
    {
        var (pos, batch, error) = _queue.Take();
        if (error != null) throw new InvalidOperationException($"{_who}: building a batch failed: {error.Message}", error);
        if (pos != expected) throw new InvalidOperationException($"{_who}: worker produced {pos}, expected {expected}");
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
