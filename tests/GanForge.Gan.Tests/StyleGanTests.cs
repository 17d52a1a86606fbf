using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

/// <summary>
/// The `stylegan` variant: it learns, resumes bit for bit (w_avg included), truncates toward w_avg, mixes styles and
/// draws its training noise from each sample's z, and its discriminator differentiates twice (R1).
/// </summary>
public class StyleGanTests
{
    /// <summary>A small StyleGAN at <paramref name="size"/> pixels: channels 8 everywhere, w of 8.</summary>
    static GanModel Small(int size = 8, string options = "")
    {
        var given = new Dictionary<string, string> { ["width"] = "4", ["w-dim"] = "8" };
        foreach (var o in options.Split(';', StringSplitOptions.RemoveEmptyEntries)) given[o.Split('=')[0]] = o.Split('=')[1];
        return ModelZoo.Create("stylegan", new ModelSpec(1, size, 6, 5, ModelOptions.Resolve("stylegan", ModelZoo.Get("stylegan").Options, given)));
    }

    static StyleGenerator G(GanModel model) => (StyleGenerator)model.Generator;

    [Fact]
    public void StyleGan_ShortRun_MovesSampleStatisticsTowardTheData()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var config = TestRuns.Mlp(dir, limit: 2048, batch: 64, epochs: 100);
            config.Model = "stylegan";
            config.MaxSteps = 80;
            config.ImageSize = 16;
            config.LogEvery = 1000;
            foreach (var o in new[] { "width=8", "w-dim=32", "mapping-layers=2" }) config.Set(o);
            var trainer = TrainingSetup.Create(config, resume: false);
            var real = Tensor.Interpolate(TrainerTests.RealImages(2048), new Size2(16, 16), mode: "bilinear");
            double before = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
            trainer.Run();
            double after = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
            Console.WriteLine($"stylegan: {before:F3} -> {after:F3} (factor {before / after:F2})");
            // Measured 1.139 -> 0.383 (factor 2.97). The end is also required to be below where the DCGAN-family
            // variants end after 150 steps (about 0.9).
            Assert.True(after < before / 2 && after < 0.5, $"stylegan: statistic distance went from {before:F3} to {after:F3}");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void StyleGan_ResumeMidRun_GivesTheSameWeightsAndWAvgAsAnUninterruptedRun()
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        TrainConfig Config(string dir, int epochs)
        {
            var c = TestRuns.Mlp(dir, limit: 160, batch: 16, epochs: epochs);
            c.Model = "stylegan";
            c.ImageSize = 8;
            c.Ema = 0.9f;
            foreach (var o in new[] { "width=4", "w-dim=8", "mapping-layers=2", "r1-every=3" }) c.Set(o);
            return c;
        }
        try
        {
            TrainingSetup.Create(Config(straight, 4), resume: false).Run();
            TrainingSetup.Create(Config(split, 2), resume: false).Run();      // 20 of 40 steps, between two R1 steps
            TrainingSetup.Create(Config(split, 4), resume: true).Run();
            var a = TestRuns.AssertSameCheckpoint(straight, split);
            foreach (var key in new[] { "generator.mapping.w_avg", "generator_ema.mapping.w_avg" })
                Assert.Contains(a[key].ToArray(), v => v != 0f);          // tracked, and saved with both generators
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }

    [Fact]
    public void Truncation_PsiZero_EveryZGivesTheWAvgImage()
    {
        var g = G(Small());
        Init.Normal(g.Mapping.WAvg, 0f, 1f, new Generator(3));
        g.Eval();
        g.Truncation = 0f;
        using var _ = GradMode.NoGrad();
        var images = g.Forward(Tensor.Randn([4, 6], new Generator(4)));
        var centre = g.Synthesis.Forward(g.Broadcast(g.Mapping.WAvg.Unsqueeze(0)), null).Clamp(-1f, 1f);
        for (int i = 0; i < 4; i++) Fixtures.AssertClose(centre.Squeeze(0), images.Select(0, i), 1e-5, 1e-6, $"sample {i}");
        g.Truncation = 1f;
        var free = g.Forward(Tensor.Randn([2, 6], new Generator(4)));
        Assert.False(free.Select(0, 0).ToArray().SequenceEqual(free.Select(0, 1).ToArray()));
        var e = Assert.Throws<ArgumentException>(() => g.Truncation = 1.5f);
        Assert.Equal("StyleGenerator: truncation ψ must be in [0, 1], got 1.5", e.Message);
    }

