using GanForge.NN;

namespace GanForge.NN.Tests;

/// <summary>gain·LeakyReLU(slope), as StyleGAN's activation (0.2, √2), which lives outside this library.</summary>
sealed class ScaledLeaky(float slope, float gain) : Module, IPureLayer, ILeakyRectifier
{
    public float NegativeSlope => slope;
    public float Gain => gain;
    public override Tensor Forward(Tensor input) => input.LeakyRelu(slope, gain);
}
