using GanForge.Web.Studies;

namespace GanForge.Web.Tests;

public class WilsonTests
{
    // Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (score interval without continuity correction).
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void Interval_NewcombeExamples_MatchPublishedBounds(int k, int n, double low, double high)
    {
        var ci = Wilson.Interval(k, n)!;
        Assert.Equal(low, ci.Low, 0.00051);
        Assert.Equal(high, ci.High, 0.00051);
    }

    [Fact]
    public void Interval_AllSuccesses_EndsAtOneAndIsSymmetricToNone()
    {
        var all = Wilson.Interval(10, 10)!;
        var none = Wilson.Interval(0, 10)!;
        Assert.Equal(1.0, all.High, 1e-12);
        Assert.Equal(0.0, none.Low, 1e-12);
        Assert.Equal(1 - none.High, all.Low, 1e-12);
        Assert.Equal(0.7225, all.Low, 0.0001);
    }

    [Fact]
    public void Interval_NoTrials_IsNull() => Assert.Null(Wilson.Interval(0, 0));

    [Theory]
    [InlineData(3, 2)]
    [InlineData(-1, 2)]
    public void Interval_NotAProportion_Throws(int k, int n) => Assert.Throws<ArgumentException>(() => Wilson.Interval(k, n));
}

public class StudyTallyTests
{
    static Judgment J(string judge, int group, bool generated, int cls, bool saidReal) => new(judge, group, generated, cls, saidReal);

    [Fact]
    public void Count_TwoCheckpoints_SplitsAccuracyFooledRateAndClasses()
    {
        var judgments = new[]
        {
            J("a", 0, true, 3, true), J("a", 0, true, 3, false), J("a", 0, false, 3, true), J("a", 0, false, 5, false),
            J("b", 0, true, 5, true), J("b", 1, true, 3, false), J("b", 1, false, 3, true),
        };
        var r = StudyTally.Count("s", DateTime.UtcNow, "embedded", 8, false, ["run-a", "run-b"], FashionNames, judgments);
        Assert.Equal(2, r.Judges);
        Assert.Equal(7, r.Judgments);
        Assert.Equal(4, r.Accuracy.Count);   // a: gen->generated, real->real; b: gen->generated, real->real

        var a = r.Checkpoints[0];
        Assert.Equal(2, a.Judges);
        Assert.Equal(5, a.Judgments);
        Assert.Equal((2, 3), (a.Fooled.Count, a.Fooled.Of));
        Assert.Equal((2, 5), (a.Accuracy.Count, a.Accuracy.Of));
        Assert.Equal((1, 2), (a.RealJudgedReal.Count, a.RealJudgedReal.Of));
        Assert.Equal(Wilson.Interval(2, 3), a.Fooled.Ci95);
        Assert.Equal(["Dress", "Sandal"], a.Classes.Select(c => c.Name));
        Assert.Equal((1, 2), (a.Classes[0].Fooled.Count, a.Classes[0].Fooled.Of));

        var b = r.Checkpoints[1];
        Assert.Equal(1, b.Judges);
        Assert.Equal(0.0, b.Fooled.Value);
        Assert.Equal(1.0, b.Accuracy.Value);
    }

    [Fact]
    public void Count_NoJudgments_RatesAreEmpty()
    {
        var r = StudyTally.Count("s", DateTime.UtcNow, "embedded", 4, false, ["x"], [], []);
        Assert.Null(r.Accuracy.Value);
        Assert.Null(r.Checkpoints[0].Fooled.Ci95);
        Assert.Empty(r.Checkpoints[0].Classes);
    }

    static readonly string[] FashionNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
}
