using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// CycleGAN's generator (Zhu et al. 2017, appendix 7.2, after Johnson et al. 2016): c7s1-64, d128, d256, R256 x B,
/// u128, u64, c7s1-out. c7s1-k is a 7x7 convolution of stride 1 after reflection padding 3; dk a 3x3 stride-2
/// convolution; Rk a residual block of two reflection-padded 3x3 convolutions; uk a 3x3 stride-1/2 (transposed)
/// convolution; each followed by instance norm and ReLU, the last by tanh.
/// </summary>
public sealed class ResnetGenerator : Module
{
    readonly Sequential _net;

    /// <param name="inChannels">Channels of the input domain.</param>
    /// <param name="outChannels">Channels of the output domain.</param>
    /// <param name="ngf">Width of the first layer (64 in the paper).</param>
    /// <param name="blocks">Residual blocks (6 for 128x128, 9 for 256x256 in the paper).</param>
    /// <param name="g">Initialisation randomness.</param>
    public ResnetGenerator(int inChannels, int outChannels, int ngf, int blocks, Generator g)
    {
        _net = new Sequential(
            // c7s1-64: in x S x S -> ngf x S x S
            new ReflectionPad2d(3), new Conv2d(inChannels, ngf, 7, generator: g), new InstanceNorm2d(ngf), new ReLU(),
            // d128, d256: -> 4ngf x S/4 x S/4
            new Conv2d(ngf, ngf * 2, 3, stride: 2, padding: 1, generator: g), new InstanceNorm2d(ngf * 2), new ReLU(),
            new Conv2d(ngf * 2, ngf * 4, 3, stride: 2, padding: 1, generator: g), new InstanceNorm2d(ngf * 4), new ReLU());
        for (int i = 0; i < blocks; i++) _net.Add(new ResidualBlock(ngf * 4, g));
        // u128, u64: -> ngf x S x S
        _net.Add(new ConvTranspose2d(ngf * 4, ngf * 2, 3, stride: 2, padding: 1, outputPadding: 1, generator: g));
        _net.Add(new InstanceNorm2d(ngf * 2));
        _net.Add(new ReLU());
        _net.Add(new ConvTranspose2d(ngf * 2, ngf, 3, stride: 2, padding: 1, outputPadding: 1, generator: g));
        _net.Add(new InstanceNorm2d(ngf));
        _net.Add(new ReLU());
        // c7s1-out: -> out x S x S in [-1, 1]
        _net.Add(new ReflectionPad2d(3));
        _net.Add(new Conv2d(ngf, outChannels, 7, generator: g));
        _net.Add(new Tanh());
        RegisterModule("model", _net);
        PatchGan.InitWeights(this, g);
    }

    /// <summary>G(x): (N, in, S, S) -> (N, out, S, S).</summary>
    public override Tensor Forward(Tensor input) => _net.Forward(input);

    protected override bool ForwardIsSampleWise => true;

    /// <summary>x + IN(conv(pad(ReLU(IN(conv(pad(x))))))), the padding by reflection.</summary>
    /// <remarks>Pure (a new tensor from its input and weights, nothing kept): between blocks, the generator's
    /// Sequential recycles each block's output; the block recycles its branch's.</remarks>
    sealed class ResidualBlock : Module, IPureLayer
    {
        readonly Sequential _f;

        public ResidualBlock(int width, Generator g) => _f = RegisterModule("f", new Sequential(
            new ReflectionPad2d(1), new Conv2d(width, width, 3, generator: g), new InstanceNorm2d(width), new ReLU(),
            new ReflectionPad2d(1), new Conv2d(width, width, 3, generator: g), new InstanceNorm2d(width)));

        public override Tensor Forward(Tensor input)
        {
            var branch = _f.Forward(input);
            var output = input + branch;
            Release(branch);
            return output;
        }

        protected override bool ForwardIsSampleWise => true;
    }
}
