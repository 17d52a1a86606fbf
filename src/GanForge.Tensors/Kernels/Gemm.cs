using System.Numerics.Tensors;

namespace GanForge.Kernels;

/// <summary>
/// Single-precision GEMM on row-major buffers: C = alpha * op(A) * op(B) + beta * C.
/// A: (M,K) or (K,M) if transA; B: (K,N) or (N,K) if transB; C: (M,N).
/// </summary>
public static class Gemm
{
    /// <summary>Which implementation runs (reported by the bench and the CLI).</summary>
    public static string Backend => "managed";

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>Straightforward managed kernel: row-times-matrix accumulation with SIMD axpy.</summary>
    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        // Bring B into (K,N) row-major so each row of C is a sum of scaled rows of B.
        ReadOnlySpan<float> bk = b;
        int ldbk = ldb;
        float[]? bt = null;
        if (transB)
        {
            bt = new float[k * n];
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) bt[p * n + j] = b[j * ldb + p];
            bk = bt; ldbk = n;
        }
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == 0f) ci.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(ci, beta, ci);
            for (int p = 0; p < k; p++)
            {
                float aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                if (aip == 0f) continue;
                TensorPrimitives.MultiplyAdd(bk.Slice(p * ldbk, n), aip, ci, ci);
            }
        }
    }
}
