namespace GanForge;

/// <summary>
/// One process's share of every global batch in data-parallel training: of a batch of <c>Count·n</c> rows, process
/// <see cref="Index"/> holds rows [Index·n, (Index+1)·n). The default (and <see cref="Whole"/>) is the whole batch.
/// </summary>
/// <remarks>
/// Randomness per sample (data order, latents, label flips, penalty weights) is drawn for the whole global batch, as a
/// single process draws it, and each process keeps its rows, so N processes train on exactly the batches of one.
/// </remarks>
public readonly record struct Shard
{
    /// <summary>This process's share, <paramref name="index"/> of <paramref name="count"/>.</summary>
    public Shard(int index, int count)
    {
        if (count < 1 || index < 0 || index >= count)
            throw new ArgumentException($"Shard: index {index} of {count} shards is out of range");
        (Index, _count) = (index, count);
    }

    readonly int _count;

    /// <summary>This process's position among <see cref="Count"/>, from 0.</summary>
    public int Index { get; }

    /// <summary>Processes sharing each batch (1 for the whole batch, default included).</summary>
    public int Count => Math.Max(_count, 1);

    /// <summary>The whole batch: one process.</summary>
    public static Shard Whole => new(0, 1);

    /// <summary>True when this process holds every row.</summary>
    public bool IsWhole => Count == 1;

    /// <summary>This process's rows of a global batch of <paramref name="globalRows"/>; throws unless they divide evenly.</summary>
    public int Rows(int globalRows)
    {
        if (globalRows % Count != 0)
            throw new ArgumentException($"Shard: a batch of {globalRows} does not split evenly over {Count} processes");
        return globalRows / Count;
    }

    /// <summary>The first of this process's rows in a global batch of <paramref name="globalRows"/>.</summary>
    public int Start(int globalRows) => Index * Rows(globalRows);

    /// <summary>This process's rows (dim 0) of a tensor holding the whole global batch; the tensor itself when whole.</summary>
    public Tensor Take(Tensor global)
    {
        if (IsWhole) return global;
        int n = Rows(global.Size(0));
        return global.Narrow(0, Index * n, n);
    }

    /// <summary>Equal when index and count are (the default equals <see cref="Whole"/>).</summary>
    public bool Equals(Shard other) => Index == other.Index && Count == other.Count;

    public override int GetHashCode() => HashCode.Combine(Index, Count);

    public override string ToString() => $"shard {Index} of {Count}";
}
