namespace GanForge.NN;

// The layers of the style-based and progressive GANs (Karras et al. 2018, 2019, 2020). Every one is built
// from differentiable tensor ops, so gradients of gradients (R1 through the discriminator) flow through them.

/// <summary>
/// Pixelwise feature normalisation (Karras et al. 2018, section 4.2): each sample's feature vector at each
/// position is scaled to unit root mean square over the channels, y = x / sqrt(mean_c(x²) + ε).
/// </summary>
/// <remarks>Takes (N,C) (the mapping network normalises z this way) or (N,C,H,W); ε = 1e-8 as in the papers' code.</remarks>
public sealed class PixelNorm(float eps = 1e-8f) : Module, IPureLayer
{
    public float Eps { get; } = eps > 0 ? eps : throw new ArgumentException($"PixelNorm: eps must be positive, got {eps}");

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank is not (2 or 4))
            throw new ArgumentException($"PixelNorm: expected input (N,C) or (N,C,H,W), got {Shapes.Format(input.ShapeSpan)}");
        // x · rsqrt(mean_c(x²) + ε), the mean over dim 1 kept for broadcasting; x² goes back to the pool after its reader
        var squares = input.Square();
        var scale = (squares.Mean(1, keepDim: true) + Eps).Rsqrt();
        Release(squares);
        return input * scale;
    }

    protected override string ExtraRepr() => $"eps={Eps}";
}

/// <summary>
/// A fully connected layer with an equalised learning rate (Karras et al. 2018, section 4.1), as stylegan2-ada's
/// FullyConnectedLayer: the stored weight is N(0, 1/lr_mul²) and is scaled at run time by lr_mul/sqrt(in), the bias
/// by lr_mul. Adam's steps are then the same size for every layer whatever its fan-in, and a lr multiplier below 1
/// (0.01 in the mapping network) slows a layer down without another optimizer.
/// </summary>
/// <remarks>y = x (g·W)ᵀ + lr_mul·b, g = lr_mul/sqrt(in). The names (weight, bias) are those of the stored tensors.</remarks>
public sealed class EqualLinear : Module, IPureLayer
{
    public int InFeatures { get; }
    public int OutFeatures { get; }
    public float LrMultiplier { get; }
    /// <summary>The run-time scale of the stored weight, lr_mul/sqrt(in).</summary>
    public float WeightGain { get; }
    /// <summary>The stored weight (out,in), N(0, 1/lr_mul²).</summary>
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>A layer of <paramref name="inFeatures"/> -> <paramref name="outFeatures"/>; <paramref name="biasInit"/> is the bias's effective initial value (1 for a style affine, so styles start near 1).</summary>
    public EqualLinear(int inFeatures, int outFeatures, bool bias = true, float biasInit = 0f, float lrMultiplier = 1f, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"EqualLinear: features must be positive, got in={inFeatures}, out={outFeatures}");
        if (!(lrMultiplier > 0) || !float.IsFinite(lrMultiplier))
            throw new ArgumentException($"EqualLinear: lr multiplier must be positive and finite, got {lrMultiplier}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        LrMultiplier = lrMultiplier;
        WeightGain = lrMultiplier / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Init.Normal(new Tensor(outFeatures, inFeatures), 0f, 1f / lrMultiplier, generator));
        if (bias) Bias = RegisterParameter("bias", Tensor.Full([outFeatures], biasInit / lrMultiplier));
        else RegisterNullParameter("bias");
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 2 || input.Size(1) != InFeatures)
            throw new ArgumentException($"EqualLinear: expected input (N,{InFeatures}), got {Shapes.Format(input.ShapeSpan)}");
        var b = ForwardParameter("bias");
        var weight = ForwardParameter("weight")! * WeightGain;
        var y = F.Linear(input, weight, b is null ? null : b * LrMultiplier);
        Release(weight, y);
        return y;
    }

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Bias != null}, lr_mul={LrMultiplier}";
}

