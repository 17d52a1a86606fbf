using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

/// <summary>
/// Each variant of the zoo learns: a short run on the embedded Fashion-MNIST (resized to 16 × 16, the
/// DCGAN pyramid at width 16 so that it takes seconds) moves its samples' simple statistics (per-pixel
/// means and the pixel spread) toward the data's by at least the factor given, which was set below
/// what was measured (noted beside each case).
/// </summary>
public class VariantLearningTests
{
    [Theory]
    // variant, --set options, generator steps, required factor; the factor measured here at the end of each line
    [InlineData("dcgan", "", 150, 1.2)]                              // 1.38
    [InlineData("lsgan", "", 150, 1.15)]                             // 1.27
    [InlineData("sngan", "", 150, 1.2)]                              // 1.37
    [InlineData("wgan", "", 150, 1.2)]                               // 1.45
    [InlineData("wgan-gp", "", 150, 1.2)]                            // 1.36
    [InlineData("dcgan", "r1=1;r1-every=4", 150, 1.2)]               // 1.48
    [InlineData("dcgan", "mbstd=4", 150, 1.2)]                       // 1.41
    [InlineData("dcgan", "minibatch-discrimination=20", 150, 1.2)]   // 1.52
    [InlineData("gan", "mbstd=4", 150, 1.2)]                         // 1.62
    public void Variant_ShortRun_MovesSampleStatisticsTowardTheData(string model, string options, int steps, double factor)
    {
        var dir = TestRuns.NewDir();
        try
        {
            var (_, before, after) = ShortRun(dir, model, options, steps);
            Console.WriteLine($"{model} {options}: {before:F3} -> {after:F3} (factor {before / after:F2})");
            Assert.True(after < before / factor, $"{model} {options}: statistic distance fell from {before:F3} to {after:F3}, expected a factor {factor}");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    /// <summary>
    /// One short run of <paramref name="model"/> in <paramref name="dir"/> (2,048 embedded images at 16 x 16, batch 64,
    /// width 16 but for the MLP GAN), <paramref name="configure"/> applied last: the trainer and the statistic distance of
    /// its samples to the data before and after.
    /// </summary>
    internal static (Trainer Trainer, double Before, double After) ShortRun(string dir, string model, string options, int steps,
        Action<TrainConfig>? configure = null)
    {
        var config = TestRuns.Mlp(dir, limit: 2048, batch: 64, epochs: 100);
        config.Model = model;
        config.MaxSteps = steps;
        config.ImageSize = 16;
        if (model != "gan") config.Set("width=16");
        config.LogEvery = 1000;
        foreach (var o in options.Split(';', StringSplitOptions.RemoveEmptyEntries)) config.Set(o);
        configure?.Invoke(config);
        var trainer = TrainingSetup.Create(config, resume: false);
        var real = Tensor.Interpolate(TrainerTests.RealImages(2048), new Size2(16, 16), mode: "bilinear");
        double before = TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real);
        trainer.Run();
        return (trainer, before, TrainerTests.StatisticDistance(TrainerTests.Samples(trainer), real));
    }
}
