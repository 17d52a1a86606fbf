using System.Diagnostics;
using System.Text;

namespace GanForge;

/// <summary>
/// An opt-in per-op profiler (off unless GANFORGE_PROFILE=1 or <see cref="Enabled"/> is set).
/// It keeps one clock mark: every forward op (at its <c>Record</c>), every backward node (after its
/// <c>Backward</c> returns) and every explicit <see cref="Mark"/> charges the time since the previous
/// mark to its own name. Forward code between ops is thus charged to the op that ends it, and the
/// ops a backward node runs internally are charged to that node ("bwd Conv2d"). The bytes the process allocated from
/// the GC since the previous mark are charged the same way: an op whose buffers do not come from the pool shows there.
/// </summary>
public static class Profiler
{
    static readonly Dictionary<string, (long Ticks, long Calls, long Bytes)> Table = [];
    static long _last, _lastBytes;
    static int _backwardDepth;

    /// <summary>Whether ops report to the profiler.</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_PROFILE") == "1";

    /// <summary>
    /// Whether ops with a geometry (the convolutions) are charged per geometry ("bwd Conv2d 256->256 k3x3 s1 p1 8x8")
    /// instead of per type: GANFORGE_PROFILE_SHAPES=1.
    /// </summary>
    public static bool ByShape { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_PROFILE_SHAPES") == "1";

    /// <summary>Forgets all entries and restarts the clock mark.</summary>
    public static void Reset()
    {
        Table.Clear();
        _last = Stopwatch.GetTimestamp();
        _lastBytes = GC.GetTotalAllocatedBytes();
    }

    /// <summary>
    /// Charges the time and the bytes allocated since the previous mark to <paramref name="name"/>. The bytes come from
    /// the runtime's cheap counter, which moves an allocation context (8 KB) at a time: exact for large outputs, within a
    /// few KB per op for small ones (the precise counter suspends every thread, which would distort the times).
    /// </summary>
    public static void Mark(string name)
    {
        if (!Enabled) return;
        long now = Stopwatch.GetTimestamp(), bytes = GC.GetTotalAllocatedBytes();
        Table.TryGetValue(name, out var e);
        Table[name] = (e.Ticks + now - _last, e.Calls + 1, e.Bytes + bytes - _lastBytes);
        (_last, _lastBytes) = (now, bytes);
    }

    /// <summary>Called by Function.Record: charges a forward op unless it runs inside a backward node.</summary>
    internal static void ForwardOp(Function fn)
    {
        if (_backwardDepth == 0) Mark("fwd " + Label(fn));
    }

    /// <summary>Called as the engine starts a backward pass: ops it runs from here on are charged to nodes.</summary>
    internal static void EnterEngine()
    {
        Mark("(before backward)");
        _backwardDepth++;
    }

    internal static void ExitEngine()
    {
        Mark("autograd engine");
        _backwardDepth--;
    }

    /// <summary>Called by the engine before a node's Backward: the gap since the last mark is engine work.</summary>
    internal static void BeginBackward() => Mark("autograd engine");

    internal static void EndBackward(Function fn) => Mark("bwd " + Label(fn));

    static string Label(Function fn) => ByShape ? fn.ProfileName : fn.GetType().Name;

    /// <summary>
    /// The entries as a table sorted by time, per <paramref name="iterations"/>: name, ms, calls, share, KB allocated.
    /// </summary>
    public static string Report(int iterations = 1)
    {
        long total = Table.Values.Sum(e => e.Ticks);
        var sb = new StringBuilder();
        sb.AppendLine($"| op | ms/iter | calls/iter | share | KB allocated/iter |");
        sb.AppendLine($"|---|---:|---:|---:|---:|");
        foreach (var (name, e) in Table.OrderByDescending(kv => kv.Value.Ticks))
            sb.AppendLine($"| {name} | {e.Ticks * 1000.0 / Stopwatch.Frequency / iterations:F1} | {e.Calls / (double)iterations:G3} | {100.0 * e.Ticks / Math.Max(total, 1):F1}% | {e.Bytes / 1024.0 / iterations:F0} |");
        sb.AppendLine($"| total | {total * 1000.0 / Stopwatch.Frequency / iterations:F1} | | 100% | {Table.Values.Sum(e => e.Bytes) / 1024.0 / iterations:F0} |");
        return sb.ToString();
    }
}
