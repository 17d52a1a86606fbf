namespace GanForge;

/// <summary>
/// Recycles the large float buffers behind tensors. The autograd engine returns a gradient's buffer
/// when it can prove nothing else holds it (see <see cref="Autograd"/>: an owned gradient after the
/// node that consumed it has run, or after it was added into another), containers return their
/// intermediates (<c>Sequential</c>), and new tensors of the same size take them back, still warm in
/// the cache, instead of a fresh large-object-heap array: a training step then stops churning the GC
/// (each large allocation counts toward a full collection) and stops touching new pages.
/// </summary>
/// <remarks>
/// Buffers are keyed by exact length, so a pooled tensor's storage has the length of its shape.
/// Only buffers of at least <see cref="MinLength"/> floats (a 4 KB page) are pooled, and the pool keeps at most <see cref="MaxBytes"/> (GANFORGE_POOL_MB, default 1024 or an
/// eighth of the memory the GC may use, whichever is less; 0 turns pooling off). When a buffer would not
/// fit, the sizes used least recently are dropped first, so a new workload (another model, batch size or
/// image size) takes the pool over.
/// </remarks>
internal static class StoragePool
{
    /// <summary>
    /// Smallest pooled buffer: 1K floats, a 4 KB page. Smaller ones are gen0 allocations, cheap to make; from a page up
    /// the GC's fresh memory costs a page fault each 4 KB on first touch (10.4-11.2 us on the forty-third pass's host, a
    /// virtual machine), and the gen0 collections the allocations bring on hand memory back to be faulted in again. The
    /// threshold was 16K floats (64 KB, near the large-object heap's) until that pass: lowering it cut the memory a
    /// step allocates from 2.4 to 0.8 MB in transgan32 (row statistics, the small layers' weight gradients) and, with
    /// the releases of that pass, from 9.7 to 1.8 MB in stylegan32.
    /// </summary>
    public const int MinLength = 1024;

    sealed class SizeClass
    {
        public readonly Stack<float[]> Buffers = new();
        public long LastUse;
    }

    static readonly Dictionary<int, SizeClass> Free = [];
    static long _bytes, _clock;

    /// <summary>The most the pool keeps; 0 turns recycling off (tests compare both).</summary>
    public static long MaxBytes { get; set; } = FromEnvironment();

    static long FromEnvironment()
    {
        if (long.TryParse(Environment.GetEnvironmentVariable("GANFORGE_POOL_MB"), out var mb) && mb >= 0) return mb << 20;
        // A step's activations held for its backward all come back after it: stylegan32 at batch 32 returns ~400 MB.
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? Math.Min(DefaultBytes, available / 8) : DefaultBytes;
    }

    /// <summary>The default cap, 1 GB (at most an eighth of the memory the GC may use).</summary>
    public const long DefaultBytes = 1L << 30;

    /// <summary>Bytes held by the pool now (for tests and the bench).</summary>
    public static long Bytes { get { lock (Free) return _bytes; } }

    /// <summary>
    /// An uninitialised buffer of exactly <paramref name="length"/> floats. A fresh one of 2 MB or more is asked to be
    /// backed by huge pages (<see cref="HugePages"/>): a pooled buffer lives for the process.
    /// </summary>
    public static float[] Rent(int length)
    {
        if (length >= MinLength)
            lock (Free)
                if (Free.TryGetValue(length, out var size))
                {
                    size.LastUse = ++_clock;
                    if (size.Buffers.Count > 0)
                    {
                        _bytes -= (long)length * sizeof(float);
                        return size.Buffers.Pop();
                    }
                }
        if (length < MinLength) return GC.AllocateUninitializedArray<float>(length);
        Interlocked.Add(ref _missedBytes, (long)length * sizeof(float));
        var buffer = GC.AllocateUninitializedArray<float>(length);
        HugePages.Advise(buffer);
        return buffer;
    }

    static long _missedBytes;

    /// <summary>
    /// Bytes of poolable buffers <see cref="Rent"/> could not take from the pool and allocated, since the process started:
    /// fresh memory, a page fault per 4 KB on first touch. A pass that gives all it makes back misses nothing the second
    /// time (tests).
    /// </summary>
    internal static long MissedBytes => Interlocked.Read(ref _missedBytes);

    /// <summary>
    /// Gives a buffer back. The caller guarantees that no tensor uses it any more; it will be handed
    /// out again, unzeroed.
    /// </summary>
    public static void Return(float[] buffer)
    {
        if (buffer.Length < MinLength) return;
        long bytes = (long)buffer.Length * sizeof(float);
        lock (Free)
        {
            if (bytes > MaxBytes) return;
            if (!Free.TryGetValue(buffer.Length, out var size)) Free[buffer.Length] = size = new SizeClass();
            size.LastUse = ++_clock;
            while (_bytes + bytes > MaxBytes && EvictLeastRecent(except: size)) { }
            if (_bytes + bytes > MaxBytes) return;
            size.Buffers.Push(buffer);
            _bytes += bytes;
        }
    }

    // Drops one buffer of the size class used longest ago (not `except`); false when there is none.
    static bool EvictLeastRecent(SizeClass except)
    {
        SizeClass? oldest = null;
        int oldestLength = 0;
        foreach (var (length, size) in Free)
            if (size != except && size.Buffers.Count > 0 && (oldest == null || size.LastUse < oldest.LastUse))
                (oldest, oldestLength) = (size, length);
        if (oldest == null) return false;
        oldest.Buffers.Pop();
        _bytes -= (long)oldestLength * sizeof(float);
        return true;
    }

    /// <summary>Runs <paramref name="action"/> on every pooled buffer (tests poison them to catch a wrong return).</summary>
    internal static void ForEachPooled(Action<float[]> action)
    {
        lock (Free)
            foreach (var size in Free.Values)
                foreach (var buffer in size.Buffers) action(buffer);
    }

    /// <summary>Drops every pooled buffer (the GC reclaims them).</summary>
    public static void Clear()
    {
        lock (Free) { Free.Clear(); _bytes = 0; }
    }
}
