using GanForge.Kernels;

namespace GanForge.Functions;

// y = sum of x over dims (keepdim shape kept internally); dx = expand(g)
internal sealed class Sum : Function
{
    public static Tensor Apply(Tensor x, int[] dims, bool keepDim)
    {
        var nd = Shapes.NormalizeDims(dims, x.Rank, "Sum");
        var kept = x.Shape;
        foreach (int d in nd) kept[d] = 1;
        var y = new Tensor(kept);
        Reduce.Sum(x.Data, x.ShapeSpan, nd, y.Data);
        if (!keepDim) y = new Tensor(y.Storage, kept.Where((_, i) => !nd.Contains(i)).ToArray());
        return Record(new Sum(kept), y, x);
    }

    readonly int[] _kept;
    Sum(int[] kept) => _kept = kept;

    protected internal override Tensor?[] Backward(Tensor g) => [g.Reshape(_kept).Expand(Inputs[0].ShapeSpan)];
}