/// <summary>
/// A 2-D convolution with an equalised learning rate (Karras et al. 2018): the stored weight is N(0, 1) and is
/// scaled at run time by He's constant 1/sqrt(in·k·k); the bias starts at 0.
/// </summary>
public sealed class EqualConv2d : Module, IPureLayer
{
    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    /// <summary>The run-time scale of the stored weight, 1/sqrt(in·k·k).</summary>
    public float WeightGain { get; }
    /// <summary>The stored weight (out,in,k,k), N(0, 1).</summary>
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public EqualConv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true, Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0)
            throw new ArgumentException($"EqualConv2d: sizes must be positive, got in={inChannels}, out={outChannels}, kernel={kernelSize}, stride={stride}, padding={padding}");
        (InChannels, OutChannels, KernelSize, Stride, Padding) = (inChannels, outChannels, kernelSize, stride, padding);
        WeightGain = 1f / MathF.Sqrt(inChannels * kernelSize * kernelSize);
        Weight = RegisterParameter("weight", Init.Normal(new Tensor(outChannels, inChannels, kernelSize, kernelSize), 0f, 1f, generator));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
        else RegisterNullParameter("bias");
    }

    public override Tensor Forward(Tensor input) => Convolve(input, null);

    /// <summary>
    /// This layer and gain·LeakyReLU(<paramref name="slope"/>) after it (StyleGAN's and ProGAN's: 0.2 and √2) as one
    /// function (<see cref="Sequential"/> asks it), as <see cref="Conv2d"/>'s: the pair's values and gradients bit for bit,
    /// the convolution's own output not kept for the backward. Null, with nothing done, for a negative slope or a gain
    /// under 1.
    /// </summary>
    internal Tensor? TryForwardActivated(Tensor input, float slope, float gain) =>
        Tensor.TakesConvActivation(slope, gain) ? Convolve(input, (slope, gain)) : null;

    // The convolution with the weight scaled by its He constant, and the activation after it where one is given.
    Tensor Convolve(Tensor input, (float Slope, float Gain)? activation)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
            throw new ArgumentException($"EqualConv2d: input {Shapes.Format(input.ShapeSpan)} should be (N,{InChannels},H,W)");
        var weight = ForwardParameter("weight")! * WeightGain;
        var y = activation is var (slope, gain)
            ? Tensor.Conv2dLeakyRelu(input, weight, ForwardParameter("bias"), Stride, Padding, 1, 1, slope, gain)
            : Tensor.Conv2d(input, weight, ForwardParameter("bias"), Stride, Padding);
        Release(weight, y);
        return y;
    }

    protected override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, bias={Bias != null}";
}

/// <summary>
/// StyleGAN2's modulated convolution (Karras et al. 2020, section 2.2): a style s = A(w) per sample and input channel
/// scales the weight, w'_oikl = s_i·w_oikl, and with demodulation each output channel is rescaled to unit expected
/// standard deviation, w''_oikl = w'_oikl / sqrt(Σ_ikl w'_oikl² + ε). Without demodulation (the toRGB layers) the
/// style is scaled by He's constant instead. A(w) is an <see cref="EqualLinear"/> whose bias starts at 1.
/// </summary>
/// <remarks>
/// <para>Computed as stylegan2-ada's non-fused path, scale the input, convolve, scale the output:
/// y = d ⊙ conv(x ⊙ s, W) with d_o = rsqrt(Σ_i s_i² Σ_kl W_oikl² + ε), which equals the convolution with the
/// per-sample weight w'' but runs one convolution with a shared weight over the whole batch (one large GEMM) instead
/// of a grouped convolution with N groups (<see cref="GroupedReference"/>, for tests). Both differentiate twice.</para>
/// <para>Padding k/2 keeps the size. With <see cref="Upsample"/> the modulated input is doubled bilinearly before the
/// convolution: modulation and upsampling commute (both are linear and act per channel), and scaling the input at its
/// own size reads and writes a quarter of the values (stylegan32's 16 -> 32 block: 34 MB instead of 134 at batch 256).
/// A 1 × 1 layer (toRGB) multiplies each sample's modulated weight into its input as one batched product,
/// y_n = (W ⊙ s_n)·x_n, instead of scaling the whole input first: half the time of scale-then-convolve at stylegan32's
/// 32 × 32 toRGB.</para>
/// </remarks>
public sealed class ModulatedConv2d : Module, IPureLayer
{
    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public bool Demodulate { get; }
    /// <summary>True where the layer doubles its input bilinearly (half-pixel centres) before convolving: (N,in,H,W) -> (N,out,2H,2W).</summary>
    public bool Upsample { get; }
    /// <summary>The affine map A from w to the styles (N,in).</summary>
    public EqualLinear Affine { get; }
    /// <summary>The weight (out,in,k,k), N(0, 1); demodulation makes its scale irrelevant.</summary>
    public Tensor Weight { get; }

    const float DemodEps = 1e-8f;

