using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// StyleGAN2's activation (stylegan2-ada's bias_act 'lrelu'): leaky ReLU with slope 0.2, times sqrt(2) so that,
/// with the equalised layers, activations keep about unit variance from layer to layer.
/// </summary>
public sealed class ScaledLeakyReLU : Module, IPureLayer, ILeakyRectifier
{
    /// <summary>The gain, sqrt 2.</summary>
    public static readonly float Gain = MathF.Sqrt(2f);
    /// <summary>The negative slope, 0.2.</summary>
    public const float Slope = 0.2f;
    public override Tensor Forward(Tensor input) => input.LeakyRelu(Slope, Gain);
    float ILeakyRectifier.NegativeSlope => Slope;
    float ILeakyRectifier.Gain => Gain;
}

/// <summary>
/// StyleGAN's mapping network f: z -> w (Karras et al. 2019, section 2): z normalised to unit RMS (pixel norm), then
/// fully connected layers with equalised learning rate at lr × 0.01, so w moves slowly against the synthesis network.
/// Holds "w_avg", the moving average of w seen in training (β = 0.995, as stylegan2-ada), the centre of truncation.
/// </summary>
public sealed class MappingNetwork : Module, IPureLayer
{
    public int ZDim { get; }
    public int WDim { get; }
    /// <summary>The moving average of w over training (wdim): the truncation trick's centre.</summary>
    public Tensor WAvg { get; }
    /// <summary>β of the moving average of w.</summary>
    public const float WAvgBeta = 0.995f;

    readonly Sequential _layers;

    /// <summary>The layers in order: pixel norm, then each fully connected layer and its activation.</summary>
    public IEnumerable<Module> Layers => _layers;

    public MappingNetwork(int zDim, int wDim, int layers, float lrMultiplier, Generator rng)
    {
        (ZDim, WDim) = (zDim, wDim);
        _layers = RegisterModule("layers", new Sequential(new PixelNorm()));
        for (int i = 0; i < layers; i++)
            _layers.Add(new EqualLinear(i == 0 ? zDim : wDim, wDim, lrMultiplier: lrMultiplier, generator: rng)).Add(new ScaledLeakyReLU());
        WAvg = RegisterBuffer("w_avg", Tensor.Zeros(wDim));
    }

    /// <summary>z: (N, z_dim) -> w: (N, w_dim). Pure: w_avg is updated by <see cref="TrackAverage"/>.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 2 || input.Size(1) != ZDim)
            throw new ArgumentException($"MappingNetwork: z {Shapes.Format(input.ShapeSpan)} should be (N,{ZDim})");
        return _layers.Forward(input);
    }

    /// <summary>w_avg ← mean(w) + β·(w_avg - mean(w)), outside the graph (stylegan2-ada's lerp).</summary>
    public void TrackAverage(Tensor w)
    {
        using var _ = GradMode.NoGrad();
        var mean = w.Detach().Mean(0).Data;
        var avg = WAvg.Data;
        for (int i = 0; i < avg.Length; i++) avg[i] = mean[i] + WAvgBeta * (avg[i] - mean[i]);
    }

    /// <summary>
    /// The truncation trick: w' = w_avg + ψ·(w - w_avg), for w of shape (..., w_dim); w itself at ψ = 1. The two
    /// intermediates go back to the pool after their reader.
    /// </summary>
    public Tensor Truncate(Tensor w, float psi)
    {
        if (psi == 1f) return w;
        var offset = w - WAvg;
        var scaled = offset * psi;
        Release(offset, scaled);
        var truncated = WAvg + scaled;
        Release(scaled, truncated);
        return truncated;
    }
}

/// <summary>
/// One style layer of the synthesis network: modulated 3×3 convolution (with demodulation), the noise input with its
/// per-channel strength, a bias and the scaled leaky ReLU (stylegan2-ada's SynthesisLayer).
/// </summary>
public sealed class StyleLayer : Module, IPureLayer
{
    public ModulatedConv2d Conv { get; }
    public NoiseInjection Noise { get; }
    /// <summary>The bias (out) added after the noise.</summary>
    public Tensor Bias => _bias;
    readonly Tensor _bias;

