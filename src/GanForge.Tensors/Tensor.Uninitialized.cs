namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>
    /// A tensor whose elements are not cleared, for kernels that overwrite every element: large
    /// buffers come from <see cref="StoragePool"/> (recycled gradients) or skip the zeroing pass
    /// (and its page faults) that <c>new Tensor(shape)</c> pays.
    /// </summary>
    internal static Tensor Uninitialized(ReadOnlySpan<int> shape)
    {
        var s = shape.ToArray();
        return new Tensor(StoragePool.Rent(Shapes.Numel(s)), s);
    }
}
