namespace GanForge;

/// <summary>
/// Per-row statistics a node's forward saves for its backward (layer norm's mean and 1/std, attention's max and 1/Σ),
/// in buffers from the pool. The node gives them back when it is released (<see cref="Release"/>), unless a backward
/// with a graph handed them to a node of the gradient graph (<see cref="HandOn"/>), which then keeps them for the
/// gradient's own backward and leaves them to the GC.
/// </summary>
internal sealed class SavedStatistics(params int[] lengths)
{
    readonly float[][] _buffers = Array.ConvertAll(lengths, StoragePool.Rent);
    bool _handedOn;

    /// <summary>Buffer <paramref name="i"/>, of the i-th length given (uninitialised until the forward writes it).</summary>
    public float[] this[int i] => _buffers[i];

    /// <summary>A node of the gradient graph now reads these buffers too: <see cref="Release"/> leaves them alone.</summary>
    public void HandOn() => _handedOn = true;

    /// <summary>Gives the buffers back to the pool unless they were handed on; the caller drops this object.</summary>
    public void Release()
    {
        if (_handedOn) return;
        foreach (var buffer in _buffers) StoragePool.Return(buffer);
    }
}
