namespace GanForge;

/// <summary>
/// Recycles the large float buffers behind tensors. The autograd engine returns a gradient's buffer
/// when it can prove nothing else holds it (see <see cref="Autograd"/>: an owned gradient after the
/// node that consumed it has run, or after it was added into another), and new tensors of the same
/// size take it back, still warm in the cache, instead of a fresh large-object-heap array: a training
/// step then stops churning the GC (each large allocation counts toward a full collection) and stops
/// touching new pages.
/// </summary>
/// <remarks>
/// Buffers are keyed by exact length, so a pooled tensor's storage has the length of its shape.
/// Only buffers of at least <see cref="MinLength"/> floats are pooled (smaller ones are cheap gen0
/// allocations), and the pool keeps at most <see cref="MaxBytes"/> (GANFORGE_POOL_MB, default 256;
/// 0 turns pooling off).
/// </remarks>
internal static class StoragePool
{
    /// <summary>Smallest pooled buffer: 16K floats (64 KB), near the large-object threshold.</summary>
    public const int MinLength = 16 * 1024;

    /// <summary>The most the pool keeps; 0 turns recycling off (tests compare both).</summary>
    public static long MaxBytes { get; set; } = FromEnvironment();

    static readonly Dictionary<int, Stack<float[]>> Free = [];
    static long _bytes;

    static long FromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("GANFORGE_POOL_MB"), out var mb) && mb >= 0 ? mb << 20 : 256L << 20;

    /// <summary>Bytes held by the pool now (for tests and the bench).</summary>
    public static long Bytes { get { lock (Free) return _bytes; } }

    /// <summary>An uninitialised buffer of exactly <paramref name="length"/> floats.</summary>
    public static float[] Rent(int length)
    {
        if (length >= MinLength)
            lock (Free)
                if (Free.TryGetValue(length, out var stack) && stack.Count > 0)
                {
                    _bytes -= (long)length * sizeof(float);
                    return stack.Pop();
                }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>
    /// Gives a buffer back. The caller guarantees that no tensor uses it any more; it will be handed
    /// out again, unzeroed.
    /// </summary>
    public static void Return(float[] buffer)
    {
        if (buffer.Length < MinLength) return;
        long size = (long)buffer.Length * sizeof(float);
        lock (Free)
        {
            if (_bytes + size > MaxBytes) return;
            if (!Free.TryGetValue(buffer.Length, out var stack)) Free[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
            _bytes += size;
        }
    }

    /// <summary>Drops every pooled buffer (the GC reclaims them).</summary>
    public static void Clear()
    {
        lock (Free) { Free.Clear(); _bytes = 0; }
    }
}
