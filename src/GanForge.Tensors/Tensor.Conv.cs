using GanForge.Functions;
using GanForge.Kernels;

namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (torch.nn.functional.conv2d): input (N,Ci,H,W), weight (Co,Ci/groups,KH,KW),
    /// bias (Co) -> (N,Co,OH,OW). Sizes accept an int or an (h, w) pair.
    /// </summary>
    /// <remarks>OH = floor((H + 2 pH - dH (KH - 1) - 1) / sH) + 1, likewise OW.</remarks>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null,
        Size2? stride = null, Size2? padding = null, Size2? dilation = null, int groups = 1)
    {
        var geom = Conv2dGeometry(input, weight, stride ?? 1, padding ?? 0, dilation ?? 1, groups, "Conv2d");
        ConvShape.CheckBias(bias, geom.Co, "Conv2d");
        return Functions.Conv2d.Apply(input, weight, bias, geom);
    }

    /// <summary>
    /// <c>Conv2d(input, weight, bias, ...).LeakyRelu(negativeSlope, gain)</c> (slope 0: ReLU; gain 1: the plain activation,
    /// √2: StyleGAN's) as one function, for a slope of 0 or more and a gain of 1 or more: the same values and gradients, with
    /// the convolution's own output neither kept for the backward nor, on a layer on an image with a gain of 1, written.
    /// </summary>
    internal static Tensor Conv2dLeakyRelu(Tensor input, Tensor weight, Tensor? bias, Size2 stride, Size2 padding, Size2 dilation,
        int groups, float negativeSlope, float gain = 1f)
    {
        if (!(negativeSlope >= 0f))
            throw new ArgumentException($"Conv2dLeakyRelu: negative slope {negativeSlope} must be 0 or more (a negative one flips the sign the backward reads)");
        if (!TakesGain(gain))
            throw new ArgumentException($"Conv2dLeakyRelu: gain {gain} must be finite and 1 or more (a smaller one can round a positive output to 0, where the backward reads the sign)");
        var geom = Conv2dGeometry(input, weight, stride, padding, dilation, groups, "Conv2d");
        ConvShape.CheckBias(bias, geom.Co, "Conv2d");
        return Functions.Conv2dLeakyRelu.Apply(input, weight, bias, geom, negativeSlope, gain);
    }

    /// <summary>
    /// <c>Conv2d(Pad(input, reflect by padding), weight, bias, stride)</c> without a graph and without the padded copy,
    /// where the direct kernels take the layer (at most four output channels: CycleGAN's RGB layer); else null, for the
    /// caller to pad and convolve. The same bits either way.
    /// </summary>
    internal static Tensor? Conv2dReflectPadded(Tensor input, Tensor weight, Tensor? bias, Size2 stride, Size2 padding)
    {
        var geom = Conv2dGeometry(input, weight, stride, padding, 1, 1, "Conv2d");
        ConvShape.CheckBias(bias, geom.Co, "Conv2d");
        return Functions.Conv2d.TryApplyReflected(input, weight, bias, geom);
    }

    /// <summary>Whether <see cref="Conv2dLeakyRelu"/> takes an activation: a slope of 0 or more and a finite gain of 1 or more.</summary>
    internal static bool TakesConvActivation(float negativeSlope, float gain) => negativeSlope >= 0f && TakesGain(gain);

    static bool TakesGain(float gain) => gain >= 1f && !float.IsInfinity(gain);

    /// <summary>
    /// Transposed 2-D convolution (torch.nn.functional.conv_transpose2d): input (N,Cin,H,W),
    /// weight (Cin,Cout/groups,KH,KW), bias (Cout) -> (N,Cout,OH,OW).
    /// </summary>
    /// <remarks>OH = (H - 1) sH - 2 pH + dH (KH - 1) + outputPaddingH + 1, likewise OW.</remarks>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null,
        Size2? stride = null, Size2? padding = null, Size2? outputPadding = null, int groups = 1, Size2? dilation = null)
    {
        const string op = "ConvTranspose2d";
        ConvShape.CheckRank4(input, op, "input");
        ConvShape.CheckRank4(weight, op, "weight");
        Size2 s = stride ?? 1, p = padding ?? 0, op2 = outputPadding ?? 0, d = dilation ?? 1;
        CheckConvArgs(s, p, d, groups, op);
        int cin = input.Size(1), h = input.Size(2), w = input.Size(3);
        if (weight.Size(0) != cin)
            throw new ArgumentException($"{op}: input {Shapes.Format(input.ShapeSpan)} has {cin} channels, weight {Shapes.Format(weight.ShapeSpan)} expects {weight.Size(0)}");
        if (cin % groups != 0)
            throw new ArgumentException($"{op}: {cin} input channels are not divisible by groups={groups}");
        if (op2.H < 0 || op2.W < 0 || (op2.H >= s.H && op2.H >= d.H) || (op2.W >= s.W && op2.W >= d.W))
            throw new ArgumentException($"{op}: output padding {op2} must be smaller than either stride {s} or dilation {d}");
        int kh = weight.Size(2), kw = weight.Size(3), cout = weight.Size(1) * groups;
        int oh = (h - 1) * s.H - 2 * p.H + d.H * (kh - 1) + op2.H + 1;
        int ow = (w - 1) * s.W - 2 * p.W + d.W * (kw - 1) + op2.W + 1;
        if (oh <= 0 || ow <= 0)
            throw new ArgumentException($"{op}: input {Shapes.Format(input.ShapeSpan)} with weight {Shapes.Format(weight.ShapeSpan)} gives an empty output ({oh}x{ow})");
        ConvShape.CheckBias(bias, cout, op);
        // The transposed conv's output is the image side of the conv whose output is our input.
        var geom = ConvShape.Make(cout, oh, ow, cin, h, w, kh, kw, s, p, d, groups);
        return Functions.ConvTranspose2d.Apply(input, weight, bias, geom);
    }

    /// <summary>
    /// The gradient of conv2d w.r.t. its weight (torch.nn.grad.conv2d_weight): input (N,Ci,H,W) and
    /// gradOutput (N,Co,OH,OW) -> (Co,Ci/groups,KH,KW). Differentiable in both arguments.
    /// </summary>
    public static Tensor Conv2dWeightGrad(Tensor input, Tensor gradOutput, Size2 kernelSize,
        Size2? stride = null, Size2? padding = null, Size2? dilation = null, int groups = 1)
    {
        const string op = "Conv2dWeightGrad";
        ConvShape.CheckRank4(input, op, "input");
        ConvShape.CheckRank4(gradOutput, op, "gradOutput");
        Size2 s = stride ?? 1, p = padding ?? 0, d = dilation ?? 1;
        CheckConvArgs(s, p, d, groups, op);
        ConvShape.CheckPositive(kernelSize, op, "kernel size", 1);
        int ci = input.Size(1), co = gradOutput.Size(1);
        if (ci % groups != 0 || co % groups != 0)
            throw new ArgumentException($"{op}: channels {ci} -> {co} are not divisible by groups={groups}");
        int oh = ConvShape.OutSize(input.Size(2), kernelSize.H, s.H, p.H, d.H), ow = ConvShape.OutSize(input.Size(3), kernelSize.W, s.W, p.W, d.W);
        if (gradOutput.Size(0) != input.Size(0) || gradOutput.Size(2) != oh || gradOutput.Size(3) != ow)
            throw new ArgumentException($"{op}: gradOutput {Shapes.Format(gradOutput.ShapeSpan)} does not match the conv of input {Shapes.Format(input.ShapeSpan)}, expected ({input.Size(0)},{co},{oh},{ow})");
        var geom = ConvShape.Make(ci, input.Size(2), input.Size(3), co, oh, ow, kernelSize.H, kernelSize.W, s, p, d, groups);
        return ConvWeightGrad.Apply(input, gradOutput, geom);
    }

    static void CheckConvArgs(Size2 stride, Size2 padding, Size2 dilation, int groups, string op)
    {
        ConvShape.CheckPositive(stride, op, "stride", 1);
        ConvShape.CheckPositive(padding, op, "padding", 0);
        ConvShape.CheckPositive(dilation, op, "dilation", 1);
        if (groups < 1) throw new ArgumentException($"{op}: groups must be at least 1, got {groups}");
    }

    static ConvGeometry Conv2dGeometry(Tensor input, Tensor weight, Size2 s, Size2 p, Size2 d, int groups, string op)
    {
        ConvShape.CheckRank4(input, op, "input");
        ConvShape.CheckRank4(weight, op, "weight");
        CheckConvArgs(s, p, d, groups, op);
        int ci = input.Size(1), co = weight.Size(0);
        if (ci % groups != 0 || co % groups != 0)
            throw new ArgumentException($"{op}: channels {ci} -> {co} are not divisible by groups={groups}");
        if (weight.Size(1) * groups != ci)
            throw new ArgumentException($"{op}: input {Shapes.Format(input.ShapeSpan)} has {ci} channels, weight {Shapes.Format(weight.ShapeSpan)} expects {weight.Size(1) * groups}");
        int kh = weight.Size(2), kw = weight.Size(3);
        int oh = ConvShape.OutSize(input.Size(2), kh, s.H, p.H, d.H), ow = ConvShape.OutSize(input.Size(3), kw, s.W, p.W, d.W);
        if (oh <= 0 || ow <= 0 || input.Size(2) + 2 * p.H < d.H * (kh - 1) + 1 || input.Size(3) + 2 * p.W < d.W * (kw - 1) + 1)
            throw new ArgumentException($"{op}: input {Shapes.Format(input.ShapeSpan)} (padded by {p}) is smaller than the dilated kernel of weight {Shapes.Format(weight.ShapeSpan)}");
        return ConvShape.Make(ci, input.Size(2), input.Size(3), co, oh, ow, kh, kw, s, p, d, groups);
    }
}
