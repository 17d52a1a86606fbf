using GanForge.Optim;

namespace GanForge.NN.Tests.Optim;

/// <summary>Gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13).</summary>
public class ClipTests
{
    // Norms are accumulated in double here and in a different order in PyTorch: a few float32 ulps.
    const double Rtol = 1e-6, Atol = 1e-7;

    static (Tensor[] Params, Dictionary<string, Tensor> Fixture) WithFixtureGrads()
    {
        var f = Fixtures.Load("optim", "clip");
        var ps = new List<Tensor>();
        for (int k = 0; f.TryGetValue($"grad.{k}", out var g); k++)
        {
            var p = Tensor.ZerosLike(g).RequiresGrad_();
            p.Grad = g.Clone();
            ps.Add(p);
        }
        ps.Add(Tensor.Zeros(3).RequiresGrad_()); // no gradient: ignored, as in PyTorch
        return (ps.ToArray(), f);
    }

    [Theory]
    [InlineData("l2", 1.0, 2.0)]
    [InlineData("inf", 0.5, double.PositiveInfinity)]
    [InlineData("l1", 2.0, 1.0)]
    [InlineData("noclip", 100.0, 2.0)]
    public void GradNorm_MatchesPyTorch(string name, double maxNorm, double normType)
    {
        var (ps, f) = WithFixtureGrads();
        float total = Clip.GradNorm(ps, maxNorm, normType);
        Fixtures.AssertClose(f[$"total.{name}"], Tensor.FromArray([total]), Rtol, Atol, $"{name} total norm");
        for (int k = 0; k < ps.Length - 1; k++)
            Fixtures.AssertClose(f[$"clipped.{name}.{k}"], ps[k].Grad!, Rtol, Atol, $"{name} clipped grad {k}");
        Assert.Null(ps[^1].Grad);
    }

    [Fact]
    public void GradValue_MatchesPyTorch()
    {
        var (ps, f) = WithFixtureGrads();
        Clip.GradValue(ps, 0.7);
        for (int k = 0; k < ps.Length - 1; k++)
            Fixtures.AssertClose(f[$"clipped.value.{k}"], ps[k].Grad!, 0, 0, $"clipped value grad {k}");
    }

    [Fact]
    public void GradNorm_NoGradients_ReturnsZero()
    {
        Assert.Equal(0f, Clip.GradNorm([Tensor.Ones(2).RequiresGrad_()], 1.0));
    }

    [Fact]
    public void GradNorm_NonFiniteWithErrorFlag_Throws()
    {
        var p = Tensor.Ones(2).RequiresGrad_();
        p.Grad = Tensor.FromArray([float.NaN, 1f]);
        var e = Assert.Throws<InvalidOperationException>(() => Clip.GradNorm([p], 1.0, errorIfNonfinite: true));
        Assert.Contains("non-finite", e.Message);
    }

    [Fact]
    public void GradNorm_NonPositiveNormType_Throws()
    {
        Assert.Throws<ArgumentException>(() => Clip.GradNorm([Tensor.Ones(1)], 1.0, normType: 0));
    }
}
