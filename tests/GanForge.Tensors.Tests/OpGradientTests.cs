namespace GanForge.Tests;

/// <summary>Finite-difference checks of every differentiable op in <see cref="OpTable"/>, one test case per op.</summary>
public class OpGradientTests
{
    public static TheoryData<string> FirstOrder => OpTable.Names(c => c.Differentiable && c.FiniteDiff);
    public static TheoryData<string> SecondOrder => OpTable.Names(c => c.Second);

    [Theory]
    [MemberData(nameof(FirstOrder))]
    public void Op_FirstDerivative_MatchesFiniteDifferences(string name)
    {
        var op = OpTable.Get(name);
        var consts = op.Consts ?? [];
        GradCheck.First(name, x => op.Op(x, consts), op.MakeInputs());
    }

    /// <summary>
    /// The op's output is squared before the check: a linear op's gradient does not depend on its input, and
    /// squaring makes the second derivative run through the op's backward graph all the same.
    /// </summary>
    [Theory]
    [MemberData(nameof(SecondOrder))]
    public void Op_SecondDerivative_MatchesFiniteDifferences(string name)
    {
        var op = OpTable.Get(name);
        var consts = op.Consts ?? [];
        GradCheck.Second(name, x => op.Op(x, consts).Square(), op.MakeInputs());
    }
}
