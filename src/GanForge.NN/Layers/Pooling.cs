namespace GanForge.NN;

/// <summary>Max pooling layer (torch.nn.MaxPool2d); stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false) : Module, IPureLayer
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public Size2 Dilation { get; } = dilation ?? 1;
    public bool CeilMode { get; } = ceilMode;

    public override Tensor Forward(Tensor input) => Tensor.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={CeilMode}";
}

/// <summary>Average pooling layer (torch.nn.AvgPool2d); stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true) : Module, IPureLayer
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public bool CeilMode { get; } = ceilMode;
    public bool CountIncludePad { get; } = countIncludePad;

    public override Tensor Forward(Tensor input) => Tensor.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}

/// <summary>Adaptive average pooling layer (torch.nn.AdaptiveAvgPool2d).</summary>
public sealed class AdaptiveAvgPool2d(Size2 outputSize) : Module, IPureLayer
{
    public Size2 OutputSize { get; } = outputSize;
    public override Tensor Forward(Tensor input) => Tensor.AdaptiveAvgPool2d(input, OutputSize);
    protected override string ExtraRepr() => $"output_size={OutputSize}";
}
