using System.Globalization;

namespace GanForge.Data;

/// <summary>
/// A deterministic operator that makes the input A of a pair from an image B (<see cref="DerivedPairs"/>), so anyone
/// can reproduce the inputs from the images and the operator's name.
/// </summary>
public interface IPairOperator
{
    /// <summary>The operator as a pairs kind names it, with its settings (<c>edges:1.5</c>, <c>masked:14</c>, <c>downscale:4</c>).</summary>
    string Name { get; }

    /// <summary>One line saying exactly what A is, for logs.</summary>
    string Description { get; }

    /// <summary>The shape of A for an image B of shape (C,H,W).</summary>
    /// <exception cref="ArgumentException">The operator cannot be applied to images of that shape; the message says why and what to do.</exception>
    int[] OutputShape(int c, int h, int w);

    /// <summary>A for the image <paramref name="image"/> (C,H,W) in [0, 1]; a new tensor, the image left as it is.</summary>
    Tensor Apply(Tensor image);
}

/// <summary>
/// <c>edges</c>: A is the image's edge map: 1 where the Sobel gradient magnitude of the image's luma (the [0, 1] image
/// itself when gray, <c>0.299 R + 0.587 G + 0.114 B</c> when RGB), the border replicated, is above the threshold, else
/// 0; the same map in each of the image's channels, so A has B's shape (<see cref="PairKernels.SobelEdges"/>).
/// </summary>
/// <remarks>
/// A step from black to white gives a magnitude of 4 on both of its sides, so a line is two pixels wide; the default
/// threshold 1.5 keeps the outlines of Fashion-MNIST's garments and their strongest inner lines (seams, collars,
/// print) and leaves out fabric texture. Lower it for low-contrast photographs (<c>edges:0.8</c>).
/// </remarks>
public sealed class SobelEdgesOperator : IPairOperator
{
    /// <summary>The threshold of <c>edges</c> without a value.</summary>
    public const float DefaultThreshold = 1.5f;

    /// <param name="threshold">Magnitudes above it are edges; from 0 to below 2·√5 ≈ 4.472, the largest magnitude on [0, 1] images.</param>
    public SobelEdgesOperator(float threshold = DefaultThreshold)
    {
        if (!(threshold >= 0 && threshold < PairKernels.MaxSobelMagnitude))
            throw new ArgumentException($"Pairs 'edges:{threshold.ToString(CultureInfo.InvariantCulture)}': the threshold must be from 0 to below 4.472 (2·√5, the largest Sobel magnitude of a [0, 1] image)");
        Threshold = threshold;
    }

    /// <summary>Sobel magnitudes above it are edges.</summary>
    public float Threshold { get; }

    public string Name => "edges:" + Threshold.ToString(CultureInfo.InvariantCulture);

    public string Description =>
        $"edges: Sobel gradient magnitude of the luma (border replicated) > {Threshold.ToString(CultureInfo.InvariantCulture)} gives 1, else 0";

    public int[] OutputShape(int c, int h, int w) => c is 1 or 3 ? [c, h, w]
        : throw new ArgumentException($"Pairs '{Name}': images of {c} channels have no luma; give 1 (gray) or 3 (RGB) channels");

    public Tensor Apply(Tensor image)
    {
        var (c, h, w) = OperatorInput.Dims(image, this);
        var a = new Tensor(c, h, w);
        PairKernels.SobelEdges(image.Data, c, h, w, Threshold, a.Data, new float[h * w]);
        return a;
    }
}

/// <summary>
/// <c>masked</c>: A is the image with a centred square set to 0 (black) in every channel, for inpainting; the square's
/// side is half the image's smaller side (rounded down) unless given, and it starts at row <c>(H - side) / 2</c> and
/// column <c>(W - side) / 2</c>, rounded down (<see cref="PairKernels.CentreMask"/>). A has B's shape.
/// </summary>
public sealed class CentreMaskOperator : IPairOperator
{
    /// <summary>The value the square is set to (black, in the [0, 1] scale).</summary>
    public const float Fill = 0f;

    /// <param name="side">Side of the square in pixels; null for half the image's smaller side.</param>
    public CentreMaskOperator(int? side = null)
    {
        if (side is < 1) throw new ArgumentException($"Pairs 'masked:{side}': the square's side must be at least 1 pixel");
        Side = side;
    }

    /// <summary>Side of the square, or null for half the image's smaller side.</summary>
    public int? Side { get; }

