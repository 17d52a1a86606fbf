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

            Assert.Equal(f[$"loss_d{i}"].Item(), lossD.Item(), 4);
            Assert.Equal(f[$"loss_g{i}"].Item(), lossG.Item(), 4);
            // Adam moves every weight by about lr·sign(g) at first, so weights are compared to a fraction of lr.
            foreach (var (name, t) in g.StateDict()) Fixtures.AssertClose(f[$"it{i}.g.{name}"], t, 1e-4, 2e-5, $"iteration {i} G {name}");
            foreach (var (name, t) in d.StateDict()) Fixtures.AssertClose(f[$"it{i}.d.{name}"], t, 1e-4, 2e-5, $"iteration {i} D {name}");
        }
    }

    static Dictionary<string, Tensor> Checkpointless(Dictionary<string, Tensor> f, string prefix) =>
        f.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
