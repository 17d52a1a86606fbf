namespace GanForge.Tensors.Tests;

/// <summary>
/// <see cref="Tensor.StyleEpilogue"/> (one pass for StyleGAN2's demodulation, noise, bias and activation) against the
/// ops it fuses: value, gradients of every input and gradients of a gradient (the fused op's graph-mode backward).
/// </summary>
public class StyleEpilogueTests
{
    const float Slope = 0.2f;
    static readonly float Gain = MathF.Sqrt(2f);

    static Tensor Composed(Tensor y, Tensor scale, Tensor strength, Tensor noise, Tensor bias)
    {
        int c = y.Size(1);
        var z = y * scale.Reshape(y.Size(0), c, 1, 1) + strength.Reshape(1, c, 1, 1) * noise + bias.Reshape(1, c, 1, 1);
        return z.LeakyRelu(Slope) * Gain;
    }

    [Theory]
    [InlineData(3, 3)]   // noise per sample; 5 x 5 planes leave a tail after the vector loop
    [InlineData(3, 1)]   // one noise map for the batch (the fixed map of eval mode)
    public void StyleEpilogue_AgainstComposedOps_SameValueGradientsAndSecondOrder(int n, int noiseBatch)
    {
        var gen = new Generator(21);
        int c = 4, r = 5;
        Tensor[] Inputs() =>
        [
            Tensor.Randn([n, c, r, r], new Generator(21)).RequiresGrad_(), (Tensor.Rand([n, c], new Generator(22)) + 0.5f).Detach().RequiresGrad_(),
            Tensor.Randn([c], new Generator(23)).RequiresGrad_(), Tensor.Randn([c], new Generator(24)).RequiresGrad_(),
        ];
        var noise = Tensor.Randn([noiseBatch, 1, r, r], gen);
        var gy = Tensor.Randn([n, c, r, r], gen);
        var v = Tensor.Randn([n, c, r, r], gen);
        (Tensor Y, Tensor?[] Grads, Tensor?[] Second) Run(bool fused)
        {
            var x = Inputs();
            var y = fused ? Tensor.StyleEpilogue(x[0], x[1], x[2], noise, x[3], Slope, Gain) : Composed(x[0], x[1], x[2], noise, x[3]);
            var grads = Autograd.Grad([y], x, [gy], createGraph: true);
            // the gradient of <dL/dy_in, v> with respect to every input: through the backward's own graph
            var second = Autograd.Grad([(grads[0]! * v).Sum()], x, allowUnused: true);
            return (y.Detach(), grads.Select(t => t?.Detach()).ToArray(), second);
        }
        var (a, b) = (Run(fused: true), Run(fused: false));
        Fixtures.AssertClose(b.Y, a.Y, 1e-5, 1e-5, "value");
        for (int i = 0; i < 4; i++) Fixtures.AssertClose(b.Grads[i]!, a.Grads[i]!, 1e-4, 1e-5, $"gradient of input {i}");
        for (int i = 0; i < 4; i++)
            if (b.Second[i] is { } expected) Fixtures.AssertClose(expected, a.Second[i]!, 1e-4, 1e-5, $"second-order gradient of input {i}");
            else Assert.True(a.Second[i] is null || a.Second[i]!.Data.ToArray().All(x => x == 0f), $"input {i} should get no second-order gradient");
    }

    [Fact]
    public void StyleEpilogue_WrongScaleShape_NamesOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Tensor.StyleEpilogue(Tensor.Zeros(2, 3, 4, 4), Tensor.Zeros(3, 2), Tensor.Zeros(3), Tensor.Zeros(2, 1, 4, 4), Tensor.Zeros(3), Slope, Gain));
        Assert.Contains("StyleEpilogue", ex.Message);
        Assert.Contains("(3,2)", ex.Message);
    }
}
