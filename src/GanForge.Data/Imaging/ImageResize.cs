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
        var plan = new Plan(channels, height, width, size);
        plan.Apply(src, dst, new float[plan.ScratchLength]);
    }

    /// <summary>
    /// One crop and resize, (C,H,W) to (C, size, size), with its filter's weights worked out once for every image of a
    /// data set (<see cref="TensorDataset.Conform"/>): the same bytes as <see cref="CropResize"/> image by image.
    /// </summary>
    public sealed class Plan
    {
        readonly int _channels, _height, _width, _size, _x0, _y0, _side;
        // The weights of each output column of the crop's rows, and (the same filter) of each output row of those.
        readonly (int First, float[] Weights)[] _taps;

        public Plan(int channels, int height, int width, int size)
        {
            if (channels < 1 || height < 1 || width < 1 || size < 1)
                throw new ArgumentException($"ImageResize: image ({channels},{height},{width}) to size {size}; every value must be positive");
            (_channels, _height, _width, _size) = (channels, height, width, size);
            (_x0, _y0, _side) = CenterSquare(width, height);
            _taps = Weights(_side, size);
        }

        /// <summary>The floats of scratch <see cref="Apply"/> takes: the crop's rows resized (side x size).</summary>
        public int ScratchLength => _side * _size;

        /// <summary>Resizes one image into <paramref name="dst"/>; <paramref name="scratch"/> (<see cref="ScratchLength"/>) is the caller's, one per thread.</summary>
        public void Apply(ReadOnlySpan<byte> src, Span<byte> dst, Span<float> scratch)
        {
            int channels = _channels, height = _height, width = _width, size = _size, side = _side;
            if (src.Length < channels * height * width || dst.Length < channels * size * size || scratch.Length < side * size)
                throw new ArgumentException($"ImageResize: buffers of {src.Length} and {dst.Length} bytes for ({channels},{height},{width}) -> ({channels},{size},{size})");
            // src plane: (H,W) -> horizontal pass over the crop's rows: (side, size) floats -> vertical pass: (size, size) bytes
            for (int ch = 0; ch < channels; ch++)
            {
                var plane = src.Slice(ch * height * width, height * width);
                for (int y = 0; y < side; y++)
                {
                    var row = plane.Slice((_y0 + y) * width + _x0, side);
                    for (int x = 0; x < size; x++)
                    {
                        var (first, w) = _taps[x];
                        float sum = 0;
                        for (int k = 0; k < w.Length; k++) sum += w[k] * row[first + k];
                        scratch[y * size + x] = sum;
                    }
                }
                var outPlane = dst.Slice(ch * size * size, size * size);
                for (int y = 0; y < size; y++)
                {
                    var (first, w) = _taps[y];
                    for (int x = 0; x < size; x++)
                    {
                        float sum = 0;
                        for (int k = 0; k < w.Length; k++) sum += w[k] * scratch[(first + k) * size + x];
                        outPlane[y * size + x] = (byte)Math.Clamp((int)MathF.Round(sum), 0, 255);
                    }
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
