namespace GanForge;

/// <summary>
/// A (height, width) pair for kernel sizes, strides, paddings and dilations. Converts implicitly
/// from an int (square) and from an (int, int) tuple, as PyTorch's _size_2_t.
/// </summary>
public readonly record struct Size2(int H, int W)
{
    public static implicit operator Size2(int v) => new(v, v);
    public static implicit operator Size2((int H, int W) t) => new(t.H, t.W);

    public override string ToString() => H == W ? H.ToString() : $"({H}, {W})";
}
