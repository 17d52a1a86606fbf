namespace GanForge.NN.Tests;

/// <summary>What the norm-and-activation tests share: a forward with the fusion switched, and the comparison with the layers apart.</summary>
static class NormActivationRuns
{
    /// <summary>m's forward with <see cref="Sequential.FuseNormActivation"/> set to <paramref name="fuse"/> for the call.</summary>
    public static Tensor Run(Sequential m, Tensor x, bool fuse)
    {
        bool saved = Sequential.FuseNormActivation;
        Sequential.FuseNormActivation = fuse;
        try { return m.Forward(x); }
        finally { Sequential.FuseNormActivation = saved; }
    }

    /// <summary>The same shape and every element within 1e-6 relative of what the layers apart gave.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var (e, a) = (expected.ToArray(), actual.ToArray());
        for (int i = 0; i < e.Length; i++)
            Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-6f * (1f + MathF.Abs(e[i])), $"{what}: element {i} is {a[i]}, the layers apart give {e[i]}");
    }
}
