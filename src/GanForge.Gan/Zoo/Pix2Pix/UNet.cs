using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// pix2pix's U-Net generator (Isola et al. 2017, appendix 6.1.1): an encoder of 4x4 stride-2 convolutions
/// (C64-C128-C256-C512-C512-...; LeakyReLU 0.2, batch norm but on the first), a decoder of 4x4 stride-2 transposed
/// convolutions (ReLU, batch norm, dropout 0.5 in the three innermost), each decoder layer joined on channels to the
/// encoder layer of its size (the skip connections), tanh at the end. In pix2pix dropout is the only noise: there is
/// no z. DAGAN (Antoniou et al. 2017) gives its U-Net a z; here it is <c>noisePlanes</c> planes of N(0, 1) joined to the
/// innermost features, at the bottleneck where DAGAN joins its projected z, drawn from <see cref="Noise"/> on every
/// forward pass (training and sampling alike).
/// </summary>
/// <remarks>
/// The depth follows the image: the encoder halves the side while it stays even, down to 1x1 for a power of two
/// (8 levels for 256x256 as in the paper; 5 for 32x32) or to 7x7 for 28x28 (2 levels), at most 8 levels.
/// </remarks>
public sealed class UNet : Module, IPureLayer
{
    readonly Module _root;

    /// <param name="inChannels">Channels of the input A.</param>
    /// <param name="outChannels">Channels of the output B.</param>
    /// <param name="size">The image side (A and B alike).</param>
    /// <param name="ngf">Width of the outermost layer (64 in the paper).</param>
    /// <param name="dropout">Dropout probability of the innermost decoder layers (0.5 in the paper; 0 = none).</param>
    /// <param name="g">Initialisation randomness.</param>
    /// <param name="noise">The dropout's randomness (<see cref="Noise"/>), and the noise planes'.</param>
    /// <param name="noisePlanes">Planes of N(0, 1) noise joined to the bottleneck (DAGAN's z); 0 = none (pix2pix).</param>
    public UNet(int inChannels, int outChannels, int size, int ngf, float dropout, Generator g, Generator noise, int noisePlanes = 0)
    {
        Noise = noise;
        int depth = Depth(size);
        if (depth < 2) throw new ArgumentException($"UNet: image size {size} halves fewer than 2 times; give an image size divisible by 4");
        // f(j): the encoder's width after level j's down convolution (j = 0 the outermost): 64, 128, 256, 512, 512, ...
        int F(int j) => ngf * Math.Min(1 << j, 8);
        // Built from the innermost level outwards, as the paper's recursive description; the three innermost decoder
        // layers have dropout ("CD512-CD512-CD512-C512...").
        Block? block = null;
        for (int j = depth - 1; j >= 1; j--)
            block = new Block(F(j - 1), F(j), block, outermost: false, innermost: j == depth - 1, j >= depth - 3 ? dropout : 0f, g, noise, outer: F(j - 1),
                noisePlanes: j == depth - 1 ? noisePlanes : 0);
        _root = RegisterModule("model", new Block(inChannels, F(0), block, outermost: true, innermost: false, 0f, g, noise, outer: outChannels));
        PatchGan.InitWeights(this, g);
    }

    /// <summary>The stream the dropout layers and noise planes draw from: training saves its state in checkpoints, so a resume draws the same.</summary>
    public Generator Noise { get; }

    /// <summary>Levels of the encoder for an image side: halvings while the side stays even, at most 8.</summary>
    public static int Depth(int size)
    {
        int depth = 0;
        while (size % 2 == 0 && size >= 2 && depth < 8) { size /= 2; depth++; }
        return depth;
    }

    /// <summary>G(A): (N, in, H, W) -> (N, out, H, W) in [-1, 1].</summary>
    public override Tensor Forward(Tensor input) => _root.Forward(input);

    /// <summary>
    /// One level of the U: down (conv 4x4 stride 2), the inner block, up (transposed conv 4x4 stride 2), and the input
    /// joined to the result on channels (but at the outermost level, which ends in tanh).
    /// </summary>
    sealed class Block : Module, IPureLayer
    {
        readonly Sequential _down, _up;
        readonly Module? _inner;
        readonly bool _outermost;
        readonly int _noisePlanes;
        readonly Generator _noise;

        // inChannels come in, innerChannels leave the down convolution, inner is the next level in (null at the
        // innermost), outer the channels the up convolution gives back (the input's, but the output image's at the outermost).
        public Block(int inChannels, int innerChannels, Module? inner, bool outermost, bool innermost, float dropout, Generator g, Generator noise,
            int? outer = null, int noisePlanes = 0)
        {
            int outChannels = outer ?? inChannels;
            _outermost = outermost;
            (_noisePlanes, _noise) = (noisePlanes, noise);
            // state: in x S x S -> inner x S/2 x S/2
            _down = new Sequential();
            if (!outermost) _down.Add(new LeakyReLU(0.2f));
            _down.Add(new Conv2d(inChannels, innerChannels, 4, stride: 2, padding: 1, bias: outermost || innermost, generator: g));
            if (!outermost && !innermost) _down.Add(new BatchNorm2d(innerChannels));
            RegisterModule("down", _down);
            if (inner != null) _inner = RegisterModule("inner", inner);
            // state: inner (x2 with the skip, but at the innermost) x S/2 -> out x S
            _up = new Sequential(new ReLU(),
                new ConvTranspose2d((innermost ? innerChannels : innerChannels * 2) + noisePlanes, outChannels, 4, stride: 2, padding: 1, bias: outermost, generator: g));
            if (outermost) _up.Add(new Tanh());
            else
            {
                _up.Add(new BatchNorm2d(outChannels));
                if (dropout > 0) _up.Add(new Dropout(dropout, noise));
            }
            RegisterModule("up", _up);
        }

        // Each step's result is read by the next alone, so its buffer goes back once that has read it (Then).
        public override Tensor Forward(Tensor input)
        {
            var x = _down.Forward(input);
            if (_inner != null) x = Then(x, _inner.Forward(x));
            if (_noisePlanes > 0)
            {
                var noise = Tensor.Randn([x.Size(0), _noisePlanes, x.Size(2), x.Size(3)], _noise);
                var joined = Tensor.Cat([x, noise], 1);
                Release(noise, joined);
                x = Then(x, joined);
            }
            x = Then(x, _up.Forward(x));
            return _outermost ? x : Then(x, Tensor.Cat([input, x], 1));
        }
    }
}
