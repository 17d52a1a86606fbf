namespace GanForge.NN;

/// <summary>
/// What Conv2d and ConvTranspose2d share (torch.nn.modules.conv._ConvNd): geometry, checks, and the
/// weight and bias with PyTorch's default initialisation.
/// </summary>
public abstract class ConvNd : Module, IPureLayer
{
    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Size2 Padding { get; }
    public Size2 Dilation { get; }
    public int Groups { get; }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <param name="name">The layer's type name in messages (Conv2d, ConvTranspose2d).</param>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="kernelSize">The kernel's height and width.</param>
    /// <param name="stride">Step between the kernel's positions (1 when null).</param>
    /// <param name="padding">Zeros added on each side (0 when null).</param>
    /// <param name="dilation">Spacing between the kernel's taps (1 when null).</param>
    /// <param name="groups">Channel groups, each convolved apart.</param>
    /// <param name="bias">Whether the layer adds a learnable bias per output channel.</param>
    /// <param name="generator">Initialisation randomness.</param>
    /// <param name="weightShape">(out, in/groups, KH, KW) for a convolution, (in, out/groups, KH, KW) for a transposed one.</param>
    private protected ConvNd(string name, int inChannels, int outChannels, Size2 kernelSize, Size2? stride, Size2? padding,
        Size2? dilation, int groups, bool bias, Generator? generator, Func<int, int, int, int[]> weightShape)
    {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{name}: channels {inChannels} -> {outChannels} must be positive and divisible by groups={groups}");
        if (kernelSize.H < 1 || kernelSize.W < 1)
            throw new ArgumentException($"{name}: kernel size {kernelSize} must be positive");
        (InChannels, OutChannels, KernelSize, Groups) = (inChannels, outChannels, kernelSize, groups);
        (Stride, Padding, Dilation) = (stride ?? 1, padding ?? 0, dilation ?? 1);
        var g = generator ?? Generator.Default;
        int[] shape = weightShape(inChannels, outChannels, groups);
        // kaiming_uniform(a = sqrt(5)) on the weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias both
        // reduce to the bound 1/sqrt(fan_in), with fan_in = weight.size(1) * KH * KW (as PyTorch computes it).
        float bound = 1f / MathF.Sqrt(shape[1] * shape[2] * shape[3]);
        // Not drawn within Init.SkippingRandom, where the weights are loaded next.
        Weight = RegisterParameter("weight", Init.SkipsRandom ? new Tensor(shape) : Tensor.Uniform(shape, -bound, bound, g));
        if (bias) Bias = RegisterParameter("bias", Init.SkipsRandom ? new Tensor(outChannels) : Tensor.Uniform([outChannels], -bound, bound, g));
        else RegisterNullParameter("bias");
    }

    /// <summary>Checks that the input is (N, InChannels, H, W).</summary>
    protected void CheckInput(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
            throw new ArgumentException($"{TypeName}: input {Shapes.Format(input.ShapeSpan)} should be (N,{InChannels},H,W) for weight {Shapes.Format(Weight.ShapeSpan)}");
    }

    /// <summary>PyTorch's repr of the geometry; <paramref name="extra"/> goes after the padding.</summary>
    protected string Describe(string extra = "") =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" +
        (Padding != new Size2(0, 0) ? $", padding={Padding}" : "") + extra +
        (Dilation != new Size2(1, 1) ? $", dilation={Dilation}" : "") + (Groups != 1 ? $", groups={Groups}" : "") + (Bias == null ? ", bias=False" : "");
}