    // The synthesis hands its intermediates back to the buffer pool once read, the expanded constant among them; for a
    // batch of one, Expand returns a view of the parameter itself, which must stay out of the pool. The pool takes
    // buffers of 16k floats and up: a constant of 1,024 channels at 4 x 4 is one.
    [Fact]
    public void SynthesisForward_OneSample_KeepsTheConstantOutOfTheBufferPool()
    {
        var synthesis = new SynthesisNetwork(4, 1, 8, _ => 1024, new Generator(8));
        using var _ = GradMode.NoGrad();
        var constant = synthesis.Const.ToArray();
        var ws = Tensor.Randn([1, synthesis.NumWs, 8], new Generator(9));
        var first = synthesis.Forward(ws, null);
        for (int i = 0; i < 8; i++) Tensor.Uninitialized([1, 1024, 4, 4]).Data.Fill(7f);   // what the pool holds of that size, rewritten
        Assert.Equal(constant, synthesis.Const.ToArray());
        Fixtures.AssertClose(first, synthesis.Forward(ws, null), 1e-6, 1e-7, "the same w again");
    }

    [Fact]
    public void Truncation_PsiHalf_IsHalfwayBetweenWAvgAndW()
    {
        var g = G(Small());
        Init.Normal(g.Mapping.WAvg, 0f, 1f, new Generator(5));
        var z = Tensor.Randn([3, 6], new Generator(6));
        var w = g.Mapping.Forward(z);
        var half = g.MapToWs(z, 0.5f).Select(1, 0);
        Fixtures.AssertClose((w + g.Mapping.WAvg) * 0.5f, half, 1e-5, 1e-6, "ψ = 0.5");
    }

    [Fact]
    public void TrainingForward_SameZ_SameImage_MixingAndNoiseChangeIt_WAvgMoves()
    {
        var mixing = Small(options: "mixing=1");
        var plain = Small(options: "mixing=0");
        // Noise strengths start at zero; give them weight so the noise shows.
        foreach (var m in new[] { mixing, plain })
            foreach (var (name, p) in m.Generator.NamedParameters()) if (name.EndsWith("strength")) p.Data.Fill(0.5f);
        var z = Tensor.Randn([4, 6], new Generator(7));
        using var _ = GradMode.NoGrad();
        var first = mixing.Generator.Forward(z);
        var again = mixing.Generator.Forward(z);
        Assert.True(first.ToArray().SequenceEqual(again.ToArray()), "training randomness is a function of z");
        var unmixed = plain.Generator.Forward(z);
        Assert.False(first.ToArray().SequenceEqual(unmixed.ToArray()), "mixing=1 mixes");
        plain.Generator.Eval();
        var constNoise = plain.Generator.Forward(z);
        Assert.False(constNoise.ToArray().SequenceEqual(unmixed.ToArray()), "training draws fresh noise, eval uses the fixed maps");
        Assert.Contains(G(plain).Mapping.WAvg.ToArray(), v => v != 0f);
    }

    [Fact]
    public void Discriminator_InputGradient_DifferentiatesInTheWeightsAsR1Needs()
    {
        // R1 backpropagates ∇ₓD(x) into D's weights: the gradient of ∇ₓD w.r.t. the epilogue's fully connected weights,
        // by double backward, against finite differences. These weights lie after (or just before) the last leaky
        // ReLU, so perturbing them moves no kink, while ∇ₓD itself runs back through every layer and the mbstd.
        var d = new StyleDiscriminator(8, 1, _ => 4, mbstdGroup: 2, new Generator(8));
        var x = Tensor.Randn([4, 1, 8, 8], new Generator(9)).RequiresGrad_();
        var state = d.StateDict();
        Tensor InputGradient(Tensor[] _)
        {
            bool record = GradMode.IsEnabled;   // the finite differences run without a graph
            Tensor total;
            using (GradMode.EnableGrad()) total = d.Forward(x).Sum();
            return Autograd.Grad(total, x, createGraph: record);
        }
        GradCheck.First("StyleDiscriminator ∇ₓD", InputGradient, [state["epilogue.6.weight"], state["epilogue.4.weight"]]);
    }

    [Fact]
    public void Discriminator_ConvolutionsAndTheirActivationsAsOneFunction_SameBitsAsTwoLayersThroughR1()
    {
        // Each EqualConv2d and the scaled LeakyReLU after it run as one function (Sequential.FuseConvActivation): D's
        // scores, their gradients to every weight, and R1's through the input gradient (its second order) equal those of
        // the two layers bit for bit, at 16 pixels (fromrgb, three blocks, the epilogue's 3 x 3 layer).
        List<float[]> Run(bool fuse)
        {
            var d = new StyleDiscriminator(16, 1, r => r == 16 ? 8 : 12, mbstdGroup: 2, new Generator(8));
            var x = Tensor.Randn([4, 1, 16, 16], new Generator(9));
            bool saved = Sequential.FuseConvActivation;
            Sequential.FuseConvActivation = fuse;
            try
            {
                var scores = d.Forward(x.Clone().RequiresGrad_());
                var weights = d.Parameters().ToArray();
                var first = Autograd.Grad([scores.Sum()], weights);
                var r1 = new R1Penalty(10f).Compute(d, x);
                r1.Backward();
                return [scores.ToArray(), .. first.Select(g => g!.ToArray()), [r1.Item()], .. weights.Select(w => w.Grad?.ToArray() ?? [])];
            }
            finally { Sequential.FuseConvActivation = saved; }
        }
        var apart = Run(fuse: false);
        var fused = Run(fuse: true);
        Assert.Equal(apart.Count, fused.Count);
        for (int i = 0; i < apart.Count; i++) Assert.Equal(apart[i], fused[i]);
        Assert.Contains(apart[^2], v => v != 0f);   // R1 reaches the weights
    }

