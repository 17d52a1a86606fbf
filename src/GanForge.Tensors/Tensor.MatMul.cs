using GanForge.Functions;

namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with torch.matmul semantics: 1-D operands are promoted (and the added dim
    /// removed), leading batch dims broadcast. Optional transposes of the last two dims are free.
    /// </summary>
    public Tensor MatMul(Tensor other, bool transposeThis = false, bool transposeOther = false)
    {
        Tensor a = this, b = other;
        bool squeezeFirst = false, squeezeLast = false;
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"MatMul: both operands need at least 1 dim, got {Shapes.Format(a.ShapeSpan)} and {Shapes.Format(b.ShapeSpan)}");
        if (a.Rank == 1) { a = a.Unsqueeze(0); squeezeFirst = true; transposeThis = false; }
        if (b.Rank == 1) { b = b.Unsqueeze(1); squeezeLast = true; transposeOther = false; }

        var aBatch = a.ShapeSpan[..^2].ToArray();
        var bBatch = b.ShapeSpan[..^2].ToArray();
        var batch = Shapes.Broadcast(aBatch, bBatch, "MatMul");
        int batchCount = Shapes.Numel(batch);
        var a3 = a.Expand([.. batch, a.Size(-2), a.Size(-1)]).Reshape(batchCount, a.Size(-2), a.Size(-1));
        var b3 = b.Expand([.. batch, b.Size(-2), b.Size(-1)]).Reshape(batchCount, b.Size(-2), b.Size(-1));
        var y = BatchMatMul.Apply(a3, b3, transposeThis, transposeOther);
        int m = y.Size(1), n = y.Size(2);
        var outShape = new List<int>(batch);
        if (!squeezeFirst) outShape.Add(m);
        if (!squeezeLast) outShape.Add(n);
        return y.Reshape(outShape.ToArray());
    }

    /// <summary>Batched product of (B,M,K) and (B,K,N).</summary>
    public Tensor Bmm(Tensor other) => BatchMatMul.Apply(this, other, false, false);

    /// <summary>Outer product of two 1-D tensors: (M) x (N) -> (M,N).</summary>
    public Tensor Outer(Tensor other)
    {
        if (Rank != 1 || other.Rank != 1)
            throw new ArgumentException($"Outer: expected 1-D tensors, got {Shapes.Format(ShapeSpan)} and {Shapes.Format(other.ShapeSpan)}");
        return Unsqueeze(1) * other.Unsqueeze(0);
    }
}
