namespace GanForge.NN.Tests;

public class ActivationTests
{
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("nn", "activations");

    public static TheoryData<string> Names => new()
    {
        "softmax", "log_softmax", "gelu", "gelu_tanh", "silu", "softplus", "relu", "leaky_relu", "tanh", "sigmoid",
    };

    static Tensor Apply(string name, Tensor x) => name switch
    {
        "softmax" => F.Softmax(x, 1),
        "log_softmax" => F.LogSoftmax(x, 0),
        "gelu" => F.Gelu(x),
        "gelu_tanh" => F.Gelu(x, "tanh"),
        "silu" => F.Silu(x),
        "softplus" => F.Softplus(x, beta: 2f, threshold: 5f),
        "relu" => F.Relu(x),
        "leaky_relu" => F.LeakyRelu(x, 0.2f),
        "tanh" => F.Tanh(x),
        "sigmoid" => F.Sigmoid(x),
        _ => throw new ArgumentException(name),
    };

    static Module Layer(string name) => name switch
    {
        "softmax" => new Softmax(1),
        "log_softmax" => new LogSoftmax(0),
        "gelu" => new GELU(),
        "gelu_tanh" => new GELU("tanh"),
        "silu" => new SiLU(),
        "softplus" => new Softplus(2f, 5f),
        "relu" => new ReLU(),
        "leaky_relu" => new LeakyReLU(0.2f),
        "tanh" => new Tanh(),
        "sigmoid" => new Sigmoid(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Activation_MatchesPyTorch_ValueAndGradient(string name)
    {
        var x = Fx["x"].Clone().RequiresGrad_();
        var y = Apply(name, x);
        y.Backward(Fx["gy"]);
        // 1e-5 relative: float32 evaluation against float64 references.
        Fixtures.AssertClose(Fx[name + ".y"], y, 1e-5, 1e-6, name + " output");
        Fixtures.AssertClose(Fx[name + ".dx"], x.Grad!, 1e-5, 1e-6, name + " gradient");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ActivationModule_MatchesFunctional(string name)
    {
        var x = Fx["x"];
        Fixtures.AssertClose(Fx[name + ".y"], Layer(name).Forward(x), 1e-5, 1e-6, name + " module output");
    }

    // Kept 0.05 away from zero so finite differences never straddle the ReLU kink.
    static Tensor Input()
    {
        var x = Tensor.Randn([3, 4], new Generator(5)) * 2f;
        return x + x.Sign() * 0.05f;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Activation_FirstOrderGradient_MatchesFiniteDifferences(string name) =>
        GradCheck.First(name, xs => Apply(name, xs[0]), [Input()]);

    [Theory]
    [InlineData("softmax")]
    [InlineData("log_softmax")]
    [InlineData("gelu")]
    [InlineData("gelu_tanh")]
    [InlineData("silu")]
    [InlineData("softplus")]
    public void Activation_SecondOrderGradient_MatchesFiniteDifferences(string name) =>
        GradCheck.Second(name, xs => Apply(name, xs[0]), [Input()]);

    [Fact]
    public void Softmax_HugeLogits_StayFinite()
    {
        var y = Tensor.FromArray([1000f, 0f, -1000f], 1, 3).Softmax(1);
        Assert.Equal(1f, y[0, 0], 1e-6);
        Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
        var ly = Tensor.FromArray([1000f, 0f], 1, 2).LogSoftmax(-1);
        Assert.Equal(-1000f, ly[0, 1], 1e-3);
    }

    // Along the last dim (softmax) rows run as vector passes and the backward without a graph in one pass; along
    // another dim, the strided loop and the composed backward. The two must agree on the same numbers.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Softmax_AlongLastDim_AgreesWithTheStridedPath(bool log)
    {
        var x = (Tensor.Randn([37, 53], new Generator(6)) * 4f).RequiresGrad_();
        var xt = x.Detach().Transpose(0, 1).RequiresGrad_();
        var g = Tensor.Randn([37, 53], new Generator(7));
        var y = log ? x.LogSoftmax(-1) : x.Softmax(-1);
        var yt = log ? xt.LogSoftmax(0) : xt.Softmax(0);
        y.Backward(g);
        yt.Backward(g.Transpose(0, 1));
        Fixtures.AssertClose(yt.Transpose(0, 1), y, 1e-5, 1e-6, "output");
        Fixtures.AssertClose(xt.Grad!.Transpose(0, 1), x.Grad!, 1e-5, 1e-6, "gradient");
    }

    [Fact]
    public void Gelu_UnknownApproximation_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Gelu(Tensor.Zeros(2), "fast"));
        Assert.Contains("Gelu", e.Message);
    }
}
