namespace GanForge.Data;

/// <summary>Conversions between float pixels and bytes shared by the codecs, grids and datasets.</summary>
public static class PixelConvert
{
    /// <summary>
    /// Maps floats in [lo, hi] to bytes: clamp, scale to [0, 255], round half up, as
    /// torchvision's save_image (<c>x.mul(255).add(0.5).clamp(0, 255)</c>) after normalising.
    /// </summary>
    public static void ToBytes(ReadOnlySpan<float> src, Span<byte> dst, float lo = 0f, float hi = 1f)
    {
        if (dst.Length < src.Length) throw new ArgumentException($"PixelConvert.ToBytes: destination of {dst.Length} bytes is shorter than {src.Length} values");
        if (!(hi > lo)) throw new ArgumentException($"PixelConvert.ToBytes: range [{lo}, {hi}] is empty");
        float range = hi - lo;
        for (int i = 0; i < src.Length; i++)
        {
            // Divide rather than multiply by a reciprocal so values at exact .5 steps round as torchvision's do.
            float v = Math.Clamp((src[i] - lo) / range, 0f, 1f); // NaN survives Clamp and falls to 0 below
            float b = v * 255f + 0.5f;
            dst[i] = b >= 255f ? (byte)255 : b > 0f ? (byte)b : (byte)0;
        }
    }

    /// <summary>Maps bytes 0..255 to floats in [0, 1], dividing as torchvision's ToTensor does so values match bit for bit.</summary>
    public static void ToFloats(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = src[i] / 255f;
    }

    /// <summary>
    /// Converts planar images of <paramref name="inChannels"/> (1 or 3) to <paramref name="outChannels"/> (1 or 3):
    /// gray to RGB repeats the gray plane; RGB to gray is ITU-R 601 luma, as <see cref="ByteImage.ToChannels"/>.
    /// </summary>
    /// <param name="src">(inChannels, plane) bytes.</param>
    /// <param name="inChannels">1 or 3.</param>
    /// <param name="dst">(outChannels, plane) bytes.</param>
    /// <param name="outChannels">1 or 3.</param>
    /// <param name="plane">Pixels per channel (H·W).</param>
    public static void ConvertChannels(ReadOnlySpan<byte> src, int inChannels, Span<byte> dst, int outChannels, int plane)
    {
        if (inChannels is not (1 or 3) || outChannels is not (1 or 3))
            throw new ArgumentException($"PixelConvert.ConvertChannels: {inChannels} to {outChannels} channels; each must be 1 or 3");
        if (src.Length < inChannels * plane || dst.Length < outChannels * plane)
            throw new ArgumentException($"PixelConvert.ConvertChannels: buffers of {src.Length} and {dst.Length} bytes for {plane} pixels");
        if (inChannels == outChannels) { src[..(inChannels * plane)].CopyTo(dst); return; }
        if (inChannels == 1)
        {
            for (int c = 0; c < 3; c++) src[..plane].CopyTo(dst.Slice(c * plane, plane));
            return;
        }
        for (int i = 0; i < plane; i++)
            dst[i] = (byte)((src[i] * 299 + src[plane + i] * 587 + src[2 * plane + i] * 114 + 500) / 1000);
    }
}
