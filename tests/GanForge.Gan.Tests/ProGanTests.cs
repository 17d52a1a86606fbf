using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

/// <summary>
/// The `progan` variant: its growth schedule, fading in without a jump, learning, a bit-identical resume from a
/// checkpoint taken mid-fade, and the critic's input gradient differentiating in its weights (the gradient penalty).
/// </summary>
public class ProGanTests
{
    [Theory]
    // 10 images a step, 100 a phase (10 steps), 4 levels (4 to 32 pixels)
    [InlineData(0, 0, 1f)]       // level 0 trains for one phase
    [InlineData(9, 0, 1f)]
    [InlineData(10, 1, 0f)]      // level 1 fades in over the next
    [InlineData(15, 1, 0.5f)]
    [InlineData(20, 1, 1f)]      // and trains stably for one more
    [InlineData(29, 1, 1f)]
    [InlineData(33, 2, 0.3f)]
    [InlineData(55, 3, 0.5f)]    // the last level fades in from step 50
    [InlineData(60, 3, 1f)]
    [InlineData(10_000, 3, 1f)]  // and stays
    public void GrowthSchedule_Step_GivesLevelAndAlpha(long step, int level, float alpha)
    {
        var (l, a) = new GrowthSchedule(4, 100, 10).At(step);
        Assert.Equal(level, l);
        Assert.Equal(alpha, a, 1e-6f);
    }

    static GanModel Small(int size = 16) => ModelZoo.Create("progan", new ModelSpec(1, size, 6, 3,
        ModelOptions.Resolve("progan", ModelZoo.Get("progan").Options, new Dictionary<string, string> { ["width"] = "4" })));

    [Fact]
    public void FadeIn_AlphaZero_MatchesTheLevelBelow_ForGAndD()
    {
        var model = Small();
        var g = (ProGenerator)model.Generator;
        var d = (ProDiscriminator)model.Discriminator;
        g.Eval();
        var z = Tensor.Randn([4, 6], new Generator(1));
        var x = Tensor.Randn([4, 1, 16, 16], new Generator(2));
        using var _ = GradMode.NoGrad();
        for (int level = 1; level < 3; level++)
        {
            g.SetProgress(level - 1, 1f); d.SetProgress(level - 1, 1f);
            var (gBelow, dBelow) = (g.Forward(z), d.Forward(x));
            g.SetProgress(level, 0f); d.SetProgress(level, 0f);
            Fixtures.AssertClose(gBelow, g.Forward(z), 1e-5, 1e-6, $"G at level {level}, α = 0");
            Fixtures.AssertClose(dBelow, d.Forward(x), 1e-5, 1e-6, $"D at level {level}, α = 0");
            g.SetProgress(level, 0.5f);
            Assert.False(gBelow.ToArray().SequenceEqual(g.Forward(z).ToArray()), "α = 0.5 brings in the new level");
        }
        g.SetProgress(0, 1f);
        var image = g.Forward(z);
        Assert.Equal([4, 1, 16, 16], image.Shape);                          // 4 × 4, upsampled to the full size
        Fixtures.AssertClose(image.Narrow(2, 0, 1).Narrow(3, 0, 1), image.Narrow(2, 3, 1).Narrow(3, 3, 1), 1e-6, 1e-7, "4 × 4 blocks");
        var e = Assert.Throws<ArgumentException>(() => g.SetProgress(3, 1f));
        Assert.Equal("ProGenerator: level 3 and α 1 must be in [0, 2] and [0, 1]", e.Message);
    }

    [Fact]
    public void ProGan_ShortRun_GrowsAndMovesSampleStatisticsTowardTheData()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var config = TestRuns.Mlp(dir, limit: 2048, batch: 64, epochs: 100);
            config.Model = "progan";
            config.MaxSteps = 150;
            config.ImageSize = 16;
            config.LogEvery = 1000;
            // 1,500 images a phase: level 2 (16 pixels) fades in from step 71 and is stable from step 94.
            foreach (var o in new[] { "width=8", "phase-images=1500" }) config.Set(o);
            var trainer = TrainingSetup.Create(config, resume: false);
            var real = Tensor.Interpolate(TrainerTests.RealImages(2048), new Size2(16, 16), mode: "bilinear");
            double before = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
            trainer.Run();
            double after = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
            Console.WriteLine($"progan: {before:F3} -> {after:F3} (factor {before / after:F2})");
            var g = (ProGenerator)trainer.Model.Generator;
            Assert.Equal(2, g.Level);
            Assert.Equal(1f, g.Alpha, 1e-6f);
            // Measured 0.803 -> 0.489 (factor 1.64).
            Assert.True(after < before / 1.4 && after < 0.6, $"progan: statistic distance went from {before:F3} to {after:F3}");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void ProGan_ResumeMidFade_GivesTheSameWeightsAsAnUninterruptedRun()
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainConfig Config(string dir, int epochs)
        {
            var c = TestRuns.Mlp(dir, limit: 160, batch: 16, epochs: epochs);
            c.Model = "progan";
            c.ImageSize = 8;
            c.Ema = 0.9f;
            // 240 images a phase = 15 steps: level 1 fades in over steps 15-29; the split at step 20 is a third of the way.
            foreach (var o in new[] { "width=4", "phase-images=240" }) c.Set(o);
            return c;
        }
        try
        {
            TrainingSetup.Create(Config(straight, 4), resume: false).Run();
            TrainingSetup.Create(Config(split, 2), resume: false).Run();
            var (_, mid) = Checkpoint.Read(split);
            Assert.Equal(20, mid.Step);
            var midProgress = SafeTensors.Load(Path.Combine(split, Checkpoint.FileName))["generator.progress"].ToArray();
            Assert.Equal(1f, midProgress[0], 1e-6f);
            Assert.InRange(midProgress[1], 0.2f, 0.4f);                     // saved mid-fade (α of the last step, 19)
            TrainingSetup.Create(Config(split, 4), resume: true).Run();
            var a = TestRuns.AssertSameCheckpoint(straight, split);
            Assert.All(a["generator_ema.progress"].ToArray(), v => Assert.Equal(1f, v, 1e-6f));
            Assert.Equal(2, a["generator_ema.progress"].ToArray().Length);
            // The schedule is logged: the resolution and the fade-in α of every window.
            var logged = File.ReadAllLines(Path.Combine(straight, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Where(e => e.TryGetProperty("resolution", out _)).ToList();
            Assert.Equal(4, logged[0].GetProperty("resolution").GetDouble());
            Assert.Equal(8, logged[^1].GetProperty("resolution").GetDouble());
            Assert.Contains(logged, e => e.GetProperty("fade_alpha").GetDouble() is > 0 and < 1);
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }

    [Fact]
    public void Critic_InputGradient_DifferentiatesInTheWeightsWhileFading()
    {
        var d = (ProDiscriminator)Small(8).Discriminator;
        d.SetProgress(1, 0.4f);
        var x = Tensor.Randn([4, 1, 8, 8], new Generator(9)).RequiresGrad_();
        var state = d.StateDict();
        Tensor InputGradient(Tensor[] _)
        {
            bool record = GradMode.IsEnabled;
            Tensor total;
            using (GradMode.EnableGrad()) total = d.Forward(x).Sum();
            return Autograd.Grad(total, x, createGraph: record);
        }
        GradCheck.First("ProDiscriminator ∇ₓD", InputGradient, [state["b4.6.weight"], state["b4.4.bias"]]);
    }
}
