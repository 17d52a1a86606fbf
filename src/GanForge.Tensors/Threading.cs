namespace GanForge;

/// <summary>
/// The engine's degree of parallelism, shared by every parallel kernel (GEMM, im2col, pooling)
/// and passed on to OpenBLAS. Defaults to the processor count, or GANFORGE_THREADS when set.
/// </summary>
public static class Threading
{
    static int _threads = FromEnvironment();

    /// <summary>Raised after <see cref="Threads"/> changes (the BLAS wrapper listens to resize its pool).</summary>
    internal static event Action<int>? ThreadsChanged;

    /// <summary>Number of worker threads kernels may use (at least 1).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"Threading.Threads: must be at least 1, got {value}");
            _threads = value;
            ThreadsChanged?.Invoke(value);
        }
    }

    static int FromEnvironment()
    {
        var s = Environment.GetEnvironmentVariable("GANFORGE_THREADS");
        return int.TryParse(s, out int n) && n >= 1 ? n : Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs body(i) for i in [0, count), in parallel when more than one thread is allowed and
    /// there is more than one item. Iterations must be independent.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (_threads == 1 || count == 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, body);
    }

    /// <summary>
    /// Splits [0, count) into at most <see cref="Threads"/> contiguous ranges and runs
    /// body(chunk, start, end) on each; chunk indexes per-thread scratch space deterministically.
    /// </summary>
    public static void ForRanges(int count, Action<int, int, int> body, int minPerChunk = 1)
    {
        if (count <= 0) return;
        int chunks = Math.Clamp(count / Math.Max(minPerChunk, 1), 1, Math.Min(_threads, count));
        For(chunks, c => body(c, (int)((long)count * c / chunks), (int)((long)count * (c + 1) / chunks)));
    }

    /// <summary>How many chunks <see cref="ForRanges"/> will use for <paramref name="count"/> items.</summary>
    public static int ChunkCount(int count, int minPerChunk = 1) =>
        count <= 0 ? 0 : Math.Clamp(count / Math.Max(minPerChunk, 1), 1, Math.Min(_threads, count));
}
