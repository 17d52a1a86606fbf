using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

/// <summary>The README's "train from code" example, on a little data, reports the critic's estimate by name.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void TrainFromCode_WganGp_ReportsTheWassersteinEstimate()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var config = new TrainConfig { Model = "wgan-gp", Data = "embedded", Epochs = 5, Out = dir, Limit = 320, BatchSize = 32, ImageSize = 16, LogEvery = 1, MaxSteps = 2 };
            config.Set("gp=5");
            config.Set("width=8");
            var trainer = TrainingSetup.Create(config, resume: false);
            var estimates = new List<double>();
            trainer.Progress += p => estimates.Add(p.Stats["wasserstein"]);
            trainer.Run();
            Assert.Equal(2, estimates.Count);
            Assert.All(estimates, w => Assert.True(double.IsFinite(w)));
            Assert.Equal("5", trainer.Config.ModelOptions["gp"]);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
