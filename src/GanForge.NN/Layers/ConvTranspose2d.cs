namespace GanForge.NN;

/// <summary>
/// Transposed 2-D convolution layer (torch.nn.ConvTranspose2d): (N, inChannels, H, W) -> (N, outChannels, OH, OW).
/// Weight (in, out/groups, KH, KW), bias (out); fan_in for initialisation is (out/groups) * KH * KW, as PyTorch computes it.
/// </summary>
public sealed class ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
    Size2? outputPadding = null, int groups = 1, bool bias = true, Size2? dilation = null, Generator? generator = null)
    : ConvNd("ConvTranspose2d", inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, generator,
        (i, o, g) => [i, o / g, kernelSize.H, kernelSize.W])
{
    public Size2 OutputPadding { get; } = outputPadding ?? 0;

    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        var weight = ForwardParameter("weight")!;
        return ReadOnce("weight", weight, Tensor.ConvTranspose2d(input, weight, ForwardParameter("bias"), Stride, Padding, OutputPadding, Groups, Dilation));
    }

    protected override string ExtraRepr() =>
        Describe(OutputPadding != new Size2(0, 0) ? $", output_padding={OutputPadding}" : "");
}
