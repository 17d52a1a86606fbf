using GanForge.Metrics.Evaluators;
using GanForge.NN;

namespace GanForge.Metrics.Tests;

/// <summary>
/// SRGAN's content network, the built-in evaluator's first layers run as one <see cref="Sequential"/> chain (which gives
/// each intermediate's buffer back once read and runs each eval-mode batch norm as one pass): the values and input
/// gradients of those layers applied one by one, for gray and colour images, with a graph and without.
/// </summary>
public class ContentFeaturesTests
{
    // The evaluator's conv, BN, ReLU, pool, conv, BN, ReLU one by one, colour averaged to gray first.
    static Tensor OneByOne(Tensor x)
    {
        var layers = ((FashionMnistCnn)EvaluatorRegistry.Load().Network).FeatureLayers;
        if (x.Size(1) > 1) x = x.Mean([1], keepDim: true);
        for (int i = 0; i < 7; i++) x = layers[i].Forward(x);
        return x;
    }

    [Theory, InlineData(1), InlineData(3)]
    public void ContentFeatures_AsAChain_TheValuesAndGradientsOfTheLayersOneByOne(int channels)
    {
        var features = new ContentFeatures();
        features.RequiresGrad(false);
        features.Eval();
        var x = Tensor.Uniform([3, channels, 20, 18], -1f, 1f, new Generator(4));
        var v = Tensor.Randn([3, 64, 10, 9], new Generator(5));
        Tensor expected, actual;
        using (GradMode.NoGrad()) (expected, actual) = (OneByOne(x), features.Forward(x));
        Assert.Equal(expected.Shape, actual.Shape);
        AssertClose(expected, actual, "without a graph");

        var (xa, xb) = (x.Detach().RequiresGrad_(), x.Detach().RequiresGrad_());
        var (ya, yb) = (OneByOne(xa), features.Forward(xb));
        AssertClose(ya.Detach(), yb.Detach(), "with a graph");
        var ga = Autograd.Grad([(ya * v).Sum()], [xa])[0]!;
        var gb = Autograd.Grad([(yb * v).Sum()], [xb])[0]!;
        AssertClose(ga, gb, "input gradient");
        Assert.Contains(gb.ToArray(), g => g != 0f);
    }

    // Eval-mode batch norm by one affine pass rounds as its kernel without a graph does, where the layers one by one
    // subtract the mean first: equal to float rounding.
    static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var (e, a) = (expected.ToArray(), actual.ToArray());
        double scale = e.Max(Math.Abs);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 * scale, $"{what}: [{i}] {a[i]} against {e[i]}");
    }
}
