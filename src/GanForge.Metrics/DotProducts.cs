using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace GanForge.Metrics;

/// <summary>
/// Blocks of row-by-row dot products in double, the inner loop of every pairwise metric (distances,
/// KID kernels). Register-tiled: 2 rows of A against 4 rows of B per pass over D, 8 accumulators, so
/// each loaded vector feeds 2 to 4 fused multiply-adds instead of 1.
/// </summary>
internal static class DotProducts
{
    // a: (Na, D), b: (Nb, D) -> out[(i - i0) * ld + (j - j0)] = a_i . b_j for i in [i0, i1), j in [j0, j1)
    internal static unsafe void Block(FeatureMatrix a, int i0, int i1, FeatureMatrix b, int j0, int j1, Span<double> output, int ld)
    {
        int d = a.Cols;
        if (!Vector256.IsHardwareAccelerated || d < Vector256<double>.Count)
        {
            BlockNaive(a, i0, i1, b, j0, j1, output, ld);
            return;
        }
        int dv = d - d % Vector256<double>.Count;
        fixed (double* pa = a.Data, pb = b.Data, po = output)
        {
            int i = i0;
            for (; i + 2 <= i1; i += 2)
            {
                double* a0 = pa + (long)i * d, a1 = a0 + d;
                int j = j0;
                for (; j + 4 <= j1; j += 4)
                {
                    double* b0 = pb + (long)j * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
                    Vector256<double> c00 = default, c01 = default, c02 = default, c03 = default;
                    Vector256<double> c10 = default, c11 = default, c12 = default, c13 = default;
                    for (int k = 0; k < dv; k += 4)
                    {
                        var v0 = Vector256.Load(b0 + k); var v1 = Vector256.Load(b1 + k);
                        var v2 = Vector256.Load(b2 + k); var v3 = Vector256.Load(b3 + k);
                        var u = Vector256.Load(a0 + k);
                        c00 = Vector256.FusedMultiplyAdd(u, v0, c00); c01 = Vector256.FusedMultiplyAdd(u, v1, c01);
                        c02 = Vector256.FusedMultiplyAdd(u, v2, c02); c03 = Vector256.FusedMultiplyAdd(u, v3, c03);
                        u = Vector256.Load(a1 + k);
                        c10 = Vector256.FusedMultiplyAdd(u, v0, c10); c11 = Vector256.FusedMultiplyAdd(u, v1, c11);
                        c12 = Vector256.FusedMultiplyAdd(u, v2, c12); c13 = Vector256.FusedMultiplyAdd(u, v3, c13);
                    }
                    double s00 = Vector256.Sum(c00), s01 = Vector256.Sum(c01), s02 = Vector256.Sum(c02), s03 = Vector256.Sum(c03);
                    double s10 = Vector256.Sum(c10), s11 = Vector256.Sum(c11), s12 = Vector256.Sum(c12), s13 = Vector256.Sum(c13);
                    for (int k = dv; k < d; k++)
                    {
                        s00 += a0[k] * b0[k]; s01 += a0[k] * b1[k]; s02 += a0[k] * b2[k]; s03 += a0[k] * b3[k];
                        s10 += a1[k] * b0[k]; s11 += a1[k] * b1[k]; s12 += a1[k] * b2[k]; s13 += a1[k] * b3[k];
                    }
                    double* o0 = po + (long)(i - i0) * ld + (j - j0), o1 = o0 + ld;
                    o0[0] = s00; o0[1] = s01; o0[2] = s02; o0[3] = s03;
                    o1[0] = s10; o1[1] = s11; o1[2] = s12; o1[3] = s13;
                }
                for (; j < j1; j++)
                {
                    output[(i - i0) * ld + (j - j0)] = TensorPrimitives.Dot(a.Row(i), b.Row(j));
                    output[(i + 1 - i0) * ld + (j - j0)] = TensorPrimitives.Dot(a.Row(i + 1), b.Row(j));
                }
            }
            for (; i < i1; i++)
                for (int j = j0; j < j1; j++) output[(i - i0) * ld + (j - j0)] = TensorPrimitives.Dot(a.Row(i), b.Row(j));
        }
    }

    /// <summary>Reference for <see cref="Block"/>: one plain loop per dot product.</summary>
    internal static void BlockNaive(FeatureMatrix a, int i0, int i1, FeatureMatrix b, int j0, int j1, Span<double> output, int ld)
    {
        for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++)
            {
                double s = 0;
                var x = a.Row(i); var y = b.Row(j);
                for (int k = 0; k < x.Length; k++) s += x[k] * y[k];
                output[(i - i0) * ld + (j - j0)] = s;
            }
    }
}
