using System.Runtime.CompilerServices;

namespace GanForge.Native;

/// <summary>
/// Asynchronous signals held off the calling thread while a oneDNN call runs (<see cref="SignalsHeld"/>).
/// </summary>
/// <remarks>
/// oneDNN 2.x's generated f32 GEMM kernels (the "nocopy" kernels its sgemm picks for most of a GAN's shapes, on AVX2 and
/// AVX-512 alike) point the stack pointer into their heap workspace while they run. A signal handled on that thread
/// meanwhile (SIGINT or SIGTERM from a user, the SIGCONT after a job resumes, a profiler's sampling signal, the runtime's
/// own) has its frame written below that pointer, into the heap: glibc later aborts ("corrupted size vs. prev_size
/// while consolidating") or the process crashes. oneDNN fixed it in 3.11.2 (its PR 4855); Debian 12 ships 2.6.3. Under a
/// storm of SIGCONT (one every half millisecond) 8 of 9 mlpgan runs on oneDNN's products died within 73 to 1,720 signals,
/// none of 5 on OpenBLAS's. Blocked on the thread, a signal sent to the process goes to another of its threads, and one
/// sent to this thread waits until the call returns; the OpenMP threads a call starts inherit the mask and never take
/// one. Synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT) stay unblocked. Linux only.
/// </remarks>
internal static unsafe partial class NativeMethods
{
    const int SigBlock = 0, SigSetMask = 2;

    // Signal numbers (Linux) that must reach the thread at once: the runtime turns SIGSEGV and SIGFPE into exceptions.
    static readonly int[] SynchronousSignals = [4, 5, 6, 7, 8, 11, 31];

    static readonly SignalSet Asynchronous = AsynchronousSignals();

    /// <summary>A sigset_t: glibc's 1,024 bits (the kernel reads the first 64).</summary>
    [InlineArray(16)]
    internal struct SignalSet { ulong _word; }

    static delegate* unmanaged<int, SignalSet*, SignalSet*, int> Sigmask => LibcFunctions.Value is { } libc ? libc.Sigmask : null;

    // Signals 1 to 64 but the synchronous ones (signal s is bit s - 1 of the first word).
    static SignalSet AsynchronousSignals()
    {
        ulong bits = ulong.MaxValue;
        foreach (int s in SynchronousSignals) bits &= ~(1UL << (s - 1));
        var set = new SignalSet();
        set[0] = bits;
        return set;
    }

    /// <summary>
    /// Asynchronous signals blocked on the calling thread until <see cref="Dispose"/> puts its mask back (see the
    /// remarks on <see cref="NativeMethods"/>'s signal mask); nothing happens where the C library has no pthread_sigmask
    /// (<see cref="LibcFunctions"/>: Linux only).
    /// </summary>
    internal readonly ref struct SignalsHeld
    {
        readonly SignalSet _previous;
        readonly bool _held;

        SignalsHeld(SignalSet previous) { _previous = previous; _held = true; }

        /// <summary>Blocks the asynchronous signals on this thread.</summary>
        public static SignalsHeld Begin()
        {
            var sigmask = Sigmask;
            if (sigmask == null) return default;
            SignalSet block = Asynchronous, previous = default;
            return sigmask(SigBlock, &block, &previous) == 0 ? new SignalsHeld(previous) : default;
        }

        /// <summary>Restores the thread's mask as it was: a signal that arrived meanwhile is handled now.</summary>
        public void Dispose()
        {
            if (!_held) return;
            SignalSet previous = _previous;
            Sigmask(SigSetMask, &previous, null);
        }
    }
}
