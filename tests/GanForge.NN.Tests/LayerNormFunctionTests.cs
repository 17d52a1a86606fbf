namespace GanForge.NN.Tests;

/// <summary>
/// F.LayerNorm's fused function (the row statistics and the affine in one pass each way) against the same norm composed
/// of tensor ops: value, every gradient, and the gradient of a gradient (its graph-mode backward), on rows of the
/// widths TransGAN uses and over thread counts that split the rows into different runs.
/// </summary>
public class LayerNormFunctionTests
{
    static Tensor Composed(Tensor x, Tensor w, Tensor b, float eps)
    {
        var xc = x - x.Mean(-1, keepDim: true);
        return xc * (xc.Square().Mean(-1, keepDim: true) + eps).Pow(-0.5f) * w + b;
    }

    [Theory]
    [InlineData(4, 1)]      // TransGAN's last stage: 4 floats a row, many rows
    [InlineData(4, 2)]
    [InlineData(64, 3)]     // its discriminator's width
    [InlineData(5, 2)]
    public void AgainstComposedOps_SameValueGradientsSecondAndThirdOrder(int len, int threads)
    {
        // A gradient penalty's path: the gradient with a graph (the fused LayerNormInputGrad), its gradient to x, the
        // weight and the output gradient (the second-order kernel), and once more with a graph for a third derivative.
        int rows = 9000 / len;   // several runs of rows on two or three threads
        var v = Tensor.Randn([rows, len], new Generator(4));
        var z = Tensor.Randn([rows, len], new Generator(6));
        (Tensor Y, Tensor?[] Grads, Tensor?[] Second, Tensor?[] SecondWithGraph, Tensor Third) Run(bool fused)
        {
            Tensor[] p = [(Tensor.Randn([rows, len], new Generator(1)) * 3f + 1f).Detach().RequiresGrad_(),
                          Tensor.Randn([len], new Generator(2)).RequiresGrad_(), Tensor.Randn([len], new Generator(5)).RequiresGrad_()];
            var gy = Tensor.Randn([rows, len], new Generator(3)).RequiresGrad_();
            Tensor Norm() => fused ? F.LayerNorm(p[0], [len], p[1], p[2]) : Composed(p[0], p[1], p[2], 1e-5f);
            var y = Norm();
            var grads = Autograd.Grad([y], p, [gy], createGraph: true);
            Tensor[] wrt = [p[0], p[1], gy];
            var second = Autograd.Grad([(grads[0]! * v).Sum()], wrt, allowUnused: true);
            var withGraph = Autograd.Grad([(Autograd.Grad([Norm()], [p[0]], [gy], createGraph: true)[0]! * v).Sum()], wrt, createGraph: true);
            var third = Autograd.Grad([(withGraph[0]! * z).Sum() + withGraph[2]!.Square().Sum()], [p[0]])[0]!;
            var plain = Autograd.Grad([Norm()], p, [gy.Detach()]);
            for (int i = 0; i < 3; i++) Fixtures.AssertClose(grads[i]!.Detach(), plain[i]!, 1e-4, 1e-5, $"gradient {i}, with and without a graph");
            return (y.Detach(), plain, second, withGraph.Select(t => t?.Detach()).ToArray(), third);
        }
        int previous = Threading.Threads;
        try
        {
            Threading.Threads = threads;
            var (f, c) = (Run(fused: true), Run(fused: false));
            Fixtures.AssertClose(c.Y, f.Y, 1e-5, 1e-5, "value");
            string[] names = ["x", "weight", "bias"], wrt = ["x", "weight", "the output gradient"];
            for (int i = 0; i < 3; i++) Fixtures.AssertClose(c.Grads[i]!, f.Grads[i]!, 1e-4, 1e-4, $"gradient of {names[i]}");
            for (int i = 0; i < 3; i++)
            {
                Fixtures.AssertClose(c.Second[i]!, f.Second[i]!, 1e-3, 1e-4, $"second-order gradient to {wrt[i]} (kernel)");
                Fixtures.AssertClose(c.SecondWithGraph[i]!, f.SecondWithGraph[i]!, 1e-3, 1e-4, $"second-order gradient to {wrt[i]} (with a graph)");
            }
            Fixtures.AssertClose(c.Third, f.Third, 2e-3, 2e-4, "third-order gradient");
        }
        finally { Threading.Threads = previous; }
    }

    [Fact]
    public void WeightOfAnotherWidth_NamesOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => F.LayerNorm(Tensor.Zeros(2, 4), [4], Tensor.Ones(3)));
        Assert.Contains("LayerNorm", ex.Message);
        Assert.Contains("(3)", ex.Message);
    }
}
