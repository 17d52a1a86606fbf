using GanForge.Gan.Losses;
using GanForge.NN;

namespace GanForge.Gan.Tests;

/// <summary>
/// The losses and the critic regularisers against PyTorch 1.13 (tools/fixtures/gan_losses.py), against
/// central differences, and against cases whose answer is known in closed form.
/// </summary>
/// <remarks>
/// Tolerances: PyTorch computes in float64 from the same float32 inputs and weights, we compute in
/// float32, so values and gradients agree to rtol 1e-4, atol 1e-5; the drift penalty's gradients are
/// 1e-3 times smaller (its ε), and so is their absolute tolerance (1e-8).
/// </remarks>
public class LossParityTests
{
    const double Rtol = 1e-4, Atol = 1e-5, DriftAtol = 1e-8;
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("gan", "losses");

    public static TheoryData<string> LossNames() => [.. GanLoss.Names];

    public static TheoryData<string> Architectures() => ["mlp", "conv"];

    // ---- adversarial losses ----

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Discriminator_FixtureLogits_MatchPyTorch(string name)
    {
        foreach (var (suffix, labels) in new[] { ("d", LabelOptions.Default), ("d_smooth", new LabelOptions(0.9f)) })
        {
            var (real, fake) = (Fx["logits.real"].Clone().RequiresGrad_(), Fx["logits.fake"].Clone().RequiresGrad_());
            var loss = GanLoss.FromName(name).Discriminator(real, fake, labels, new Generator(1));
            string what = $"{name} {suffix}";
            Fixtures.AssertClose(Fx[$"loss.{name}.{suffix}"], loss.Reshape(1), Rtol, Atol, what);
            var grads = Autograd.Grad([loss], [real, fake], allowUnused: true);
            Fixtures.AssertClose(Fx[$"loss.{name}.{suffix}.dreal"], grads[0] ?? Tensor.ZerosLike(real), Rtol, Atol, what + " d/dreal");
            Fixtures.AssertClose(Fx[$"loss.{name}.{suffix}.dfake"], grads[1] ?? Tensor.ZerosLike(fake), Rtol, Atol, what + " d/dfake");
        }
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Generator_FixtureLogits_MatchPyTorch(string name)
    {
        var fake = Fx["logits.fake"].Clone().RequiresGrad_();
        var loss = GanLoss.FromName(name).Generator(fake);
        Fixtures.AssertClose(Fx[$"loss.{name}.g"], loss.Reshape(1), Rtol, Atol, name + " G");
        Fixtures.AssertClose(Fx[$"loss.{name}.g.dfake"], Autograd.Grad(loss, fake), Rtol, Atol, name + " G d/dfake");
    }

    // ---- regularisers against PyTorch: value and the gradient reaching every critic weight ----

    [Theory]
    [MemberData(nameof(Architectures))]
    public void GradientPenalty_FixtureCritic_MatchesPyTorch(string arch)
    {
        var critic = Critic(arch);
        var gp = new GradientPenalty(10f);
        var penalty = gp.Compute(critic, Fx["x.real"], Fx["x.fake"], Fx["x.eps"]);
        Fixtures.AssertClose(Fx[$"gp.{arch}.value"], penalty.Reshape(1), Rtol, Atol, $"gp {arch}");
        Assert.Equal(Fx[$"gp.{arch}.grad_norm"].Item(), gp.LastGradientNorm, 1e-5);
        penalty.Backward();
        AssertWeightGradients(critic, $"gp.{arch}", Atol);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void R1Penalty_FixtureCritic_MatchesPyTorch(string arch)
    {
        var critic = Critic(arch);
        var penalty = new R1Penalty(2f).Compute(critic, Fx["x.real"]);
        Fixtures.AssertClose(Fx[$"r1.{arch}.value"], penalty.Reshape(1), Rtol, Atol, $"r1 {arch}");
        penalty.Backward();
        AssertWeightGradients(critic, $"r1.{arch}", Atol);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void DriftPenalty_FixtureCritic_MatchesPyTorch(string arch)
    {
        var critic = Critic(arch);
        var penalty = new DriftPenalty().Compute(critic.Forward(Fx["x.real"]));
        Fixtures.AssertClose(Fx[$"drift.{arch}.value"], penalty.Reshape(1), Rtol, DriftAtol, $"drift {arch}");
        penalty.Backward();
        AssertWeightGradients(critic, $"drift.{arch}", DriftAtol);
    }

    // ---- regularisers against central differences (double backward against first-order evaluations) ----

    [Theory]
    [MemberData(nameof(Architectures))]
    public void GradientPenalty_CriticWeights_MatchFiniteDifferences(string arch)
    {
        // The fixture keeps every LeakyReLU pre-activation 5e-3 from the kink, more than a step of 1e-3
        // on one weight moves it, so the differences see the same linear pieces as the gradient.
        var critic = Critic(arch);
        var gp = new GradientPenalty(10f);
        GradCheck.First($"GradientPenalty {arch}", _ => gp.Compute(critic, Fx["x.real"], Fx["x.fake"], Fx["x.eps"]),
            [.. critic.Parameters()]);
    }

    [Fact]
    public void R1Penalty_ConvCriticWeights_MatchFiniteDifferences()
    {
        var critic = Critic("conv");
        var r1 = new R1Penalty(2f);
        GradCheck.First("R1Penalty conv", _ => r1.Compute(critic, Fx["x.real"]), [.. critic.Parameters()]);
    }

    // ---- behaviour with known answers ----

    [Fact]
    public void GradientPenalty_UnitNormLinearCritic_IsZero()
    {
        // D(x) = <u, x> with ||u|| = 1 along the data direction: ∇D = u everywhere, exactly 1-Lipschitz.
        var (real, fake) = (Fx["x.real"], Fx["x.fake"]);
        var gp = new GradientPenalty();
        var penalty = gp.Compute(LinearCritic(DataDirection(real, fake)), real, fake, new Generator(3));
        Assert.InRange(penalty.Item(), 0, 1e-6);
        Assert.Equal(1.0, gp.LastGradientNorm, 1e-5);
    }

    [Fact]
    public void GradientPenalty_LinearCriticOfSlopeTwo_IsLambda()
    {
        var (real, fake) = (Fx["x.real"], Fx["x.fake"]);
        var penalty = new GradientPenalty(10f).Compute(LinearCritic(DataDirection(real, fake) * 2f), real, fake, new Generator(3));
        Assert.Equal(10.0, penalty.Item(), 1e-4); // λ·(2 - 1)²
    }

    [Fact]
    public void R1Penalty_LinearCritic_IsHalfGammaSquaredSlope()
    {
        var real = Fx["x.real"];
        var r1 = new R1Penalty(4f);
        var penalty = r1.Compute(LinearCritic(DataDirection(real, Fx["x.fake"]) * 3f), real);
        Assert.Equal(4.0 / 2 * 9, penalty.Item(), 1e-4); // γ/2·‖3u‖²
        Assert.Equal(3.0, r1.LastGradientNorm, 1e-5);
    }

    [Fact]
    public void DriftPenalty_Compute_IsEpsilonMeanSquare()
    {
        var outputs = Tensor.FromArray([1f, -2f, 3f, 0.5f], 4, 1);
        Assert.Equal(1e-3 * (1 + 4 + 9 + 0.25) / 4, new DriftPenalty().Compute(outputs).Item(), 1e-9);
    }

    [Fact]
    public void GradientPenalty_Generator_DrawsOneEpsilonPerSample()
    {
        var critic = Critic("mlp");
        var (real, fake) = (Fx["x.real"], Fx["x.fake"]);
        var gp = new GradientPenalty();
        float drawn = gp.Compute(critic, real, fake, new Generator(9)).Item();
        float given = gp.Compute(critic, real, fake, Tensor.Rand([real.Size(0)], new Generator(9))).Item();
        Assert.Equal(given, drawn, 1e-6);
        Assert.True(Math.Abs(given - gp.Compute(critic, real, fake, new Generator(10)).Item()) > 1e-3, "another seed, other ε");
    }

    [Fact]
    public void GradientPenalty_EpsilonOfShapeN_MatchesBroadcastShape()
    {
        var critic = Critic("conv");
        var (real, fake, eps) = (Fx["x.real"], Fx["x.fake"], Fx["x.eps"]);
        var gp = new GradientPenalty();
        Assert.Equal(gp.Compute(critic, real, fake, eps).Item(), gp.Compute(critic, real, fake, eps.Reshape(6)).Item(), 1e-6);
    }

    [Fact]
    public void GradientPenalty_UnderNoGrad_ReturnsSameValueWithoutGraph()
    {
        var critic = Critic("mlp");
        var gp = new GradientPenalty();
        float recorded = gp.Compute(critic, Fx["x.real"], Fx["x.fake"], Fx["x.eps"]).Item();
        Tensor plain;
        using (GradMode.NoGrad()) plain = gp.Compute(critic, Fx["x.real"], Fx["x.fake"], Fx["x.eps"]);
        Assert.False(plain.RequiresGrad);
        Assert.Equal(recorded, plain.Item(), 1e-6);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void GradientPenalty_AddedToCriticLoss_GradientIsTheSumOfBoth(string arch)
    {
        // One backward through the critic's forward graph and the penalty's double-backward graph
        // (with Sequential's buffer recycling) must give what two separate backwards give.
        var (real, fake, eps) = (Fx["x.real"], Fx["x.fake"], Fx["x.eps"]);
        var loss = new WassersteinLoss();
        Tensor CriticLoss(Module c) => loss.Discriminator(c.Forward(real), c.Forward(fake), LabelOptions.Default, new Generator(1));

        var together = Critic(arch);
        (CriticLoss(together) + new GradientPenalty().Compute(together, real, fake, eps)).Backward();
        var separate = Critic(arch);
        CriticLoss(separate).Backward();
        new GradientPenalty().Compute(separate, real, fake, eps).Backward();

        foreach (var (p, q) in together.Parameters().Zip(separate.Parameters()))
            Fixtures.AssertClose(q.Grad!, p.Grad!, Rtol, Atol, $"{arch} combined gradient");
    }

    [Fact]
    public void GradientPenalty_Compute_LeavesRealAndFakeWithoutGradient()
    {
        var real = Fx["x.real"].Clone().RequiresGrad_();
        var fake = Fx["x.fake"].Clone().RequiresGrad_();
        new GradientPenalty().Compute(Critic("mlp"), real, fake, Fx["x.eps"]).Backward();
        Assert.Null(real.Grad);
        Assert.Null(fake.Grad);
    }

    [Fact]
    public void WeightClipping_Apply_BoundsEveryParameterAndKeepsSmallerOnes()
    {
        var critic = Critic("conv");
        var before = critic.Parameters().Select(p => p.ToArray()).ToList();
        new WeightClipping(0.1f).Apply(critic);
        var after = critic.Parameters().Select(p => p.ToArray()).ToList();
        int clamped = 0;
        for (int k = 0; k < before.Count; k++)
            for (int i = 0; i < before[k].Length; i++)
            {
                float b = before[k][i], a = after[k][i];
                Assert.InRange(a, -0.1f, 0.1f);
                if (Math.Abs(b) <= 0.1f) Assert.Equal(b, a, 1e-7);
                else { Assert.Equal(Math.Sign(b) * 0.1, a, 1e-7); clamped++; }
            }
        Assert.True(clamped > 0, "the fixture critic has weights above 0.1");
        Assert.True(critic.Parameters().All(p => p.RequiresGrad && p.GradFn == null), "clipping stays outside the graph");
    }

    [Fact]
    public void GradientPenalty_RealFakeShapeMismatch_ThrowsNamingShapes()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new GradientPenalty().Compute(Critic("mlp"), new Tensor(4, 1, 4, 4), new Tensor(3, 1, 4, 4), new Generator(1)));
        Assert.Contains("GradientPenalty", e.Message);
        Assert.Contains("(4,1,4,4)", e.Message);
        Assert.Contains("(3,1,4,4)", e.Message);
    }

    [Fact]
    public void GradientPenalty_EpsilonWrongShape_ThrowsNamingShapes()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new GradientPenalty().Compute(Critic("mlp"), Fx["x.real"], Fx["x.fake"], new Tensor(5, 1, 1, 1)));
        Assert.Contains("GradientPenalty: epsilon (5,1,1,1)", e.Message);
        Assert.Contains("(6,1,4,4)", e.Message);
    }

