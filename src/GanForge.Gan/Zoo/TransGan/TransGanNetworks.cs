using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// TransGAN's generator (Jiang et al. 2021, figure 1, at small scale): z -> a linear layer to an 8 × 8 grid of tokens
/// of width E plus a learned positional embedding, transformer blocks; then per stage the grid is upsampled by pixel
/// shuffle (H × W × C -> 2H × 2W × C/4, so the cost per stage stays flat while the tokens quadruple), a new positional
/// embedding is added and more blocks follow; last a per-token linear layer (a 1 × 1 convolution) to the image
/// channels and tanh. No convolutions anywhere.
/// </summary>
/// <remarks>
/// Stages whose grid is wider than <c>window</c> attend within non-overlapping window × window cells (the paper's grid
/// self-attention, section 3.3): full attention over the 1,024 tokens of a 32 × 32 grid costs 16 times the 8 × 8
/// cells' and is what made TransGAN's high-resolution stages affordable. The grids before it are global, so the
/// cells are coherent.
/// </remarks>
public sealed class TransGenerator : Module, IPureLayer
{
    const int Bottom = 8;
    readonly int _nz, _nc, _width;
    readonly Linear _input;
    readonly TransStage[] _stages;
    readonly Linear _toImage;

    /// <summary>
    /// A generator from <c>nz</c> latents to <c>nc</c> × size × size images, <c>width</c> wide on the 8 × 8 grid;
    /// <c>depths</c> gives the blocks per stage, the 8 × 8 grid first, then one entry per doubling up to the size.
    /// </summary>
    public TransGenerator(int nz, int nc, int size, int width, int heads, int[] depths, int window, Generator rng)
    {
        int upsamplings = TransGanShapes.Upsamplings(size);
        if (depths.Length != upsamplings + 1)
            throw new ArgumentException($"TransGenerator: {depths.Length} stage depths for {upsamplings + 1} stages (8 × 8 up to {size} × {size})");
        TransGanShapes.CheckWidth("TransGenerator", width, upsamplings);
        (_nz, _nc, _width) = (nz, nc, width);
        _input = RegisterModule("input", new Linear(nz, Bottom * Bottom * width, generator: rng));   // z -> (8·8·E)
        _stages = new TransStage[depths.Length];
        for (int s = 0, grid = Bottom, dim = width; s < depths.Length; s++, grid *= 2, dim /= 4)
            _stages[s] = RegisterModule($"stage{s}", new TransStage(grid, dim, TransGanShapes.Heads(heads, dim), depths[s], grid > window ? window : grid, rng));
        _toImage = RegisterModule("to_image", new Linear(_stages[^1].Dim, nc, generator: rng));    // per token: E/4^s -> C
    }

    public override Tensor Forward(Tensor z)
    {
        int n = z.Size(0);
        if (z.Rank != 2 || z.Size(1) != _nz)
            throw new ArgumentException($"TransGenerator: latents {Shapes.Format(z.ShapeSpan)} should be (N, {_nz})");
        // Each step's input goes back to the pool after its last reader (Release).
        var x = _input.Forward(z).Reshape(n, Bottom * Bottom, _width);                    // tokens: (N, 64, E)
        for (int s = 0; s < _stages.Length; s++)
        {
            if (s > 0) x = Then(x, TransGanShapes.PixelUpsample(x, _stages[s - 1].Grid, Then)); // (N, 4HW, C/4)
            x = Then(x, _stages[s].Forward(x));
        }
        int g = _stages[^1].Grid;
        var linear = Then(x, _toImage.Forward(x));
        var pixels = Then(linear, linear.Tanh());                                         // (N, HW, C) in [-1, 1]
        return Then(pixels, pixels.Transpose(1, 2).Reshape(n, _nc, g, g));               // image: (N, C, H, W)
    }

}

/// <summary>
/// One resolution of TransGAN's generator: a learned positional embedding (1, grid², dim) added to the tokens, then
/// <c>depth</c> pre-norm transformer blocks, attending within window × window cells when window &lt; grid.
/// </summary>
public sealed class TransStage : Module, IPureLayer
{
    readonly Tensor _pos;
    readonly TransformerEncoderLayer[] _blocks;
    readonly int _window;

    public TransStage(int grid, int dim, int heads, int depth, int window, Generator rng)
    {
        (Grid, Dim, _window) = (grid, dim, window);
        _pos = RegisterParameter("pos_embed", Init.Normal(new Tensor(1, grid * grid, dim), 0f, 0.02f, rng));
        _blocks = new TransformerEncoderLayer[depth];
        for (int i = 0; i < depth; i++)
            _blocks[i] = RegisterModule($"block{i}", new TransformerEncoderLayer(dim, heads, 4 * dim, generator: rng));   // MLP ratio 4
    }

    /// <summary>Tokens per side.</summary>
    public int Grid { get; }
    /// <summary>Token width.</summary>
    public int Dim { get; }

    /// <summary>(N, grid², dim) -> (N, grid², dim).</summary>
    public override Tensor Forward(Tensor input)
    {
        var x = input + _pos;
        if (_blocks.Length == 0) return x;
        bool cells = _window < Grid;
        // Every tensor made here but the result goes back to the pool after its last reader (Release).
        if (cells) x = Then(x, TransGanShapes.ToWindows(x, Grid, _window));               // (N·cells, w², dim)
        foreach (var block in _blocks) x = Then(x, block.Forward(x));
        return cells ? Then(x, TransGanShapes.FromWindows(x, Grid, _window)) : x;
    }

}

