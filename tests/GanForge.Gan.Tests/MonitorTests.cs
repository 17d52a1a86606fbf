using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

public class MonitorTests
{
    static Dictionary<string, double> Window(double accReal, double accFake, double lossG = 1, double diversity = 1) => new()
    {
        ["acc_real"] = accReal, ["acc_fake"] = accFake, ["loss_g"] = lossG, ["diversity"] = diversity,
    };

    [Fact]
    public void Check_DiscriminatorPinnedAt100Percent_WarnsOnceAfterFourWindows()
    {
        var m = new Monitors();
        var kinds = new List<string>();
        for (int step = 1; step <= 6; step++) kinds.AddRange(m.Check(step, Window(1.0, 0.995)).Select(w => w.Kind));
        Assert.Equal(["not-converging"], kinds);
    }

    [Fact]
    public void SetState_CountsOfAnEarlierMonitor_WarnAsOneMonitorWould()
    {
        // Stopped after 3 pinned windows (a checkpoint), continued in a new process: the 4th window warns, and only once.
        var before = new Monitors();
        for (int step = 1; step <= 3; step++) Assert.Empty(before.Check(step, Window(1.0, 0.995)));
        var after = new Monitors();
        after.SetState(before.GetState());
        var kinds = Enumerable.Range(4, 3).SelectMany(step => after.Check(step, Window(1.0, 0.995))).Select(w => w.Kind).ToList();
        Assert.Equal(["not-converging"], kinds);
        var again = new Monitors();
        again.SetState(after.GetState());
        Assert.Empty(again.Check(7, Window(1.0, 0.995)));       // still in force: not raised twice
    }

    [Fact]
    public void Check_AccuracyNearHalf_RaisesNothing()
    {
        var m = new Monitors();
        for (int step = 1; step <= 10; step++) Assert.Empty(m.Check(step, Window(0.55, 0.48)));
    }

    [Fact]
    public void Check_LowSampleDiversityForThreeWindows_ReportsCollapseOnce()
    {
        var m = new Monitors();
        var warnings = Enumerable.Range(0, 5).SelectMany(i => m.Check(1000 + 50 * i, Window(0.6, 0.6, diversity: 0.05))).ToList();
        var w = Assert.Single(warnings);
        Assert.Equal("collapse", w.Kind);
        Assert.Equal(1100, w.Step);
        Assert.Contains("mode collapse", w.Message);
    }

    [Fact]
    public void Check_LowDiversityDuringWarmup_IsNotCollapse()
    {
        // An untrained generator's samples all look alike; that is not mode collapse.
        var m = new Monitors();
        for (int step = 50; step <= 200; step += 50) Assert.Empty(m.Check(step, Window(0.6, 0.6, diversity: 0.05)));
    }

    [Fact]
    public void Check_HugeGeneratorLoss_ReportsDivergence()
    {
        Assert.Equal("diverging", new Monitors().Check(1, Window(0.6, 0.6, lossG: 40)).Single().Kind);
    }

    [Fact]
    public void MeanPairwiseDistance_IdenticalImagesAreZero_DistinctArePositive()
    {
        var same = Tensor.Ones(8, 1, 4, 4);
        Assert.Equal(0, Monitors.MeanPairwiseDistance(same));
        var varied = Tensor.Randn([8, 1, 4, 4], new Generator(1));
        Assert.True(Monitors.MeanPairwiseDistance(varied) > 1);
    }

    [Fact]
    public void CheckFinite_NaN_NamesTheStep()
    {
        var e = Assert.Throws<TrainingDivergedException>(() => Monitors.CheckFinite("generator loss", float.NaN, 42));
        Assert.Contains("step 42", e.Message);
        Assert.Contains("generator loss", e.Message);
    }
}
