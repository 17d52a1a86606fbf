using System.Text;

namespace GanForge.Distributed;

/// <summary>
/// The processes started by <c>mpirun</c>, over Open MPI (MPI_COMM_WORLD). <see cref="Start"/> initialises MPI once
/// per process; <see cref="Dispose"/> finalises it. Errors come back as return codes (MPI_ERRORS_RETURN on the world
/// communicator) and are thrown as InvalidOperationException with MPI's own message.
/// </summary>
/// <remarks>
/// MPI is initialised with MPI_THREAD_SERIALIZED: any thread may call, one at a time (the trainer calls from the
/// thread that runs it; the engine's worker threads never do). When a rank dies, Open MPI's launcher ends the job;
/// a rank that fails without dying calls <see cref="Abort"/> so the others do not wait in a collective.
/// </remarks>
public sealed unsafe class MpiProcessGroup : IProcessGroup, IDisposable
{
    static MpiProcessGroup? _started;
    static readonly Lock Gate = new();
    bool _finalized;

    MpiProcessGroup(int rank, int size, string version) { Rank = rank; Size = size; LibraryVersion = version; }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>MPI_Get_library_version's first line ("Open MPI v4.1.4, ...").</summary>
    public string LibraryVersion { get; }

    /// <summary>True when Open MPI's library can be loaded (the tests skip without it).</summary>
    public static bool IsAvailable => NativeMethods.MpiAvailable;

    /// <summary>
    /// Initialises MPI (once per process; later calls return the same group) and checks that it sees the processes
    /// the launcher started (<see cref="MpiLauncher"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Open MPI is not installed, MPI was finalised, or the launcher is not Open MPI's.</exception>
    public static MpiProcessGroup Start()
    {
        lock (Gate)
        {
            if (_started is { _finalized: false }) return _started;
            if (_started != null) throw new InvalidOperationException("MPI: already finalised in this process; MPI starts once per process");
            if (!NativeMethods.MpiAvailable) throw new InvalidOperationException($"MPI: {NativeMethods.MpiLoadError}");
            int provided, rank, size;
            Check(NativeMethods.MPI_Init_thread(null, null, NativeMethods.MpiThreadSerialized, &provided), "MPI_Init_thread");
            if (provided < NativeMethods.MpiThreadSerialized)
                throw new InvalidOperationException($"MPI_Init_thread: {NativeMethods.MpiLibrary} provides thread level {provided}, GanForge needs MPI_THREAD_SERIALIZED (2)");
            // Failures of later calls come back as codes (and exceptions here) instead of killing the job silently.
            Check(NativeMethods.MPI_Comm_set_errhandler(NativeMethods.CommWorld, NativeMethods.ErrorsReturn), "MPI_Comm_set_errhandler");
            Check(NativeMethods.MPI_Comm_rank(NativeMethods.CommWorld, &rank), "MPI_Comm_rank");
            Check(NativeMethods.MPI_Comm_size(NativeMethods.CommWorld, &size), "MPI_Comm_size");
            var group = new MpiProcessGroup(rank, size, Version());
            _started = group;
            if (MpiLauncher.Detect() is { } launcher && launcher.Size != size)
                throw new InvalidOperationException($"MPI: the launcher started {launcher.Size} processes ({launcher.Variable}) but {NativeMethods.MpiLibrary} sees {size}: " +
                    "start GanForge with Open MPI's mpirun (GanForge binds Open MPI, not MPICH)");
            return group;
        }
    }

    static string Version()
    {
        var text = new byte[NativeMethods.MpiMaxErrorString];
        int length;
        fixed (byte* p = text)
            if (NativeMethods.MPI_Get_library_version(p, &length) != NativeMethods.MpiSuccess) return NativeMethods.MpiLibrary ?? "MPI";
        var version = Encoding.ASCII.GetString(text, 0, Math.Clamp(length, 0, text.Length));
        return version.Split('\n')[0].Trim().TrimEnd(',');
    }

    /// <inheritdoc/>
    public void AllReduce(Span<float> data, ReduceOp op = ReduceOp.Sum)
    {
        fixed (float* p = data) AllReduce(p, data.Length, NativeMethods.Float, op);
    }

    /// <inheritdoc/>
    public void AllReduce(Span<double> data, ReduceOp op = ReduceOp.Sum)
    {
        fixed (double* p = data) AllReduce(p, data.Length, NativeMethods.Double, op);
    }

    void AllReduce(void* data, int count, IntPtr type, ReduceOp op)
    {
        ThrowIfFinalized();
        if (count == 0) return;
        var mpiOp = op switch { ReduceOp.Sum => NativeMethods.OpSum, ReduceOp.Max => NativeMethods.OpMax, _ => NativeMethods.OpMin };
        Check(NativeMethods.MPI_Allreduce(NativeMethods.MpiInPlace, data, count, type, mpiOp, NativeMethods.CommWorld), "MPI_Allreduce");
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root = 0)
    {
        ThrowIfFinalized();
        const int chunk = 1 << 30;   // MPI counts are ints
        fixed (byte* p = data)
            for (int offset = 0; offset < data.Length; offset += chunk)
                Check(NativeMethods.MPI_Bcast(p + offset, Math.Min(chunk, data.Length - offset), NativeMethods.Byte, root, NativeMethods.CommWorld), "MPI_Bcast");
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        ThrowIfFinalized();
        Check(NativeMethods.MPI_Barrier(NativeMethods.CommWorld), "MPI_Barrier");
    }

    /// <inheritdoc/>
    public void Abort(int exitCode)
    {
        if (!_finalized) NativeMethods.MPI_Abort(NativeMethods.CommWorld, exitCode);
        Environment.Exit(exitCode);
    }

    /// <summary>MPI_Finalize: after it no MPI call may be made in this process.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_finalized) return;
            _finalized = true;
            NativeMethods.MPI_Finalize();
        }
    }

    void ThrowIfFinalized()
    {
        if (_finalized) throw new InvalidOperationException("MPI: the process group was finalised");
    }

    static void Check(int code, string call)
    {
        if (code == NativeMethods.MpiSuccess) return;
        var text = new byte[NativeMethods.MpiMaxErrorString];
        int length = 0;
        fixed (byte* p = text) NativeMethods.MPI_Error_string(code, p, &length);
        throw new InvalidOperationException($"{call} failed ({code}): {Encoding.ASCII.GetString(text, 0, Math.Clamp(length, 0, text.Length))}");
    }

    public override string ToString() => $"rank {Rank} of {Size} ({LibraryVersion})";
}
