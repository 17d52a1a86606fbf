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
        // A length no pool holds: the tanh's output is a new 1 MB array. (The count is the process's, so tests running
        // beside this one may add to it, never take from it.)
        const int length = 262_147;
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
            Assert.True(kb >= Math.Floor(length * 4.0 / 1024), $"fwd Tanh was charged {kb} KB for a {length * 4.0 / 1024:F0} KB output");
            Assert.Contains("KB allocated/iter", report);
        }
        finally { Profiler.Enabled = saved; }
    }
}
