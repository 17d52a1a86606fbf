using System.Reflection;
using System.Runtime.InteropServices;

namespace GanForge.Distributed;

/// <summary>
/// The few MPI calls data-parallel training needs, from Open MPI's libmpi.so.40 (Debian's openmpi-bin and
/// libopenmpi-dev). Loaded lazily: without it everything else runs, and <see cref="MpiLoadError"/> says why.
/// </summary>
/// <remarks>
/// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_ERRORS_RETURN) are not integer constants but the
/// addresses of global objects (mpi.h: <c>#define MPI_COMM_WORLD ((MPI_Comm) &amp;ompi_mpi_comm_world)</c>), so they are
/// looked up as exports of the loaded library. MPI_IN_PLACE is <c>(void*)1</c>. MPICH's handles are integers and its
/// library is libmpich.so.12: it is not bound here (docs/distributed.md says why Open MPI).
/// </remarks>
internal static unsafe partial class NativeMethods
{
    const string Mpi = "ganforge-mpi";

    // Open MPI 3.x to 5.x keep the soname libmpi.so.40; the unversioned name is the -dev package's symlink.
    static readonly string[] MpiCandidates = ["libmpi.so.40", "libmpi.so"];

    internal const int MpiSuccess = 0, MpiThreadSerialized = 2, MpiMaxErrorString = 1024;
    internal static readonly void* MpiInPlace = (void*)1;

    static readonly Lazy<IntPtr> MpiHandle = new(LoadMpi);

    /// <summary>True when Open MPI's library was loaded and its handles were found.</summary>
    internal static bool MpiAvailable => MpiHandle.Value != IntPtr.Zero;

    /// <summary>Why Open MPI could not be used (null when it can).</summary>
    internal static string? MpiLoadError { get; private set; }

    /// <summary>The file name of the loaded library, for messages.</summary>
    internal static string? MpiLibrary { get; private set; }

    /// <summary>Open MPI's predefined handles: addresses of its global objects.</summary>
    internal static IntPtr CommWorld, Float, Double, Byte, OpSum, OpMax, OpMin, ErrorsReturn;

    static IntPtr LoadMpi()
    {
        foreach (var name in MpiCandidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            // libmpi.so may be MPICH's (the mpi alternative): its handles are integers, which this binding does not use.
            if (!NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out CommWorld))
            {
                MpiLoadError = $"{name} is not Open MPI's (no ompi_mpi_comm_world); GanForge binds Open MPI: apt-get install openmpi-bin libopenmpi-dev";
                NativeLibrary.Free(handle);
                continue;
            }
            Float = NativeLibrary.GetExport(handle, "ompi_mpi_float");
            Double = NativeLibrary.GetExport(handle, "ompi_mpi_double");
            Byte = NativeLibrary.GetExport(handle, "ompi_mpi_byte");
            OpSum = NativeLibrary.GetExport(handle, "ompi_mpi_op_sum");
            OpMax = NativeLibrary.GetExport(handle, "ompi_mpi_op_max");
            OpMin = NativeLibrary.GetExport(handle, "ompi_mpi_op_min");
            ErrorsReturn = NativeLibrary.GetExport(handle, "ompi_mpi_errors_return");
            MpiLibrary = name;
            MpiLoadError = null;
            NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);
            return handle;
        }
        MpiLoadError ??= "Open MPI's libmpi.so.40 was not found: apt-get install openmpi-bin libopenmpi-dev";
        return IntPtr.Zero;
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name == Mpi ? MpiHandle.Value : IntPtr.Zero;

    [LibraryImport(Mpi)] internal static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);
    [LibraryImport(Mpi)] internal static partial int MPI_Finalize();
    [LibraryImport(Mpi)] internal static partial int MPI_Abort(IntPtr comm, int errorCode);
    [LibraryImport(Mpi)] internal static partial int MPI_Comm_rank(IntPtr comm, int* rank);
    [LibraryImport(Mpi)] internal static partial int MPI_Comm_size(IntPtr comm, int* size);
    [LibraryImport(Mpi)] internal static partial int MPI_Comm_set_errhandler(IntPtr comm, IntPtr handler);
    [LibraryImport(Mpi)] internal static partial int MPI_Allreduce(void* sendBuffer, void* receiveBuffer, int count, IntPtr type, IntPtr op, IntPtr comm);
    [LibraryImport(Mpi)] internal static partial int MPI_Bcast(void* buffer, int count, IntPtr type, int root, IntPtr comm);
    [LibraryImport(Mpi)] internal static partial int MPI_Barrier(IntPtr comm);
    [LibraryImport(Mpi)] internal static partial int MPI_Error_string(int errorCode, byte* text, int* length);
    [LibraryImport(Mpi)] internal static partial int MPI_Get_library_version(byte* version, int* length);
}