    /// <param name="inChannels">Channels of the input maps.</param>
    /// <param name="outChannels">Channels of the output maps.</param>
    /// <param name="resolution">Side of the output maps (the noise's size).</param>
    /// <param name="wDim">Width of the style vector w that modulates the convolution.</param>
    /// <param name="rng">Initialisation randomness.</param>
    /// <param name="upsample">Double the input bilinearly inside the modulated convolution (a block's first layer).</param>
    public StyleLayer(int inChannels, int outChannels, int resolution, int wDim, Generator rng, bool upsample = false)
    {
        Conv = RegisterModule("conv", new ModulatedConv2d(inChannels, outChannels, 3, wDim, generator: rng, upsample: upsample));
        Noise = RegisterModule("noise", new NoiseInjection(outChannels, resolution, rng));
        _bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
    }

    /// <summary>x: (N,in,r,r) ((N,in,r/2,r/2) where the layer upsamples), w: (N,w_dim), noise (N,1,r,r) or null for the fixed map -> (N,out,r,r).</summary>
    /// <remarks>The demodulation, the noise, the bias and the activation run as one op (<see cref="Tensor.StyleEpilogue"/>).
    /// With <paramref name="consumesInput"/> (the caller owns x and reads it no more) the modulation may overwrite x
    /// (<see cref="ModulatedConv2d.ForwardParts"/>).</remarks>
    public Tensor Forward(Tensor x, Tensor w, Tensor? noise, bool consumesInput = false)
    {
        var (y, demod) = Conv.ForwardParts(x, w, consumesInput);
        // Without a graph the epilogue overwrites y: generation's 256 images then hold two 32-pixel maps of a layer's size
        // at once, not three (67 MB each at stylegan32's 64 channels).
        var output = Tensor.StyleEpilogue(y, demod!, Noise.ForwardStrength, Noise.NoiseFor(y, noise), _bias, ScaledLeakyReLU.Slope, ScaledLeakyReLU.Gain,
            overwriteY: true);
        if (!ReferenceEquals(output, y)) Release(y);
        Release(demod!);
        return output;
    }
}

/// <summary>StyleGAN2's toRGB: a modulated 1×1 convolution without demodulation, plus a bias, no activation.</summary>
public sealed class ToRgb : Module, IPureLayer
{
    readonly ModulatedConv2d _conv;
    readonly Tensor _bias;

    /// <summary>The modulated 1 × 1 convolution (no demodulation).</summary>
    public ModulatedConv2d Conv => _conv;
    /// <summary>The bias (channels).</summary>
    public Tensor Bias => _bias;

    public ToRgb(int inChannels, int channels, int wDim, Generator rng)
    {
        _conv = RegisterModule("conv", new ModulatedConv2d(inChannels, channels, 1, wDim, demodulate: false, generator: rng));
        _bias = RegisterParameter("bias", Tensor.Zeros(channels));
    }

    public Tensor Forward(Tensor x, Tensor w)
    {
        var y = _conv.Forward(x, w);
        var rgb = y + _bias.Reshape(1, _bias.Size(0), 1, 1);
        Release(y);
        return rgb;
    }
}

