namespace GanForge.NN;

/// <summary>
/// Transposed 2-D convolution layer (torch.nn.ConvTranspose2d): (N, inChannels, H, W) -> (N, outChannels, OH, OW).
/// Weight (in, out/groups, KH, KW), bias (out); fan_in for initialisation is (out/groups) * KH * KW, as PyTorch computes it.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Size2 Padding { get; }
    public Size2 OutputPadding { get; }
    public Size2 Dilation { get; }
    public int Groups { get; }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? outputPadding = null, int groups = 1, bool bias = true, Size2? dilation = null, Generator? generator = null)
    {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: channels {inChannels} -> {outChannels} must be positive and divisible by groups={groups}");
        if (kernelSize.H < 1 || kernelSize.W < 1)
            throw new ArgumentException($"ConvTranspose2d: kernel size {kernelSize} must be positive");
        (InChannels, OutChannels, KernelSize, Groups) = (inChannels, outChannels, kernelSize, groups);
        (Stride, Padding, OutputPadding, Dilation) = (stride ?? 1, padding ?? 0, outputPadding ?? 0, dilation ?? 1);
        var g = generator ?? Generator.Default;
        int[] shape = [inChannels, outChannels / groups, kernelSize.H, kernelSize.W];
        float bound = ConvInit.Bound(shape);
        Weight = RegisterParameter("weight", Tensor.Uniform(shape, -bound, bound, g));
        if (bias) Bias = RegisterParameter("bias", Tensor.Uniform([outChannels], -bound, bound, g));
        else RegisterNullParameter("bias");
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
            throw new ArgumentException($"ConvTranspose2d: input {Shapes.Format(input.ShapeSpan)} should be (N,{InChannels},H,W) for weight {Shapes.Format(Weight.ShapeSpan)}");
        return Tensor.ConvTranspose2d(input, ForwardParameter("weight")!, ForwardParameter("bias"), Stride, Padding, OutputPadding, Groups, Dilation);
    }

    protected override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" +
        (Padding != new Size2(0, 0) ? $", padding={Padding}" : "") + (OutputPadding != new Size2(0, 0) ? $", output_padding={OutputPadding}" : "") +
        (Dilation != new Size2(1, 1) ? $", dilation={Dilation}" : "") + (Groups != 1 ? $", groups={Groups}" : "") + (Bias == null ? ", bias=False" : "");
}