    public ModulatedConv2d(int inChannels, int outChannels, int kernelSize, int wDim, bool demodulate = true, Generator? generator = null, bool upsample = false)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || kernelSize % 2 == 0)
            throw new ArgumentException($"ModulatedConv2d: channels must be positive and the kernel odd, got in={inChannels}, out={outChannels}, kernel={kernelSize}");
        (InChannels, OutChannels, KernelSize, Demodulate, Upsample) = (inChannels, outChannels, kernelSize, demodulate, upsample);
        Affine = RegisterModule("affine", new EqualLinear(wDim, inChannels, biasInit: 1f, generator: generator));
        Weight = RegisterParameter("weight", Init.Normal(new Tensor(outChannels, inChannels, kernelSize, kernelSize), 0f, 1f, generator));
    }

    /// <summary>The styles s = A(w) (N,in) this layer applies for <paramref name="w"/> (N,w_dim), He-scaled without demodulation.</summary>
    public Tensor Styles(Tensor w)
    {
        var s = Affine.Forward(w);
        return Demodulate ? s : Then(s, s * (1f / MathF.Sqrt(InChannels * KernelSize * KernelSize)));
    }

    /// <summary>x: (N,in,H,W), w: (N,w_dim) -> (N,out,H,W), or (N,out,2H,2W) with <see cref="Upsample"/>.</summary>
    public Tensor Forward(Tensor x, Tensor w)
    {
        var (y, demod) = ForwardParts(x, w);
        if (demod is null) return y;
        var demodulated = y * demod.Reshape(x.Size(0), OutChannels, 1, 1);
        Release(y);
        Release(demod);
        return demodulated;
    }

    /// <summary>
    /// The convolution of the modulated input, y = conv(x ⊙ s, W) (N,out,H,W; conv(up(x ⊙ s), W) with <see cref="Upsample"/>),
    /// and the demodulation d (N,out) that <see cref="Forward"/> multiplies it by (null without demodulation): for a caller
    /// that fuses d into what follows. Both are the caller's to release once read. With <paramref name="consumesInput"/>,
    /// where no graph is recorded, x ⊙ s is written over x (the caller owns x, reads it no more and releases it as before):
    /// generation then holds one map of x's size fewer at once.
    /// </summary>
    public (Tensor Y, Tensor? Demodulation) ForwardParts(Tensor x, Tensor w, bool consumesInput = false)
    {
        if (x.Rank != 4 || x.Size(1) != InChannels)
            throw new ArgumentException($"ModulatedConv2d: input {Shapes.Format(x.ShapeSpan)} should be (N,{InChannels},H,W)");
        if (w.Rank != 2 || w.Size(0) != x.Size(0))
            throw new ArgumentException($"ModulatedConv2d: w {Shapes.Format(w.ShapeSpan)} should be ({x.Size(0)},{Affine.InFeatures}) for input {Shapes.Format(x.ShapeSpan)}");
        int n = x.Size(0);
        var s = Styles(w);                                                              // (N,in)
        var weight = ForwardParameter("weight")!;
        bool overwrite = consumesInput && !GradMode.Records(x, s, weight);
        var y = KernelSize == 1 && !Upsample ? PerSampleProduct(x, s, weight) : ScaledConvolution(x, s, weight, overwrite);
        if (!Demodulate) return (Then(s, y), null);
        // d_o = rsqrt(Σ_i s_i² Σ_kl W_oikl² + ε): (N,in) x (in,out) -> (N,out)
        var squared = weight.Square();
        var energy = squared.Sum([2, 3]);                                                 // (out,in)
        Release(squared);
        var energyT = energy.T;
        var squaredStyles = s.Square();
        Release(s);
        var product = squaredStyles.MatMul(energyT);                                      // (N,out)
        Release(squaredStyles);
        Release(energy, energyT);
        Release(energyT, product);
        var shifted = Then(product, product + DemodEps);
        return (y, Then(shifted, shifted.Rsqrt()));
    }

    // conv(x ⊙ s, W), or conv(up(x ⊙ s), W): the input scaled at its own size, into x's own buffer where overwrite says
    // (then x is the caller's to release, not this method's)
    Tensor ScaledConvolution(Tensor x, Tensor s, Tensor weight, bool overwrite)
    {
        var modulated = overwrite ? ScaleChannels(x, s) : x * s.Reshape(x.Size(0), InChannels, 1, 1);
        var input = Upsample ? Tensor.Interpolate(modulated, 2.0, mode: "bilinear", alignCorners: false) : modulated;
        if (Upsample && !overwrite) Release(modulated);
        var y = Tensor.Conv2d(input, weight, padding: KernelSize / 2);                    // (N,out,H',W')
        if (!ReferenceEquals(input, x)) Release(input);
        return y;
    }

    // x[n, c] *= s[n, c] over x's planes in place, without a graph: each product rounded once, as x * s rounds it.
    static Tensor ScaleChannels(Tensor x, Tensor s)
    {
        int planes = x.Size(0) * x.Size(1), plane = x.Numel / Math.Max(planes, 1);
        var (data, styles) = (x.Storage, s.Storage);
        Threading.ForRanges(planes, (_, p0, p1) =>
        {
            for (int p = p0; p < p1; p++) System.Numerics.Tensors.TensorPrimitives.Multiply(data.AsSpan(p * plane, plane), styles[p], data.AsSpan(p * plane, plane));
        });
        return x;
    }

    // y_n = (W ⊙ s_n)·x_n for a 1 × 1 weight: (N,out,in) by (N,in,H·W) -> (N,out,H,W)
    Tensor PerSampleProduct(Tensor x, Tensor s, Tensor weight)
    {
        int n = x.Size(0), h = x.Size(2), wd = x.Size(3);
        var perSample = weight.Reshape(1, OutChannels, InChannels) * s.Reshape(n, 1, InChannels);
        var y = perSample.MatMul(x.Reshape(n, InChannels, h * wd));
        Release(perSample);
        return y.Reshape(n, OutChannels, h, wd);
    }

    /// <summary>
    /// The same map computed as the paper writes it, a grouped convolution with one demodulated weight per sample:
    /// the reference the fast path is tested against (and timed against in bench/).
    /// </summary>
    public Tensor GroupedReference(Tensor x, Tensor w)
    {
        if (Upsample) x = Tensor.Interpolate(x, 2.0, mode: "bilinear", alignCorners: false);
        int n = x.Size(0), h = x.Size(2), wd = x.Size(3), k = KernelSize;
        var s = Styles(w);
        var weight = ForwardParameter("weight")!.Unsqueeze(0) * s.Reshape(n, 1, InChannels, 1, 1); // (N,out,in,k,k)
        if (Demodulate) weight = weight * (weight.Square().Sum([2, 3, 4], keepDim: true) + DemodEps).Rsqrt();
        var y = Tensor.Conv2d(x.Reshape(1, n * InChannels, h, wd), weight.Reshape(n * OutChannels, InChannels, k, k), padding: k / 2, groups: n);
        return y.Reshape(n, OutChannels, h, wd);
    }

    protected override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, demodulate={Demodulate}, upsample={Upsample}";
}

