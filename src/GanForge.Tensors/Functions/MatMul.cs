using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>
/// Batched matrix product y = op(a) @ op(b) over a shared leading batch dim.
/// a: (B,M,K) or (B,K,M) if transA; b: (B,K,N) or (B,N,K) if transB -> y: (B,M,N).
/// </summary>
internal sealed class BatchMatMul(bool transA, bool transB) : Function
{
    // Products of fewer multiply-adds than this are shared out over the threads by batch (below).
    const long BatchLoopWork = 1 << 21;

    public static Tensor Apply(Tensor a, Tensor b, bool transA, bool transB)
    {
        if (a.Rank != 3 || b.Rank != 3 || a.Size(0) != b.Size(0))
            throw new ArgumentException($"BatchMatMul: expected (B,M,K) and (B,K,N), got {Shapes.Format(a.ShapeSpan)} and {Shapes.Format(b.ShapeSpan)}");
        int batch = a.Size(0);
        int m = transA ? a.Size(2) : a.Size(1), ka = transA ? a.Size(1) : a.Size(2);
        int kb = transB ? b.Size(2) : b.Size(1), n = transB ? b.Size(1) : b.Size(2);
        if (ka != kb)
            throw new ArgumentException($"MatMul: inner dimensions differ: {Shapes.Format(a.ShapeSpan)}{(transA ? "ᵀ" : "")} @ {Shapes.Format(b.ShapeSpan)}{(transB ? "ᵀ" : "")}");
        var y = Tensor.Uninitialized([batch, m, n]);
        int sa = m * ka, sb = ka * n, sy = m * n;
        float[] av = a.Storage, bv = b.Storage, yv = y.Storage;
        void Products(int first, int end)
        {
            for (int i = first; i < end; i++)
                Gemm.Sgemm(transA, transB, m, n, ka, 1f, av.AsSpan(i * sa, sa), transA ? m : ka,
                    bv.AsSpan(i * sb, sb), transB ? ka : n, 0f, yv.AsSpan(i * sy, sy), n);
        }
        // Products of under 2M multiply-adds (attention's, one per head and sample) are shared out over threads by
        // batch, each on one thread, the loop waiting once at its end; larger ones split themselves. Gemm splits products
        // from 1M, but a batch of 1-2M ones split one at a time would wait at the end of each.
        if ((long)m * n * ka < BatchLoopWork) Threading.ForRanges(batch, (_, first, end) => Products(first, end));
        else Products(0, batch);
        return Record(new BatchMatMul(transA, transB), y, a, b);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (a, b) = (Inputs[0], Inputs[1]);
        Tensor? da = null, db = null;
        // Each case is the product rule for y = op(a) op(b), written again as a BatchMatMul.
        switch (transA, transB)
        {
            case (false, false):
                if (NeedsGrad(0)) da = Apply(g, b, false, true);
                if (NeedsGrad(1)) db = Apply(a, g, true, false);
                break;
            case (true, false):
                if (NeedsGrad(0)) da = Apply(b, g, false, true);
                if (NeedsGrad(1)) db = Apply(a, g, false, false);
                break;
            case (false, true):
                if (NeedsGrad(0)) da = Apply(g, b, false, false);
                if (NeedsGrad(1)) db = Apply(g, a, true, false);
                break;
            case (true, true):
                if (NeedsGrad(0)) da = Apply(b, g, true, true);
                if (NeedsGrad(1)) db = Apply(g, a, true, true);
                break;
        }
        return [da, db];
    }
}
