namespace GanForge.Gan.Augment;

/// <summary>
/// Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"): the
/// same random transforms T applied to every image D sees, real and generated, in both D's and G's updates, so D
/// learns on T(x) and T(G(z)) while G is trained through T; D cannot memorise the real set and G is never asked to
/// produce augmented images. The policy's transforms, each per image:
/// <list type="bullet">
/// <item><c>color</c>: brightness x + (u - 0.5); saturation (x - mean_c) · 2u + mean_c (a no-op on grey images);
///   contrast (x - mean_chw) · (u + 0.5) + mean_chw; u ~ U[0, 1) each.</item>
/// <item><c>translation</c>: a shift by whole pixels in [-s, s] on each axis, s = round(size/8), the uncovered
///   border filled with 0 (mid-grey in [-1, 1]).</item>
/// <item><c>cutout</c>: a square of side round(size/2) set to 0, centred at a uniform pixel and clipped at the edges.</item>
/// </list>
/// Every op is differentiable in the images (additions, products, a gather), so G's gradient flows through it.
/// </summary>
/// <remarks>
/// The random parameters come from the generator the caller passes (the run's loss-noise stream, which checkpoints
/// save), so training stays reproducible and a resume continues bit for bit. In data-parallel training the
/// parameters are drawn for the whole global batch and each process keeps its rows, as for every other per-sample draw.
/// </remarks>
public sealed class DiffAugment
{
    /// <summary>The transforms a policy may name.</summary>
    public static readonly string[] Transforms = ["color", "translation", "cutout"];

    /// <summary>The policy's transforms, in application order (the order the policy names them, as DiffAugment applies them).</summary>
    public IReadOnlyList<string> Policy { get; }

    /// <summary>Maximum shift of <c>translation</c> as a fraction of the image size (DiffAugment's 1/8).</summary>
    public float TranslationRatio { get; init; } = 0.125f;

    /// <summary>Side of <c>cutout</c>'s square as a fraction of the image size (DiffAugment's 1/2).</summary>
    public float CutoutRatio { get; init; } = 0.5f;

    DiffAugment(IReadOnlyList<string> policy) => Policy = policy;

