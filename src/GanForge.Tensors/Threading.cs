using System.Diagnostics;

namespace GanForge;

/// <summary>
/// The engine's degree of parallelism, shared by every parallel kernel (GEMM, im2col, pooling)
/// and passed on to oneDNN. Defaults to the processor count, or GANFORGE_THREADS when set.
/// </summary>
/// <remarks>
/// Parallel loops run on the engine's own workers (<see cref="WorkerPool"/>), not on the .NET thread
/// pool: a GAN iteration is hundreds of kernels of 0.1-2 ms, and a thread-pool wake-up per kernel
/// costs as much as the split saves (two halves of a 1 ms GEMM through Parallel.For often ran one
/// after the other). The workers spin briefly between kernels, then sleep.
/// </remarks>
public static class Threading
{
    static int _threads = FromEnvironment();

    /// <summary>Number of worker threads kernels may use (at least 1).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"Threading.Threads: must be at least 1, got {value}");
            _threads = value;
        }
    }

    static int FromEnvironment()
    {
        var s = Environment.GetEnvironmentVariable("GANFORGE_THREADS");
        return int.TryParse(s, out int n) && n >= 1 ? n : Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs body(i) for i in [0, count), in parallel when more than one thread is allowed and
    /// there is more than one item. Iterations must be independent. A loop started inside another
    /// (or while another thread's loop runs) runs on the calling thread.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (_threads == 1 || count == 1 || !WorkerPool.TryRun(count, Math.Min(_threads, count), body))
            for (int i = 0; i < count; i++) body(i);
    }

    /// <summary>
    /// Splits [0, count) into at most <see cref="Threads"/> contiguous ranges and runs
    /// body(chunk, start, end) on each; chunk indexes per-thread scratch space deterministically.
    /// </summary>
    public static void ForRanges(int count, Action<int, int, int> body, int minPerChunk = 1)
    {
        if (count <= 0) return;
        int chunks = ChunkCount(count, minPerChunk);
        For(chunks, c => body(c, (int)((long)count * c / chunks), (int)((long)count * (c + 1) / chunks)));
    }

    /// <summary>How many chunks <see cref="ForRanges"/> will use for <paramref name="count"/> items.</summary>
    public static int ChunkCount(int count, int minPerChunk = 1) =>
        count <= 0 ? 0 : Math.Clamp(count / Math.Max(minPerChunk, 1), 1, Math.Min(_threads, count));
}

/// <summary>
/// Background workers for <see cref="Threading.For"/>: one loop at a time, items claimed in small runs from a shared
/// counter by the caller and the workers, the caller waiting (spinning) for the last one. After a loop a
/// worker spins for <see cref="SpinTicks"/> (200 µs, or GANFORGE_SPIN_US) before it sleeps, so the next
/// kernel starts without a wake-up.
/// </summary>
static class WorkerPool
{
    sealed class Loop(Action<int> body, int count, int helpers)
    {
        readonly Action<int> _body = body;
        readonly int _count = count;
        readonly int _helpers = helpers;
        // Items are claimed this many at a time: about eight claims a thread. One shared counter bumped per item made
        // loops over thousands of small items (a layer norm's 32,768 rows of 4) slower on two threads than on one,
        // the counter's cache line moving between the cores at every item.
        readonly int _grain = Math.Max(1, count / (8 * (helpers + 1)));
        int _next, _done, _joined;
        Exception? _error;

        public bool Finished => Volatile.Read(ref _done) == _count;
        public Exception? Error => _error;

        /// <summary>A worker joins if the loop still wants helpers (it is capped at Threads - 1).</summary>
        public bool Join() => Interlocked.Increment(ref _joined) <= _helpers;

        public void Work()
        {
            int start;
            while ((start = Interlocked.Add(ref _next, _grain) - _grain) < _count)
            {
                int end = Math.Min(start + _grain, _count);
                for (int i = start; i < end; i++)
                {
                    try { _body(i); }
                    catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
                }
                Interlocked.Add(ref _done, end - start);
            }
        }
    }

    /// <summary>How long an idle worker spins before it sleeps, in <see cref="Stopwatch"/> ticks (200 us, or GANFORGE_SPIN_US).</summary>
    internal static long SpinTicks { get; set; } = Stopwatch.Frequency * (long.TryParse(Environment.GetEnvironmentVariable("GANFORGE_SPIN_US"), out var us) ? us : 200) / 1_000_000;
    static readonly object Gate = new();
    static Loop? _loop;
    static int _epoch, _sleepers, _busy, _workers;
    static volatile bool _parkRequested;

    [ThreadStatic] static bool _isWorker, _inLoop;

    /// <summary>The workers started so far, and how many of them sleep now (the rest spin or work).</summary>
    internal static (int Workers, int Sleeping) Census => (Volatile.Read(ref _workers), Volatile.Read(ref _sleepers));

    /// <summary>True on a worker, and on a caller while its loop runs: code here must not start threads of its own.</summary>
    public static bool InParallelRegion => _isWorker || _inLoop;

    /// <summary>
    /// Runs the loop with up to <paramref name="parallelism"/> threads (the caller included);
    /// false when the pool is already running a loop (nested or concurrent), so the caller runs it inline.
    /// </summary>
    public static bool TryRun(int count, int parallelism, Action<int> body)
    {
        if (_isWorker || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            EnsureWorkers(parallelism - 1);
            var loop = new Loop(body, count, parallelism - 1);
            Volatile.Write(ref _loop, loop);
            _parkRequested = false;
            Interlocked.Increment(ref _epoch);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (Gate) Monitor.PulseAll(Gate);
            _inLoop = true;
            try { loop.Work(); }
            finally { _inLoop = false; }
            var spin = new SpinWait();
            while (!loop.Finished) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _loop, null);
            if (loop.Error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(loop.Error);
            return true;
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    /// <summary>
    /// Sends the idle workers to sleep now instead of at the end of their spin: called before a native library's
    /// OpenMP team (oneDNN's primitives and GEMMs) takes the cores, which a spinning worker would otherwise share with
    /// it. On 2 cores a worker still spinning from the loop before slowed the oneDNN convolution after it: dcgan28's
    /// 1 -> 64 layer plus its bias took 0.53-0.75 ms with the 200 us spin against 0.41-0.48 without (batch 64).
    /// </summary>
    public static void Park() { if (Parks) _parkRequested = true; }

    /// <summary>Whether <see cref="Park"/> does anything (the bench's `--alternate park` turns it off and on to measure it).</summary>
    internal static bool Parks { get; set; } = true;

    static void EnsureWorkers(int wanted)
    {
        while (_workers < wanted)
        {
            new Thread(WorkerLoop) { IsBackground = true, Name = $"GanForge worker {_workers + 1}" }.Start();
            _workers++;
        }
    }

    static void WorkerLoop()
    {
        _isWorker = true;
        int seen = Volatile.Read(ref _epoch);
        while (true)
        {
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _epoch) == seen)
            {
                if (!_parkRequested && Stopwatch.GetTimestamp() < spinUntil) { Thread.SpinWait(30); continue; }
                lock (Gate)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _epoch) == seen) Monitor.Wait(Gate);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            seen = Volatile.Read(ref _epoch);
            var loop = Volatile.Read(ref _loop);
            if (loop != null && loop.Join()) loop.Work();
        }
    }
}
