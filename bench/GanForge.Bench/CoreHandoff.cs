using System.Diagnostics;

namespace GanForge.Bench;

/// <summary>
/// How far apart the two cores the bench runs on are: two threads hand one cache line back and forth, and the time of a
/// handoff (one way) is the cores' distance. On the Zen 4 host of the forty-seventh pass it read 27-44 ns most of the time
/// and 159-176 ns in the spells when the host ran the machine's two cores on different dies, each with its own L3; most
/// mlpgan processes of that hour that ran at about half their speed had such a reading just before or after them
/// (docs/performance.md).
/// </summary>
static class CoreHandoff
{
    const int Handoffs = 200_000;

    /// <summary>Nanoseconds a handoff, the best of 3 trials; null on a machine of one core.</summary>
    public static double? Measure()
    {
        if (Environment.ProcessorCount < 2) return null;
        var line = new long[32];   // the counter in the middle of 256 bytes, on a line of its own
        double best = double.MaxValue;
        for (int trial = 0; trial < 3; trial++)
        {
            Volatile.Write(ref line[8], 0);
            var other = new Thread(() => Answer(line, 1)) { IsBackground = true };
            other.Start();
            var sw = Stopwatch.StartNew();
            Answer(line, 0);
            while (Volatile.Read(ref line[8]) != 2 * Handoffs) { }
            best = Math.Min(best, sw.Elapsed.TotalSeconds / (2.0 * Handoffs) * 1e9);
            other.Join();
        }
        return Math.Round(best, 1);
    }

    // Waits for each value of its parity and writes the next one.
    static void Answer(long[] line, long first)
    {
        for (long i = first; i < 2 * Handoffs; i += 2)
        {
            while (Volatile.Read(ref line[8]) != i) { }
            Volatile.Write(ref line[8], i + 1);
        }
    }
}