    [Fact]
    public void GradientPenalty_CriticMixingSamples_Throws()
    {
        // A critic whose output has no row per sample cannot give per-sample gradients.
        var critic = new Lambda(x => x.Sum().Reshape(1));
        var e = Assert.Throws<ArgumentException>(() => new GradientPenalty().Compute(critic, Fx["x.real"], Fx["x.fake"], Fx["x.eps"]));
        Assert.Contains("GradientPenalty", e.Message);
        Assert.Contains("(6,1,4,4)", e.Message);
    }

    [Fact]
    public void R1Penalty_RealWithoutBatchDimension_ThrowsNamingShape()
    {
        var e = Assert.Throws<ArgumentException>(() => new R1Penalty(1f).Compute(Critic("mlp"), new Tensor(16)));
        Assert.Contains("R1Penalty: real (16)", e.Message);
    }

    [Fact]
    public void Penalties_InvalidWeights_Throw()
    {
        Assert.Throws<ArgumentException>(() => new GradientPenalty(-1f));
        Assert.Throws<ArgumentException>(() => new R1Penalty(float.NaN));
        Assert.Throws<ArgumentException>(() => new DriftPenalty(-1e-3f));
        Assert.Throws<ArgumentException>(() => new WeightClipping(0f));
    }

    [Fact]
    public void Penalties_Defaults_AreThePapers()
    {
        Assert.Equal(10f, new GradientPenalty().Lambda);
        Assert.Equal(0.01f, new WeightClipping().Clip);
        Assert.Equal(1e-3f, new DriftPenalty().Epsilon);
        Assert.Equal(5f, new R1Penalty(5f).Gamma);
    }

