namespace GanForge.Data;

/// <summary>
/// The reference kernels that make the input A of a derived pair from an image B (<see cref="DerivedPairs"/>): plain
/// loops over spans, no allocation, written to be read and reproduced (tests/fixtures/data/pairs.safetensors holds the
/// same operators computed with PyTorch: tools/fixtures/pairs.py).
/// </summary>
public static class PairKernels
{
    /// <summary>ITU-R 601 luma weights of red, green and blue (as PIL's convert("L") and <see cref="PixelConvert.ConvertChannels"/>).</summary>
    public const float LumaR = 0.299f, LumaG = 0.587f, LumaB = 0.114f;

    /// <summary>
    /// The largest Sobel magnitude of a [0, 1] image, 2·√5: gx and gy share the corner weights, so at most one of them
    /// reaches 4 (the other is then 2).
    /// </summary>
    public static readonly float MaxSobelMagnitude = 2 * MathF.Sqrt(5);

    /// <summary>The gray value of each pixel: a gray image as it is, an RGB one as <c>0.299 R + 0.587 G + 0.114 B</c>.</summary>
    // x: (C,H,W), C = 1 or 3 -> gray: (H,W)
    public static void Luma(ReadOnlySpan<float> x, int c, int h, int w, Span<float> gray)
    {
        int plane = h * w;
        Check(x.Length == c * plane && gray.Length == plane && c is 1 or 3, "Luma", c, h, w);
        if (c == 1) { x.CopyTo(gray); return; }
        for (int i = 0; i < plane; i++) gray[i] = LumaR * x[i] + LumaG * x[plane + i] + LumaB * x[2 * plane + i];
    }

    /// <summary>
    /// Sobel gradient magnitude <c>sqrt(gx² + gy²)</c>, the image's border replicated (so a bright border is no edge).
    /// </summary>
    /// <remarks>
    /// gx is the correlation with [[-1,0,1],[-2,0,2],[-1,0,1]] (x to the right), gy with its transpose (y down), as
    /// <c>F.conv2d(F.pad(x, (1,1,1,1), mode="replicate"), k)</c>. On [0, 1] images a step from 0 to 1 gives 4 beside it;
    /// the largest magnitude is <see cref="MaxSobelMagnitude"/>.
    /// </remarks>
    // gray: (H,W) -> magnitude: (H,W)
    public static void SobelMagnitude(ReadOnlySpan<float> gray, int h, int w, Span<float> magnitude)
    {
        Check(gray.Length == h * w && magnitude.Length == h * w, "SobelMagnitude", 1, h, w);
        for (int y = 0; y < h; y++)
        {
            int up = Math.Max(y - 1, 0) * w, mid = y * w, down = Math.Min(y + 1, h - 1) * w;
            for (int x = 0; x < w; x++)
            {
                int left = Math.Max(x - 1, 0), right = Math.Min(x + 1, w - 1);
                float gx = (gray[up + right] - gray[up + left]) + 2 * (gray[mid + right] - gray[mid + left]) + (gray[down + right] - gray[down + left]);
                float gy = (gray[down + left] - gray[up + left]) + 2 * (gray[down + x] - gray[up + x]) + (gray[down + right] - gray[up + right]);
                magnitude[mid + x] = MathF.Sqrt(gx * gx + gy * gy);
            }
        }
    }

    /// <summary>
    /// The edge map of <see cref="SobelEdgesOperator"/>: 1 where the Sobel magnitude of the luma is above
    /// <paramref name="threshold"/>, else 0, the same map in each of the C output channels.
    /// </summary>
    /// <param name="x">The image (C,H,W), C = 1 or 3, values in [0, 1].</param>
    /// <param name="c">C.</param>
    /// <param name="h">H.</param>
    /// <param name="w">W.</param>
    /// <param name="threshold">Magnitudes above it are edges.</param>
    /// <param name="edges">(C,H,W) output; its first plane is also the scratch space of the magnitude.</param>
    /// <param name="scratch">H·W floats for the luma.</param>
    // x: (C,H,W) -> edges: (C,H,W) of 0 and 1
    public static void SobelEdges(ReadOnlySpan<float> x, int c, int h, int w, float threshold, Span<float> edges, Span<float> scratch)
    {
        int plane = h * w;
        Check(edges.Length == c * plane && scratch.Length == plane, "SobelEdges", c, h, w);
        Luma(x, c, h, w, scratch);
        var map = edges[..plane];
        SobelMagnitude(scratch, h, w, map);
        for (int i = 0; i < plane; i++) map[i] = map[i] > threshold ? 1f : 0f;
        for (int ch = 1; ch < c; ch++) map.CopyTo(edges.Slice(ch * plane, plane));
    }

    /// <summary>
    /// The image with a centred square of side <paramref name="side"/> set to <paramref name="fill"/>: rows and columns
    /// from <c>(H - side) / 2</c> and <c>(W - side) / 2</c> (rounded down), in every channel.
    /// </summary>
    // x: (C,H,W) -> y: (C,H,W)
    public static void CentreMask(ReadOnlySpan<float> x, int c, int h, int w, int side, float fill, Span<float> y)
    {
        Check(x.Length == c * h * w && y.Length == x.Length && side >= 0 && side <= Math.Min(h, w), "CentreMask", c, h, w);
        x.CopyTo(y);
        int top = (h - side) / 2, left = (w - side) / 2;
        for (int ch = 0; ch < c; ch++)
            for (int row = top; row < top + side; row++)
                y.Slice((ch * h + row) * w + left, side).Fill(fill);
    }

    /// <summary>
    /// Box-filter downscaling by <paramref name="s"/>: each output pixel is the mean of the s x s block of input
    /// pixels it covers (<c>F.avg_pool2d(x, s)</c>); H and W must be multiples of s.
    /// </summary>
    // x: (C,H,W) -> y: (C,H/s,W/s)
    public static void BoxDownscale(ReadOnlySpan<float> x, int c, int h, int w, int s, Span<float> y)
    {
        Check(s >= 1 && h % s == 0 && w % s == 0 && x.Length == c * h * w && y.Length == c * (h / s) * (w / s), "BoxDownscale", c, h, w);
        int oh = h / s, ow = w / s;
        for (int ch = 0; ch < c; ch++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float sum = 0;
                    for (int dy = 0; dy < s; dy++)
                        for (int dx = 0; dx < s; dx++) sum += x[(ch * h + oy * s + dy) * w + ox * s + dx];
                    y[(ch * oh + oy) * ow + ox] = sum / (s * s);
                }
    }

    static void Check(bool ok, string op, int c, int h, int w)
    {
        if (!ok) throw new ArgumentException($"PairKernels.{op}: buffers or settings do not fit an image ({c},{h},{w})");
    }
}