/// <summary>
/// StyleGAN2's synthesis network with skip connections to the output (Karras et al. 2020, figure 7b): a learned
/// 4×4 constant, then per resolution (8, 16, ... S) a ×2 upsampling and two style layers, and a toRGB at every
/// resolution whose images are upsampled and summed. Each style layer and toRGB reads its own w, so styles of
/// different samples can be mixed by layer.
/// </summary>
/// <remarks>
/// <para>The w indices follow stylegan2-ada: the 4×4 block's conv reads w[0] and its toRGB w[1]; block k (k ≥ 1) reads
/// w[2k-1], w[2k] in its convs and w[2k+1] in its toRGB, which the next block's first conv shares. At 32×32 that is 8 ws:
/// 0-2 at 4 and 8 pixels (coarse), 3-7 at 16 and 32 (fine).</para>
/// <para>Upsampling is bilinear ×2, which is StyleGAN2's [1,3,3,1] FIR filter away from the borders. The output is
/// linear (no tanh), as in StyleGAN2; images are clamped to [-1, 1] where they are written.</para>
/// </remarks>
public sealed class SynthesisNetwork : Module, IPureLayer
{
    public int Resolution { get; }
    public int Channels { get; }
    public int WDim { get; }
    /// <summary>How many ws the network reads: one per style layer and a last one for the final toRGB.</summary>
    public int NumWs { get; }
    /// <summary>The resolution of each noise input, in the order the layers read them.</summary>
    public IReadOnlyList<int> NoiseResolutions { get; }

    readonly Tensor _const;
    readonly List<(StyleLayer? Conv0, StyleLayer Conv1, ToRgb ToRgb, int Resolution)> _blocks = [];

    /// <summary>The learned constant (ch(4), 4, 4) the synthesis starts from.</summary>
    public Tensor Const => _const;
    /// <summary>The blocks from 4 pixels up: the upsampling conv (none at 4), the second conv, the toRGB, the resolution.</summary>
    public IReadOnlyList<(StyleLayer? Conv0, StyleLayer Conv1, ToRgb ToRgb, int Resolution)> Blocks => _blocks;

    public SynthesisNetwork(int resolution, int channels, int wDim, Func<int, int> width, Generator rng)
    {
        (Resolution, Channels, WDim) = (resolution, channels, wDim);
        _const = RegisterParameter("const", Init.Normal(new Tensor(width(4), 4, 4), 0f, 1f, rng));       // state: ch(4) x 4 x 4
        var noise = new List<int>();
        for (int r = 4; r <= resolution; r *= 2)
        {
            int ch = width(r);
            StyleLayer? conv0 = r == 4 ? null : RegisterModule($"b{r}_conv0", new StyleLayer(width(r / 2), ch, r, wDim, rng, upsample: true));
            var conv1 = RegisterModule($"b{r}_conv1", new StyleLayer(ch, ch, r, wDim, rng));
            var toRgb = RegisterModule($"b{r}_torgb", new ToRgb(ch, channels, wDim, rng));
            _blocks.Add((conv0, conv1, toRgb, r));
            if (conv0 != null) noise.Add(r);
            noise.Add(r);
        }
        NoiseResolutions = noise;
        NumWs = 2 * _blocks.Count;
    }

    /// <summary>ws: (N, NumWs, w_dim); noise: one (N,1,r,r) per entry of <see cref="NoiseResolutions"/>, or null for the fixed maps -> (N, C, S, S).</summary>
    public Tensor Forward(Tensor ws, IReadOnlyList<Tensor>? noise) => Forward(ws, noise, ownsNoise: false);

