using GanForge.Functions;
using GanForge.Kernels;

namespace GanForge.Tests;

/// <summary>
/// The vectorised exact GELU (float lanes) against the element-by-element double-precision formula it replaced
/// (<see cref="ActivationMath.Phi"/>): the values and the derivative, over the whole range, the tails, the special
/// values, and with the thread split.
/// </summary>
[Collection("Threading")]
public class GeluKernelTests
{
    static float ScalarGelu(float x) => (float)(x * ActivationMath.Phi(x));

    static float ScalarDerivative(float x)
    {
        double v = x;
        return (float)(ActivationMath.Phi(v) + v * ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v));
    }

    // Relative to the value (float lanes: a few 1e-6 in the far left tail, where Φ's exponent is large), with an
    // absolute floor: 1e-37 for the GELU, 1e-7 for its derivative, which crosses zero near x = -0.75, where its two
    // terms of about 0.2 cancel.
    static void AssertClose(float expected, float actual, float x, string what)
    {
        if (float.IsNaN(expected)) { Assert.True(float.IsNaN(actual), $"{what}({x:R}) = {actual:R}, expected NaN"); return; }
        if (float.IsInfinity(expected)) { Assert.Equal(expected, actual); return; }
        double tol = 2e-5 * Math.Abs(expected) + (what == "gelu" ? 1e-37 : 1e-7);
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}({x:R}) = {actual:R}, expected {expected:R}");
    }

    static float[] Inputs(int length)
    {
        var x = Tensor.Randn([length], new Generator(7)).Data.ToArray();
        for (int i = 0; i < x.Length; i += 3) x[i] *= 6f;   // deep into both tails
        float[] special = [0f, -0f, 1e-30f, -1e-30f, 8f, -8f, -13f, -20f, 40f, float.PositiveInfinity, float.NaN, 0.5f, -0.5f];
        special.CopyTo(x, 0);
        return x;
    }

    [Theory]
    [InlineData(1, 37)]          // the vector body and the element-by-element tail
    [InlineData(1, 1_000)]
    [InlineData(2, 70_001)]      // split over threads
    [InlineData(3, 131_075)]
    public void Forward_AnyLength_MatchesTheScalarFormula(int threads, int length)
    {
        var x = Inputs(length);
        var y = new float[length];
        ThreadingTests.WithThreads(threads, () => GeluKernel.Forward(x, y, length));
        for (int i = 0; i < length; i++) AssertClose(ScalarGelu(x[i]), y[i], x[i], "gelu");
    }

    [Theory]
    [InlineData(1, 37)]
    [InlineData(2, 70_001)]
    public void Derivative_AnyLength_MatchesTheScalarFormula(int threads, int length)
    {
        var x = Inputs(length);
        var y = new float[length];
        ThreadingTests.WithThreads(threads, () => GeluKernel.Derivative(x, y, length));
        for (int i = 0; i < length; i++) AssertClose(ScalarDerivative(x[i]), y[i], x[i], "gelu'");
    }

    [Theory]
    [InlineData(1, 37)]
    [InlineData(2, 70_001)]
    public void TimesGradient_DerivativeAndCurvature_MatchTheScalarFormulas(int threads, int length)
    {
        // The backward passes: g·GELU'(x) and g·GELU''(x) = g·φ(x)(2 − x²), each in one pass.
        var x = Inputs(length);
        var g = Tensor.Randn([length], new Generator(8)).Data.ToArray();
        var (dx, ddx) = (new float[length], new float[length]);
        ThreadingTests.WithThreads(threads, () =>
        {
            GeluKernel.Run(GeluKernel.Of.Derivative, x, g, dx, length);
            GeluKernel.Run(GeluKernel.Of.Curvature, x, g, ddx, length);
        });
        for (int i = 0; i < length; i++)
        {
            double v = x[i], curvature = ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v) * (2 - v * v);
            AssertClose(ScalarDerivative(x[i]) * g[i], dx[i], x[i], "g·gelu'");
            AssertClose(float.IsInfinity(x[i]) ? float.NaN : (float)(curvature * g[i]), ddx[i], x[i], "g·gelu''");
        }
    }

    [Theory]
    [InlineData((int)LaneKind.Eight)]
    [InlineData((int)LaneKind.EightTwice)]
    [InlineData((int)LaneKind.Sixteen)]
    [InlineData((int)LaneKind.SixteenTwice)]
    public void EveryFunction_OnEveryLaneKind_MatchesTheScalarFormulas(int kind)
    {
        // The processor picks one kind (sixteen lanes with AVX-512, two vectors of eight without); the others run here
        // too, sixteen lanes (and two vectors of sixteen) in software where the processor lacks them.
        var lanes = (LaneKind)kind;
        const int length = 1_005;   // a tail after the vectors of every kind
        var x = Inputs(length);
        var g = Tensor.Randn([length], new Generator(9)).Data.ToArray();
        var (y, dx, ddx) = (new float[length], new float[length], new float[length]);
        GeluKernel.Run(GeluKernel.Of.Value, x, null, y, length, lanes);
        GeluKernel.Run(GeluKernel.Of.Derivative, x, g, dx, length, lanes);
        GeluKernel.Run(GeluKernel.Of.Curvature, x, g, ddx, length, lanes);
        for (int i = 0; i < length; i++)
        {
            double v = x[i], curvature = ActivationMath.InvSqrt2Pi * Math.Exp(-0.5 * v * v) * (2 - v * v);
            AssertClose(ScalarGelu(x[i]), y[i], x[i], "gelu");
            AssertClose(ScalarDerivative(x[i]) * g[i], dx[i], x[i], "g·gelu'");
            AssertClose(float.IsInfinity(x[i]) ? float.NaN : (float)(curvature * g[i]), ddx[i], x[i], "g·gelu''");
        }
    }

    [Theory]
    [InlineData(1, 37, (int)LaneKind.Sixteen)]
    [InlineData(1, 1_005, (int)LaneKind.SixteenTwice)]
    [InlineData(1, 1_005, (int)LaneKind.Eight)]
    [InlineData(1, 1_005, (int)LaneKind.EightTwice)]
    [InlineData(2, 70_001, (int)LaneKind.Sixteen)]   // split over threads
    public void BackwardFromOutput_MatchesTheScalarDerivative(int threads, int length, int kind)
    {
        // The training step's backward reads Φ(x) from the forward's output as y/x: g·GELU'(x) as from x alone, at 0 and
        // ±1e-30 (Φ = 1/2 there, where y/x would be 0/0 or lose y), in both tails and at the special values.
        var x = Inputs(length);
        var g = Tensor.Randn([length], new Generator(10)).Data.ToArray();
        var (y, dx) = (new float[length], new float[length]);
        ThreadingTests.WithThreads(threads, () =>
        {
            GeluKernel.Forward(x, y, length);
            GeluKernel.BackwardFromOutput(x, y, g, dx, length, (LaneKind)kind);
        });
        for (int i = 0; i < length; i++) AssertClose(ScalarDerivative(x[i]) * g[i], dx[i], x[i], "g·gelu' from y");
    }

    [Fact]
    public void Forward_KnownValues_MatchTheDefinition()
    {
        // x·Φ(x) from the normal CDF's tables: Φ(1) = 0.841344746, Φ(-1) = 0.158655254, Φ(-3) = 0.001349898.
        float[] x = [1f, -1f, -3f, 0f];
        var y = new float[4];
        GeluKernel.Forward(x, y, 4);
        Assert.Equal(0.841344746f, y[0], 1e-6f);
        Assert.Equal(-0.158655254f, y[1], 1e-6f);
        Assert.Equal(-0.004049694f, y[2], 1e-8f);
        Assert.Equal(0f, y[3], 1e-12f);
    }
}
