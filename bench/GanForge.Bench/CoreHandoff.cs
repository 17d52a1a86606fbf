using System.Diagnostics;

namespace GanForge.Bench;

/// <summary>
/// How far apart the two cores the bench runs on are: two threads hand one cache line back and forth, and the time of a
/// handoff (one way) is the cores' distance. On the Zen 4 host of the forty-seventh pass it read 27-50 ns most of the time
/// and 159-176 ns in the spells when the host ran the machine's two cores on different dies, each with its own L3; most
/// mlpgan processes of that hour that ran at about half their speed had such a reading just before or after them
/// (docs/performance.md).
/// </summary>
static class CoreHandoff
{
    const int Handoffs = 200_000;

    /// <summary>
    /// A reading above this is two cores on different dies: the Zen 4 host read 27-50 ns on one die and 150-181 ns across
    /// two, nothing between (forty-seventh to fiftieth passes).
    /// </summary>
    public const double FarNs = 100;

    /// <summary>Runs <paramref name="run"/> between two readings: the cores' distance just before and just after it.</summary>
    public static (T Result, double? Before, double? After) Around<T>(Func<T> run)
    {
        var before = Measure();
        var result = run();
        return (result, before, Measure());
    }

    /// <summary>Whether every reading was taken and near (at most <see cref="FarNs"/>).</summary>
    public static bool AllNear(params double?[] readings) => readings.All(r => r is double ns && ns <= FarNs);

    // A trial stops here however few handoffs it made: on a loaded machine the two threads may share a core, and each
    // handoff then waits for the other's time slice.
    const double TrialSeconds = 0.1;

    /// <summary>Nanoseconds a handoff, the best of 3 trials; null on a machine of one core.</summary>
    public static double? Measure()
    {
        if (Environment.ProcessorCount < 2) return null;
        var line = new long[32];   // the counter in the middle of 256 bytes, on a line of its own
        double best = double.MaxValue;
        for (int trial = 0; trial < 3; trial++)
        {
            Volatile.Write(ref line[8], 0);
            var other = new Thread(() => AnswerOdd(line)) { IsBackground = true };
            other.Start();
            var sw = Stopwatch.StartNew();
            long i = 0;
            // this thread answers the even values, the other the odd; a negative value sends the other home
            for (; ; i += 2)
            {
                while (Volatile.Read(ref line[8]) != i) { }
                if (i == 2 * Handoffs || (i % 1024 == 0 && sw.Elapsed.TotalSeconds > TrialSeconds)) break;
                Volatile.Write(ref line[8], i + 1);
            }
            double seconds = sw.Elapsed.TotalSeconds;
            Volatile.Write(ref line[8], -1);
            other.Join();
            if (i > 0) best = Math.Min(best, seconds / i * 1e9);
        }
        return Math.Round(best, 1);
    }

    static void AnswerOdd(long[] line)
    {
        for (long i = 1; ; i += 2)
        {
            long seen;
            while ((seen = Volatile.Read(ref line[8])) != i)
                if (seen < 0) return;
            Volatile.Write(ref line[8], i + 1);
        }
    }
}
