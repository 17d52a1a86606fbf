namespace GanForge.Tests;

/// <summary>
/// Tests that set <see cref="Threading.Threads"/> (a process-wide setting) or need the worker pool to
/// themselves: xunit runs this collection alone, after the parallel ones.
/// </summary>
[CollectionDefinition("Threading", DisableParallelization = true)]
public sealed class ThreadingCollection;

/// <summary>
/// <see cref="Threading.For"/>, <see cref="Threading.ForRanges"/> and the worker pool behind them. Blocking
/// bodies wait with generous timeouts so that a broken pool fails the test instead of hanging it.
/// </summary>
[Collection("Threading")]
public class ThreadingTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="body"/> with Threads = <paramref name="threads"/>, restoring the old value.</summary>
    internal static void WithThreads(int threads, Action body)
    {
        int previous = Threading.Threads;
        try { Threading.Threads = threads; body(); }
        finally { Threading.Threads = previous; }
    }

    static int[] CountRuns(int count)
    {
        var hits = new int[count];
        Threading.For(count, i => Interlocked.Increment(ref hits[i]));
        return hits;
    }

    [Fact]
    public void For_TwoThreads_RunsEveryIndexExactlyOnce()
    {
        WithThreads(2, () =>
        {
            for (int count = 1; count <= 100; count++)
            {
                var hits = CountRuns(count);
                for (int i = 0; i < count; i++)
                    if (hits[i] != 1) Assert.Fail($"count {count}: index {i} ran {hits[i]} times");
            }
        });
    }

    [Theory]
    [InlineData(2, 32768)]   // claimed in runs of 2,048: a layer norm's rows
    [InlineData(3, 1001)]    // runs of 41 that do not divide the count
    public void For_ManyItems_ClaimedInRuns_RunsEveryIndexExactlyOnce(int threads, int count)
    {
        WithThreads(threads, () =>
        {
            var hits = CountRuns(count);
            for (int i = 0; i < count; i++)
                if (hits[i] != 1) Assert.Fail($"count {count}: index {i} ran {hits[i]} times");
        });
    }

    [Fact]
    public void For_ZeroOrNegativeCount_RunsNothing()
    {
        WithThreads(2, () =>
        {
            int runs = 0;
            Threading.For(0, _ => Interlocked.Increment(ref runs));
            Threading.For(-3, _ => Interlocked.Increment(ref runs));
            Assert.Equal(0, runs);
        });
    }

    [Fact]
    public void For_TwoThreads_RunsTwoItemsConcurrently()
    {
        // Each item waits for the other: this only finishes if a worker really takes the second item.
        WithThreads(2, () =>
        {
            using var barrier = new Barrier(2);
            var met = new bool[2];
            var threadIds = new int[2];
            Threading.For(2, i =>
            {
                threadIds[i] = Environment.CurrentManagedThreadId;
                met[i] = barrier.SignalAndWait(Patience);
            });
            Assert.Equal([true, true], met);
            Assert.NotEqual(threadIds[0], threadIds[1]);
        });
    }

    [Fact]
    public void For_BodyThrows_ExceptionReachesCallerAndPoolStillWorks()
    {
        WithThreads(2, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                Threading.For(50, i => { if (i == 37) throw new InvalidOperationException("item 37 failed"); }));
            Assert.Equal("item 37 failed", e.Message);

            // Every item but the failing one still ran, and the next loops run whole, in parallel.
            var hits = CountRuns(64);
            Assert.All(hits, h => Assert.Equal(1, h));
            For_TwoThreads_RunsTwoItemsConcurrently();
        });
    }

    [Fact]
    public void For_BodyThrowsOnEveryItem_ThrowsOnce()
    {
        WithThreads(2, () =>
        {
            var e = Assert.Throws<ArgumentException>(() => Threading.For(10, i => throw new ArgumentException($"item {i}")));
            Assert.StartsWith("item ", e.Message);
            Assert.All(CountRuns(10), h => Assert.Equal(1, h));
        });
    }

    [Fact]
    public void For_Nested_RunsEveryInnerIndexOnce()
    {
        WithThreads(2, () =>
        {
            const int outer = 9, inner = 13;
            var hits = new int[outer * inner];
            Threading.For(outer, i => Threading.For(inner, j => Interlocked.Increment(ref hits[i * inner + j])));
            for (int k = 0; k < hits.Length; k++)
                if (hits[k] != 1) Assert.Fail($"({k / inner},{k % inner}) ran {hits[k]} times");
        });
    }

    [Fact]
    public void For_SecondCallerWhilePoolBusy_RunsInlineAndBothComplete()
    {
        WithThreads(2, () =>
        {
            using var firstStarted = new ManualResetEventSlim();
            using var secondDone = new ManualResetEventSlim();
            var firstHits = new int[4];
            bool firstSawSecond = false;
            Exception? firstError = null;

            // The first loop holds the pool until the second caller's loop has finished.
            var first = new Thread(() =>
            {
                try
                {
                    Threading.For(4, i =>
                    {
                        if (i == 0)
                        {
                            firstStarted.Set();
                            firstSawSecond = secondDone.Wait(Patience);
                        }
                        Interlocked.Increment(ref firstHits[i]);
                    });
                }
                catch (Exception e) { firstError = e; }
            });
            first.Start();
            Assert.True(firstStarted.Wait(Patience), "first loop never started");

            int caller = Environment.CurrentManagedThreadId;
            var secondHits = new int[25];
            var secondThreads = new HashSet<int>();
            Threading.For(25, i =>
            {
                Interlocked.Increment(ref secondHits[i]);
                lock (secondThreads) secondThreads.Add(Environment.CurrentManagedThreadId);
            });
            secondDone.Set();
            Assert.True(first.Join(Patience), "first loop never finished");

            Assert.Null(firstError);
            Assert.True(firstSawSecond);
            Assert.All(firstHits, h => Assert.Equal(1, h));
            Assert.All(secondHits, h => Assert.Equal(1, h));
            Assert.Equal([caller], secondThreads);
        });
    }

    [Fact]
    public void For_OneThread_RunsSeriallyInOrderOnCaller()
    {
        WithThreads(1, () =>
        {
            int caller = Environment.CurrentManagedThreadId;
            var order = new List<int>();
            var threads = new HashSet<int>();
            Threading.For(57, i => { order.Add(i); threads.Add(Environment.CurrentManagedThreadId); });
            Assert.Equal(Enumerable.Range(0, 57), order);
            Assert.Equal([caller], threads);
        });
    }

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(2, 7, 1)]
    [InlineData(2, 100, 1)]
    [InlineData(2, 100, 60)]
    [InlineData(3, 101, 1)]
    [InlineData(4, 3, 1)]
    [InlineData(4, 1000, 300)]
    public void ForRanges_ChunksTileTheRangeOnce(int threads, int count, int minPerChunk)
    {
        WithThreads(threads, () =>
        {
            int chunks = Threading.ChunkCount(count, minPerChunk);
            Assert.InRange(chunks, 1, Math.Min(threads, count));
            var hits = new int[count];
            var ranges = new (int Start, int End)[chunks];
            var chunkSeen = new int[chunks];
            Threading.ForRanges(count, (c, s, e) =>
            {
                Assert.InRange(c, 0, chunks - 1);
                Interlocked.Increment(ref chunkSeen[c]);
                ranges[c] = (s, e);
                for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]);
            }, minPerChunk);

            Assert.All(chunkSeen, n => Assert.Equal(1, n));
            Assert.All(hits, h => Assert.Equal(1, h));
            // Chunk c ends where chunk c+1 starts, in chunk order, none empty.
            Assert.Equal(0, ranges[0].Start);
            Assert.Equal(count, ranges[^1].End);
            for (int c = 0; c < chunks; c++)
            {
                if (ranges[c].End <= ranges[c].Start) Assert.Fail($"chunk {c} is empty: [{ranges[c].Start},{ranges[c].End})");
                if (c > 0) Assert.Equal(ranges[c - 1].End, ranges[c].Start);
            }
        });
    }

    [Fact]
    public void ForRanges_ManyThreadsFewItems_UsesAtMostOneChunkPerItem()
    {
        WithThreads(8, () =>
        {
            Assert.Equal(3, Threading.ChunkCount(3));
            Assert.Equal(1, Threading.ChunkCount(5, minPerChunk: 5));
            Assert.Equal(0, Threading.ChunkCount(0));
            int calls = 0;
            Threading.ForRanges(0, (_, _, _) => Interlocked.Increment(ref calls));
            Assert.Equal(0, calls);
        });
    }

    [Fact]
    public void Threads_SetBelowOne_ThrowsAndKeepsValue()
    {
        WithThreads(2, () =>
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Threading.Threads = -1);
            Assert.Contains("Threading.Threads", e.Message);
            Assert.Equal(2, Threading.Threads);
        });
    }

    [Fact]
    public void Park_WorkersSpinningAfterALoop_GoToSleepAtOnceAndStillRunTheNextLoop()
    {
        long spin = WorkerPool.SpinTicks;
        WithThreads(2, () =>
        {
            try
            {
                // A spin of a minute: without Park the workers would still be spinning when the test looks.
                WorkerPool.SpinTicks = System.Diagnostics.Stopwatch.Frequency * 60;
                Assert.All(CountRuns(8), hits => Assert.Equal(1, hits));
                var awake = DateTime.UtcNow + Patience;   // the loop's wake-up reaches a sleeping worker in microseconds, on a loaded host later
                while (WorkerPool.Census.Sleeping == WorkerPool.Census.Workers && DateTime.UtcNow < awake) Thread.Sleep(5);
                Thread.Sleep(50);
                var before = WorkerPool.Census;
                Assert.True(before.Workers >= 1, "the loop started no worker");
                Assert.True(before.Sleeping < before.Workers, $"{before.Sleeping} of {before.Workers} workers slept during a minute's spin");

                WorkerPool.Park();
                var deadline = DateTime.UtcNow + Patience;
                while (WorkerPool.Census.Sleeping < WorkerPool.Census.Workers && DateTime.UtcNow < deadline) Thread.Sleep(5);
                var after = WorkerPool.Census;
                Assert.True(after.Sleeping == after.Workers, $"after Park {after.Sleeping} of {after.Workers} workers sleep");

                WorkerPool.SpinTicks = spin;
                Assert.All(CountRuns(100), hits => Assert.Equal(1, hits));
            }
            finally { WorkerPool.SpinTicks = spin; WorkerPool.Park(); }
        });
    }

    [GanForge.Tensors.Tests.ConvBackendTests.DnnlFact]
    public void OneDnnConvolution_SendsSpinningWorkersToSleepBeforeItsTeamRuns()
    {
        long spin = WorkerPool.SpinTicks;
        var forced = Kernels.Conv.ForceManaged;
        WithThreads(2, () =>
        {
            try
            {
                WorkerPool.SpinTicks = System.Diagnostics.Stopwatch.Frequency * 60;
                Kernels.Conv.ForceManaged = false;
                var g = new Kernels.ConvGeometry(1, 28, 28, 64, 14, 14, 4, 4, 2, 2, 1, 1, 1, 1, 1);
                var (x, w, y) = (new float[8 * 28 * 28], new float[64 * 16], new float[8 * 64 * 14 * 14]);
                Assert.All(CountRuns(8), hits => Assert.Equal(1, hits));
                Kernels.Conv.Forward(x, w, y, 8, g);
                var deadline = DateTime.UtcNow + Patience;
                while (WorkerPool.Census.Sleeping < WorkerPool.Census.Workers && DateTime.UtcNow < deadline) Thread.Sleep(5);
                var after = WorkerPool.Census;
                Assert.True(after.Sleeping == after.Workers, $"after a oneDNN convolution {after.Sleeping} of {after.Workers} workers sleep");
            }
            finally { (WorkerPool.SpinTicks, Kernels.Conv.ForceManaged) = (spin, forced); WorkerPool.Park(); }
        });
    }
}
