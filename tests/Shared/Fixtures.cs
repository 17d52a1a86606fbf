using GanForge.Serialization;

namespace GanForge.Tests;

/// <summary>Loads PyTorch fixtures from tests/fixtures and compares tensors with stated tolerances.</summary>
public static class Fixtures
{
    /// <summary>The repository's tests/fixtures folder, found by walking up from the test binary.</summary>
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Loads tests/fixtures/{area}/{name}.safetensors.</summary>
    public static Dictionary<string, Tensor> Load(string area, string name) =>
        SafeTensors.Load(Path.Combine(Root, area, name + ".safetensors"));

    /// <summary>Asserts same shape and |actual - expected| &lt;= atol + rtol * |expected| elementwise.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        if (!expected.ShapeSpan.SequenceEqual(actual.ShapeSpan))
            Assert.Fail($"{what}: shape {Shapes.Format(actual.ShapeSpan)}, expected {Shapes.Format(expected.ShapeSpan)}");
        var e = expected.Data; var a = actual.Data;
        int worst = -1; double worstExcess = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double excess = Math.Abs(a[i] - e[i]) - (atol + rtol * Math.Abs(e[i]));
            if (double.IsNaN(a[i]) != double.IsNaN(e[i]) || excess > worstExcess) { worst = i; worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess; }
        }
        if (worst >= 0)
            Assert.Fail($"{what}: element {worst} is {a[worst]:G7}, expected {e[worst]:G7} (rtol {rtol}, atol {atol})");
    }
}
