namespace GanForge.Tests;

/// <summary>The profiler is process-wide: these tests switch it on, so nothing may run beside them.</summary>
[CollectionDefinition("Profiler", DisableParallelization = true)]
public sealed class ProfilerCollection;

[Collection("Profiler")]
public class ProfilerTests
{
    static string ProfileOfOneConvStep(bool byShape)
    {
        var x = Tensor.Randn([2, 3, 9, 9], new Generator(1));
        var w = Tensor.Randn([4, 3, 3, 3], new Generator(2)).RequiresGrad_();
        bool savedEnabled = Profiler.Enabled, savedByShape = Profiler.ByShape;
        Profiler.Enabled = true; Profiler.ByShape = byShape;
        try
        {
            Profiler.Reset();
            Tensor.Conv2d(x, w, null, stride: 2, padding: 1).Sum().Backward();
            return Profiler.Report();
        }
        finally { Profiler.Enabled = savedEnabled; Profiler.ByShape = savedByShape; }
    }

    [Fact]
    public void ByShape_NamesEachConvolutionByItsGeometry()
    {
        string report = ProfileOfOneConvStep(byShape: true);
        Assert.Contains("| fwd Conv2d 3->4 k3x3 s2 p1 9x9 |", report);
        Assert.Contains("| bwd Conv2d 3->4 k3x3 s2 p1 9x9 |", report);
    }

    [Fact]
    public void ByDefault_ChargesOpsToTheirTypeAlone()
    {
        string report = ProfileOfOneConvStep(byShape: false);
        Assert.Contains("| fwd Conv2d |", report);
        Assert.Contains("| bwd Conv2d |", report);
        Assert.DoesNotContain("k3x3", report);
    }

    [Fact]
    public void Report_ChargesEachOpTheBytesItAllocated()
    {
        // A length no pool holds: the tanh's output is a new 4 MB array. The runtime's cheap allocation counter moves a
        // thread's allocation context (8 KB on workstation GC) at a time, so a reading may run up to a context per thread
        // ahead or behind the bytes handed out (a CI run saw 1016 KB for a 1024 KB output); 64 KB covers any thread count
        // on this machine and stays far below the output. Tests running beside this one may add to the count, never take.
        const int length = 1_048_579;
        const double slackKb = 64;
        var x = Tensor.Randn([length], new Generator(4));
        bool saved = Profiler.Enabled;
        Profiler.Enabled = true;
        try
        {
            Profiler.Reset();
            _ = x.Tanh();
            string report = Profiler.Report();
            var row = report.Split('\n').Single(l => l.StartsWith("| fwd Tanh |", StringComparison.Ordinal));
            double kb = double.Parse(row.Split('|', StringSplitOptions.TrimEntries)[5], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(kb >= length * 4.0 / 1024 - slackKb, $"fwd Tanh was charged {kb} KB for a {length * 4.0 / 1024:F0} KB output");
            Assert.Contains("KB allocated/iter", report);
        }
        finally { Profiler.Enabled = saved; }
    }
}
