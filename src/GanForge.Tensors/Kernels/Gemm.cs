using System.Numerics.Tensors;
using GanForge.Native;

namespace GanForge.Kernels;

/// <summary>
/// Single-precision GEMM on row-major buffers: C = alpha * op(A) * op(B) + beta * C.
/// A: (M,K) or (K,M) if transA; B: (K,N) or (N,K) if transB; C: (M,N).
/// Runs OpenBLAS when it can be loaded, otherwise the blocked managed kernel
/// (<see cref="GemmManaged"/>); GANFORGE_GEMM=managed|openblas forces one.
/// </summary>
public static class Gemm
{
    static bool? _forceManaged = InitialChoice();

    static bool? InitialChoice() => Environment.GetEnvironmentVariable("GANFORGE_GEMM")?.Trim().ToLowerInvariant() switch
    {
        "managed" => true,
        "openblas" or "blas" => false,
        _ => null,
    };

    /// <summary>
    /// Forces the managed kernel (true), OpenBLAS (false; throws on use if it cannot be loaded),
    /// or lets the library choose (null, the default unless GANFORGE_GEMM is set).
    /// </summary>
    public static bool? ForceManaged
    {
        get => _forceManaged;
        set => _forceManaged = value;
    }

    /// <summary>True when a CBLAS library (OpenBLAS) could be loaded.</summary>
    public static bool OpenBlasAvailable => NativeMethods.BlasAvailable;

    static bool UseBlas
    {
        get
        {
            if (_forceManaged == true) return false;
            if (_forceManaged == false && !NativeMethods.BlasAvailable)
                throw new InvalidOperationException("Gemm: OpenBLAS was requested (GANFORGE_GEMM=openblas or ForceManaged=false) but no libopenblas/libcblas could be loaded");
            return NativeMethods.BlasAvailable;
        }
    }

    /// <summary>Which implementation runs: "openblas" or "managed" (reported by the bench and the CLI).</summary>
    public static string Backend => UseBlas ? "openblas" : "managed";

    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) { ScaleC(m, n, beta, c, ldc); return; }
        if (UseBlas)
        {
            fixed (float* pa = a, pb = b, pc = c)
                NativeMethods.CblasSgemm(NativeMethods.CblasRowMajor,
                    transA ? NativeMethods.CblasTrans : NativeMethods.CblasNoTrans,
                    transB ? NativeMethods.CblasTrans : NativeMethods.CblasNoTrans,
                    m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            return;
        }
        GemmManaged.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    internal static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == 0f) ci.Clear(); else TensorPrimitives.Multiply(ci, beta, ci);
        }
    }

    /// <summary>Straightforward managed kernel: row-times-matrix accumulation with SIMD axpy (the test reference).</summary>
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
