using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>Options for <see cref="ImageGrid"/>, named after torchvision.utils.make_grid's arguments.</summary>
public sealed record ImageGridOptions
{
    /// <summary>Images per row.</summary>
    public int NRow { get; init; } = 8;

    /// <summary>Pixels of border around and between images.</summary>
    public int Padding { get; init; } = 2;

    /// <summary>Border value in the output's [0, 1] scale.</summary>
    public float PadValue { get; init; }

    /// <summary>
    /// Input values mapped to black and white (clamped outside): (-1, 1) for tanh generator outputs,
    /// (0, 1) for data in [0, 1]. Ignored when <see cref="AutoRange"/> is set.
    /// </summary>
    public (float Low, float High) ValueRange { get; init; } = (-1f, 1f);

    /// <summary>Use the batch's own min and max as the range (make_grid's normalize=True without value_range).</summary>
    public bool AutoRange { get; init; }

    /// <summary>With <see cref="AutoRange"/>, take min and max per image instead of over the batch.</summary>
    public bool ScaleEach { get; init; }

    /// <summary>Range for inputs already in [0, 1] (make_grid's normalize=False).</summary>
    public static ImageGridOptions ZeroToOne { get; } = new() { ValueRange = (0f, 1f) };
}

/// <summary>
/// Tiles a batch (N,C,H,W) into one image, as torchvision's make_grid followed by save_image: images
/// are mapped to [0, 1], laid out NRow per row with Padding pixels of PadValue around each, and
/// rounded to bytes as <c>x * 255 + 0.5</c> clamped to [0, 255].
/// </summary>
/// <remarks>Single-channel batches stay single-channel (a gray PNG); make_grid would copy them to 3 equal channels.</remarks>
public static class ImageGrid
{
    /// <summary>The grid as an image (1 or 3 channels; 4 for RGBA input).</summary>
    public static ByteImage Make(Tensor batch, ImageGridOptions? options = null)
    {
        var o = options ?? new ImageGridOptions();
        var s = batch.ShapeSpan;
        if (s.Length == 3) return Make(batch.Reshape(1, s[0], s[1], s[2]), o);
        if (s.Length != 4 || s[1] is < 1 or > 4 || s[1] == 2)
            throw new ArgumentException($"ImageGrid: expected a batch (N,C,H,W) with C = 1, 3 or 4, got {Shapes.Format(s)}");
        if (o.NRow <= 0 || o.Padding < 0) throw new ArgumentException($"ImageGrid: NRow {o.NRow} must be positive and Padding {o.Padding} not negative");
        int n = s[0], c = s[1], h = s[2], w = s[3], plane = h * w, size = c * plane;
        if (n == 0) throw new ArgumentException("ImageGrid: empty batch");

        int xmaps = Math.Min(o.NRow, n), ymaps = (n + xmaps - 1) / xmaps;
        int cellH = h + o.Padding, cellW = w + o.Padding;
        int gridH = ymaps * cellH + o.Padding, gridW = xmaps * cellW + o.Padding;
        var grid = new ByteImage(gridW, gridH, c);
        var pad = new byte[1];
        PixelConvert.ToBytes([o.PadValue], pad);
        Array.Fill(grid.Pixels, pad[0]);

        var data = batch.Data;
        var (lo, hi) = o.ValueRange;
        if (o.AutoRange && !o.ScaleEach) (lo, hi) = MinMax(data);
        var bytes = new byte[size];
        for (int k = 0; k < n; k++)
        {
            var img = data.Slice(k * size, size);
            var (l, u) = o.AutoRange && o.ScaleEach ? MinMax(img) : (lo, hi);
            ToUnitBytes(img, bytes, l, u);
            int y0 = (k / xmaps) * cellH + o.Padding, x0 = (k % xmaps) * cellW + o.Padding;
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                {
                    int dst = ((y0 + y) * gridW + x0) * c + ch;
                    for (int x = 0; x < w; x++) grid.Pixels[dst + x * c] = bytes[ch * plane + y * w + x];
                }
        }
        return grid;
    }

    /// <summary>Writes the grid as a PNG file (atomically).</summary>
    public static void Save(string path, Tensor batch, ImageGridOptions? options = null) =>
        PngEncoder.Save(path, Make(batch, options));

    static (float, float) MinMax(ReadOnlySpan<float> x)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in x) { if (v < lo) lo = v; if (v > hi) hi = v; }
        return (lo, hi);
    }

    // torchvision divides by max(high - low, 1e-5), so a constant image maps to black rather than NaN.
    static void ToUnitBytes(ReadOnlySpan<float> src, Span<byte> dst, float lo, float hi) =>
        PixelConvert.ToBytes(src, dst, lo, lo + Math.Max(hi - lo, 1e-5f));
}
