using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// ProGAN's growth schedule (Karras et al. 2018, section 3) in images shown to D: the first level (4 × 4) trains for
/// one phase; each later level fades in over one phase (α from 0 to 1) and then trains stably for one more; after
/// the last level the networks stay there. A level and α follow from the step alone, so a resume mid-fade continues
/// exactly where it stopped.
/// </summary>
/// <param name="Levels">Resolutions 4, 8, ... up to the image size.</param>
/// <param name="PhaseImages">Images shown per phase (600k in the paper at 1024 px).</param>
/// <param name="ImagesPerStep">Real images D sees per training step (the global batch times the critic steps).</param>
public sealed record GrowthSchedule(int Levels, long PhaseImages, long ImagesPerStep)
{
    /// <summary>The level (0 = 4 × 4) and fade-in α in [0, 1] at the start of generator step <paramref name="step"/>.</summary>
    public (int Level, float Alpha) At(long step)
    {
        long images = step * ImagesPerStep, phase = images / PhaseImages;
        int level = (int)Math.Min((phase + 1) / 2, Levels - 1);
        if (phase == 0 || phase % 2 == 0 || (phase + 1) / 2 > Levels - 1) return (level, 1f);
        return (level, (float)((double)(images - phase * PhaseImages) / PhaseImages));                // fading in
    }
}

/// <summary>
/// The state of growth a ProGAN network runs at: buffer "progress" = (level, α), set by the game before every phase
/// and saved with the weights, so the EMA copy, checkpoints and the sampler see the level training reached.
/// </summary>
public abstract class GrowingNetwork : Module
{
    readonly Tensor _progress;

    protected GrowingNetwork(int levels)
    {
        Levels = levels;
        _progress = RegisterBuffer("progress", Tensor.FromArray([0f, 1f]));
    }

    /// <summary>Resolutions the network can run at: 4, 8, ..., 4·2^(Levels-1).</summary>
    public int Levels { get; }
    public int Level => (int)_progress.Data[0];
    public float Alpha => _progress.Data[1];

    /// <summary>Sets the level and fade-in α (checked).</summary>
    public void SetProgress(int level, float alpha)
    {
        if (level < 0 || level >= Levels || !(alpha is >= 0f and <= 1f))
            throw new ArgumentException($"{TypeName}: level {level} and α {alpha} must be in [0, {Levels - 1}] and [0, 1]");
        _progress.Data[0] = level;
        _progress.Data[1] = alpha;
    }

    /// <summary>True while a new level fades in.</summary>
    protected bool Fading => Level > 0 && Alpha < 1f;
}

/// <summary>
/// ProGAN's generator (Karras et al. 2018, table 2, at small scale): z normalised (pixel norm), a fully connected layer
/// to 4 × 4 and a 3 × 3 convolution; per level a nearest-neighbour × 2 up and two 3 × 3 convolutions, each followed
/// by leaky ReLU and pixel norm; a linear 1 × 1 toRGB per level. All layers have an equalised learning rate and exist
/// from the start (so growing never rebuilds the optimizers); the ones above the current level are not run. While a
/// level fades in, the image is (1-α)·up(toRGB of the level below) + α·toRGB of the new level. The output is
/// upsampled (nearest) to the full image size, so a sample always has the model's shape.
/// </summary>
public sealed class ProGenerator : GrowingNetwork
{
    readonly int _size, _zDim;
    readonly Sequential _first;
    readonly List<Sequential> _blocks = [];
    readonly List<EqualConv2d> _toRgb = [];

    /// <summary>The image size S the output is upsampled to.</summary>
    public int Size => _size;
    /// <summary>z (N, z_dim) to the 4 × 4 features: pixel norm, fully connected, unflatten, activation, pixel norm, conv, activation, pixel norm.</summary>
    public Sequential First => _first;
    /// <summary>The block of each level from 1 up (upsample, conv, activation, pixel norm, twice).</summary>
    public IReadOnlyList<Sequential> Blocks => _blocks;
    /// <summary>The toRGB of each level from 0.</summary>
    public IReadOnlyList<EqualConv2d> ToRgb => _toRgb;

    public ProGenerator(int zDim, int channels, int size, Func<int, int> width, Generator rng) : base((int)Math.Log2(size) - 1)
    {
        (_size, _zDim) = (size, zDim);
        int c4 = width(4);
        _first = RegisterModule("b4", new Sequential(
            new PixelNorm(), new EqualLinear(zDim, c4 * 16, generator: rng), new Unflatten(1, [c4, 4, 4]), new ScaledLeakyReLU(), new PixelNorm(),
            new EqualConv2d(c4, c4, 3, padding: 1, generator: rng), new ScaledLeakyReLU(), new PixelNorm()));   // state: c4 x 4 x 4
        _toRgb.Add(RegisterModule("torgb4", new EqualConv2d(c4, channels, 1, generator: rng)));
        for (int r = 8; r <= size; r *= 2)
        {
            int c = width(r);                                                                          // state: c x r x r
            _blocks.Add(RegisterModule($"b{r}", new Sequential(new Upsample(scaleFactor: 2),
                new EqualConv2d(width(r / 2), c, 3, padding: 1, generator: rng), new ScaledLeakyReLU(), new PixelNorm(),
                new EqualConv2d(c, c, 3, padding: 1, generator: rng), new ScaledLeakyReLU(), new PixelNorm())));
            _toRgb.Add(RegisterModule($"torgb{r}", new EqualConv2d(c, channels, 1, generator: rng)));
        }
    }

