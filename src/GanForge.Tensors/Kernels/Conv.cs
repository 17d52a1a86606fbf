using System.Buffers;

namespace GanForge.Kernels;

/// <summary>
/// The three batched convolution kernels, all via im2col/col2im and one GEMM per group over a chunk
/// of the batch (so the GEMM is large and does the threading; im2col runs in parallel over samples).
/// x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW), y: (N,Co,OH,OW). They take the tensors' arrays because
/// parallel loops cannot capture spans.
/// </summary>
public static class Conv
{
    // Cap on the im2col scratch (floats): 4M = 16 MB, so big batches run in chunks.
    const int ColBudget = 1 << 22;

    static int ChunkSize(int n, in ConvGeometry g) =>
        Math.Clamp(ColBudget / Math.Max(1, g.Groups * g.K * g.P), 1, Math.Max(n, 1));

    /// <summary>y = conv(x, w) (no bias). x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW) -> y: (N,Co,OH,OW).</summary>
    public static void Forward(float[] x, float[] w, float[] y, int n, ConvGeometry g)
    {
        int nb = ChunkSize(n, g), k = g.K, p = g.P;
        var col = ArrayPool<float>.Shared.Rent(g.Groups * k * nb * p);
        var outBuf = ArrayPool<float>.Shared.Rent(g.Co * nb * p);
        try
        {
            for (int n0 = 0; n0 < n; n0 += nb)
            {
                int cnt = Math.Min(nb, n - n0), l = cnt * p;
                Threading.For(cnt * g.Groups, t =>
                {
                    int s = t / g.Groups, gi = t % g.Groups;
                    Im2Col.Forward(x.AsSpan(((n0 + s) * g.Ci + gi * g.CiG) * g.H * g.W, g.CiG * g.H * g.W),
                        col.AsSpan(gi * k * l, k * l), l, s * p, g);
                });
                for (int gi = 0; gi < g.Groups; gi++)
                    Gemm.Sgemm(false, false, g.CoG, l, k, 1f, w.AsSpan(gi * g.CoG * k, g.CoG * k), k,
                        col.AsSpan(gi * k * l, k * l), l, 0f, outBuf.AsSpan(gi * g.CoG * l, g.CoG * l), l);
                // (Co, cnt, P) -> (cnt, Co, P)
                Threading.For(cnt, s =>
                {
                    for (int o = 0; o < g.Co; o++)
                        outBuf.AsSpan(o * l + s * p, p).CopyTo(y.AsSpan(((n0 + s) * g.Co + o) * p, p));
                });
            }
        }
        finally { ArrayPool<float>.Shared.Return(col); ArrayPool<float>.Shared.Return(outBuf); }
    }

    /// <summary>x = convT(y, w), the adjoint of <see cref="Forward"/> in x. y: (N,Co,OH,OW), w: (Co,Ci/groups,KH,KW) -> x: (N,Ci,H,W).</summary>
    public static void Transpose(float[] y, float[] w, float[] x, int n, ConvGeometry g)
    {
        int nb = ChunkSize(n, g), k = g.K, p = g.P;
        var col = ArrayPool<float>.Shared.Rent(g.Groups * k * nb * p);
        var yT = ArrayPool<float>.Shared.Rent(g.Co * nb * p);
        try
        {
            for (int n0 = 0; n0 < n; n0 += nb)
            {
                int cnt = Math.Min(nb, n - n0), l = cnt * p;
                GatherFeatures(y, yT, n0, cnt, g);
                for (int gi = 0; gi < g.Groups; gi++)
                    Gemm.Sgemm(true, false, k, l, g.CoG, 1f, w.AsSpan(gi * g.CoG * k, g.CoG * k), k,
                        yT.AsSpan(gi * g.CoG * l, g.CoG * l), l, 0f, col.AsSpan(gi * k * l, k * l), l);
                Threading.For(cnt * g.Groups, t =>
                {
                    int s = t / g.Groups, gi = t % g.Groups;
                    var xs = x.AsSpan(((n0 + s) * g.Ci + gi * g.CiG) * g.H * g.W, g.CiG * g.H * g.W);
                    xs.Clear();
                    Im2Col.Backward(col.AsSpan(gi * k * l, k * l), l, s * p, xs, g);
                });
            }
        }
        finally { ArrayPool<float>.Shared.Return(col); ArrayPool<float>.Shared.Return(yT); }
    }