/// <summary>
/// StyleGAN's noise input (Karras et al. 2019, section 3.2): single-channel Gaussian noise (N,1,H,W) added to every
/// channel with a learned per-channel strength (zero at first), y = x + strength_c·noise. Without a noise tensor
/// the layer adds its fixed map "noise_const" (1,1,H,W), drawn once, so eval-mode samples are deterministic
/// (stylegan2-ada's noise_mode='const').
/// </summary>
public sealed class NoiseInjection : Module, IPureLayer
{
    public int Channels { get; }
    public int Resolution { get; }
    /// <summary>The learned per-channel strength (C), zero at first.</summary>
    public Tensor Strength { get; }
    /// <summary>The fixed noise map (1,1,H,W) used when no noise is given.</summary>
    public Tensor ConstNoise { get; }

    public NoiseInjection(int channels, int resolution, Generator? generator = null)
    {
        if (channels <= 0 || resolution <= 0)
            throw new ArgumentException($"NoiseInjection: channels and resolution must be positive, got {channels}, {resolution}");
        (Channels, Resolution) = (channels, resolution);
        Strength = RegisterParameter("strength", Tensor.Zeros(channels));
        ConstNoise = RegisterBuffer("noise_const", Init.Normal(new Tensor(1, 1, resolution, resolution), 0f, 1f, generator));
    }

    /// <summary>x: (N,C,H,W), noise: (N,1,H,W) or null for the fixed map -> (N,C,H,W).</summary>
    public Tensor Forward(Tensor x, Tensor? noise) => x + ForwardStrength.Reshape(1, Channels, 1, 1) * NoiseFor(x, noise);

    /// <summary>The strength (C) as this forward pass uses it.</summary>
    public Tensor ForwardStrength => ForwardParameter("strength")!;

    /// <summary>The noise added to <paramref name="x"/>: <paramref name="noise"/> checked against it, or the fixed map when null.</summary>
    public Tensor NoiseFor(Tensor x, Tensor? noise)
    {
        if (x.Rank != 4 || x.Size(1) != Channels || x.Size(2) != Resolution || x.Size(3) != Resolution)
            throw new ArgumentException($"NoiseInjection: input {Shapes.Format(x.ShapeSpan)} should be (N,{Channels},{Resolution},{Resolution})");
        noise ??= ConstNoise;
        if (noise.Rank != 4 || noise.Size(1) != 1 || noise.Size(2) != Resolution || noise.Size(3) != Resolution || (noise.Size(0) != 1 && noise.Size(0) != x.Size(0)))
            throw new ArgumentException($"NoiseInjection: noise {Shapes.Format(noise.ShapeSpan)} should be ({x.Size(0)},1,{Resolution},{Resolution})");
        return noise;
    }

    public override Tensor Forward(Tensor input) => Forward(input, null);

    protected override string ExtraRepr() => $"channels={Channels}, resolution={Resolution}";
}
