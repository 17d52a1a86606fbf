namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>
    /// A tensor whose elements are not cleared, for kernels that overwrite every element: large
    /// arrays then skip the zeroing pass (and its page faults) that <c>new Tensor(shape)</c> pays.
    /// </summary>
    internal static Tensor Uninitialized(ReadOnlySpan<int> shape)
    {
        var s = shape.ToArray();
        return new Tensor(GC.AllocateUninitializedArray<float>(Shapes.Numel(s)), s);
    }
}