    [Fact]
    public void FromName_EveryListedName_RoundTrips()
    {
        Assert.Equal(new[] { "minimax", "non-saturating", "wasserstein", "hinge", "least-squares" }, GanLoss.Names);
        foreach (var name in GanLoss.Names) Assert.Equal(name, GanLoss.FromName(name).Name);
        Assert.Equal("wasserstein", GanLoss.FromName("WGAN").Name);
        Assert.Equal("least-squares", GanLoss.FromName("lsgan").Name);
        Assert.Equal("least-squares", GanLoss.FromName("ls").Name);
        Assert.Equal("non-saturating", GanLoss.FromName("ns").Name);
    }

    [Fact]
    public void FromName_Unknown_ListsEveryName()
    {
        var e = Assert.Throws<ArgumentException>(() => GanLoss.FromName("wgan-gp"));
        Assert.Contains("wgan-gp", e.Message);
        foreach (var name in GanLoss.Names) Assert.Contains(name, e.Message);
    }

    // ---- helpers ----

    /// <summary>The fixture's critics, built as in PyTorch (same nn.Sequential names) and loaded from it.</summary>
    static Sequential Critic(string arch)
    {
        var critic = arch switch
        {
            // (N,1,4,4) -> 16 -> 8 -> 1
            "mlp" => new Sequential(new Flatten(), new Linear(16, 8), new LeakyReLU(0.2f), new Linear(8, 1)),
            // (N,1,4,4) -> (N,4,2,2) -> 16 -> 1
            "conv" => new Sequential(new Conv2d(1, 4, 3, stride: 2, padding: 1), new LeakyReLU(0.2f), new Flatten(), new Linear(16, 1)),
            _ => throw new ArgumentException(arch),
        };
        string prefix = $"critic.{arch}.";
        critic.LoadStateDict(Fx.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
        return critic;
    }

    /// <summary>Each parameter's .Grad against the fixture's d&lt;name&gt;; an unreached parameter counts as zero.</summary>
    static void AssertWeightGradients(Module critic, string prefix, double atol)
    {
        foreach (var (name, p) in critic.NamedParameters())
            Fixtures.AssertClose(Fx[$"{prefix}.d{name}"], p.Grad ?? Tensor.ZerosLike(p), Rtol, atol, $"{prefix} d/d{name}");
    }

    /// <summary>The unit vector along real[0] - fake[0], flattened to (1, 16).</summary>
    static Tensor DataDirection(Tensor real, Tensor fake)
    {
        var d = (real.Flatten(1).Select(0, 0) - fake.Flatten(1).Select(0, 0)).Detach();
        return (d / d.Norm().Item()).Reshape(1, d.Numel);
    }

    static Module LinearCritic(Tensor weight)
    {
        var linear = new Linear(weight.Size(1), 1);
        linear.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = weight, ["bias"] = Tensor.FromArray([0.3f]) });
        return new Sequential(new Flatten(), linear);
    }

    sealed class Lambda(Func<Tensor, Tensor> forward) : Module
    {
        public override Tensor Forward(Tensor input) => forward(input);
    }
}