    /// <summary>
    /// The augmentation for a policy such as "translation,cutout,color" (applied in that order; any case); null for "none" or an
    /// empty policy; a clear error naming the known transforms otherwise.
    /// </summary>
    public static DiffAugment? Parse(string? policy)
    {
        var names = (policy ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToList();
        if (names.Count == 0 || (names.Count == 1 && names[0] == "none")) return null;
        foreach (var n in names)
            if (!Transforms.Contains(n))
                throw new ArgumentException($"DiffAugment: unknown transform '{n}' in policy '{policy}'. Known: {string.Join(", ", Transforms)} (or none)");
        return new DiffAugment(names.Distinct().ToArray());
    }

    /// <summary>
    /// T(x) for images (N, C, H, W): every transform of the policy with parameters drawn from <paramref name="rng"/>,
    /// for the global batch of N·shard.Count rows of which <paramref name="images"/> are this process's.
    /// </summary>
    public Tensor Apply(Tensor images, Generator rng, Shard shard = default)
    {
        if (images.Rank != 4)
            throw new ArgumentException($"DiffAugment: images {Shapes.Format(images.ShapeSpan)} should be (N, C, H, W)");
        int n = images.Size(0), total = n * shard.Count, first = shard.IsWhole ? 0 : shard.Start(total);
        var x = images;
        foreach (var t in Policy)
        {
            var y = t switch
            {
                "color" => Color(x, Draw(rng, total, 3, first, n)),
                "translation" => Translate(x, Draw(rng, total, 2, first, n)),
                _ => Cutout(x, Draw(rng, total, 2, first, n)),
            };
            if (!ReferenceEquals(x, images)) Intermediates.Release(x, y);
            x = y;
        }
        return x;
    }

    // Every intermediate below is released to the engine's pool after its last reader (Intermediates.Release). The
    // chain is either all graph (images that need a gradient: G's batch in its update) or all constants (a real batch,
    // G's batch in D's update, where no op makes a node), so a tensor read twice is done with after its second reader.

    // k uniforms per sample for the global batch, this shard's rows: (n, k).
    static float[] Draw(Generator rng, int total, int k, int first, int n)
    {
        var all = new float[total * k];
        for (int i = 0; i < all.Length; i++) all[i] = (float)rng.NextDouble();
        return all.AsSpan(first * k, n * k).ToArray();
    }

    /// <summary>Brightness, saturation and contrast with per-image factors from <paramref name="u"/> (n, 3) in [0, 1).</summary>
    internal static Tensor Color(Tensor x, float[] u)
    {
        int n = x.Size(0);
        Tensor PerImage(int column, float scale, float offset)
        {
            var t = new Tensor(n, 1, 1, 1);
            for (int i = 0; i < n; i++) t.Data[i] = u[i * 3 + column] * scale + offset;
            return t;
        }
        var bright = x + PerImage(0, 1f, -0.5f);                             // brightness: x + (u - 0.5)
        var saturated = Spread(bright, bright.Mean(1, keepDim: true), PerImage(1, 2f, 0f));          // (x - mean_c)·2u + mean_c
        return Spread(saturated, saturated.Mean([1, 2, 3], keepDim: true), PerImage(2, 1f, 0.5f));  // (x - mean)·(u + 0.5) + mean
    }

    // (x - mean)·factor + mean, releasing its own intermediates and x (which Color made), read last by the centring.
    static Tensor Spread(Tensor x, Tensor mean, Tensor factor)
    {
        var centred = x - mean;
        Intermediates.Release(x, centred);
        var scaled = centred * factor;
        Intermediates.Release(centred, scaled);
        var spread = scaled + mean;
        Intermediates.Release(scaled, spread);
        Intermediates.Release(mean, spread);
        return spread;
    }

    /// <summary>
    /// Shifts each image by whole pixels, (dy, dx) = floor(u·(2s + 1)) - s from <paramref name="u"/> (n, 2); the
    /// uncovered border is 0. A gather of the shifted positions times a mask of the valid ones.
    /// </summary>
    internal Tensor Translate(Tensor x, float[] u)
    {
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3);
        int sy = (int)(h * TranslationRatio + 0.5f), sx = (int)(w * TranslationRatio + 0.5f);
        var index = new Tensor(n, c, h * w);
        var mask = new Tensor(n, 1, h * w);
        for (int i = 0; i < n; i++)
        {
            int dy = Math.Min((int)(u[i * 2] * (2 * sy + 1)), 2 * sy) - sy, dx = Math.Min((int)(u[i * 2 + 1] * (2 * sx + 1)), 2 * sx) - sx;
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                {
                    int fy = y - dy, fx = xx - dx, p = y * w + xx;                      // output (y, x) shows input (y - dy, x - dx)
                    bool inside = fy >= 0 && fy < h && fx >= 0 && fx < w;
                    mask.Data[i * h * w + p] = inside ? 1f : 0f;
                    float source = inside ? fy * w + fx : 0;
                    for (int ch = 0; ch < c; ch++) index.Data[(i * c + ch) * h * w + p] = source;
                }
        }
        var gathered = x.Reshape(n, c, h * w).Gather(2, index);
        Intermediates.ReleaseAfterReader(index, gathered);                             // the gather keeps its index
        var shifted = gathered * mask;
        Intermediates.Release(gathered, shifted);
        Intermediates.Release(mask, shifted);
        return shifted.Reshape(n, c, h, w);
    }

    /// <summary>Zeroes a square of side round(size·ratio) per image, centred at a pixel drawn from <paramref name="u"/> (n, 2), clipped at the edges.</summary>
    internal Tensor Cutout(Tensor x, float[] u)
    {
        int n = x.Size(0), h = x.Size(2), w = x.Size(3);
        int ch = (int)(h * CutoutRatio + 0.5f), cw = (int)(w * CutoutRatio + 0.5f);
        var mask = Tensor.Ones(n, 1, h, w);
        for (int i = 0; i < n; i++)
        {
            // The centre ranges over [0, size + (1 - side mod 2)), DiffAugment's range, so odd and even squares reach both edges alike.
            int rangeY = h + (1 - ch % 2), rangeX = w + (1 - cw % 2);
            int cy = Math.Min((int)(u[i * 2] * rangeY), rangeY - 1), cx = Math.Min((int)(u[i * 2 + 1] * rangeX), rangeX - 1);
            for (int y = Math.Max(cy - ch / 2, 0); y < Math.Min(cy - ch / 2 + ch, h); y++)
                for (int xx = Math.Max(cx - cw / 2, 0); xx < Math.Min(cx - cw / 2 + cw, w); xx++)
                    mask.Data[(i * h + y) * w + xx] = 0f;
        }
        var cut = x * mask;
        Intermediates.Release(mask, cut);
        return cut;
    }
}
