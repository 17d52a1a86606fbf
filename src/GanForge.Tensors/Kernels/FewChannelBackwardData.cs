using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// The backward-data of a convolution whose input has at most four channels (an image's), without AVX-512: a
/// generator's last transposed layer (DCGAN's and WGAN-GP's 64 -> 1 4 x 4 stride 2) or a discriminator's input
/// gradient. Per sample, col = Wᵀ·gy (the Ci·KH·KW taps by the output positions) is made four taps by sixteen positions
/// at a time in eight registers, summing over the Co channels as gy lies (NCHW), then scattered to the image by
/// <see cref="Im2Col.Backward"/>. oneDNN ran these layers in its plain-layout gemm kernel, at 12-31 GFLOP/s (wgangp28's
/// 64 -> 1 at 28 px, batch 256: 3.3-4.5 ms); im2col + oneDNN's sgemm made col with 16-row products (7.2 ms).
/// </summary>
internal static class FewChannelBackwardData
{
    const int TapBlock = 4, PositionBlock = 16;

    /// <summary>
    /// True for the layers these kernels compute: at most four input channels, one group, at least four taps and sixteen
    /// output positions a sample (the last blocks overlap the ones before them), on AVX2 with FMA.
    /// </summary>
    public static bool Suits(in ConvGeometry g) =>
        g.Ci <= 4 && g.Groups == 1 && g.K >= TapBlock && g.P >= PositionBlock && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>dx = convT(gy, w). gy: (N,Co,OH,OW), w: (Co,Ci,KH,KW) -> dx: (N,Ci,H,W).</summary>
    public static unsafe void Run(float[] gy, float[] w, float[] dx, int n, ConvGeometry g)
    {
        if (!Suits(g)) throw new ArgumentException($"FewChannelBackwardData.Run: computes layers of at most 4 input channels, one group, 4+ taps and 16+ output positions on AVX2, got {g}");
        int taps = g.K, p = g.P, co = g.Co, image = g.Ci * g.H * g.W, maps = co * p;
        Threading.ForRanges(n, (_, s0, s1) =>
        {
            var col = ArrayPool<float>.Shared.Rent(taps * p);
            fixed (float* pw = w, pgy = gy, pcol = col)
                for (int s = s0; s < s1; s++)
                {
                    Columns(pw, pgy + (long)s * maps, s + 1 < s1 ? pgy + (long)(s + 1) * maps : null, pcol, co, taps, p);
                    var xs = dx.AsSpan(s * image, image);
                    xs.Clear();
                    Im2Col.Backward(col, p, 0, xs, g);
                }
            ArrayPool<float>.Shared.Return(col);
        });
    }

    // col[t][q] = Σ_c w[c][t]·y[c][q] for every tap t < taps and position q < p (taps ≥ 4, p ≥ 16): blocks of four taps by
    // sixteen positions, the last block of each overlapping the one before. The first blocks of taps fetch the same
    // positions of the next sample's maps (`next`, or null) into cache: its channel rows, read 64 at a time a cache line
    // apart, came from memory at half the speed the kernel runs from cache.
    static unsafe void Columns(float* w, float* y, float* next, float* col, int co, int taps, int p)
    {
        for (int t0 = 0; t0 < taps; t0 += TapBlock)
        {
            int t = Math.Min(t0, taps - TapBlock);
            for (int q0 = 0; q0 < p; q0 += PositionBlock)
            {
                int q = Math.Min(q0, p - PositionBlock);
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
                float* yc = y + q, wc = w + t;
                if (t0 == 0 && next != null)
                    for (int c = 0; c < co; c++) Sse.Prefetch0(next + (long)c * p + q);
                for (int c = 0; c < co; c++, yc += p, wc += taps)
                {
                    var lo = Avx.LoadVector256(yc);
                    var hi = Avx.LoadVector256(yc + 8);
                    var v = Vector256.Create(wc[0]);
                    a0 = Fma.MultiplyAdd(lo, v, a0); b0 = Fma.MultiplyAdd(hi, v, b0);
                    v = Vector256.Create(wc[1]);
                    a1 = Fma.MultiplyAdd(lo, v, a1); b1 = Fma.MultiplyAdd(hi, v, b1);
                    v = Vector256.Create(wc[2]);
                    a2 = Fma.MultiplyAdd(lo, v, a2); b2 = Fma.MultiplyAdd(hi, v, b2);
                    v = Vector256.Create(wc[3]);
                    a3 = Fma.MultiplyAdd(lo, v, a3); b3 = Fma.MultiplyAdd(hi, v, b3);
                }
                float* d = col + (long)t * p + q;
                a0.Store(d); b0.Store(d + 8); d += p;
                a1.Store(d); b1.Store(d + 8); d += p;
                a2.Store(d); b2.Store(d + 8); d += p;
                a3.Store(d); b3.Store(d + 8);
            }
        }
    }
}
