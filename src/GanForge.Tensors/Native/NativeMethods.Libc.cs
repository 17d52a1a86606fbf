using System.Runtime.InteropServices;

namespace GanForge.Native;

/// <summary>
/// The C library's open/fsync/close, for flushing a folder after a rename (<see cref="Serialization.AtomicFile"/>):
/// .NET cannot open a folder as a file on Unix; and on Linux its pthread_sigmask (<see cref="SignalsHeld"/>) and madvise
/// (<see cref="AdviseHugePages"/>). Found lazily; on Windows, or when no C library loads, nothing is done.
/// </summary>
internal static unsafe partial class NativeMethods
{
    static readonly string[] LibcCandidates = ["libc.so.6", "libc.so", "libSystem.dylib"];

    sealed class Libc(delegate* unmanaged<byte*, int, int> open, delegate* unmanaged<int, int> fsync, delegate* unmanaged<int, int> close,
        delegate* unmanaged<int, SignalSet*, SignalSet*, int> sigmask, delegate* unmanaged<void*, nuint, int, int> madvise)
    {
        public readonly delegate* unmanaged<byte*, int, int> Open = open;
        public readonly delegate* unmanaged<int, int> Fsync = fsync;
        public readonly delegate* unmanaged<int, int> Close = close;
        /// <summary>pthread_sigmask on Linux (its SIG_BLOCK and sigset_t layout); null elsewhere.</summary>
        public readonly delegate* unmanaged<int, SignalSet*, SignalSet*, int> Sigmask = sigmask;
        /// <summary>madvise on Linux (its MADV_HUGEPAGE); null elsewhere.</summary>
        public readonly delegate* unmanaged<void*, nuint, int, int> Madvise = madvise;
    }

    static readonly Lazy<Libc?> LibcFunctions = new(LoadLibc);

    static Libc? LoadLibc()
    {
        if (OperatingSystem.IsWindows()) return null;
        foreach (var name in LibcCandidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "open", out var open) && NativeLibrary.TryGetExport(handle, "fsync", out var fsync)
                && NativeLibrary.TryGetExport(handle, "close", out var close))
            {
                var sigmask = OperatingSystem.IsLinux() && NativeLibrary.TryGetExport(handle, "pthread_sigmask", out var f)
                    ? (delegate* unmanaged<int, SignalSet*, SignalSet*, int>)f : null;
                var madvise = OperatingSystem.IsLinux() && NativeLibrary.TryGetExport(handle, "madvise", out var m)
                    ? (delegate* unmanaged<void*, nuint, int, int>)m : null;
                return new Libc((delegate* unmanaged<byte*, int, int>)open, (delegate* unmanaged<int, int>)fsync, (delegate* unmanaged<int, int>)close,
                    sigmask, madvise);
            }
            NativeLibrary.Free(handle);
        }
        return null;
    }

    /// <summary>
    /// fsync(2) on a folder, so the renames in it reach the disk. Best effort: false when it could not be done
    /// (Windows, no C library, a file system that refuses it); a rename then is as durable as the OS makes it.
    /// </summary>
    internal static bool FsyncDirectory(string path)
    {
        if (LibcFunctions.Value is not { } libc) return false;
        // O_RDONLY is 0 on every Unix; a folder opened read-only can be fsync'ed on Linux and macOS.
        var utf8 = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = utf8) fd = libc.Open(p, 0);
        if (fd < 0) return false;
        bool ok = libc.Fsync(fd) == 0;
        libc.Close(fd);
        return ok;
    }

    // Linux's MADV_HUGEPAGE (asm-generic/mman-common.h, the same on every architecture).
    const int MadvHugePage = 14;

    /// <summary>
    /// madvise(2) with MADV_HUGEPAGE over [start, start + bytes), which must begin on a page: the kernel backs the range's
    /// whole 2 MB blocks with transparent huge pages as they are first touched, where it is configured to (its
    /// transparent_hugepage setting "madvise" or "always"). Best effort: false where it could not be asked (not Linux, no C
    /// library, a kernel without transparent huge pages).
    /// </summary>
    internal static bool AdviseHugePages(void* start, nuint bytes) =>
        LibcFunctions.Value is { Madvise: not null } libc && libc.Madvise(start, bytes, MadvHugePage) == 0;
}
