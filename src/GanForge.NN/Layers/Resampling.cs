namespace GanForge.NN;

/// <summary>
/// Upsampling layer (torch.nn.Upsample) with mode "nearest" or "bilinear". Give a size or a scale factor.
/// </summary>
public sealed class Upsample : Module, IPureLayer
{
    public Size2? Size { get; }
    public (double H, double W)? ScaleFactor { get; }
    public string Mode { get; }
    public bool? AlignCorners { get; }

    public Upsample(Size2? size = null, double? scaleFactor = null, string mode = "nearest", bool? alignCorners = null)
    {
        if ((size == null) == (scaleFactor == null))
            throw new ArgumentException("Upsample: give exactly one of size and scaleFactor");
        if (mode != "nearest" && mode != "bilinear")
            throw new ArgumentException($"Upsample: mode '{mode}' is not supported (nearest, bilinear)");
        Size = size; ScaleFactor = scaleFactor is double s ? (s, s) : null; Mode = mode; AlignCorners = alignCorners;
    }

    public override Tensor Forward(Tensor input) => Tensor.Interpolate(input, Size, ScaleFactor, Mode, AlignCorners);
    protected override string ExtraRepr() => (Size is Size2 s ? $"size={s}" : $"scale_factor={ScaleFactor!.Value.H}") + $", mode='{Mode}'";
}

/// <summary>Sub-pixel upsampling (torch.nn.PixelShuffle): (N, C*r*r, H, W) -> (N, C, H*r, W*r).</summary>
public sealed class PixelShuffle(int upscaleFactor) : Module, IPureLayer
{
    public int UpscaleFactor { get; } = upscaleFactor;
    public override Tensor Forward(Tensor input) => Tensor.PixelShuffle(input, UpscaleFactor);
    protected override string ExtraRepr() => $"upscale_factor={UpscaleFactor}";
}

/// <summary>Mirror padding of the last two dims (torch.nn.ReflectionPad2d), (left, right, top, bottom).</summary>
public sealed class ReflectionPad2d((int Left, int Right, int Top, int Bottom) padding) : Module, IPureLayer
{
    public (int Left, int Right, int Top, int Bottom) Padding { get; } = padding;
    public ReflectionPad2d(int padding) : this((padding, padding, padding, padding)) { }
    public override Tensor Forward(Tensor input) => Tensor.Pad(input, Padding, "reflect");
    protected override string ExtraRepr() => $"{Padding}";
}

/// <summary>Zero padding of the last two dims (torch.nn.ZeroPad2d), (left, right, top, bottom).</summary>
public sealed class ZeroPad2d((int Left, int Right, int Top, int Bottom) padding) : Module, IPureLayer
{
    public (int Left, int Right, int Top, int Bottom) Padding { get; } = padding;
    public ZeroPad2d(int padding) : this((padding, padding, padding, padding)) { }
    public override Tensor Forward(Tensor input) => Tensor.Pad(input, Padding);
    protected override string ExtraRepr() => $"{Padding}";
}
