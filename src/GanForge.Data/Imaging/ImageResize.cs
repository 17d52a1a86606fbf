namespace GanForge.Data;

/// <summary>
/// Square centre crop and resize of 8-bit planar images, as data is prepared for a GAN of a given image size:
/// the largest centred square is kept, then resized with an antialiased triangle (bilinear) filter.
/// </summary>
/// <remarks>
/// The filter is PIL's <c>Image.resize(..., BILINEAR)</c> (what torchvision's Resize does to PIL images): each output
/// pixel at centre c = (i + 0.5)·scale in the input (scale = in / out) averages the inputs within max(scale, 1) of it,
/// weighted by the triangle 1 − |x − c| / max(scale, 1), the weights normalised to sum to 1. Enlarging, that is
/// plain bilinear interpolation with half-pixel centres; shrinking, every input pixel contributes, so there is no
/// aliasing. Crop then resize gives what torchvision's Resize(N) then CenterCrop(N) gives, up to rounding.
/// </remarks>
public static class ImageResize
{
    /// <summary>The largest centred square in a width × height image: its left, top and side (offsets rounded down).</summary>
    public static (int X, int Y, int Side) CenterSquare(int width, int height)
    {
        int side = Math.Min(width, height);
        return ((width - side) / 2, (height - side) / 2, side);
    }

    /// <summary>
    /// Crops the centred square of <paramref name="src"/> (C,H,W) and resizes it to (C, size, size) into <paramref name="dst"/>.
    /// </summary>
    public static void CropResize(ReadOnlySpan<byte> src, int channels, int height, int width, int size, Span<byte> dst)
    {
        if (channels < 1 || height < 1 || width < 1 || size < 1)
            throw new ArgumentException($"ImageResize: image ({channels},{height},{width}) to size {size}; every value must be positive");
        if (src.Length < channels * height * width || dst.Length < channels * size * size)
            throw new ArgumentException($"ImageResize: buffers of {src.Length} and {dst.Length} bytes for ({channels},{height},{width}) -> ({channels},{size},{size})");
        var (x0, y0, side) = CenterSquare(width, height);
        var columns = Weights(side, size);
        var rows = Weights(side, size);
        // src plane: (H,W) -> horizontal pass over the crop's rows: (side, size) floats -> vertical pass: (size, size) bytes
        var tmp = new float[side * size];
        for (int ch = 0; ch < channels; ch++)
        {
            var plane = src.Slice(ch * height * width, height * width);
            for (int y = 0; y < side; y++)
            {
                var row = plane.Slice((y0 + y) * width + x0, side);
                for (int x = 0; x < size; x++)
                {
                    var (first, w) = columns[x];
                    float sum = 0;
                    for (int k = 0; k < w.Length; k++) sum += w[k] * row[first + k];
                    tmp[y * size + x] = sum;
                }
            }
            var outPlane = dst.Slice(ch * size * size, size * size);
            for (int y = 0; y < size; y++)
            {
                var (first, w) = rows[y];
                for (int x = 0; x < size; x++)
                {
                    float sum = 0;
                    for (int k = 0; k < w.Length; k++) sum += w[k] * tmp[(first + k) * size + x];
                    outPlane[y * size + x] = (byte)Math.Clamp((int)MathF.Round(sum), 0, 255);
                }
            }
        }
    }

    /// <summary>For each of <paramref name="outLength"/> outputs: the first input it reads and the normalised weights.</summary>
    static (int First, float[] Weights)[] Weights(int inLength, int outLength)
    {
        double scale = (double)inLength / outLength, support = Math.Max(scale, 1.0);
        var result = new (int, float[])[outLength];
        for (int i = 0; i < outLength; i++)
        {
            double centre = (i + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(centre - support + 0.5));
            int hi = Math.Min(inLength, (int)Math.Floor(centre + support + 0.5));
            if (hi <= lo) hi = Math.Min(inLength, lo + 1);
            var w = new double[hi - lo];
            double total = 0;
            for (int j = lo; j < hi; j++) total += w[j - lo] = Math.Max(0, 1 - Math.Abs(j + 0.5 - centre) / support);
            if (total <= 0) { Array.Fill(w, 0); w[Math.Min(w.Length - 1, Math.Max(0, (int)centre - lo))] = total = 1; }
            result[i] = (lo, w.Select(v => (float)(v / total)).ToArray());
        }
        return result;
    }
}
