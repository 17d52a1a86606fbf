namespace GanForge.Kernels;

/// <summary>
/// Packing of op(A) into row strips and op(B) into column strips for the blocked GEMMs (<see cref="GemmManaged"/>,
/// <see cref="GemmAvx512"/>), at any strip width: each kernel passes its own register tile's MR or NR.
/// Strips past the matrix's edge are zero-filled, so the micro-kernels never branch on the edge.
/// </summary>
static unsafe class GemmPacking
{
    /// <summary>A strip: rows i0..i0+mr of op(A), columns p0..p0+kc -> dst[p*mr + r], zero rows past m.</summary>
    public static void PackA(float* a, int lda, bool transA, int m, int p0, int kc, int i0, int mr, float* dst)
    {
        int rows = Math.Min(mr, m - i0);
        if (!transA)
            for (int r = 0; r < rows; r++)
            {
                float* src = a + (long)(i0 + r) * lda + p0;
                for (int p = 0; p < kc; p++) dst[p * mr + r] = src[p];
            }
        else
            for (int p = 0; p < kc; p++)
            {
                // op(A)[i, p] = a[p, i]: the strip's rows are contiguous for each p.
                float* src = a + (long)(p0 + p) * lda + i0;
                new ReadOnlySpan<float>(src, rows).CopyTo(new Span<float>(dst + p * mr, rows));
            }
        for (int r = rows; r < mr; r++)
            for (int p = 0; p < kc; p++) dst[p * mr + r] = 0f;
    }

    /// <summary>A B strip: rows p0..p0+kc of op(B), columns j0..j0+nr -> dst[p*nr + j], zero columns past n.</summary>
    public static void PackB(float* b, int ldb, bool transB, int n, int p0, int kc, int j0, int nr, float* dst)
    {
        int cols = Math.Min(nr, n - j0);
        if (!transB)
        {
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + p * nr;
                new ReadOnlySpan<float>(b + (long)(p0 + p) * ldb + j0, cols).CopyTo(new Span<float>(d, cols));
                for (int j = cols; j < nr; j++) d[j] = 0f;
            }
            return;
        }
        PackBTransposed(b, ldb, cols, p0, 0, kc, j0, nr, dst);
    }

    /// <summary>
    /// Rows pFrom..kc of a transposed B's strip (op(B)[p, j] = b[j, p]) with <paramref name="cols"/> valid columns,
    /// element by element: the edge that <see cref="GemmAvx512"/>'s in-register transposes leave.
    /// </summary>
    public static void PackBTransposed(float* b, int ldb, int cols, int p0, int pFrom, int kc, int j0, int nr, float* dst)
    {
        for (int j = 0; j < nr; j++)
        {
            float* src = b + (long)(j0 + j) * ldb + p0;
            if (j < cols) for (int p = pFrom; p < kc; p++) dst[p * nr + j] = src[p];
            else for (int p = pFrom; p < kc; p++) dst[p * nr + j] = 0f;
        }
    }
}