    [Fact]
    public void StyleGan_ImageSize28_SaysWhichSizesItTakes()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("stylegan", new ModelSpec(1, 28)));
        Assert.Equal("stylegan: image size 28 is not supported (a power of two from 8 to 256; use --image-size to resize)", e.Message);
    }

    [Fact]
    public void StyleGan_Networks_ReadOneWPerLayerAndHaveTheDocumentedShapes()
    {
        var model = ModelZoo.Create("stylegan", new ModelSpec(1, 32, 100, 1));
        var g = G(model);
        Assert.Equal(8, g.NumWs);                        // 4: conv + toRGB; 8, 16, 32: two convs + toRGB (shared index)
        Assert.Equal(128, g.WDim);
        Assert.Equal([4, 8, 8, 16, 16, 32, 32], g.Synthesis.NoiseResolutions);
        g.Eval();
        using var _ = GradMode.NoGrad();
        Assert.Equal([2, 1, 32, 32], g.Forward(Tensor.Randn([2, 100], new Generator(1))).Shape);
        Assert.Equal([4, 1], model.Discriminator.Forward(Tensor.Zeros(4, 1, 32, 32)).Shape);
    }
}

/// <summary>A tiny `stylegan` run (8 pixels, 4 steps), trained once for the sampling tests.</summary>
public sealed class TinyStyleRun : IDisposable
{
    public string Dir { get; } = TestRuns.NewDir();

    public TinyStyleRun()
    {
        var c = TestRuns.Mlp(Dir, limit: 64, batch: 16, epochs: 1);
        c.Model = "stylegan";
        c.ImageSize = 8;
        foreach (var o in new[] { "width=4", "w-dim=8", "mapping-layers=2" }) c.Set(o);
        TrainingSetup.Create(c, resume: false).Run();
    }

    public void Dispose() { if (Directory.Exists(Dir)) Directory.Delete(Dir, true); }
}

