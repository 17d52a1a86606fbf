namespace GanForge;

/// <summary>
/// A cap on the tensor elements a piece of code may create on this thread, for work sized by a file: a checkpoint's
/// settings say how big its networks are, and a damaged or hand-edited one must not make GanForge build networks far
/// larger than the weights the file holds before finding that they do not fit.
/// </summary>
/// <remarks>Counts the tensors made with <c>new Tensor(shape)</c> (every parameter is); one thread-local read per tensor otherwise.</remarks>
public sealed class AllocationLimit : IDisposable
{
    [ThreadStatic] static AllocationLimit? _current;

    readonly AllocationLimit? _outer;
    readonly Func<long, Exception> _exceeded;
    long _left;
    readonly long _max;

    AllocationLimit(long maxElements, Func<long, Exception> exceeded)
    {
        (_outer, _left, _max, _exceeded) = (_current, maxElements, maxElements, exceeded);
        _current = this;
    }

    /// <summary>
    /// Until disposed, tensors created on this thread may hold <paramref name="maxElements"/> elements in all; the one
    /// that would pass it throws what <paramref name="exceeded"/> makes of the elements asked for so far.
    /// </summary>
    public static AllocationLimit Begin(long maxElements, Func<long, Exception> exceeded) => new(maxElements, exceeded);

    internal static void Take(int elements)
    {
        if (_current is not { } limit) return;
        limit._left -= elements;
        if (limit._left < 0) throw limit._exceeded(limit._max - limit._left);
    }

    public void Dispose()
    {
        if (_current == this) _current = _outer;
    }
}
