namespace GanForge.Data;

/// <summary>
/// An 8-bit image with interleaved channels, row-major (H, W, C): 1 = gray, 2 = gray+alpha,
/// 3 = RGB, 4 = RGBA. The exchange type between the codecs and tensors.
/// </summary>
public sealed class ByteImage
{
    public ByteImage(int width, int height, int channels, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"ByteImage: size {width}x{height} must be positive");
        if (channels is < 1 or > 4)
            throw new ArgumentException($"ByteImage: {channels} channels; expected 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)");
        long n = (long)width * height * channels;
        if (n > Array.MaxLength) throw new ArgumentException($"ByteImage: {width}x{height}x{channels} is too large");
        pixels ??= new byte[n];
        if (pixels.Length != n)
            throw new ArgumentException($"ByteImage: {pixels.Length} bytes do not fill {width}x{height}x{channels} ({n})");
        Width = width; Height = height; Channels = channels; Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    /// <summary>Pixels as (H, W, C) bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>True when the last channel is alpha (2 or 4 channels).</summary>
    public bool HasAlpha => Channels is 2 or 4;

    /// <summary>True when the image holds no colour: 1 or 2 channels, or red, green and blue equal in every pixel.</summary>
    public bool IsGray
    {
        get
        {
            if (Channels < 3) return true;
            for (int i = 0; i < Pixels.Length; i += Channels)
                if (Pixels[i] != Pixels[i + 1] || Pixels[i] != Pixels[i + 2]) return false;
            return true;
        }
    }

    /// <summary>This image with alpha dropped and colour converted to <paramref name="channels"/> (1 gray or 3 RGB).</summary>
    /// <remarks>RGB to gray uses ITU-R 601 luma, as PIL's convert("L"): Y = (299 R + 587 G + 114 B) / 1000.</remarks>
    public ByteImage ToChannels(int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"ByteImage.ToChannels: {channels} channels; expected 1 or 3");
        if (channels == Channels) return this;
        var dst = new byte[Width * Height * channels];
        int n = Width * Height, c = Channels;
        bool colour = Channels >= 3;
        for (int i = 0; i < n; i++)
        {
            int s = i * c;
            if (channels == 1)
                dst[i] = colour ? (byte)((Pixels[s] * 299 + Pixels[s + 1] * 587 + Pixels[s + 2] * 114 + 500) / 1000) : Pixels[s];
            else
            {
                byte r = Pixels[s], g = colour ? Pixels[s + 1] : r, b = colour ? Pixels[s + 2] : r;
                dst[3 * i] = r; dst[3 * i + 1] = g; dst[3 * i + 2] = b;
            }
        }
        return new ByteImage(Width, Height, channels, dst);
    }

    /// <summary>Planar float tensor (C, H, W) in [0, 1].</summary>
    public Tensor ToTensor()
    {
        var t = new Tensor(Channels, Height, Width);
        ToPlanarFloats(t.Data);
        return t;
    }

    internal void ToPlanarFloats(Span<float> dst)
    {
        int plane = Width * Height;
        for (int ch = 0; ch < Channels; ch++)
            for (int i = 0; i < plane; i++) dst[ch * plane + i] = Pixels[i * Channels + ch] / 255f;
    }

    /// <summary>The pixels as planar bytes (C, H, W) into <paramref name="dst"/> (C·H·W long).</summary>
    public void ToPlanarBytes(Span<byte> dst)
    {
        int plane = Width * Height;
        for (int ch = 0; ch < Channels; ch++)
            for (int i = 0; i < plane; i++) dst[ch * plane + i] = Pixels[i * Channels + ch];
    }

    /// <summary>An image from a (C, H, W) or (H, W) tensor, mapping [lo, hi] to 0..255 with clamping.</summary>
    public static ByteImage FromTensor(Tensor image, float lo = 0f, float hi = 1f)
    {
        var s = image.ShapeSpan;
        int c = s.Length == 3 ? s[0] : s.Length == 2 ? 1 : -1;
        if (c is < 1 or > 4)
            throw new ArgumentException($"ByteImage.FromTensor: expected (C,H,W) with C in 1..4 or (H,W), got {Shapes.Format(s)}");
        int h = s[^2], w = s[^1], plane = h * w;
        var planar = new byte[image.Numel];
        PixelConvert.ToBytes(image.Data, planar, lo, hi);
        var px = new byte[planar.Length];
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < plane; i++) px[i * c + ch] = planar[ch * plane + i];
        return new ByteImage(w, h, c, px);
    }
}
