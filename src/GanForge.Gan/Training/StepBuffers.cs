namespace GanForge.Gan.Training;

/// <summary>
/// Tensors a phase made for one step that only that step's graph reads (G's batch in D's update, an augmented batch, a
/// concatenation of two batches that a network's first layer may keep for its backward): their buffers go back to the
/// pool once the step is done (<see cref="Return"/>, from the phase's <see cref="Phase.AfterStep"/>), when that graph
/// has run its backward.
/// </summary>
internal sealed class StepBuffers
{
    readonly List<Tensor> _tensors = [];

    /// <summary>Gives <paramref name="t"/>'s buffer back when the step is done.</summary>
    public void Add(Tensor t) => _tensors.Add(t);

    /// <summary>Gives back every buffer added since the last call.</summary>
    public void Return()
    {
        foreach (var t in _tensors) t.ReturnToPool();
        _tensors.Clear();
    }
}
