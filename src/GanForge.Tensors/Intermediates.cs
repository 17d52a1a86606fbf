namespace GanForge;

/// <summary>
/// How code that makes intermediate tensors (layers, zoo networks, augmentations) gives their buffers back to the
/// engine's pool once their readers are done, instead of leaving them to the GC: a fresh large buffer costs a page
/// fault per 4 KB on first touch, and in a training step that adds up to a tenth of the step.
/// </summary>
internal static class Intermediates
{
    /// <summary>
    /// Says that <paramref name="t"/>, a new tensor (no view) that the caller made and keeps to itself, has had its last
    /// reader. With a graph its buffer goes back to the pool once the node that made it has run its backward (every
    /// reader's backward runs before); without one, as in a sampling or no-grad pass, it goes back now.
    /// </summary>
    /// <remarks>
    /// When gradients are on but <paramref name="t"/> has no node (made from frozen inputs), a reader may have saved it
    /// for its backward and nothing marks when that has run: its buffer is left to the GC (see <see cref="Release(Tensor, Tensor)"/>).
    /// </remarks>
    public static void Release(Tensor t)
    {
        if (t.GradFn != null) t.RecycleAfterBackward = true;
        else if (!GradMode.IsEnabled && !t.RequiresGrad) StoragePool.Return(t.Storage);
    }

    /// <summary>
    /// Says that <paramref name="t"/>, a new tensor the caller made and keeps to itself, is done with once the op that
    /// made <paramref name="reader"/> has read it: its one reader, or its last where no reader made a node (all of them
    /// were applied to tensors that need no gradient). As <see cref="Release(Tensor)"/>, and also when
    /// <paramref name="t"/> has no node (a frozen layer's scaled weight, a constant mask): its buffer then goes back once
    /// the reader's node has run its backward, or now if the reader made no node.
    /// </summary>
    public static void Release(Tensor t, Tensor reader)
    {
        if (t.GradFn != null || t.RequiresGrad) { Release(t); return; }
        if (reader.GradFn == null) { if (!reader.RequiresGrad) StoragePool.Return(t.Storage); return; }
        Function.ReaderOf(t, reader)?.HoldUntilReleased(t);
    }

    /// <summary>
    /// Says that <paramref name="t"/>, a constant the caller made (no node, needs no gradient), is read by the node that
    /// made <paramref name="reader"/> alone, which keeps it in its own state rather than as an input (a gather's index):
    /// its buffer goes back once that node has run its backward, or now if the reader made no node.
    /// </summary>
    public static void ReleaseAfterReader(Tensor t, Tensor reader)
    {
        if (t.GradFn != null || t.RequiresGrad)
            throw new ArgumentException($"ReleaseAfterReader: {Shapes.Format(t.ShapeSpan)} is not a constant (it has a node or needs a gradient)");
        if (reader.GradFn is { } node) node.HoldUntilReleased(t);
        else if (!reader.RequiresGrad) StoragePool.Return(t.Storage);
    }
}
