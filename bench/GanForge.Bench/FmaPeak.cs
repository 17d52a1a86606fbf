using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanForge.Bench;

/// <summary>
/// The machine's fp32 ceiling measured in the bench itself: a register-only FMA loop with 12 independent
/// accumulator chains (enough to cover the FMA latency on two FMA ports), on one thread and on two at once.
/// </summary>
/// <remarks>
/// Vector512 when the JIT accelerates it (AVX-512), else Vector256. Each FMA of a w-lane vector is 2·w flops.
/// No memory traffic, so this is the compute bound: a workload's GFLOP/s over it is its share of the machine.
/// </remarks>
static class FmaPeak
{
    /// <summary>Lanes of the vector the loop runs on (16 with AVX-512).</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? 16 : 8;

    /// <summary>
    /// GFLOP/s of the loop on <paramref name="threads"/> threads started together: the best of <paramref name="trials"/>
    /// (about 0.12 s each), each timed by the workers themselves (all the FMAs over the slowest thread's time).
    /// </summary>
    /// <remarks>
    /// Until the forty-second pass the caller timed the trial from its own wake-up after the barrier that starts the
    /// workers, so it started the clock late: by about 9 ms of a 0.1 s loop on the Zen 5, and the ceiling read 250-258
    /// GFLOP/s on one thread and 468-530 on two, against 227-230 and 444-458 timed in the workers, 229 and 453-457 with
    /// the old timing over a loop ten times as long, and 227 and 452-455 from the same loop written in C
    /// (docs/performance.md, forty-second pass). Every share of the peak before then is a tenth or so too low.
    /// </remarks>
    public static double Measure(int threads, int trials = 5)
    {
        const long iterations = 20_000_000;   // 12 FMAs each: ~0.1 s per trial at the expected rate
        double best = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            var seconds = new double[threads];
            using var start = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                Sink(Loop(iterations / 4));   // a short warm-up run first (tiering, clocks), then the timed one
                start.SignalAndWait();
                long began = Stopwatch.GetTimestamp();
                Sink(Loop(iterations));
                seconds[i] = Stopwatch.GetElapsedTime(began).TotalSeconds;
            })).ToList();
            foreach (var t in workers) t.Start();
            foreach (var t in workers) t.Join();
            double flops = 2.0 * Lanes * 12 * iterations * threads;
            best = Math.Max(best, flops / seconds.Max() / 1e9);
        }
        return best;
    }

    static float _sink;
    static void Sink(float v) => _sink += v;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Loop(long n) => Vector512.IsHardwareAccelerated ? Loop512(n) : Loop256(n);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Loop512(long n)
    {
        var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Loop256(long n)
    {
        var m = Vector256.Create(0.999999f); var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