/// <summary>
/// TransGAN's discriminator (a ViT, Dosovitskiy et al. 2021): the image cut into patch × patch patches, each linearly
/// embedded (a strided convolution's weights, applied as one Linear over the patches: Conv2d.ForwardTokens), a learned
/// class token prepended, learned positional embeddings, pre-norm
/// transformer blocks, a final LayerNorm, and a linear head on the class token: one score per image.
/// </summary>
public sealed class TransDiscriminator : Module, IPureLayer
{
    readonly int _nc, _size, _width;
    readonly Conv2d _patches;
    readonly Tensor _cls, _pos;
    readonly TransformerEncoderLayer[] _blocks;
    readonly LayerNorm _norm;
    readonly Linear _head;

    public TransDiscriminator(int nc, int size, int patch, int width, int heads, int depth, Generator rng)
    {
        if (patch < 1 || size % patch != 0)
            throw new ArgumentException($"TransDiscriminator: patch size {patch} does not divide the image size {size}");
        (_nc, _size, _width) = (nc, size, width);
        int tokens = (size / patch) * (size / patch);
        _patches = RegisterModule("patch_embed", new Conv2d(nc, width, patch, patch, generator: rng));         // (N, E, H/p, W/p)
        _cls = RegisterParameter("cls_token", Init.Normal(new Tensor(1, 1, width), 0f, 0.02f, rng));
        _pos = RegisterParameter("pos_embed", Init.Normal(new Tensor(1, tokens + 1, width), 0f, 0.02f, rng));
        _blocks = new TransformerEncoderLayer[depth];
        for (int i = 0; i < depth; i++)
            _blocks[i] = RegisterModule($"block{i}", new TransformerEncoderLayer(width, TransGanShapes.Heads(heads, width), 4 * width, generator: rng));
        _norm = RegisterModule("norm", new LayerNorm(width));
        _head = RegisterModule("head", new Linear(width, 1, generator: rng));
    }

    public override Tensor Forward(Tensor images)
    {
        int n = images.Size(0);
        if (images.Rank != 4 || images.Size(1) != _nc || images.Size(2) != _size || images.Size(3) != _size)
            throw new ArgumentException($"TransDiscriminator: images {Shapes.Format(images.ShapeSpan)} should be (N, {_nc}, {_size}, {_size})");
        // Every tensor made here but the scores goes back to the pool after its last reader (Release).
        var tokens = _patches.ForwardTokens(images);                                     // (N, L, E)
        var joined = Then(tokens, Tensor.Cat([_cls.Expand(n, 1, _width), tokens], 1));
        var x = Then(joined, joined + _pos);                                             // (N, 1 + L, E)
        foreach (var block in _blocks) x = Then(x, block.Forward(x));
        var cls = Then(x, _norm.Forward(x.Narrow(1, 0, 1))).Reshape(n, _width);         // the class token: (N, E)
        return Then(cls, _head.Forward(cls));                                            // (N, 1)
    }

}

/// <summary>The token-grid reshapes TransGAN is built from, and its size rules.</summary>
public static class TransGanShapes
{
    /// <summary>Doublings from the 8 × 8 grid to <paramref name="size"/> (16 -> 1, 32 -> 2, 64 -> 3).</summary>
    public static int Upsamplings(int size) => size switch
    {
        16 => 1,
        32 => 2,
        64 => 3,
        _ => throw new ArgumentException($"transgan: image size {size} is not supported (16, 32 or 64)"),
    };

    /// <summary>Each doubling divides the width by 4; it must stay a whole number.</summary>
    public static void CheckWidth(string who, int width, int upsamplings)
    {
        int divisor = 1 << (2 * upsamplings);
        if (width % divisor != 0)
            throw new ArgumentException($"{who}: width {width} must be divisible by {divisor} (4 per doubling, {upsamplings} doublings)");
    }

    /// <summary>The most heads, up to <paramref name="heads"/>, that divide <paramref name="dim"/>, at least 2 wide each when possible.</summary>
    public static int Heads(int heads, int dim)
    {
        int h = Math.Max(1, Math.Min(heads, dim / 2));
        while (dim % h != 0) h--;
        return h;
    }

    /// <summary>
    /// Pixel-shuffle upsampling of a token grid: (N, H·W, C) -> (N, 2H·2W, C/4), as torch.nn.PixelShuffle(2) on (N, C, H, W).
    /// A network passes its <c>Then</c> as <paramref name="then"/> to give back the two copies made on the way.
    /// </summary>
    public static Tensor PixelUpsample(Tensor tokens, int grid, Func<Tensor, Tensor, Tensor>? then = null)
    {
        then ??= (_, output) => output;
        int n = tokens.Size(0), c = tokens.Size(2);
        var image = tokens.Transpose(1, 2).Reshape(n, c, grid, grid);                     // (N, C, H, W)
        var up = then(image, Tensor.PixelShuffle(image, 2));                              // (N, C/4, 2H, 2W)
        return then(up, up.Reshape(n, c / 4, 4 * grid * grid).Transpose(1, 2));
    }

    /// <summary>Raster tokens (N, G·G, C) -> (N·(G/w)², w·w, C), each row one w × w cell in raster order.</summary>
    public static Tensor ToWindows(Tensor tokens, int grid, int window)
    {
        int n = tokens.Size(0), c = tokens.Size(2), k = grid / window;
        return tokens.Reshape(n, k, window, k, window, c).Permute(0, 1, 3, 2, 4, 5).Reshape(n * k * k, window * window, c);
    }

    /// <summary>The inverse of <see cref="ToWindows"/>.</summary>
    public static Tensor FromWindows(Tensor cells, int grid, int window)
    {
        int k = grid / window, c = cells.Size(2), n = cells.Size(0) / (k * k);
        return cells.Reshape(n, k, k, window, window, c).Permute(0, 1, 3, 2, 4, 5).Reshape(n, grid * grid, c);
    }
}
