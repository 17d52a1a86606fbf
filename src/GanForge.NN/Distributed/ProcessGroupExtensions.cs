using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using GanForge.NN;

namespace GanForge.Distributed;

/// <summary>Collectives built from the group's primitives: tensors, module state, agreement on failures.</summary>
public static class ProcessGroupExtensions
{
    /// <summary>Copies rank <paramref name="root"/>'s values of <paramref name="tensor"/> into every rank's, in place.</summary>
    public static void Broadcast(this IProcessGroup group, Tensor tensor, int root = 0) =>
        group.Broadcast(MemoryMarshal.AsBytes(tensor.Data), root);

    /// <summary>
    /// Gives every rank rank <paramref name="root"/>'s parameters and buffers of <paramref name="module"/> (the same
    /// initial weights everywhere, as DDP's constructor). Every rank must hold the same architecture.
    /// </summary>
    public static void BroadcastState(this IProcessGroup group, Module module, int root = 0)
    {
        var state = module.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        // A rank whose module differs would broadcast into the wrong tensors: compare the layout first.
        Span<double> layout = [state.Count, state.Sum(kv => (double)kv.Value.Numel), 0, 0];
        layout[2] = -layout[0]; layout[3] = -layout[1];
        group.AllReduce(layout, ReduceOp.Max);
        if (layout[0] != -layout[2] || layout[1] != -layout[3])
            throw new InvalidOperationException($"BroadcastState: the ranks' {module.GetType().Name} differ ({state.Count} tensors of {state.Sum(kv => kv.Value.Numel)} values on rank {group.Rank})");
        foreach (var (_, tensor) in state) group.Broadcast(tensor, root);
    }

    /// <summary>Rank <paramref name="root"/>'s bytes on every rank (the others pass null): its length is sent first.</summary>
    public static byte[] BroadcastBytes(this IProcessGroup group, byte[]? data, int root = 0)
    {
        Span<double> length = [group.Rank == root ? data?.Length ?? 0 : 0];
        group.Broadcast(MemoryMarshal.AsBytes(length), root);
        var result = group.Rank == root ? data ?? [] : new byte[(int)length[0]];
        group.Broadcast(result, root);
        return result;
    }

    /// <summary>True on every rank when <paramref name="value"/> is true on any.</summary>
    public static bool Any(this IProcessGroup group, bool value)
    {
        Span<double> flag = [value ? 1 : 0];
        group.AllReduce(flag, ReduceOp.Max);
        return flag[0] > 0;
    }

    /// <summary>
    /// Agreement after work that may fail on some ranks only (a missing file, a locked folder): every rank calls it
    /// with its own failure or null. When any failed, the lowest failed rank rethrows its exception and every other
    /// rank throws a <see cref="PeerFailedException"/> naming it, so one message tells why; otherwise it returns on all.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="failure">This rank's failure, or null.</param>
    /// <param name="what">What was being done, for the others' message ("setting up the run").</param>
    public static void ThrowIfAnyFailed(this IProcessGroup group, Exception? failure, string what)
    {
        // Min over (rank if failed, else Size): the lowest failed rank, or Size when none failed.
        Span<double> lowest = [failure != null ? group.Rank : group.Size];
        group.AllReduce(lowest, ReduceOp.Min);
        if (lowest[0] >= group.Size) return;
        if (lowest[0] == group.Rank) ExceptionDispatchInfo.Capture(failure!).Throw();
        throw new PeerFailedException((int)lowest[0], what);
    }
}
