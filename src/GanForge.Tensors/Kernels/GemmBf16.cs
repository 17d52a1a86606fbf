using System.Buffers;
using GanForge.Native;

namespace GanForge.Kernels;

/// <summary>
/// The bf16 path of <see cref="Gemm"/>: C = alpha·op(A)·op(B) + beta·C with A and B rounded to bf16
/// (<see cref="BFloat16"/>) and accumulated in float32 by oneDNN's dnnl_gemm_bf16bf16f32 (vdpbf16ps on
/// AVX512-BF16). A: (M,K) or (K,M) if transA; B: (K,N) or (N,K) if transB; C: (M,N), all row-major.
/// Each operand is copied into a packed bf16 buffer first (O(MK + KN) against the product's O(MNK)).
/// </summary>
internal static unsafe class GemmBf16
{
    /// <summary>Runs the product on <paramref name="threads"/> OpenMP threads; false when oneDNN refused it.</summary>
    internal static bool TryRun(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
    {
        // Stored shapes of the operands: rows x cols with a leading dimension.
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        var a16 = ArrayPool<ushort>.Shared.Rent(aRows * aCols);
        var b16 = ArrayPool<ushort>.Shared.Rent(bRows * bCols);
        try
        {
            Pack(a, lda, aRows, aCols, a16);
            Pack(b, ldb, bRows, bCols, b16);
            NativeMethods.OmpSetNumThreads(threads);
            fixed (ushort* pa = a16, pb = b16)
            fixed (float* pc = c)
                return NativeMethods.DnnlGemmBf16(transA ? (sbyte)'T' : (sbyte)'N', transB ? (sbyte)'T' : (sbyte)'N',
                    m, n, k, alpha, pa, aCols, pb, bCols, beta, pc, ldc) == NativeMethods.DnnlSuccess;
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(a16);
            ArrayPool<ushort>.Shared.Return(b16);
        }
    }

    // rows x cols of src (leading dimension ld) -> dst packed (leading dimension cols), rounded to bf16.
    static void Pack(ReadOnlySpan<float> src, int ld, int rows, int cols, ushort[] dst)
    {
        if (ld == cols) { BFloat16.FromFloat(src[..(rows * cols)], dst); return; }
        for (int r = 0; r < rows; r++) BFloat16.FromFloat(src.Slice(r * ld, cols), dst.AsSpan(r * cols, cols));
    }
}