    /// <summary>
    /// As <see cref="Forward(Tensor, IReadOnlyList{Tensor}?)"/>; with <paramref name="ownsNoise"/> the maps are the caller's
    /// own, drawn for this pass, and each goes back to the pool once the layer that adds it is done with it (after that
    /// layer's backward, or at once without a graph).
    /// </summary>
    internal Tensor Forward(Tensor ws, IReadOnlyList<Tensor>? noise, bool ownsNoise)
    {
        if (ws.Rank != 3 || ws.Size(1) != NumWs || ws.Size(2) != WDim)
            throw new ArgumentException($"SynthesisNetwork: ws {Shapes.Format(ws.ShapeSpan)} should be (N,{NumWs},{WDim})");
        if (noise != null && noise.Count != NoiseResolutions.Count)
            throw new ArgumentException($"SynthesisNetwork: {noise.Count} noise maps given, the network has {NoiseResolutions.Count} noise inputs");
        int n = ws.Size(0), wi = 0, ni = 0;
        var constant = _const.Unsqueeze(0).Expand(n, _const.Size(0), 4, 4);
        var x = constant;
        Tensor? img = null;
        // Each step's input goes back to the pool after its last reader (Release), the constant too where Expand made a
        // copy of it; for one sample it is a view of the parameter itself, which must stay.
        bool constantIsCopy = !ReferenceEquals(constant.Storage, _const.Storage);
        // a style layer on the next noise map, which goes back with the layer's node where this pass drew it
        Tensor Layer(StyleLayer layer, Tensor input, Tensor w)
        {
            var map = noise?[ni++];
            // The layer may modulate its input in place: every input is the last reader's (toRGB has read it) and goes
            // back after it, but the 4 x 4 constant where it is a view of the parameter.
            var output = layer.Forward(input, w, map, consumesInput: !ReferenceEquals(input, constant) || constantIsCopy);
            if (ownsNoise && map != null) Intermediates.ReleaseAfterReader(map, output);
            return output;
        }
        // a style layer or toRGB on w index i, (N, w_dim), a copy released once the layer has read it
        Tensor Styled(int i, Func<Tensor, Tensor> layer)
        {
            var w = ws.Select(1, i);
            return Then(w, layer(w));
        }
        Tensor Step(Tensor input, Tensor output) => ReferenceEquals(input, constant) && !constantIsCopy ? output : Then(input, output);
        foreach (var (conv0, conv1, toRgb, r) in _blocks)
        {
            if (conv0 != null) x = Step(x, Styled(wi++, w => Layer(conv0, x, w)));  // upsampled: state ch x r x r
            x = Step(x, Styled(wi++, w => Layer(conv1, x, w)));
            var rgb = Styled(wi, w => toRgb.Forward(x, w));                                    // (N, C, r, r)
            if (img == null) img = rgb;
            else
            {
                var upsampled = Then(img, Tensor.Interpolate(img, 2.0, mode: "bilinear", alignCorners: false));
                img = Then(upsampled, Then(rgb, upsampled + rgb));
            }
        }
        Release(x);
        return img!;
    }
}

/// <summary>
/// The StyleGAN2 generator: the mapping network, the synthesis network, and what training does between them.
/// In training mode every forward updates w_avg, mixes styles (with probability <see cref="MixingProbability"/> a
/// sample takes its ws from a second z after a random layer) and draws fresh noise maps; in eval mode it truncates
/// w toward w_avg by <see cref="Truncation"/>, uses the fixed noise maps, so samples are deterministic, and clamps the
/// images to [-1, 1].
/// </summary>
/// <remarks>
/// A sample's training randomness (its coin for mixing, its crossover layer, its second z and its noise maps) is
/// drawn from a stream seeded by the bits of its own z. It is therefore a function of what the trainer's noise
/// stream drew: a resume continues it exactly without any state of its own, and in data-parallel training each
/// rank draws for its rows what one process would have.
/// </remarks>
public sealed class StyleGenerator : Module, IPureLayer
{
    public MappingNetwork Mapping { get; }
    public SynthesisNetwork Synthesis { get; }
    /// <summary>Style-mixing regularisation: the probability that a training sample mixes two ws (0.9 in StyleGAN2).</summary>
    public float MixingProbability { get; }
    /// <summary>ψ of the truncation trick in eval mode: 1 = none, 0 = every sample is the w_avg image.</summary>
    public float Truncation
    {
        get => _truncation;
        set => _truncation = value is >= 0f and <= 1f ? value
            : throw new ArgumentException($"StyleGenerator: truncation ψ must be in [0, 1], got {value}");
    }

    float _truncation = 1f;

    public StyleGenerator(MappingNetwork mapping, SynthesisNetwork synthesis, float mixingProbability)
    {
        Mapping = RegisterModule("mapping", mapping);
        Synthesis = RegisterModule("synthesis", synthesis);
        MixingProbability = mixingProbability;
    }