/// <summary>The sampler's style tools (truncation, styles in, the mixing grid) and the projector, on a tiny trained StyleGAN.</summary>
public class StyleSamplingTests(TinyStyleRun run) : IClassFixture<TinyStyleRun>
{
    [Fact]
    public void MixGrid_Layout_SourcesOnTheEdgesCoarseFromRowsFineFromColumns()
    {
        var sampler = Sampler.Load(run.Dir);
        var g = sampler.RequireStyles("test");
        const int rows = 2, columns = 3, k = 2;
        var (images, cols) = sampler.MixGrid(seed: 11, rows, columns, crossover: k);
        Assert.Equal(columns + 1, cols);
        Assert.Equal([(rows + 1) * cols, 1, 8, 8], images.Shape);
        Assert.All(images.Select(0, 0).ToArray(), v => Assert.Equal(-1f, v));            // the empty corner

        // The sources as the grid draws them: the rows' z first, then the columns'.
        var rng = new Generator(11);
        var rowWs = g.MapToWs(Tensor.Randn([rows, sampler.Model.LatentDim], rng), 1f);
        var colWs = g.MapToWs(Tensor.Randn([columns, sampler.Model.LatentDim], rng), 1f);
        Tensor Cell(int r, int c) => images.Select(0, r * cols + c);
        Tensor Image(Tensor ws) => sampler.FromStyles(ws).Select(0, 0);
        // One image against a grid of twelve: the convolutions may take different kernels at the two batch sizes (on
        // AVX2 the grid's 3x3 layers run our Winograd, one image oneDNN's direct: 2e-6 apart on pixels in [-1, 1]), so
        // 1e-4, far below what a wrong source would differ by.
        const double tol = 1e-4;
        for (int c = 0; c < columns; c++) Fixtures.AssertClose(Image(colWs.Narrow(0, c, 1)), Cell(0, c + 1), tol, tol, $"column source {c}");
        for (int r = 0; r < rows; r++) Fixtures.AssertClose(Image(rowWs.Narrow(0, r, 1)), Cell(r + 1, 0), tol, tol, $"row source {r}");
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                var mixed = Tensor.Cat([rowWs.Narrow(0, r, 1).Narrow(1, 0, k), colWs.Narrow(0, c, 1).Narrow(1, k, g.NumWs - k)], 1);
                Fixtures.AssertClose(Image(mixed), Cell(r + 1, c + 1), tol, tol, $"cell {r},{c}");
            }
        var e = Assert.Throws<ArgumentException>(() => sampler.MixGrid(1, crossover: g.NumWs));
        Assert.Equal($"mix: --crossover must be in [1, {g.NumWs - 1}] (the model reads {g.NumWs} styles), got {g.NumWs}", e.Message);
    }

    [Fact]
    public void SetTruncation_PsiZero_EverySampleIsTheSame_OutOfRangeRefused()
    {
        var sampler = Sampler.Load(run.Dir);
        sampler.SetTruncation(0f);
        var images = sampler.Sample(4, seed: 2);
        for (int i = 1; i < 4; i++) Fixtures.AssertClose(images.Select(0, 0), images.Select(0, i), 1e-6, 1e-7, $"sample {i}");
        var e = Assert.Throws<ArgumentException>(() => sampler.SetTruncation(-0.1f));
        Assert.Equal("--truncation: ψ must be in [0, 1], got -0.1", e.Message);
        e = Assert.Throws<ArgumentException>(() => sampler.FromStyles(Tensor.Zeros(1, 3, 8)));
        Assert.Equal("--latents: styles (1,3,8) do not fit model 'stylegan', which reads (n,4,8)", e.Message);
    }

    [Fact]
    public void Project_TinyModel_ReducesPixelMseBelowARandomW()
    {
        var sampler = Sampler.Load(run.Dir);
        var g = sampler.RequireStyles("test");
        // A target the generator can make: the image of a w it was not started from.
        var targetWs = g.MapToWs(Tensor.Randn([1, sampler.Model.LatentDim], new Generator(21)), 1f);
        var target = sampler.FromStyles(targetWs);
        var randomWs = g.MapToWs(Tensor.Randn([1, sampler.Model.LatentDim], new Generator(22)), 1f);
        var (randomMse, _) = Projector.Distances(g, randomWs, target, null);
        var result = Projector.Project(g, target, null, new ProjectionOptions(Steps: 60));
        Console.WriteLine($"projection: random w {randomMse:G4}, projected {result.PixelMse:G4}");
        Assert.True(result.PixelMse < randomMse / 2, $"projection MSE {result.PixelMse:G4} vs a random w's {randomMse:G4}");
        Assert.Equal([1, g.NumWs, g.WDim], result.Ws.Shape);
        Assert.True(result.Losses[^1] < result.Losses[0], "the loss fell");
        // The styles regenerate the reconstruction (which the sampler clamps to [-1, 1]).
        Fixtures.AssertClose(result.Image.Clamp(-1f, 1f), sampler.FromStyles(result.Ws), 1e-5, 1e-6, "regenerated");
        var e = Assert.Throws<ArgumentException>(() => Projector.Project(g, Tensor.Zeros(1, 3, 8, 8), null, new ProjectionOptions()));
        Assert.Equal("project: the target (1,3,8,8) should be (1,1,8,8), the generator's image shape", e.Message);
        e = Assert.Throws<ArgumentException>(() => Projector.Project(g, target, null, new ProjectionOptions(Steps: 0)));
        Assert.Equal("project: --steps must be at least 1, got 0", e.Message);
    }

    [Fact]
    public void NoiseGrid_ColumnsDifferOnlyThroughTheNoise_LastColumnIsTheirSpread()
    {
        var sampler = Sampler.Load(run.Dir);
        void Strength(float v) { foreach (var (name, p) in sampler.Generator.NamedParameters()) if (name.EndsWith("strength")) p.Data.Fill(v); }
        Strength(0.5f);
        var (images, cols) = sampler.NoiseGrid(seed: 4, rows: 2, columns: 3);
        Assert.Equal(4, cols);
        Assert.Equal([8, 1, 8, 8], images.Shape);
        Assert.False(images.Select(0, 0).ToArray().SequenceEqual(images.Select(0, 1).ToArray()), "fresh noise per column");
        var spread = images.Narrow(0, 3, 1).ToArray().Concat(images.Narrow(0, 7, 1).ToArray()).ToArray();
        Assert.Equal(1f, spread.Max(), 1e-6f);                                           // scaled so the largest is white
        Assert.All(spread, v => Assert.InRange(v, -1f, 1f));

        Strength(0f);                                                                       // no noise: every column the same image
        (images, _) = sampler.NoiseGrid(seed: 4, rows: 2, columns: 3);
        for (int c = 1; c < 3; c++) Fixtures.AssertClose(images.Select(0, 0), images.Select(0, c), 1e-6, 1e-7, $"column {c}");
        Assert.All(images.Select(0, 3).ToArray(), v => Assert.Equal(-1f, v));
    }
}
