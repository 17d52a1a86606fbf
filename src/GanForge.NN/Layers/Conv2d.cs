namespace GanForge.NN;

/// <summary>
/// 2-D convolution layer (torch.nn.Conv2d): (N, inChannels, H, W) -> (N, outChannels, OH, OW).
/// Weight (out, in/groups, KH, KW), bias (out), PyTorch's default initialisation.
/// </summary>
public sealed class Conv2d : Module
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

    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, int groups = 1, bool bias = true, Generator? generator = null)
    {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: channels {inChannels} -> {outChannels} must be positive and divisible by groups={groups}");
        if (kernelSize.H < 1 || kernelSize.W < 1)
            throw new ArgumentException($"Conv2d: kernel size {kernelSize} must be positive");
        (InChannels, OutChannels, KernelSize, Groups) = (inChannels, outChannels, kernelSize, groups);
        (Stride, Padding, Dilation) = (stride ?? 1, padding ?? 0, dilation ?? 1);
        var g = generator ?? Generator.Default;
        int[] shape = [outChannels, inChannels / groups, kernelSize.H, kernelSize.W];
        float bound = ConvInit.Bound(shape);
        Weight = RegisterParameter("weight", Tensor.Uniform(shape, -bound, bound, g));
        if (bias) Bias = RegisterParameter("bias", Tensor.Uniform([outChannels], -bound, bound, g));
        else RegisterNullParameter("bias");
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
            throw new ArgumentException($"Conv2d: input {Shapes.Format(input.ShapeSpan)} should be (N,{InChannels},H,W) for weight {Shapes.Format(Weight.ShapeSpan)}");
        return Tensor.Conv2d(input, ForwardParameter("weight")!, ForwardParameter("bias"), Stride, Padding, Dilation, Groups);
    }

    protected override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" +
        (Padding != new Size2(0, 0) ? $", padding={Padding}" : "") + (Dilation != new Size2(1, 1) ? $", dilation={Dilation}" : "") +
        (Groups != 1 ? $", groups={Groups}" : "") + (Bias == null ? ", bias=False" : "");
}
