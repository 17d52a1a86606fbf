namespace GanForge.Data;

/// <summary>A per-sample transform on an image (C,H,W); randomness comes only from <c>rng</c>, so runs repeat.</summary>
public interface ITransform
{
    Tensor Apply(Tensor image, Generator rng);

    /// <summary>
    /// Whether <see cref="Apply"/> draws from <c>rng</c>. A sharded <see cref="DataLoader"/> skips the other shards'
    /// samples only when no transform draws (the draws of the samples before its own would be missing); unknown
    /// transforms are taken to draw.
    /// </summary>
    bool DrawsRandomness => true;
}

/// <summary>Maps [0, 1] to [-1, 1] (or any per-channel (x - mean) / std), as transforms.Normalize.</summary>
public sealed class Normalize : ITransform
{
    readonly float[] _mean, _std;

    /// <summary>(x - 0.5) / 0.5 on every channel: [0, 1] to [-1, 1], the range of a tanh generator.</summary>
    public Normalize() : this([0.5f], [0.5f]) { }

    /// <param name="mean">One value per channel, or one for all.</param>
    /// <param name="std">One value per channel, or one for all.</param>
    public Normalize(float[] mean, float[] std)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: {mean.Length} means and {std.Length} stds; expected the same non-zero count");
        if (std.Any(s => s == 0f)) throw new ArgumentException("Normalize: std contains 0");
        _mean = mean; _std = std;
    }

    public Tensor Apply(Tensor image, Generator rng)
    {
        int c = image.Size(0), plane = image.Numel / c;
        if (_mean.Length != 1 && _mean.Length != c)
            throw new ArgumentException($"Normalize: {_mean.Length} means for an image {Shapes.Format(image.ShapeSpan)} with {c} channels");
        var d = image.Data;
        for (int ch = 0; ch < c; ch++)
        {
            float m = _mean[_mean.Length == 1 ? 0 : ch], inv = 1f / _std[_std.Length == 1 ? 0 : ch];
            var p = d.Slice(ch * plane, plane);
            for (int i = 0; i < p.Length; i++) p[i] = (p[i] - m) * inv;
        }
        return image;
    }

    public bool DrawsRandomness => false;
}

/// <summary>Bilinear resize to (height, width), as F.interpolate(mode="bilinear", align_corners=False) without antialiasing.</summary>
public sealed class Resize(int height, int width) : ITransform
{
    public int Height { get; } = height > 0 && width > 0 ? height : throw new ArgumentException($"Resize: size {height}x{width} must be positive");
    public int Width { get; } = width;

    public Tensor Apply(Tensor image, Generator rng) => Transforms.ResizeBilinear(image, Height, Width);

    public bool DrawsRandomness => false;
}

/// <summary>Mirrors the image left-right with probability <c>p</c> (a draw per sample from the loader's seeded generator).</summary>
public sealed class RandomHorizontalFlip(float p = 0.5f) : ITransform
{
    public float P { get; } = p is >= 0f and <= 1f ? p : throw new ArgumentException($"RandomHorizontalFlip: probability {p} is outside [0, 1]");

    public Tensor Apply(Tensor image, Generator rng)
    {
        // Draw even when p is 0 or 1 so the stream (and later samples) do not depend on p.
        if (rng.NextFloat() >= P) return image;
        Transforms.FlipHorizontal(image.Data, image.Size(-1));
        return image;
    }
}

/// <summary>Image kernels shared by the transforms and datasets.</summary>
public static class Transforms
{
    /// <summary>Bilinear resize of (C,H,W) or (H,W) to (C,oh,ow), half-pixel centres (align_corners=False).</summary>
    public static Tensor ResizeBilinear(Tensor image, int outHeight, int outWidth)
    {
        var s = image.ShapeSpan;
        if (s.Length is not (2 or 3))
            throw new ArgumentException($"Resize: expected an image (C,H,W) or (H,W), got {Shapes.Format(s)}");
        int c = s.Length == 3 ? s[0] : 1, h = s[^2], w = s[^1];
        if (h == outHeight && w == outWidth) return image;
        var output = s.Length == 3 ? new Tensor(c, outHeight, outWidth) : new Tensor(outHeight, outWidth);
        ResizeBilinear(image.Data, c, h, w, output.Data, outHeight, outWidth);
        return output;
    }

    // src: (C,H,W) -> dst: (C,OH,OW); source coordinate (o + 0.5) * in/out - 0.5, clamped at 0 as PyTorch does
    internal static void ResizeBilinear(ReadOnlySpan<float> src, int c, int h, int w, Span<float> dst, int oh, int ow)
    {
        Span<int> x0 = ow <= 512 ? stackalloc int[ow] : new int[ow];
        Span<int> x1 = ow <= 512 ? stackalloc int[ow] : new int[ow];
        Span<float> lx = ow <= 512 ? stackalloc float[ow] : new float[ow];
        float sx = (float)w / ow, sy = (float)h / oh;
        for (int x = 0; x < ow; x++)
        {
            float fx = Math.Max((x + 0.5f) * sx - 0.5f, 0f);
            x0[x] = Math.Min((int)fx, w - 1);
            x1[x] = Math.Min(x0[x] + 1, w - 1);
            lx[x] = fx - x0[x];
        }
        for (int y = 0; y < oh; y++)
        {
            float fy = Math.Max((y + 0.5f) * sy - 0.5f, 0f);
            int y0 = Math.Min((int)fy, h - 1), y1 = Math.Min(y0 + 1, h - 1);
            float ly = fy - y0;
            for (int ch = 0; ch < c; ch++)
            {
                var r0 = src.Slice((ch * h + y0) * w, w);
                var r1 = src.Slice((ch * h + y1) * w, w);
                var o = dst.Slice((ch * oh + y) * ow, ow);
                for (int x = 0; x < ow; x++)
                {
                    float top = r0[x0[x]] + (r0[x1[x]] - r0[x0[x]]) * lx[x];
                    float bottom = r1[x0[x]] + (r1[x1[x]] - r1[x0[x]]) * lx[x];
                    o[x] = top + (bottom - top) * ly;
                }
            }
        }
    }

    /// <summary>Reverses every row of width <paramref name="width"/> in place.</summary>
    public static void FlipHorizontal(Span<float> data, int width)
    {
        for (int r = 0; r < data.Length; r += width) data.Slice(r, width).Reverse();
    }
}
