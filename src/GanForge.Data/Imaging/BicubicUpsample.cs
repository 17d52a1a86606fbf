namespace GanForge.Data;

/// <summary>
/// Bicubic upsampling of float images, the baseline of super-resolution: exactly PyTorch's
/// <c>F.interpolate(x, scale_factor=s, mode="bicubic", align_corners=False)</c> (Keys' cubic convolution with
/// a = -0.75, half-pixel centres, the border replicated), without clamping the result.
/// </summary>
public static class BicubicUpsample
{
    const double A = -0.75;

    /// <summary>(N,C,H,W) -> (N,C,H·scale,W·scale).</summary>
    public static Tensor Apply(Tensor images, int scale)
    {
        if (images.Rank != 4) throw new ArgumentException($"BicubicUpsample: images {Shapes.Format(images.ShapeSpan)} should be (N,C,H,W)");
        if (scale < 1) throw new ArgumentException($"BicubicUpsample: scale {scale} must be at least 1");
        int planes = images.Size(0) * images.Size(1), h = images.Size(2), w = images.Size(3), oh = h * scale, ow = w * scale;
        var output = new Tensor(images.Size(0), images.Size(1), oh, ow);
        var (ys, wy) = Taps(h, oh);
        var (xs, wx) = Taps(w, ow);
        var src = images.Data;
        var dst = output.Data;
        for (int p = 0; p < planes; p++)
        {
            var plane = src.Slice(p * h * w, h * w);
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    // PyTorch interpolates each of the 4 rows along x, then those 4 values along y.
                    float v = 0;
                    for (int a = 0; a < 4; a++)
                    {
                        int row = ys[i * 4 + a] * w;
                        float r = 0;
                        for (int b = 0; b < 4; b++) r += plane[row + xs[j * 4 + b]] * wx[j * 4 + b];
                        v += r * wy[i * 4 + a];
                    }
                    dst[(p * oh + i) * ow + j] = v;
                }
        }
        return output;
    }

    /// <summary>For each output index, the 4 input indices (clamped to the border) and their cubic weights.</summary>
    static (int[] Index, float[] Weight) Taps(int inSize, int outSize)
    {
        var index = new int[outSize * 4];
        var weight = new float[outSize * 4];
        float ratio = (float)inSize / outSize;
        for (int o = 0; o < outSize; o++)
        {
            float src = ratio * (o + 0.5f) - 0.5f;   // float, as PyTorch's area_pixel_compute_source_index
            int i0 = (int)MathF.Floor(src);
            float t = src - i0;
            float[] c = [(float)Far(t + 1), (float)Near(t), (float)Near(1 - t), (float)Far(2 - t)];
            for (int k = 0; k < 4; k++)
            {
                index[o * 4 + k] = Math.Clamp(i0 - 1 + k, 0, inSize - 1);
                weight[o * 4 + k] = c[k];
            }
        }
        return (index, weight);
    }

    // Keys' kernel: |x| <= 1 and 1 < |x| < 2.
    static double Near(double x) => ((A + 2) * x - (A + 3)) * x * x + 1;
    static double Far(double x) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}
