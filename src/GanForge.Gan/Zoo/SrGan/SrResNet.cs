using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// SRResNet (Ledig et al. 2017, figure 4): a 9x9 convolution and PReLU; B residual blocks (3x3 conv, batch norm, PReLU,
/// 3x3 conv, batch norm, plus the block's input); a 3x3 conv and batch norm added to the first layer's output (the
/// long skip); per factor of 2, a 3x3 conv to 4x the width, PixelShuffle(2) and PReLU; a 9x9 conv to the image, then
/// tanh so the output lies in [-1, 1] as the targets do.
/// </summary>
public sealed class SrResNet : Module, IPureLayer
{
    readonly Sequential _head, _body, _tail;

    /// <param name="inChannels">Channels of the low-resolution input.</param>
    /// <param name="outChannels">Channels of the high-resolution output.</param>
    /// <param name="scale">The upscaling factor: 2, 4 or 8.</param>
    /// <param name="blocks">Residual blocks (16 in the paper).</param>
    /// <param name="width">Feature maps (64 in the paper).</param>
    /// <param name="g">Initialisation randomness.</param>
    public SrResNet(int inChannels, int outChannels, int scale, int blocks, int width, Generator g)
    {
        if (scale is not (2 or 4 or 8)) throw new ArgumentException($"SrResNet: scale {scale} is not 2, 4 or 8");
        // state: in x h x w -> width x h x w
        _head = RegisterModule("head", new Sequential(new Conv2d(inChannels, width, 9, padding: 4, generator: g), new PReLU()));
        _body = new Sequential();
        for (int i = 0; i < blocks; i++) _body.Add(new ResidualBlock(width, g));
        _body.Add(new Conv2d(width, width, 3, padding: 1, bias: false, generator: g));
        _body.Add(new BatchNorm2d(width));
        RegisterModule("body", _body);
        _tail = new Sequential();
        for (int s = scale; s > 1; s /= 2)
        {
            // state: width x h x w -> 4·width x h x w -> width x 2h x 2w
            _tail.Add(new Conv2d(width, width * 4, 3, padding: 1, generator: g));
            _tail.Add(new PixelShuffle(2));
            _tail.Add(new PReLU());
        }
        // state: width x H x W -> out x H x W
        _tail.Add(new Conv2d(width, outChannels, 9, padding: 4, generator: g));
        _tail.Add(new Tanh());
        RegisterModule("tail", _tail);
    }

    /// <summary>G(LR): (N, in, h, w) -> (N, out, h·scale, w·scale) in [-1, 1].</summary>
    public override Tensor Forward(Tensor input)
    {
        var h = _head.Forward(input);
        var body = _body.Forward(h);
        var sum = body + h;
        Release(body);
        Release(h);
        var output = _tail.Forward(sum);
        Release(sum);
        return output;
    }

    /// <summary>x + BN(conv(PReLU(BN(conv(x))))).</summary>
    sealed class ResidualBlock : Module, IPureLayer
    {
        readonly Sequential _f;

        public ResidualBlock(int width, Generator g) => _f = RegisterModule("f", new Sequential(
            new Conv2d(width, width, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(width), new PReLU(),
            new Conv2d(width, width, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(width)));

        public override Tensor Forward(Tensor input)
        {
            var branch = _f.Forward(input);
            var output = input + branch;
            Release(branch);
            return output;
        }
    }
}

/// <summary>
/// SRGAN's discriminator (Ledig et al. 2017, figure 4): eight 3x3 convolutions, LeakyReLU 0.2, widths 64-64-128-128-
/// 256-256-512-512, every second one of stride 2, batch norm on all but the first; then dense 1024, LeakyReLU and a
/// dense logit (the sigmoid is in the loss).
/// </summary>
public static class SrGanDiscriminator
{
    public static Sequential Create(int channels, int size, int width, Generator g)
    {
        var net = new Sequential(new Conv2d(channels, width, 3, padding: 1, generator: g), new LeakyReLU(0.2f));
        int c = width, side = size;
        for (int i = 0; i < 7; i++)
        {
            int next = width * (1 << ((i + 1) / 2));
            int stride = i % 2 == 0 ? 2 : 1;
            net.Add(new Conv2d(c, next, 3, stride: stride, padding: 1, bias: false, generator: g));
            net.Add(new BatchNorm2d(next));
            net.Add(new LeakyReLU(0.2f));
            if (stride == 2) side = (side + 1) / 2;
            c = next;
        }
        // state: 8·width x size/16 x size/16 (rounded up)
        net.Add(new Flatten());
        net.Add(new Linear(c * side * side, 1024, generator: g));
        net.Add(new LeakyReLU(0.2f));
        net.Add(new Linear(1024, 1, generator: g));
        return net;
    }
}