    /// <summary>z: (N, z_dim) -> images (N, C, S, S) at the current level, upsampled to S; clamped to [-1, 1] in eval mode.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 2 || input.Size(1) != _zDim)
            throw new ArgumentException($"ProGenerator: z {Shapes.Format(input.ShapeSpan)} should be (N,{_zDim})");
        int level = Level;
        var h = _first.Forward(input);
        Tensor? below = null;
        for (int k = 1; k <= level; k++)
        {
            below = h;
            h = _blocks[k - 1].Forward(h);
        }
        var image = _toRgb[level].Forward(h);
        if (Fading)
        {
            var old = Tensor.Interpolate(_toRgb[level - 1].Forward(below!), 2.0, mode: "nearest");
            image = image * Alpha + old * (1f - Alpha);
        }
        int r = 4 << level;
        if (r < _size) image = Tensor.Interpolate(image, (double)(_size / r), mode: "nearest");
        return Training ? image : image.Clamp(-1f, 1f);
    }
}

/// <summary>
/// ProGAN's discriminator, the mirror of <see cref="ProGenerator"/>: the full-size image average-pooled to the current
/// level, a 1 × 1 fromRGB per level, per level two 3 × 3 convolutions and a 2 × 2 average pool, and at 4 × 4 minibatch
/// standard deviation, a 3 × 3 convolution and two fully connected layers, with equalised learning rate and leaky
/// ReLU, no normalisation (WGAN-GP). While a level fades in, the new level's features are blended with those of
/// fromRGB of the level below on the pooled image: α·block(fromRGB(x)) + (1-α)·fromRGB(pool(x)).
/// </summary>
public sealed class ProDiscriminator : GrowingNetwork
{
    readonly int _size;
    readonly List<Sequential> _fromRgb = [];
    readonly List<Sequential> _blocks = [];      // _blocks[k-1] takes level k down to level k-1
    readonly Sequential _final;

    public ProDiscriminator(int channels, int size, Func<int, int> width, int mbstdGroup, Generator rng) : base((int)Math.Log2(size) - 1)
    {
        _size = size;
        for (int r = 4; r <= size; r *= 2)
        {
            _fromRgb.Add(RegisterModule($"fromrgb{r}", new Sequential(new EqualConv2d(channels, width(r), 1, generator: rng), new ScaledLeakyReLU())));
            if (r > 4)
                _blocks.Add(RegisterModule($"b{r}", new Sequential(                                  // c_r x r x r -> c_{r/2} x r/2 x r/2
                    new EqualConv2d(width(r), width(r), 3, padding: 1, generator: rng), new ScaledLeakyReLU(),
                    new EqualConv2d(width(r), width(r / 2), 3, padding: 1, generator: rng), new ScaledLeakyReLU(), new AvgPool2d(2))));
        }
        int c4 = width(4);
        var final = new List<Module>();
        if (mbstdGroup > 0) final.Add(new MinibatchStdDev(mbstdGroup));                          // state: (c4+1) x 4 x 4
        final.AddRange([
            new EqualConv2d(c4 + (mbstdGroup > 0 ? 1 : 0), c4, 3, padding: 1, generator: rng), new ScaledLeakyReLU(),
            new Flatten(), new EqualLinear(c4 * 16, c4, generator: rng), new ScaledLeakyReLU(), new EqualLinear(c4, 1, generator: rng),
        ]);
        _final = RegisterModule("b4", new Sequential([.. final]));
    }

    /// <summary>images (N, C, S, S) -> scores (N, 1) at the current level.</summary>
    public override Tensor Forward(Tensor input)
    {
        int level = Level, r = 4 << level;
        var x = r < _size ? Tensor.AvgPool2d(input, _size / r) : input;                          // (N, C, r, r)
        var h = _fromRgb[level].Forward(x);
        if (level > 0)
        {
            h = _blocks[level - 1].Forward(h);
            if (Fading) h = h * Alpha + _fromRgb[level - 1].Forward(Tensor.AvgPool2d(x, 2)) * (1f - Alpha);
        }
        for (int k = level - 1; k >= 1; k--) h = _blocks[k - 1].Forward(h);
        return _final.Forward(h);
    }
}
