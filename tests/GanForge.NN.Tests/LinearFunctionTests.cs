namespace GanForge.NN.Tests;

/// <summary>
/// The fused <see cref="Functions.LinearFunction"/> behind F.Linear: its raw-kernel backward (no graph)
/// against its differentiable backward (createGraph) and a double-precision reference, partial
/// requires-grad, double backward and the bias shape check. Fixture parity and a first-order check
/// with bias live in <see cref="LayerTests"/>.
/// </summary>
public class LinearFunctionTests
{
    const int In = 5, Out = 3;

    static Tensor R(int seed, params int[] shape) => Tensor.Randn(shape, new Generator((ulong)seed));

    static Tensor[] Inputs(int[] xShape, bool bias) =>
        bias ? [R(1, xShape), R(2, Out, In), R(3, Out)] : [R(1, xShape), R(2, Out, In)];

    static Tensor Apply(Tensor[] t) => F.Linear(t[0], t[1], t.Length > 2 ? t[2] : null);

    /// <summary>y, dx, dW, db of y = x Wᵀ + b with upstream gradient g, in double.</summary>
    static (double[] Y, double[] Dx, double[] Dw, double[] Db) Reference(Tensor x, Tensor w, Tensor? b, Tensor g)
    {
        int rows = x.Numel / In;
        var xs = x.ToArray(); var ws = w.ToArray(); var gs = g.ToArray();
        var y = new double[rows * Out]; var dx = new double[rows * In]; var dw = new double[Out * In]; var db = new double[Out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < Out; o++)
            {
                double s = b == null ? 0 : b.Data[o];
                for (int i = 0; i < In; i++) s += (double)xs[r * In + i] * ws[o * In + i];
                y[r * Out + o] = s;
                double go = gs[r * Out + o];
                db[o] += go;
                for (int i = 0; i < In; i++)
                {
                    dx[r * In + i] += go * ws[o * In + i];
                    dw[o * In + i] += go * xs[r * In + i];
                }
            }
        return (y, dx, dw, db);
    }

    static void AssertClose(double[] expected, Tensor? actual, string what)
    {
        Assert.NotNull(actual);
        var a = actual!.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            if (Math.Abs(a[i] - expected[i]) > 1e-5 + 1e-5 * Math.Abs(expected[i]))
                Assert.Fail($"{what}: element {i}: {a[i]:G9}, expected {expected[i]:G9}");
    }

