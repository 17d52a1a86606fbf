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
    public void BroadcastOps_AnyLayout_MatchTheDefinition(int[] aShape, int[] bShape)
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
