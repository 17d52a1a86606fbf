namespace GanForge.Distributed;

/// <summary>How <see cref="IProcessGroup.AllReduce(Span{float}, ReduceOp)"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    Sum,
    Max,
    Min,
}

/// <summary>
/// The processes training together (torch.distributed's process group): each has a rank from 0 to
/// <see cref="Size"/> - 1, and every collective call must be made by all of them, in the same order.
/// </summary>
/// <remarks>
/// <see cref="MpiProcessGroup"/> is the implementation over MPI. A collective a rank never reaches leaves the others
/// waiting, so code that may fail on one rank only agrees first (<see cref="ProcessGroupExtensions.ThrowIfAnyFailed"/>)
/// or aborts the job.
/// </remarks>
public interface IProcessGroup
{
    /// <summary>This process's rank, from 0; rank 0 alone writes files.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>Combines <paramref name="data"/> element-wise over every rank, in place; every rank gets the same result.</summary>
    void AllReduce(Span<float> data, ReduceOp op = ReduceOp.Sum);

    /// <summary>As <see cref="AllReduce(Span{float}, ReduceOp)"/> in double precision (statistics, flags).</summary>
    void AllReduce(Span<double> data, ReduceOp op = ReduceOp.Sum);

    /// <summary>Copies <paramref name="data"/> of rank <paramref name="root"/> into every rank's (the same length on each).</summary>
    void Broadcast(Span<byte> data, int root = 0);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the job with <paramref name="exitCode"/> (a rank that cannot go on, so the others do not wait for it).</summary>
    void Abort(int exitCode);
}

/// <summary>Thrown on every rank but the failing one when <see cref="ProcessGroupExtensions.ThrowIfAnyFailed"/> finds a failure elsewhere.</summary>
public sealed class PeerFailedException(int rank, string what)
    : InvalidOperationException($"rank {rank} failed {what} (its message says why)")
{
    /// <summary>The lowest rank that failed.</summary>
    public int FailedRank { get; } = rank;
}