    public string Name => Side is { } s ? $"masked:{s}" : "masked";

    public string Description =>
        $"masked: a centred {(Side is { } s ? $"{s} x {s}" : "half-size")} square set to {Fill.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The side of the square on images of H x W.</summary>
    public int SideFor(int h, int w) => Side ?? Math.Min(h, w) / 2;

    public int[] OutputShape(int c, int h, int w)
    {
        int side = SideFor(h, w);
        if (side > Math.Min(h, w) || side < 1)
            throw new ArgumentException($"Pairs '{Name}': a {side} x {side} square does not fit in images of {c}x{h}x{w}");
        return [c, h, w];
    }

    public Tensor Apply(Tensor image)
    {
        var (c, h, w) = OperatorInput.Dims(image, this);
        var a = new Tensor(c, h, w);
        PairKernels.CentreMask(image.Data, c, h, w, SideFor(h, w), Fill, a.Data);
        return a;
    }
}

/// <summary>
/// <c>downscale:s</c>, for super-resolution: A is the image averaged over s x s blocks (a box filter, exactly the mean
/// of each block, as <c>F.avg_pool2d(x, s)</c>), of shape (C, H/s, W/s); H and W must be multiples of s
/// (<see cref="PairKernels.BoxDownscale"/>).
/// </summary>
public sealed class BoxDownscaleOperator : IPairOperator
{
    /// <param name="factor">s, at least 2 (SRGAN's 4, or 2).</param>
    public BoxDownscaleOperator(int factor)
    {
        if (factor < 2) throw new ArgumentException($"Pairs 'downscale:{factor}': the scale must be at least 2 (e.g. downscale:2 or downscale:4)");
        Factor = factor;
    }

    /// <summary>s: the side of the blocks averaged.</summary>
    public int Factor { get; }

    public string Name => $"downscale:{Factor}";

    public string Description => $"downscale by {Factor}: the mean of each {Factor} x {Factor} block (box filter)";

    public int[] OutputShape(int c, int h, int w) => h % Factor == 0 && w % Factor == 0 ? [c, h / Factor, w / Factor]
        : throw new ArgumentException($"Pairs '{Name}': images of {c}x{h}x{w} do not divide into {Factor} x {Factor} blocks; " +
                                      $"give an image size that is a multiple of {Factor} (--image-size)");

    public Tensor Apply(Tensor image)
    {
        var (c, h, w) = OperatorInput.Dims(image, this);
        var a = new Tensor(c, h / Factor, w / Factor);
        PairKernels.BoxDownscale(image.Data, c, h, w, Factor, a.Data);
        return a;
    }
}

/// <summary>
/// Pairs made from the images of any dataset by an <see cref="IPairOperator"/>: B is the image, A the operator applied
/// to it, the label the image's (-1 when the dataset is unlabelled). Nothing is stored: A is computed when asked for.
/// </summary>
public sealed class DerivedPairs : IPairedDataset
{
    readonly bool _labelled;

    /// <param name="source">The images B.</param>
    /// <param name="op">What makes A from B.</param>
    /// <param name="labelled">Whether the source's labels are classes (false for an unlabelled folder, whose labels are all 0).</param>
    public DerivedPairs(IDataset source, IPairOperator op, bool labelled)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(op);
        Source = source; Operator = op; _labelled = labelled;
    }

    /// <summary>The images B.</summary>
    public IDataset Source { get; }

    /// <summary>What makes A from B.</summary>
    public IPairOperator Operator { get; }

    public int Count => Source.Count;
    public IReadOnlyList<string> Classes => _labelled ? Source.Classes : [];

    public (Tensor A, Tensor B, int Label) Get(int index)
    {
        var (b, label) = Source.Get(index);
        return (Operator.Apply(b), b, _labelled ? label : -1);
    }
}

file static class OperatorInput
{
    /// <summary>The image's (C,H,W), after checking that <paramref name="op"/> applies to it.</summary>
    public static (int C, int H, int W) Dims(Tensor image, IPairOperator op)
    {
        if (image.Rank != 3) throw new ArgumentException($"Pairs '{op.Name}': expected an image (C,H,W), got {Shapes.Format(image.ShapeSpan)}");
        int c = image.Size(0), h = image.Size(1), w = image.Size(2);
        op.OutputShape(c, h, w);
        return (c, h, w);
    }
}
