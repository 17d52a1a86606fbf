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
        var weight = ForwardParameter("weight")!;
        return ReadOnce("weight", weight, Tensor.Conv2d(input, weight, ForwardParameter("bias"), Stride, Padding, Dilation, Groups));
    }

    /// <summary>
    /// This layer on its input padded by reflection (the <see cref="ReflectionPad2d"/> before it) as one op where no graph
    /// is recorded and the direct kernels take it (<see cref="Tensor.Conv2dReflectPadded"/>): the same bits without the
    /// padded copy. Null where they do not (the layer pads itself, dilates or groups, the padding is uneven or not under
    /// the map, a graph is recorded), for the caller to run the two layers.
    /// </summary>
    internal Tensor? TryForwardReflectPadded(Tensor input, (int Left, int Right, int Top, int Bottom) pad)
    {
        if (Padding != new Size2(0, 0) || Dilation != new Size2(1, 1) || Groups != 1 || pad.Left != pad.Right || pad.Top != pad.Bottom
            || input.Rank != 4 || pad.Top >= input.Size(2) || pad.Left >= input.Size(3)) return null;
        CheckInput(input);
        var weight = ForwardParameter("weight")!;
        var output = Tensor.Conv2dReflectPadded(input, weight, ForwardParameter("bias"), Stride, new Size2(pad.Top, pad.Left));
        return output == null ? null : ReadOnce("weight", weight, output);   // null: the caller's two layers read the weight again
    }

    /// <summary>
    /// This layer and gain·LeakyReLU(<paramref name="slope"/>) after it (slope 0: ReLU) as one function
    /// (<see cref="Sequential"/> asks it): the pair's values and gradients bit for bit, the convolution's own output neither
    /// kept for the backward nor, on a layer on an image (at most four input channels: a discriminator's first) with a gain
    /// of 1, written. Null, with nothing done, for a negative slope or a gain under 1.
    /// </summary>
    internal Tensor? TryForwardActivated(Tensor input, float slope, float gain)
    {
        if (!Tensor.TakesConvActivation(slope, gain)) return null;
        CheckInput(input);
        var weight = ForwardParameter("weight")!;
        return ReadOnce("weight", weight, Tensor.Conv2dLeakyRelu(input, weight, ForwardParameter("bias"), Stride, Padding, Dilation, Groups, slope, gain));
    }

    /// <summary>
    /// For a patch-embedding layer (stride equal to the kernel, no padding, dilation 1, one group): (N, Ci, H, W) ->
    /// tokens (N, OH·OW, Co), the values of <c>Forward(input).Flatten(2).Transpose(1, 2)</c> (summed in another order)
    /// made as one Linear over the batch's patches: the image cut into rows of Ci·KH·KW floats (a copy of its size), times
    /// the weight seen as (Co, Ci·KH·KW). As a convolution over transgan32's 32 images (1 -> 64, 4 x 4 patches) the same
    /// took 105 us forward and 160-190 backward on its own (fortieth pass), and its (N, Co, OH, OW) maps were then
    /// transposed into tokens.
    /// </summary>
    public Tensor ForwardTokens(Tensor input)
    {
        CheckInput(input);
        if (Stride != KernelSize || Padding != new Size2(0, 0) || Dilation != new Size2(1, 1) || Groups != 1)
            throw new InvalidOperationException($"Conv2d.ForwardTokens: {Describe()} is not a patch embedding (stride = kernel, no padding, dilation 1, one group)");
        int n = input.Size(0), ph = KernelSize.H, pw = KernelSize.W;
        int oh = input.Size(2) / ph, ow = input.Size(3) / pw, k = InChannels * ph * pw;
        if (oh * ph != input.Size(2) || ow * pw != input.Size(3))
            throw new ArgumentException($"Conv2d.ForwardTokens: input {Shapes.Format(input.ShapeSpan)} is not whole {ph} x {pw} patches");
        if (!TokensAsLinear)
        {
            var maps = Forward(input);
            return Then(maps, maps.Reshape(n, OutChannels, oh * ow).Transpose(1, 2));   // the transpose's copy was their last reader
        }
        var patches = input.Reshape(n, InChannels, oh, ph, ow, pw).Permute(0, 2, 4, 1, 3, 5).Reshape(n * oh * ow, k);
        var tokens = F.Linear(patches, ForwardParameter("weight")!.Reshape(OutChannels, k), ForwardParameter("bias"));
        if (!ReferenceEquals(patches.Storage, input.Storage)) Release(patches, tokens);   // a copy (not a view of one patch a sample)
        return tokens.Reshape(n, oh * ow, OutChannels);
    }

    /// <summary>Whether <see cref="ForwardTokens"/> runs as one Linear over the patches (the default) or as the convolution then a transpose (the bench's switch patch-tokens).</summary>
    internal static bool TokensAsLinear { get; set; } = true;

    protected override string ExtraRepr() => Describe();
}
