namespace GanForge.NN.Tests;

public class InitTests
{
    static (double Mean, double Std, float Min, float Max) Stats(Tensor t)
    {
        var d = t.ToArray();
        double mean = d.Average(v => (double)v);
        double std = Math.Sqrt(d.Average(v => (v - mean) * (v - mean)));
        return (mean, std, d.Min(), d.Max());
    }

    // 200x250 = 50,000 samples: the sample std is within ~1% of the true one (tolerance 3%).
    static Tensor Big() => new(200, 250);

    [Fact]
    public void Normal_HasRequestedMeanAndStd()
    {
        var (mean, std, _, _) = Stats(Init.Normal(Big(), 1f, 2f, new Generator(1)));
        Assert.InRange(mean, 0.95, 1.05);
        Assert.InRange(std, 1.94, 2.06);
    }

    [Fact]
    public void Uniform_StaysInBounds()
    {
        var (mean, _, min, max) = Stats(Init.Uniform(Big(), -2f, 3f, new Generator(2)));
        Assert.True(min >= -2f && max < 3f);
        Assert.InRange(mean, 0.45, 0.55);
    }

    [Fact]
    public void ConstantZerosOnes_Fill()
    {
        Assert.All(Init.Constant(new Tensor(3), 2.5f).ToArray(), v => Assert.Equal(2.5f, v));
        Assert.All(Init.Zeros(Tensor.Ones(3)).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Init.Ones(new Tensor(3)).ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void FanInAndFanOut_IncludeReceptiveField() =>
        Assert.Equal((3 * 5 * 5, 16 * 5 * 5), Init.CalculateFanInAndFanOut(new Tensor(16, 3, 5, 5)));

    [Theory]
    [InlineData("linear", null, 1f)]
    [InlineData("sigmoid", null, 1f)]
    [InlineData("tanh", null, 5f / 3f)]
    [InlineData("relu", null, 1.41421356f)]
    [InlineData("leaky_relu", 0.2f, 1.38675049f)]
    [InlineData("selu", null, 0.75f)]
    public void CalculateGain_MatchesPyTorch(string nonlinearity, float? param, float expected) =>
        Assert.Equal(expected, Init.CalculateGain(nonlinearity, param), 1e-5);

    [Fact]
    public void XavierUniform_BoundAndStd()
    {
        var t = Init.XavierUniform(Big(), 2f, new Generator(3));
        double a = 2 * Math.Sqrt(6.0 / 450);
        var (_, std, min, max) = Stats(t);
        Assert.True(min >= -a && max <= a);
        Assert.InRange(std, 0.97 * a / Math.Sqrt(3), 1.03 * a / Math.Sqrt(3));
    }

    [Fact]
    public void XavierNormal_Std()
    {
        var (_, std, _, _) = Stats(Init.XavierNormal(Big(), 1f, new Generator(4)));
        double expected = Math.Sqrt(2.0 / 450);
        Assert.InRange(std, 0.97 * expected, 1.03 * expected);
    }

    [Fact]
    public void KaimingUniform_ReluFanIn_BoundAndStd()
    {
        var t = Init.KaimingUniform(Big(), nonlinearity: "relu", generator: new Generator(5));
        double std = Math.Sqrt(2.0) / Math.Sqrt(250), bound = Math.Sqrt(3) * std;
        var s = Stats(t);
        Assert.True(s.Min >= -bound && s.Max <= bound);
        Assert.InRange(s.Std, 0.97 * std, 1.03 * std);
    }

    [Fact]
    public void KaimingNormal_FanOut_Std()
    {
        var (_, std, _, _) = Stats(Init.KaimingNormal(Big(), mode: "fan_out", nonlinearity: "relu", generator: new Generator(6)));
        double expected = Math.Sqrt(2.0) / Math.Sqrt(200);
        Assert.InRange(std, 0.97 * expected, 1.03 * expected);
    }

    [Theory]
    [InlineData(5, 8)]
    [InlineData(8, 5)]
    public void Orthogonal_RowsOrColumnsAreOrthonormal(int rows, int cols)
    {
        var w = Init.Orthogonal(new Tensor(rows, cols), 1f, new Generator(7));
        // The smaller Gram matrix is the identity: W W^T for wide, W^T W for tall.
        var gram = rows <= cols ? w.MatMul(w, transposeOther: true) : w.MatMul(w, transposeThis: true);
        int n = Math.Min(rows, cols);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(i == j ? 1f : 0f, gram[i, j], 1e-5);
    }

    [Fact]
    public void Orthogonal_Gain_ScalesGram()
    {
        var w = Init.Orthogonal(new Tensor(4, 2, 3), 2f, new Generator(8)).Reshape(4, 6);
        var gram = w.MatMul(w, transposeOther: true);
        Assert.Equal(4f, gram[2, 2], 1e-4);
        Assert.Equal(0f, gram[0, 3], 1e-4);
    }
}

public class DropoutTests
{
    [Theory]
    [InlineData(0.2f)]
    [InlineData(0.5f)]
    public void Dropout_Training_ZeroesFractionPAndScalesRest(float p)
    {
        var y = new Dropout(p, new Generator(1)).Forward(Tensor.Ones(100, 100)).ToArray();
        double zeroed = y.Count(v => v == 0f) / (double)y.Length;
        Assert.InRange(zeroed, p - 0.02, p + 0.02);
        Assert.All(y.Where(v => v != 0f), v => Assert.Equal(1f / (1f - p), v, 1e-5));
    }

    [Fact]
    public void Dropout_Eval_IsIdentity()
    {
        var x = Tensor.Randn([4, 4], new Generator(2));
        var m = new Dropout(0.5f);
        m.Eval();
        Assert.Same(x, m.Forward(x));
    }

    [Fact]
    public void Dropout2d_ZeroesWholeChannels()
    {
        var y = new Dropout2d(0.5f, new Generator(3)).Forward(Tensor.Ones(20, 10, 3, 3));
        int dropped = 0;
        for (int c = 0; c < 200; c++)
        {
            var plane = y.Data.Slice(c * 9, 9).ToArray();
            Assert.True(plane.All(v => v == 0f) || plane.All(v => v == 2f), $"channel {c} is partly dropped");
            if (plane[0] == 0f) dropped++;
        }
        Assert.InRange(dropped, 70, 130);
    }

    [Fact]
    public void Dropout_SameSeed_SameMask() =>
        Assert.Equal(F.Dropout(Tensor.Ones(50), 0.3f, true, new Generator(4)).ToArray(), F.Dropout(Tensor.Ones(50), 0.3f, true, new Generator(4)).ToArray());

    [Fact]
    public void Dropout_GradCheck()
    {
        var x = Tensor.Randn([3, 4], new Generator(5));
        // A fresh generator per call, so every evaluation draws the same mask.
        GradCheck.First("Dropout", xs => F.Dropout(xs[0], 0.4f, true, new Generator(6)), [x]);
    }

    [Fact]
    public void Dropout_InvalidProbability_Throws() =>
        Assert.Throws<ArgumentException>(() => F.Dropout(Tensor.Ones(2), 1.5f));
}

public class ContainerTests
{
    [Fact]
    public void Sequential_NamesChildrenByIndex_AndChainsForward()
    {
        var net = new Sequential(new Linear(4, 3), new ReLU()) { new Linear(3, 2) };
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], net.StateDict().Keys);
        Assert.Equal(3, net.Count);
        Assert.IsType<ReLU>(net[1]);
        var x = Tensor.Randn([5, 4], new Generator(1));
        var manual = net[2].Forward(net[1].Forward(net[0].Forward(x)));
        Fixtures.AssertClose(manual, net.Forward(x), 0, 0, "sequential");
    }

    [Fact]
    public void ModuleList_RegistersParameters()
    {
        var list = new ModuleList(new Linear(2, 2), new BatchNorm1d(2));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"], list.StateDict().Keys);
        list.Eval();
        Assert.False(list[1].Training);
    }

    [Fact]
    public void FlattenAndUnflatten_RoundTrip()
    {
        var x = Tensor.Randn([2, 3, 4, 5], new Generator(2));
        var flat = new Flatten().Forward(x);
        Assert.Equal([2, 60], flat.Shape);
        var back = new Unflatten(1, [3, -1, 5]).Forward(flat);
        Assert.Equal([2, 3, 4, 5], back.Shape);
        Assert.Equal(x.ToArray(), back.ToArray());
    }

    [Fact]
    public void Identity_ReturnsInput()
    {
        var x = Tensor.Ones(2);
        Assert.Same(x, new Identity().Forward(x));
    }
}
