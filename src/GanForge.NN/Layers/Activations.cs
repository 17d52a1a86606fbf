namespace GanForge.NN;

/// <summary>
/// An activation gain·(x &gt; 0 ? x : slope·x): ReLU, LeakyReLU, StyleGAN's scaled LeakyReLU. <see cref="Sequential"/> runs a
/// convolution and such an activation after it as one function where it can (slope 0 or more, gain 1 or more).
/// </summary>
public interface ILeakyRectifier
{
    /// <summary>The slope for x ≤ 0 (0 for ReLU).</summary>
    float NegativeSlope { get; }
    /// <summary>The factor on both sides (1 for ReLU and LeakyReLU).</summary>
    float Gain { get; }
}

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module, IPureLayer, ILeakyRectifier
{
    public override Tensor Forward(Tensor input) => input.Relu();
    float ILeakyRectifier.NegativeSlope => 0f;
    float ILeakyRectifier.Gain => 1f;
}

/// <summary>x for x &gt; 0, else slope * x.</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module, IPureLayer, ILeakyRectifier
{
    public float NegativeSlope { get; } = negativeSlope;
    float ILeakyRectifier.Gain => 1f;
    public override Tensor Forward(Tensor input) => input.LeakyRelu(NegativeSlope);
    protected override string ExtraRepr() => $"negative_slope={NegativeSlope}";
}

/// <summary>
/// PReLU (He et al. 2015): x for x &gt; 0, else a·x, with a learned slope a, one for all or one a channel (dimension 1),
/// as torch.nn.PReLU; one pass forward and backward.
/// </summary>
public sealed class PReLU : Module, IPureLayer
{
    readonly Tensor _weight;

    /// <param name="numParameters">1 (one slope) or the input's channels C (one a channel).</param>
    /// <param name="init">The slopes' initial value (0.25, as PyTorch's).</param>
    public PReLU(int numParameters = 1, float init = 0.25f)
    {
        if (numParameters < 1) throw new ArgumentException($"PReLU: num_parameters must be 1 or more, got {numParameters}");
        _weight = RegisterParameter("weight", Tensor.Full([numParameters], init));
    }

    public override Tensor Forward(Tensor input) => input.PRelu(_weight);
    protected override string ExtraRepr() => $"num_parameters={_weight.Numel}";
}

public sealed class Tanh : Module, IPureLayer
{
    public override Tensor Forward(Tensor input) => input.Tanh();
}

public sealed class Sigmoid : Module, IPureLayer
{
    public override Tensor Forward(Tensor input) => input.Sigmoid();
}

/// <summary>GELU; <paramref name="approximate"/> is "none" (exact) or "tanh".</summary>
public sealed class GELU(string approximate = "none") : Module, IPureLayer
{
    public string Approximate { get; } = approximate;
    public override Tensor Forward(Tensor input) => F.Gelu(input, Approximate);
    protected override string ExtraRepr() => $"approximate='{Approximate}'";
}

/// <summary>x * sigmoid(x).</summary>
public sealed class SiLU : Module, IPureLayer
{
    public override Tensor Forward(Tensor input) => input.Silu();
}

/// <summary>log(1 + exp(beta x)) / beta, linear above the threshold.</summary>
public sealed class Softplus(float beta = 1f, float threshold = 20f) : Module, IPureLayer
{
    public float Beta { get; } = beta;
    public float Threshold { get; } = threshold;
    public override Tensor Forward(Tensor input) => input.Softplus(Beta, Threshold);
    protected override string ExtraRepr() => $"beta={Beta}, threshold={Threshold}";
}

public sealed class Softmax(int dim) : Module, IPureLayer
{
    public int Dim { get; } = dim;
    public override Tensor Forward(Tensor input) => input.Softmax(Dim);
    protected override string ExtraRepr() => $"dim={Dim}";
}

public sealed class LogSoftmax(int dim) : Module, IPureLayer
{
    public int Dim { get; } = dim;
    public override Tensor Forward(Tensor input) => input.LogSoftmax(Dim);
    protected override string ExtraRepr() => $"dim={Dim}";
}
