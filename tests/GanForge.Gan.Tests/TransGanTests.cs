using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

public class TransGanTests
{
    // A TransGAN small enough for tests that train: G 16 wide on 8 x 8 (4 on 16 x 16), D 16 wide, one block each.
    const string Tiny = "width=16;g-depth=1;g-up-depth=1;d-width=16;d-depth=1;heads=2";

    static GanModel Create(int channels, int size, string options = "")
    {
        var given = options.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(o => o.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var variant = ModelZoo.Get("transgan");
        return ModelZoo.Create("transgan", new ModelSpec(channels, size, Options: ModelOptions.Resolve("transgan", variant.Options, given)));
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(3, 32)]
    public void Networks_At32_MapLatentsToImagesInRangeAndImagesToOneScore(int channels, int size)
    {
        var model = Create(channels, size);
        using var _ = GradMode.NoGrad();
        var images = model.Generator.Forward(model.SampleLatent(3, new Generator(1)));
        Assert.Equal([3, channels, size, size], images.Shape);
        Assert.All(images.ToArray(), v => Assert.InRange(v, -1f, 1f));
        Assert.Contains(images.ToArray(), v => MathF.Abs(v) > 1e-3f);
        Assert.Equal([3, 1], model.Discriminator.Forward(images).Shape);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    public void Networks_OtherSizes_HaveOneStagePerDoubling(int size)
    {
        var model = Create(1, size, Tiny.Replace("width=16", "width=64"));
        using var _ = GradMode.NoGrad();
        var images = model.Generator.Forward(model.SampleLatent(2, new Generator(1)));
        Assert.Equal([2, 1, size, size], images.Shape);
        Assert.Equal([2, 1], model.Discriminator.Forward(images).Shape);
        int stages = model.Generator.NamedModules().Count(m => m.Value is TransStage);
        Assert.Equal(TransGanShapes.Upsamplings(size) + 1, stages);
    }

    [Fact]
    public void Defaults_At32_HaveThePaperStructureAtSmallWidth()
    {
        var model = Create(1, 32);
        var g = model.Generator.StateDict();
        Assert.Equal([1, 64, 64], g["stage0.pos_embed"].Shape);                          // 8 x 8 tokens, 64 wide
        Assert.Equal([1, 256, 16], g["stage1.pos_embed"].Shape);                         // 16 x 16, 64 / 4
        Assert.Equal([1, 1024, 4], g["stage2.pos_embed"].Shape);                         // 32 x 32, 16 / 4
        Assert.Equal([1, 4], g["to_image.weight"].Shape);
        var d = model.Discriminator.StateDict();
        Assert.Equal([64, 1, 4, 4], d["patch_embed.weight"].Shape);                      // 4 x 4 patches
        Assert.Equal([1, 65, 64], d["pos_embed"].Shape);                                 // 64 patches + the class token
        Assert.Equal([1, 64], d["head.weight"].Shape);
        Assert.InRange(model.Generator.ParameterCount(), 400_000, 700_000);
        Assert.InRange(model.Discriminator.ParameterCount(), 80_000, 150_000);
    }

    [Fact]
    public void PixelUpsample_MatchesPixelShuffleOnTheTokenGrid()
    {
        var tokens = Tensor.Randn([2, 16, 8], new Generator(3));                          // 4 x 4 grid, 8 wide
        var image = tokens.Transpose(1, 2).Reshape(2, 8, 4, 4);
        var expected = Tensor.PixelShuffle(image, 2);                                     // (2, 2, 8, 8)
        var actual = TransGanShapes.PixelUpsample(tokens, 4);                             // (2, 64, 2)
        Assert.Equal([2, 64, 2], actual.Shape);
        Assert.Equal(expected.ToArray(), actual.Transpose(1, 2).Reshape(2, 2, 8, 8).ToArray());
    }

    [Fact]
    public void Windows_HoldOneCellEachAndRoundTrip()
    {
        var tokens = new Tensor(1, 16, 1);                                                // 4 x 4 grid, value = raster index
        for (int i = 0; i < 16; i++) tokens.Data[i] = i;
        var cells = TransGanShapes.ToWindows(tokens, 4, 2);
        Assert.Equal([4, 4, 1], cells.Shape);
        Assert.Equal([0f, 1, 4, 5], cells.Narrow(0, 0, 1).ToArray());                     // top-left 2 x 2 cell
        Assert.Equal([10f, 11, 14, 15], cells.Narrow(0, 3, 1).ToArray());                 // bottom-right
        Assert.Equal(tokens.ToArray(), TransGanShapes.FromWindows(cells, 4, 2).ToArray());
    }

    [Fact]
    public void Networks_FiniteDifferences_MatchTheGradients()
    {
        // G at 16 pixels with 4 x 4 windows on the 16 x 16 grid (pixel shuffle, windows, blocks, tanh); D on 4 x 4 patches.
        var g = new TransGenerator(3, 1, 16, 16, 2, [1, 1], 4, new Generator(5));
        GradCheck.First("TransGenerator", xs => g.Forward(xs[0]), [Tensor.Randn([2, 3], new Generator(6))]);
        var d = new TransDiscriminator(1, 8, 4, 8, 2, 1, new Generator(7));
        GradCheck.First("TransDiscriminator", xs => d.Forward(xs[0]), [Tensor.Uniform([2, 1, 8, 8], -1, 1, new Generator(8))]);
    }

    [Fact]
    public void Create_UnsupportedSizeOrWidth_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Create(1, 28));
        Assert.Contains("16, 32 or 64", e.Message);
        e = Assert.Throws<ArgumentException>(() => Create(1, 32, "width=24"));
        Assert.Contains("divisible by 16", e.Message);
    }

    [Fact]
    public void Discriminator_GradientPenalty_DifferentiatesThroughAttention()
    {
        // WGAN-GP needs ∇x D twice differentiated: the penalty's gradient reaches D's attention weights.
        var model = Create(1, 16, Tiny);
        var real = Tensor.Uniform([4, 1, 16, 16], -1, 1, new Generator(1));
        var fake = Tensor.Uniform([4, 1, 16, 16], -1, 1, new Generator(2));
        var gp = new Losses.GradientPenalty(10).Compute(model.Critic(null), real, fake, Tensor.Rand([4], new Generator(3)));
        gp.Backward();
        var w = model.Discriminator.NamedParameters().First(p => p.Key == "block0.self_attn.in_proj_weight").Value;
        Assert.Contains(w.Grad!.ToArray(), g => MathF.Abs(g) > 1e-6f);
    }

    [Fact]
    public void TransGan_ShortRun_MovesSampleStatisticsTowardTheData()
    {
        // 150 steps of 16 images at 16 pixels, G and D one block each: measured 1.030 -> 0.695 (factor 1.48); 1.25 asked.
        var dir = TestRuns.NewDir();
        try
        {
            var config = TestRuns.Mlp(dir, limit: 2048, batch: 16, epochs: 100);
            config.Model = "transgan";
            config.MaxSteps = 150;
            config.ImageSize = 16;
            config.LogEvery = 1000;
            foreach (var o in Tiny.Split(';')) config.Set(o);
            var trainer = TrainingSetup.Create(config, resume: false);
            var real = Tensor.Interpolate(TrainerTests.RealImages(2048), new Size2(16, 16), mode: "bilinear");
            double before = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
            trainer.Run();
            double after = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
            Console.WriteLine($"transgan: {before:F3} -> {after:F3} (factor {before / after:F2})");
            Assert.True(after < before / 1.25, $"transgan: statistic distance fell from {before:F3} to {after:F3}, expected a factor 1.25");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
