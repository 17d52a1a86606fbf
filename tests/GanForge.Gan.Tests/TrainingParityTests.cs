using GanForge.Gan.Losses;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Optim;

namespace GanForge.Gan.Tests;

/// <summary>
/// Three iterations of the dcgan28 benchmark workload against PyTorch 1.13 (tools/fixtures/training.py):
/// same initial weights, real batch and noise; the losses and every weight and running statistic are
/// compared after each D + G iteration.
/// </summary>
public class TrainingParityTests
{
    [Fact]
    public void Dcgan28_ThreeIterations_MatchPyTorch()
    {
        var f = Fixtures.Load("training", "dcgan28_3iters");
        var model = ModelZoo.Create("dcgan", new ModelSpec(1, 28));
        var (g, d) = (model.Generator, model.Discriminator);
        g.LoadStateDict(Checkpointless(f, "g."));
        d.LoadStateDict(Checkpointless(f, "d."));
        var optG = new Adam(g.Parameters(), 2e-4, beta1: 0.5, beta2: 0.999);
        var optD = new Adam(d.Parameters(), 2e-4, beta1: 0.5, beta2: 0.999);
        var loss = new NonSaturatingLoss();
        var real = f["real"];
        var rng = new Generator(0);

        for (int i = 0; i < 3; i++)
        {
            // D step: fake = G(z); loss_D = BCE(D(real), 1) + BCE(D(fake.detach()), 0)
            optD.ZeroGrad();
            Tensor fake;
            using (GradMode.NoGrad()) fake = g.Forward(f[$"z_d{i}"]);
            var lossD = loss.Discriminator(d.Forward(real), d.Forward(fake), LabelOptions.Default, rng);
            lossD.Backward();
            optD.Step();
            // G step: loss_G = BCE(D(G(z)), 1) through a frozen D
            optG.ZeroGrad();
            d.RequiresGrad(false);
            var lossG = loss.Generator(d.Forward(g.Forward(f[$"z_g{i}"])));
            lossG.Backward();
            d.RequiresGrad(true);
            optG.Step();

            // Within 1e-4, not "equal to 4 places": rounding both to 4 places fails values 2e-6 apart that straddle a
            // rounding boundary (0.973552 against 0.973550 did, on another instruction set).
            Assert.Equal(f[$"loss_d{i}"].Item(), lossD.Item(), 1e-4f);
            Assert.Equal(f[$"loss_g{i}"].Item(), lossG.Item(), 1e-4f);
            foreach (var (name, t) in g.StateDict()) AssertWeightsClose(f[$"it{i}.g.{name}"], t, $"iteration {i} G {name}");
            foreach (var (name, t) in d.StateDict()) AssertWeightsClose(f[$"it{i}.d.{name}"], t, $"iteration {i} D {name}");
        }
    }

    /// <summary>
    /// Adam moves each weight by about lr·m/sqrt(v): for a gradient near zero, float summation order
    /// (OpenBLAS, managed GEMM, oneDNN) can change that step by a fraction of lr. So the worst element
    /// may differ by up to lr/2 = 1e-4, while the mean difference must stay below 1e-6 (lr/200), which
    /// a wrong gradient anywhere would exceed.
    /// </summary>
    static void AssertWeightsClose(Tensor expected, Tensor actual, string what)
    {
        Fixtures.AssertClose(expected, actual, 1e-4, 1e-4, what);
        double meanDiff = expected.ToArray().Zip(actual.ToArray(), (e, a) => Math.Abs(e - a)).Average();
        Assert.True(meanDiff < 1e-6, $"{what}: mean |difference| {meanDiff:G3} exceeds 1e-6");
    }

    static Dictionary<string, Tensor> Checkpointless(Dictionary<string, Tensor> f, string prefix) =>
        f.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