    /// <summary>dw = convW(x, gy), the adjoint of <see cref="Forward"/> in w. x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci/groups,KH,KW).</summary>
    public static void WeightGrad(float[] x, float[] gy, float[] dw, int n, ConvGeometry g)
    {
        int nb = ChunkSize(n, g), k = g.K, p = g.P;
        var col = ArrayPool<float>.Shared.Rent(g.Groups * k * nb * p);
        var gT = ArrayPool<float>.Shared.Rent(g.Co * nb * p);
        try
        {
            Array.Clear(dw, 0, g.Co * k);
            for (int n0 = 0; n0 < n; n0 += nb)
            {
                int cnt = Math.Min(nb, n - n0), l = cnt * p;
                Threading.For(cnt * g.Groups, t =>
                {
                    int s = t / g.Groups, gi = t % g.Groups;
                    Im2Col.Forward(x.AsSpan(((n0 + s) * g.Ci + gi * g.CiG) * g.H * g.W, g.CiG * g.H * g.W),
                        col.AsSpan(gi * k * l, k * l), l, s * p, g);
                });
                GatherFeatures(gy, gT, n0, cnt, g);
                for (int gi = 0; gi < g.Groups; gi++)
                    Gemm.Sgemm(false, true, g.CoG, k, l, 1f, gT.AsSpan(gi * g.CoG * l, g.CoG * l), l,
                        col.AsSpan(gi * k * l, k * l), l, 1f, dw.AsSpan(gi * g.CoG * k, g.CoG * k), k);
            }
        }
        finally { ArrayPool<float>.Shared.Return(col); ArrayPool<float>.Shared.Return(gT); }
    }

    // (cnt, Co, P) slice of y starting at sample n0 -> (Co, cnt*P)
    static void GatherFeatures(float[] y, float[] yT, int n0, int cnt, ConvGeometry g)
    {
        int p = g.P, l = cnt * p;
        Threading.For(cnt, s =>
        {
            for (int o = 0; o < g.Co; o++)
                y.AsSpan(((n0 + s) * g.Co + o) * p, p).CopyTo(yT.AsSpan(o * l + s * p, p));
        });
    }

    /// <summary>Direct 7-loop convolution, the reference for tests. Shapes as <see cref="Forward"/>.</summary>
    public static void ForwardNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int n, in ConvGeometry g)
    {
        for (int b = 0; b < n; b++)
            for (int o = 0; o < g.Co; o++)
            {
                int gi = o / g.CoG;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        double s = 0;
                        for (int c = 0; c < g.CiG; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    s += x[((b * g.Ci + gi * g.CiG + c) * g.H + ih) * g.W + iw] * w[((o * g.CiG + c) * g.KH + kh) * g.KW + kw];
                                }
                        y[((b * g.Co + o) * g.OH + oh) * g.OW + ow] = (float)s;
                    }
            }
    }

    /// <summary>Direct scatter form of <see cref="Transpose"/>, the reference for tests.</summary>
    public static void TransposeNaive(ReadOnlySpan<float> y, ReadOnlySpan<float> w, Span<float> x, int n, in ConvGeometry g)
    {
        x[..(n * g.Ci * g.H * g.W)].Clear();
        for (int b = 0; b < n; b++)
            for (int o = 0; o < g.Co; o++)
            {
                int gi = o / g.CoG;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        float v = y[((b * g.Co + o) * g.OH + oh) * g.OW + ow];
                        for (int c = 0; c < g.CiG; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    x[((b * g.Ci + gi * g.CiG + c) * g.H + ih) * g.W + iw] += v * w[((o * g.CiG + c) * g.KH + kh) * g.KW + kw];
                                }
                    }
            }
    }

    /// <summary>Direct form of <see cref="WeightGrad"/>, the reference for tests.</summary>
    public static void WeightGradNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> dw, int n, in ConvGeometry g)
    {
        dw[..(g.Co * g.K)].Clear();
        for (int b = 0; b < n; b++)
            for (int o = 0; o < g.Co; o++)
            {
                int gi = o / g.CoG;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        float v = gy[((b * g.Co + o) * g.OH + oh) * g.OW + ow];
                        for (int c = 0; c < g.CiG; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    dw[((o * g.CiG + c) * g.KH + kh) * g.KW + kw] += v * x[((b * g.Ci + gi * g.CiG + c) * g.H + ih) * g.W + iw];
                                }
                    }
            }
    }
}
