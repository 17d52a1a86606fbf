using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// The PatchGAN discriminator (Isola et al. 2017, appendix 6.1.2): 4x4 convolutions, C64-C128-C256-C512 for the 70x70
/// receptive field, the first without normalisation, LeakyReLU 0.2, then a 1-channel convolution: one real/fake logit
/// per overlapping patch of the image, (N,1,h,w). pix2pix gives it the input and the output joined on channels and uses
/// batch norm; CycleGAN gives it one image and uses instance norm.
/// </summary>
public static class PatchGan
{
    /// <summary>
    /// The number of strided layers for an image side: 3 (the paper's 70x70 patches) from 128 up, 2 from 48 up,
    /// 1 below (a 16x16 patch of a 28x28 image; a 70x70 one would see all of it).
    /// </summary>
    public static int LayersFor(int size) => size >= 128 ? 3 : size >= 48 ? 2 : 1;

    /// <param name="inChannels">Channels of what D sees (input and output joined, for pix2pix).</param>
    /// <param name="ndf">Width of the first layer (64 in the paper).</param>
    /// <param name="layers">Strided layers (3 in the paper); the next doubles the width at stride 1.</param>
    /// <param name="instanceNorm">Instance norm (CycleGAN) instead of batch norm (pix2pix).</param>
    /// <param name="g">Initialisation randomness.</param>
    public static Sequential Create(int inChannels, int ndf, int layers, bool instanceNorm, Generator g)
    {
        Module Norm(int c) => instanceNorm ? new InstanceNorm2d(c) : new BatchNorm2d(c);
        var net = new Sequential();
        // state: in x H x W -> ndf x H/2 x W/2
        net.Add(new Conv2d(inChannels, ndf, 4, stride: 2, padding: 1, generator: g));
        net.Add(new LeakyReLU(0.2f));
        int width = ndf;
        for (int i = 1; i < layers; i++)
        {
            int next = ndf * Math.Min(1 << i, 8);
            // state: next x H/2^(i+1)
            net.Add(new Conv2d(width, next, 4, stride: 2, padding: 1, bias: instanceNorm, generator: g));
            net.Add(Norm(next));
            net.Add(new LeakyReLU(0.2f));
            width = next;
        }
        int last = ndf * Math.Min(1 << layers, 8);
        // stride 1: the side shrinks by 1, the receptive field grows
        net.Add(new Conv2d(width, last, 4, stride: 1, padding: 1, bias: instanceNorm, generator: g));
        net.Add(Norm(last));
        net.Add(new LeakyReLU(0.2f));
        // state: 1 x h x w, one logit per patch
        net.Add(new Conv2d(last, 1, 4, stride: 1, padding: 1, generator: g));
        return net;
    }

    /// <summary>Initialises convolutions' weights ~ N(0, 0.02) and biases 0, and norms' weights ~ N(1, 0.02) (the papers' init).</summary>
    public static void InitWeights(Module net, Generator g)
    {
        foreach (var (_, m) in net.NamedModules())
        {
            var state = m.StateDict();
            switch (m)
            {
                case Conv2d or ConvTranspose2d:
                    Init.Normal(state["weight"], 0f, 0.02f, g);
                    if (state.TryGetValue("bias", out var bias)) Init.Zeros(bias);
                    break;
                case BatchNorm2d or InstanceNorm2d when state.ContainsKey("weight"):
                    Init.Normal(state["weight"], 1f, 0.02f, g);
                    Init.Zeros(state["bias"]);
                    break;
            }
        }
    }
}
