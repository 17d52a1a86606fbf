using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GanForge.Native;

namespace GanForge;

/// <summary>
/// Fresh large buffers backed by 2 MB pages. Fresh memory costs a page fault for every 4 KB on its first touch, and on a
/// virtual machine such a fault is dear: 11.4 us on the sixty-fourth pass's host, against 16 ms to write the same 256 MB
/// once they are resident. A process's first training step or a one-off generation touches all the memory it will use
/// (stylegan32's first step 126,000 faults, about half of its 2.4 s; <c>ganforge sample --count 256</c> of a StyleGAN
/// 186,000). Asked for huge pages, Linux backs each whole 2 MB block of a range with one page at its first touch
/// (transparent huge pages, where the system's setting is "madvise", the default, or "always").
/// </summary>
/// <remarks>
/// Asked for the buffers the engine allocates large and keeps: the buffer pool's (<see cref="StoragePool"/>, whose
/// buffers live for the process and are reused every step) and oneDNN's shared scratchpad and blocked-layout arena.
/// Only the whole 2 MB blocks inside a buffer are asked for, so no page reaches outside it. GANFORGE_HUGE_PAGES=0 turns
/// it off; elsewhere than Linux nothing is done.
/// </remarks>
internal static class HugePages
{
    /// <summary>A transparent huge page: 2 MB.</summary>
    public const int Bytes = 2 << 20;

    /// <summary>Whether buffers are advised (GANFORGE_HUGE_PAGES=0 sets it false; tests and the bench switch it).</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_HUGE_PAGES")?.Trim() != "0";

    /// <summary>
    /// Asks for huge pages over the whole 2 MB blocks inside [start, start + bytes), before their first touch. True when it
    /// was asked; false when off, when no whole block fits, or where the system has no such advice.
    /// </summary>
    public static unsafe bool Advise(void* start, nuint bytes)
    {
        if (!Enabled) return false;
        nuint mask = Bytes - 1, first = ((nuint)start + mask) & ~mask, end = ((nuint)start + bytes) & ~mask;
        return end > first && NativeMethods.AdviseHugePages((void*)first, end - first);
    }

    /// <summary>
    /// The same over a fresh array's elements. The array must be on the large-object heap, which the GC does not compact
    /// unless asked: were it moved, the advice would stay with memory it no longer uses, which costs nothing.
    /// </summary>
    public static unsafe bool Advise(float[] buffer) =>
        (long)buffer.Length * sizeof(float) >= Bytes
        && Advise(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)), (nuint)buffer.Length * sizeof(float));
}
