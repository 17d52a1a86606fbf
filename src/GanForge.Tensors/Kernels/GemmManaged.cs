using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanForge.Kernels;

/// <summary>
/// Blocked managed SGEMM (GotoBLAS structure): for each K block, A is packed into MR-row strips and
/// B into NR-column strips, then a 6x16 register-blocked Vector256 micro-kernel computes each tile.
/// Tiles are spread over <see cref="Threading.Threads"/> threads.
/// A: (M,K) or (K,M) if transA; B: (K,N) or (N,K) if transB; C: (M,N), row-major.
/// </summary>
public static unsafe class GemmManaged
{
    const int MR = 6, NR = 16;
    // KC x NR of B (16 KB) and MR x KC of A stay in L1; KC x NC of packed B stays in L2/L3.
    const int KC = 256, NC = 2048;
    // Tiles handed to one task: 8 A strips (48 rows) x 8 B strips (128 columns).
    const int StripsPerTaskM = 8, StripsPerTaskN = 8;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Gemm.ScaleC(m, n, beta, c, ldc);
        if (m == 0 || n == 0 || k == 0 || alpha == 0f) return;
        if (!Vector256.IsHardwareAccelerated)
        {
            Gemm.Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, 1f, c, ldc);
            return;
        }
        int mStrips = (m + MR - 1) / MR;
        var packA = new float[mStrips * MR * KC];
        var packB = new float[Math.Min((n + NR - 1) / NR * NR, NC) * KC];
        fixed (float* pa = a, pb = b, pc = c, ap = packA, bp = packB)
        {
            float* A = pa, B = pb, C = pc, Ap = ap, Bp = bp;
            for (int pc0 = 0; pc0 < k; pc0 += KC)
            {
                int kc = Math.Min(KC, k - pc0);
                Threading.For(Math.Min(mStrips, Threading.Threads * 4), t =>
                {
                    int parts = Math.Min(mStrips, Threading.Threads * 4);
                    for (int s = mStrips * t / parts; s < mStrips * (t + 1) / parts; s++)
                        GemmPacking.PackA(A, lda, transA, m, pc0, kc, s * MR, MR, Ap + s * MR * kc);
                });
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc);
                    int nStrips = (nc + NR - 1) / NR;
                    Threading.For(Math.Min(nStrips, Threading.Threads * 4), t =>
                    {
                        int parts = Math.Min(nStrips, Threading.Threads * 4);
                        for (int s = nStrips * t / parts; s < nStrips * (t + 1) / parts; s++)
                            GemmPacking.PackB(B, ldb, transB, n, pc0, kc, jc + s * NR, NR, Bp + s * NR * kc);
                    });
                    int tm = (mStrips + StripsPerTaskM - 1) / StripsPerTaskM;
                    int tn = (nStrips + StripsPerTaskN - 1) / StripsPerTaskN;
                    Threading.For(tm * tn, task =>
                    {
                        int ti = task / tn, tj = task % tn;
                        float* tile = stackalloc float[MR * NR];
                        int sEnd = Math.Min(mStrips, (ti + 1) * StripsPerTaskM);
                        int rEnd = Math.Min(nStrips, (tj + 1) * StripsPerTaskN);
                        for (int r = tj * StripsPerTaskN; r < rEnd; r++)
                            for (int s = ti * StripsPerTaskM; s < sEnd; s++)
                            {
                                int i0 = s * MR, j0 = jc + r * NR;
                                int mr = Math.Min(MR, m - i0), nr = Math.Min(NR, n - j0);
                                float* cTile = C + (long)i0 * ldc + j0;
                                if (mr == MR && nr == NR)
                                    MicroKernel(kc, alpha, Ap + s * MR * kc, Bp + r * NR * kc, cTile, ldc);
                                else
                                {
                                    // Edge tile: compute a full tile into scratch, add the valid part.
                                    new Span<float>(tile, MR * NR).Clear();
                                    MicroKernel(kc, alpha, Ap + s * MR * kc, Bp + r * NR * kc, tile, NR);
                                    for (int i = 0; i < mr; i++)
                                        for (int j = 0; j < nr; j++) cTile[(long)i * ldc + j] += tile[i * NR + j];
                                }
                            }
                    });
                }
            }
        }
    }

    // C[0..6, 0..16] += alpha * sum_p a[p*6 + r] * b[p*16 + j]; 12 accumulators live in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MicroKernel(int kc, float alpha, float* a, float* b, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += MR, b += NR)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ar = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(ar, b0, c00); c01 = Vector256.FusedMultiplyAdd(ar, b1, c01);
            ar = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(ar, b0, c10); c11 = Vector256.FusedMultiplyAdd(ar, b1, c11);
            ar = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(ar, b0, c20); c21 = Vector256.FusedMultiplyAdd(ar, b1, c21);
            ar = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(ar, b0, c30); c31 = Vector256.FusedMultiplyAdd(ar, b1, c31);
            ar = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(ar, b0, c40); c41 = Vector256.FusedMultiplyAdd(ar, b1, c41);
            ar = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(ar, b0, c50); c51 = Vector256.FusedMultiplyAdd(ar, b1, c51);
        }
        var va = Vector256.Create(alpha);
        Store(c, c00, c01, va); Store(c + ldc, c10, c11, va); Store(c + 2 * ldc, c20, c21, va);
        Store(c + 3 * ldc, c30, c31, va); Store(c + 4 * ldc, c40, c41, va); Store(c + 5 * ldc, c50, c51, va);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> lo, Vector256<float> hi, Vector256<float> alpha)
    {
        Vector256.Store(Vector256.FusedMultiplyAdd(lo, alpha, Vector256.Load(c)), c);
        Vector256.Store(Vector256.FusedMultiplyAdd(hi, alpha, Vector256.Load(c + 8)), c + 8);
    }
}
