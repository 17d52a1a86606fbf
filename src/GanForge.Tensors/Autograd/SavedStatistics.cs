namespace GanForge;

/// <summary>
/// Per-row statistics a node's forward saves for its backward (layer norm's mean and 1/std, attention's max and 1/Σ),
/// in buffers from the pool. The node gives them back when it is released (<see cref="Release()"/>); a backward with a
/// graph may hand them to a node of the gradient graph (<see cref="HandOn"/>), which reads them in the gradient's own
/// backward and releases them in its turn: the buffers go back when the last of their holders is released.
/// </summary>
/// <remarks>
/// A gradient penalty's pass of D hands every attention's statistics to its gradient's graph; left to the GC, they
/// were two fresh 80 kB buffers a transgan32 step (a page fault per 4 kB on first touch).
/// </remarks>
internal sealed class SavedStatistics(params int[] lengths)
{
    readonly float[][] _buffers = Array.ConvertAll(lengths, StoragePool.Rent);
    int _holders = 1;

    /// <summary>Buffer <paramref name="i"/>, of the i-th length given (uninitialised until the forward writes it).</summary>
    public float[] this[int i] => _buffers[i];

    /// <summary>One more node reads these buffers (a node of the gradient graph): it calls <see cref="Release()"/> when released.</summary>
    public SavedStatistics HandOn()
    {
        _holders++;
        return this;
    }

    /// <summary>
    /// These buffers handed on to <paramref name="node"/> where the op recorded it as <paramref name="output"/>'s gradient
    /// function (a backward with a graph: the node reads them in the gradient's own backward), else null.
    /// </summary>
    public SavedStatistics? HandOnIfRecorded(Tensor output, Function node) => ReferenceEquals(output.GradFn, node) ? HandOn() : null;

    /// <summary>A holder is done with the buffers; the last one gives them back to the pool. The caller drops this object.</summary>
    public void Release()
    {
        if (--_holders == 0)
            foreach (var buffer in _buffers) StoragePool.Return(buffer);
    }

    /// <summary>A node's release of the statistics it holds, if any (<see cref="Function.ReleaseSaved"/>): released, and dropped.</summary>
    public static void Release(ref SavedStatistics? held)
    {
        held?.Release();
        held = null;
    }
}