    public static TheoryData<int[], bool> Cases => new()
    {
        { new[] { In }, true },
        { new[] { 7, In }, true },
        { new[] { 7, In }, false },
        { new[] { 2, 4, In }, true },
        { new[] { 2, 4, In }, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_NoGraphAndGraph_MatchReference(int[] xShape, bool bias)
    {
        var t = Inputs(xShape, bias);
        foreach (var v in t) v.RequiresGrad = true;
        var y = Apply(t);
        var expectedShape = xShape.ToArray(); expectedShape[^1] = Out;
        Assert.Equal(expectedShape, y.Shape);
        var g = R(4, expectedShape);
        var (ry, rdx, rdw, rdb) = Reference(t[0], t[1], bias ? t[2] : null, g);
        AssertClose(ry, y, "y");

        // Raw kernels: Backward into .Grad without a graph.
        y.Backward(g, retainGraph: true);
        AssertClose(rdx, t[0].Grad, "dx (no graph)");
        AssertClose(rdw, t[1].Grad, "dW (no graph)");
        if (bias) AssertClose(rdb, t[2].Grad, "db (no graph)");
        Assert.All(t, v => Assert.Null(v.Grad!.GradFn));

        // Differentiable ops: the same gradients, now carrying a graph.
        var graph = Autograd.Grad([y], t, [g], createGraph: true);
        AssertClose(rdx, graph[0], "dx (graph)");
        AssertClose(rdw, graph[1], "dW (graph)");
        if (bias) AssertClose(rdb, graph[2], "db (graph)");
        // dx and dW carry a graph; db = Σ g depends on no input, so it carries none.
        Assert.NotNull(graph[0]!.GradFn);
        Assert.NotNull(graph[1]!.GradFn);
        for (int k = 0; k < t.Length; k++)
            Assert.Equal(graph[k]!.ToArray(), t[k].Grad!.ToArray(), new FloatTolerance(1e-6f));
    }

    [Theory]
    [InlineData(4, 12, true)]
    [InlineData(16, 4, false)]
    [InlineData(16, 48, true)]
    public void ThinLayerOverManyRows_ThinKernelsMatchTheProducts(int inF, int outF, bool bias)
    {
        // 2,051 rows of at most 16 inputs: ThinLinear's forward (at most 16 outputs) and one-pass backward (at most 48; where AVX-512
        // runs the products) against the same layer through the GEMM and the column sums.
        const int rows = 2051;
        if (!Kernels.ThinLinear.SuitsBackward(rows, inF, outF)) return;
        Tensor[] Run(bool thin, out Tensor y)
        {
            Kernels.ThinLinear.Enabled = thin;
            try
            {
                Tensor[] t = bias ? [R(1, rows, inF), R(2, outF, inF), R(3, outF)] : [R(1, rows, inF), R(2, outF, inF)];
                foreach (var v in t) v.RequiresGrad = true;
                y = F.Linear(t[0], t[1], bias ? t[2] : null);
                y.Backward(R(4, rows, outF));
                return t;
            }
            finally { Kernels.ThinLinear.Enabled = true; }
        }
        var thin = Run(true, out var yThin);
        var products = Run(false, out var yProducts);
        Assert.Equal(yProducts.ToArray(), yThin.ToArray(), new FloatTolerance(1e-5f));
        // dW and db sum 2,051 rows in another order (within 1e-4 of their scale, about 45).
        for (int k = 0; k < thin.Length; k++)
            Assert.Equal(products[k].Grad!.ToArray(), thin[k].Grad!.ToArray(), new FloatTolerance(k == 0 ? 1e-5f : 1e-4f));
    }

    sealed class FloatTolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol * (1 + Math.Abs(a));
        public int GetHashCode(float v) => 0;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_InputWithoutGradAndFrozenWeight_OnlyBiasGetsGrad(bool createGraph)
    {
        var (x, w, b) = (R(1, 4, In), R(2, Out, In), R(3, Out).RequiresGrad_());
        var g = R(4, 4, Out);
        F.Linear(x, w, b).Backward(g, createGraph: createGraph);
        Assert.Null(x.Grad);
        Assert.Null(w.Grad);
        AssertClose(Reference(x, w, b, g).Db, b.Grad, "db");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_FrozenWeight_OnlyInputGetsGrad(bool createGraph)
    {
        var (x, w, b) = (R(1, 2, 3, In).RequiresGrad_(), R(2, Out, In), R(3, Out));
        var g = R(4, 2, 3, Out);
        F.Linear(x, w, b).Backward(g, createGraph: createGraph);
        Assert.Null(w.Grad);
        Assert.Null(b.Grad);
        AssertClose(Reference(x, w, b, g).Dx, x.Grad, "dx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_InputWithoutGrad_WeightAndBiasGetGrads(bool createGraph)
    {
        var (x, w, b) = (R(1, 6, In), R(2, Out, In).RequiresGrad_(), R(3, Out).RequiresGrad_());
        var g = R(4, 6, Out);
        F.Linear(x, w, b).Backward(g, createGraph: createGraph);
        Assert.Null(x.Grad);
        var r = Reference(x, w, b, g);
        AssertClose(r.Dw, w.Grad, "dW");
        AssertClose(r.Db, b.Grad, "db");
    }

    [Fact]
    public void LinearLayer_FrozenParameters_OnlyInputGetsGrad()
    {
        var m = new Linear(In, Out, generator: new Generator(8));
        foreach (var p in m.Parameters()) p.RequiresGrad = false;
        var x = R(1, 4, In).RequiresGrad_();
        m.Forward(x).Square().Sum().Backward();
        Assert.Null(m.Weight.Grad);
        Assert.Null(m.Bias!.Grad);
        Assert.NotNull(x.Grad);
        Assert.Contains(x.Grad!.ToArray(), v => v != 0f);
    }

    [Fact]
    public void LinearWithBias_GradCheckSecond()
    {
        // Squared so the second derivative w.r.t. each input is not only the x-W cross term.
        GradCheck.Second("Linear", t => Apply(t).Square(), Inputs([2, 3, In], bias: true));
    }

    [Fact]
    public void LinearWithoutBias_GradCheckFirstAndSecond()
    {
        GradCheck.First("Linear (no bias)", t => Apply(t), Inputs([4, In], bias: false));
        GradCheck.Second("Linear (no bias)", t => Apply(t).Tanh(), Inputs([4, In], bias: false));
    }

    [Fact]
    public void Linear_GradientPenaltyOnInput_MatchesClosedForm()
    {
        // p = |d/dx sum(x Wᵀ + b)|² = rows · |Σ_o W_o|²; dp/dW[o,i] = 2 rows · Σ_o' W[o',i].
        var x = R(1, 4, In).RequiresGrad_();
        var w = R(2, Out, In).RequiresGrad_();
        var b = R(3, Out).RequiresGrad_();
        var gx = Autograd.Grad([F.Linear(x, w, b).Sum()], [x], createGraph: true)[0]!;
        (gx * gx).Sum().Backward();
        var colSums = new double[In];
        for (int o = 0; o < Out; o++) for (int i = 0; i < In; i++) colSums[i] += w.Data[o * In + i];
        var expected = new double[Out * In];
        for (int o = 0; o < Out; o++) for (int i = 0; i < In; i++) expected[o * In + i] = 2 * 4 * colSums[i];
        AssertClose(expected, w.Grad, "dp/dW");
        Assert.True(b.Grad == null || b.Grad.ToArray().All(v => v == 0f));
    }

    [Fact]
    public void GraphBackward_WideWeight_InputGradientHasTheBitsOfTheBackwardWithoutGraph()
    {
        // 16 rows of a 256 -> 320 layer: Gemm.InputGradient makes dx in the two halves of W's rows with a graph as without one.
        var x = R(1, 16, 256).RequiresGrad_();
        var w = (R(2, 320, 256) * (1f / 16)).RequiresGrad_();
        var b = R(3, 320).RequiresGrad_();
        var y = F.Linear(x, w, b);
        var g = R(4, 16, 320);
        y.Backward(g, retainGraph: true);
        var graph = Autograd.Grad([y], [x], [g], createGraph: true)[0]!;
        Assert.Equal("LinearInputGradientBackward", graph.GradFn!.Name);
        var (withGraph, without) = (graph.ToArray(), x.Grad!.ToArray());
        for (int i = 0; i < without.Length; i++)
            if (BitConverter.SingleToInt32Bits(withGraph[i]) != BitConverter.SingleToInt32Bits(without[i]))
                Assert.Fail($"dx[{i}]: {withGraph[i]:G9} with a graph, {without[i]:G9} without");
    }

    [Fact]
    public void GradientPenalty_WideWeight_SecondOrderMatchesDirectionalDifferences()
    {
        // p = |∇ₓ Σ u·tanh(x Wᵀ + b)|² over a 256 -> 256 layer (its input gradient in halves, its own backward through
        // LinearInputGradient): dp/dW and dp/dx along a random direction against central differences of p, in double.
        var x = R(1, 8, 256).RequiresGrad_();
        var w = (R(2, 256, 256) * (1f / 16)).RequiresGrad_();
        var b = R(3, 256);
        var u = R(4, 8, 256);
        Tensor InputGradient(bool createGraph) => Autograd.Grad([(F.Linear(x, w, b).Tanh() * u).Sum()], [x], createGraph: createGraph)[0]!;
        double Penalty() { var gx = InputGradient(false).ToArray(); return gx.Sum(v => (double)v * v); }

        var gradInput = InputGradient(true);
        var analytic = Autograd.Grad([(gradInput * gradInput).Sum()], [x, w]);
        foreach (var (t, k) in new[] { (x, 0), (w, 1) })
        {
            var direction = R(10 + k, t.Shape).ToArray();
            double along = 0;
            var a = analytic[k]!.ToArray();
            for (int i = 0; i < a.Length; i++) along += a[i] * direction[i];
            const float eps = 5e-4f;
            var data = t.Data;
            var saved = data.ToArray();
            for (int i = 0; i < data.Length; i++) data[i] = saved[i] + eps * direction[i];
            double plus = Penalty();
            for (int i = 0; i < data.Length; i++) data[i] = saved[i] - eps * direction[i];
            double minus = Penalty();
            saved.CopyTo(data);
            double numeric = (plus - minus) / (2 * eps);
            Assert.True(Math.Abs(along - numeric) <= 1e-3 * Math.Abs(numeric),
                $"dp/d{(k == 0 ? "x" : "W")} along a direction: {along:G6} analytic, {numeric:G6} by differences");
        }
    }

    [Theory]
    [InlineData(new[] { 4 })]
    [InlineData(new[] { 1, 3 })]
    [InlineData(new int[0])]
    public void Linear_BiasWrongShape_ThrowsNamingShapes(int[] biasShape)
    {
        var bias = new Tensor(biasShape);
        var e = Assert.Throws<ArgumentException>(() => F.Linear(R(1, 2, In), R(2, Out, In), bias));
        Assert.Contains("Linear", e.Message);
        Assert.Contains(Shapes.Format(biasShape), e.Message);
        Assert.Contains($"({Out},{In})", e.Message);
    }
}
