namespace GanForge.Tests;

/// <summary>
/// Broadcast binary ops merge the dims both operands step through as one and run a short row vector against a matrix
/// many rows a call: every layout against the element-by-element definition.
/// </summary>
public class BroadcastLayoutTests
{
    public static TheoryData<int[], int[]> Layouts => new()
    {
        { [5, 7, 3], [3] },            // a bias of 3 channels: the tiled row
        { [3], [5, 7, 3] },            // the same with the vector first
        { [40, 13], [13] },            // rows not a multiple of the tile's
        { [4, 6, 5], [6, 5] },         // (B,T,D) + (T,D): one row of T·D
        { [4, 1, 5], [1, 6, 1] },      // both broadcast, in different dims
        { [2, 3, 1, 4], [3, 5, 1] },
        { [6, 200], [200] },           // a long row: the plain row loop
        { [8, 1], [8, 9] },
        { [6, 16, 20, 20], [6, 16, 1, 1] },   // a per-channel scale over 38,400 elements: rows split over threads
        { [3, 1, 50, 300], [1, 7, 50, 1] },   // both broadcast, 315,000 elements
    };

    static float At(Tensor t, int[] outShape, int[] index)
    {
        int offset = 0, stride = 1;
        for (int d = t.Rank - 1, o = outShape.Length - 1; d >= 0; d--, o--)
        {
            int i = t.Shape[d] == 1 ? 0 : index[o];
            offset += i * stride;
            stride *= t.Shape[d];
        }
        return t.Data[offset];
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void BroadcastOps_AnyLayout_MatchTheDefinition(int[] aShape, int[] bShape) => CheckOps(aShape, bShape);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void BroadcastOps_LargeLayouts_MatchTheDefinitionOnAnyThreads(int threads)
    {
        int previous = Threading.Threads;
        try
        {
            Threading.Threads = threads;
            CheckOps([6, 16, 20, 20], [6, 16, 1, 1]);
            CheckOps([5, 7, 1, 1000], [7, 30, 1]);
        }
        finally { Threading.Threads = previous; }
    }

    [Theory]
    [InlineData(new[] { 3, 5, 7, 9 }, new[] { 3, 5, 1, 1 })]       // StyleGAN's modulation: a scale per sample and channel
    [InlineData(new[] { 8, 64, 16, 16 }, new[] { 8, 64, 1, 1 })]   // 131,072 elements: rows over the threads
    [InlineData(new[] { 4, 6, 10 }, new[] { 4, 1, 1 })]
    [InlineData(new[] { 4, 6, 10 }, new[] { 4, 6, 1 })]
    [InlineData(new[] { 4, 6, 10 }, new[] { 1, 6, 1 })]            // a leading dim summed too: the composed path
    public void Mul_ScaleGradient_MatchesTheComposedSum(int[] xShape, int[] sShape)
    {
        // Without a graph a scale's gradient is one dot product a row; against (g * x) summed over the broadcast dims.
        var gen = new Generator(17);
        var x = Tensor.Randn(xShape, gen).RequiresGrad_();
        var s = Tensor.Randn(sShape, gen).RequiresGrad_();
        var g = Tensor.Randn(xShape, gen);
        (x * s).Backward(g);
        var dims = Enumerable.Range(0, xShape.Length).Where(d => sShape[d] == 1 && xShape[d] != 1).ToArray();
        var expected = (g * x.Detach()).Sum(dims, keepDim: true);
        Assert.Equal(sShape, s.Grad!.Shape);
        Fixtures.AssertClose(expected, s.Grad!, 1e-5, 1e-5, "d(x·s)/ds");
        Fixtures.AssertClose(g * s.Detach(), x.Grad!, 1e-6, 1e-6, "d(x·s)/dx");
    }

    static void CheckOps(int[] aShape, int[] bShape)
    {
        var a = Tensor.Randn(aShape, new Generator(11));
        var b = Tensor.Randn(bShape, new Generator(12)) + 4f;
        foreach (var (name, result, op) in new (string, Tensor, Func<float, float, float>)[]
                 { ("add", a + b, (p, q) => p + q), ("mul", a * b, (p, q) => p * q), ("sub", a - b, (p, q) => p - q), ("div", a / b, (p, q) => p / q) })
        {
            var outShape = result.Shape;
            var index = new int[outShape.Length];
            for (int flat = 0; flat < result.Numel; flat++)
            {
                for (int d = outShape.Length - 1, rest = flat; d >= 0; d--) { index[d] = rest % outShape[d]; rest /= outShape[d]; }
                float expected = op(At(a, outShape, index), At(b, outShape, index));
                Assert.True(Math.Abs(result.Data[flat] - expected) <= 1e-6f * Math.Max(1f, Math.Abs(expected)),
                    $"{name} at {flat}: {result.Data[flat]} against {expected}");
            }
        }
    }
}