    public int NumWs => Synthesis.NumWs;
    public int WDim => Mapping.WDim;

    /// <summary>z: (N, z_dim) -> images (N, C, S, S) (see the class remarks for what training mode adds).</summary>
    public override Tensor Forward(Tensor input)
    {
        var w = Mapping.Forward(input);
        if (!Training) return Sample(w);
        Mapping.TrackAverage(w);
        var streams = Streams(input);
        // What this pass makes goes back to the pool after its last reader: w once broadcast (a copy), ws once the
        // synthesis has read it (each layer reads a copy of its row), the noise maps with the layers that add them.
        var ws = Broadcast(w);
        Release(w);
        if (MixingProbability > 0) ws = Mix(ws, streams);
        var images = Synthesis.Forward(ws, DrawNoise(streams), ownsNoise: true);
        Release(ws);
        return images;
    }

    // Eval mode: w truncated, the fixed noise maps, the images clamped. Samples keep the toolkit's [-1, 1] contract;
    // training sees the linear output, as StyleGAN2's does. w, ws and the unclamped images go back to the pool after
    // their last reader: left to the GC, they were most of the 410 page faults a generation call of 256 took.
    Tensor Sample(Tensor w)
    {
        var truncated = Mapping.Truncate(w, Truncation);
        var ws = Broadcast(truncated);
        var images = Synthesis.Forward(ws, null);
        var clamped = images.Clamp(-1f, 1f);
        Release(images);
        Release(ws);
        if (!ReferenceEquals(truncated, w)) Release(truncated);
        Release(w);
        return clamped;
    }

    /// <summary>w: (N, w_dim) -> ws: (N, NumWs, w_dim), the same w for every layer (a new tensor: NumWs is at least 2).</summary>
    public Tensor Broadcast(Tensor w) => w.Unsqueeze(1).Expand(w.Size(0), NumWs, w.Size(1));

    /// <summary>ws (N, NumWs, w_dim) truncated toward w_avg by ψ, as eval-mode sampling does.</summary>
    public Tensor MapToWs(Tensor z, float psi) => Broadcast(Mapping.Truncate(Mapping.Forward(z), psi));

    /// <summary>
    /// Style mixing: for each sample whose coin falls below p, a second z from its stream and a crossover layer k
    /// uniform in [1, NumWs); layers k.. read the second w. Takes <paramref name="ws"/> over: where it mixes, ws and
    /// what the mix makes on the way go back to the pool after their last reader.
    /// </summary>
    Tensor Mix(Tensor ws, Generator[] streams)
    {
        int n = ws.Size(0), nz = Mapping.ZDim, L = NumWs;
        var z2 = new Tensor(n, nz);
        var keep = new Tensor(n, L, 1);                                    // 1 where a layer keeps the first w
        bool any = false;
        for (int i = 0; i < n; i++)
        {
            var rng = streams[i];
            int cutoff = rng.NextFloat() < MixingProbability ? 1 + rng.NextInt(L - 1) : L;
            rng.FillNormal(z2.Data.Slice(i * nz, nz));
            for (int l = 0; l < L; l++) keep.Data[i * L + l] = l < cutoff ? 1f : 0f;
            any |= cutoff < L;
        }
        if (!any) return ws;
        var second = Mapping.Forward(z2);
        var ws2 = Broadcast(second);
        Release(second);
        var dropped = 1f - keep;
        var (kept, taken) = (ws * keep, ws2 * dropped);
        var mixed = kept + taken;
        Release(keep, kept);
        Release(dropped, taken);
        foreach (var t in (Tensor[])[ws, ws2, kept, taken]) Release(t);
        return mixed;
    }

    /// <summary>Fresh noise maps (N,1,r,r), one per noise input, from each sample's stream.</summary>
    List<Tensor> DrawNoise(Generator[] streams)
    {
        int n = streams.Length;
        var maps = Synthesis.NoiseResolutions.Select(r => new Tensor(n, 1, r, r)).ToList();
        for (int i = 0; i < n; i++)
            foreach (var map in maps)
            {
                int size = map.Size(2) * map.Size(3);
                streams[i].FillNormal(map.Data.Slice(i * size, size));
            }
        return maps;
    }

