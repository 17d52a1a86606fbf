namespace GanForge.Data;

/// <summary>A step's data from two domains: a batch of A and an independent batch of B (CycleGAN).</summary>
/// <param name="A">The batch of domain A.</param>
/// <param name="B">The batch of domain B.</param>
public sealed record UnpairedBatch(Batch A, Batch B)
{
    /// <summary>The position this step was taken from, in epochs of the larger domain.</summary>
    public DataLoaderPosition Position { get; init; }
}

/// <summary>
/// Two domains for unpaired translation (CycleGAN): each step gives a batch of A and an independent batch of B, each
/// domain shuffled on its own with a seed derived from <see cref="DataLoaderOptions.Seed"/> (so even one dataset used
/// as both domains gives unrelated batches). An epoch is one pass over the domain with more batches per epoch (the
/// larger one); the other domain starts its next pass, reshuffled, whenever it runs out. The position counts steps in
/// those epochs, and every batch is a pure function of (seed, step), so <see cref="Seek"/> to a saved
/// <see cref="Position"/> resumes exactly.
/// </summary>
public sealed class UnpairedDataLoader : IDisposable
{
    readonly DataLoader _a, _b;

    /// <param name="a">Domain A.</param>
    /// <param name="b">Domain B; its size may differ from A's.</param>
    /// <param name="options">Applied to both domains (batch size, DropLast, transforms, prefetch), each with its own seed derived from the one given.</param>
    public UnpairedDataLoader(IDataset a, IDataset b, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new DataLoaderOptions();
        _a = new DataLoader(a, options with { Seed = BatchSchedule.SeedFor(options.Seed, 0xA, 0xD0) });
        _b = new DataLoader(b, options with { Seed = BatchSchedule.SeedFor(options.Seed, 0xB, 0xD0) });
        BatchesPerEpoch = Math.Max(_a.BatchesPerEpoch, _b.BatchesPerEpoch);
    }

    /// <summary>The loader of domain A (its position is its own epochs').</summary>
    public DataLoader A => _a;

    /// <summary>The loader of domain B.</summary>
    public DataLoader B => _b;

    /// <summary>Steps per epoch: the batches per epoch of the larger domain.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The position of the next step <see cref="Next"/> returns, in epochs of the larger domain; save it to resume.</summary>
    public DataLoaderPosition Position { get; private set; }

    /// <summary>Continues from <paramref name="position"/> as if the steps before it had been taken.</summary>
    public void Seek(DataLoaderPosition position)
    {
        var target = BatchSchedule.SeekTarget(position, BatchesPerEpoch, "UnpairedDataLoader");
        long step = (long)target.Epoch * BatchesPerEpoch + target.Batch;
        _a.Seek(Within(step, _a.BatchesPerEpoch));
        _b.Seek(Within(step, _b.BatchesPerEpoch));
        Position = target;
    }

    /// <summary>The position of step <paramref name="step"/> (counted from 0) in a loader's own epochs.</summary>
    static DataLoaderPosition Within(long step, int batchesPerEpoch) =>
        new(checked((int)(step / batchesPerEpoch)), (int)(step % batchesPerEpoch));

    /// <summary>The next step's batches, moving on to the next epoch after the last step of one.</summary>
    public UnpairedBatch Next()
    {
        var pos = Position;
        var batch = new UnpairedBatch(_a.Next(), _b.Next()) { Position = pos };
        Position = BatchSchedule.After(pos, BatchesPerEpoch);
        return batch;
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }
}
