namespace GanForge.NN;

/// <summary>
/// 2-D convolution layer (torch.nn.Conv2d): (N, inChannels, H, W) -> (N, outChannels, OH, OW).
/// Weight (out, in/groups, KH, KW), bias (out), PyTorch's default initialisation.
/// </summary>
public sealed class Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
    Size2? dilation = null, int groups = 1, bool bias = true, Generator? generator = null)
    : ConvNd("Conv2d", inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, generator,
        (i, o, g) => [o, i / g, kernelSize.H, kernelSize.W])
{
    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        return Tensor.Conv2d(input, ForwardParameter("weight")!, ForwardParameter("bias"), Stride, Padding, Dilation, Groups);
    }

    protected override string ExtraRepr() => Describe();
}