    /// <summary>One random stream per sample, seeded by a hash (FNV-1a) of the bits of its z.</summary>
    static Generator[] Streams(Tensor z)
    {
        int n = z.Size(0), d = z.Size(1);
        var data = z.Data;
        var streams = new Generator[n];
        for (int i = 0; i < n; i++)
        {
            ulong h = 14695981039346656037UL;
            for (int j = 0; j < d; j++)
            {
                h ^= BitConverter.SingleToUInt32Bits(data[i * d + j]);
                h *= 1099511628211UL;
            }
            streams[i] = new Generator(h);
        }
        return streams;
    }
}

/// <summary>
/// StyleGAN2's residual discriminator (Karras et al. 2020, figure 7c) with equalised learning rate: fromRGB at full
/// resolution, then per resolution two 3×3 convolutions and a 2×2 average-pool down, beside a 1×1 skip, summed and
/// scaled by sqrt(1/2); at 4×4 minibatch standard deviation, a 3×3 convolution and two fully connected layers.
/// </summary>
public sealed class StyleDiscriminator : Module
{
    readonly Sequential _fromRgb;
    readonly List<(Sequential Main, EqualConv2d Skip)> _blocks = [];
    readonly Sequential _epilogue;
    static readonly float Half = MathF.Sqrt(0.5f);

    public StyleDiscriminator(int resolution, int channels, Func<int, int> width, int mbstdGroup, Generator rng)
    {
        _fromRgb = RegisterModule("fromrgb", new Sequential(new EqualConv2d(channels, width(resolution), 1, generator: rng), new ScaledLeakyReLU()));
        for (int r = resolution; r > 4; r /= 2)
        {
            int ch = width(r), next = width(r / 2);                                      // state: ch x r x r -> next x r/2 x r/2
            var main = RegisterModule($"b{r}", new Sequential(
                new EqualConv2d(ch, ch, 3, padding: 1, generator: rng), new ScaledLeakyReLU(),
                new EqualConv2d(ch, next, 3, padding: 1, generator: rng), new ScaledLeakyReLU(), new AvgPool2d(2)));
            var skip = RegisterModule($"b{r}_skip", new EqualConv2d(ch, next, 1, bias: false, generator: rng));
            _blocks.Add((main, skip));
        }
        int c4 = width(4);
        var epilogue = new List<Module>();
        if (mbstdGroup > 0) epilogue.Add(new MinibatchStdDev(mbstdGroup));                  // state: (c4+1) x 4 x 4
        epilogue.AddRange([
            new EqualConv2d(c4 + (mbstdGroup > 0 ? 1 : 0), c4, 3, padding: 1, generator: rng), new ScaledLeakyReLU(),
            new Flatten(), new EqualLinear(c4 * 16, c4, generator: rng), new ScaledLeakyReLU(),
            new EqualLinear(c4, 1, generator: rng),
        ]);
        _epilogue = RegisterModule("epilogue", new Sequential([.. epilogue]));
    }

    /// <summary>images (N, C, S, S) -> logits (N, 1).</summary>
    public override Tensor Forward(Tensor input)
    {
        var x = _fromRgb.Forward(input);
        // Every tensor made here but x's first goes back to the pool after its last reader (Release).
        foreach (var (main, skip) in _blocks)
        {
            var pooled = Tensor.AvgPool2d(x, 2);
            var (residual, shortcut) = (main.Forward(x), skip.Forward(pooled));
            Release(pooled);
            Release(x);
            var sum = residual + shortcut;
            Release(residual);
            Release(shortcut);
            x = sum * Half;
            Release(sum);
        }
        var logits = _epilogue.Forward(x);
        Release(x);
        return logits;
    }
}
