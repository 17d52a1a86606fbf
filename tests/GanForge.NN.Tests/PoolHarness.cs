namespace GanForge.NN.Tests;

/// <summary>Runs seeded work with the engine's buffer pool on or off, and poisons what the pool holds.</summary>
static class PoolHarness
{
    /// <summary>Runs <paramref name="work"/> with the pool on or off from an empty pool; restores the setting.</summary>
    public static T WithPool<T>(bool on, Func<T> work)
    {
        long saved = StoragePool.MaxBytes;
        StoragePool.Clear();
        StoragePool.MaxBytes = on ? 1L << 30 : 0;
        try { return work(); }
        finally { StoragePool.MaxBytes = saved; StoragePool.Clear(); }
    }

    /// <summary>Fills every buffer the pool holds with NaN: whoever still reads one sees it.</summary>
    public static void PoisonPool() => StoragePool.ForEachPooled(buffer => buffer.AsSpan().Fill(float.NaN));
}
