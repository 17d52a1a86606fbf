using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Per-sample geometry of a 2-D convolution, seen from both sides: the image side (Ci,H,W) is the
/// conv input and the convT output; the feature side (Co,OH,OW) is the conv output and the convT input.
/// The weight is (Co, Ci/groups, KH, KW) for all three members of the family (conv, convT, weight grad).
/// </summary>
public readonly record struct ConvGeometry(int Ci, int H, int W, int Co, int OH, int OW, int KH, int KW,
    int SH, int SW, int PH, int PW, int DH, int DW, int Groups)
{
    public int CiG => Ci / Groups;
    public int CoG => Co / Groups;
    /// <summary>Rows of the im2col matrix of one group: CiG * KH * KW.</summary>
    public int K => CiG * KH * KW;
    /// <summary>Output positions per sample: OH * OW.</summary>
    public int P => OH * OW;

    /// <summary>"Ci->Co kKHxKW sS pP HxW" (with "gG" and "dD" where not 1): the layer as the profile names it.</summary>
    public override string ToString() =>
        $"{Ci}->{Co} k{KH}x{KW} s{SH}{(SW != SH ? $"x{SW}" : "")} p{PH}{(PW != PH ? $"x{PW}" : "")} {H}x{W}" +
        (Groups != 1 ? $" g{Groups}" : "") + (DH != 1 || DW != 1 ? $" d{DH}x{DW}" : "");
}

/// <summary>im2col / col2im for one sample and one group, writing into a column block of a wider matrix.</summary>
public static class Im2Col
{
    /// <summary>Both directions read and write the same extents of x (CiG,H,W) and of the column rows.</summary>
    static void CheckBuffers(int xLength, int colLength, int ldCol, int colOffset, in ConvGeometry g)
    {
        if (g.CiG * g.H * g.W > xLength || (g.CiG * g.KH * g.KW - 1) * ldCol + colOffset + g.P > colLength)
            throw new ArgumentException("Im2Col: buffers too small for the geometry");
    }

    /// <summary>
    /// x: (CiG,H,W) -> col rows (CiG*KH*KW) of width OH*OW, at col[row * ldCol + colOffset + oh*OW + ow];
    /// col = x[c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW] or 0 outside the image.
    /// </summary>
    public static unsafe void Forward(ReadOnlySpan<float> x, Span<float> col, int ldCol, int colOffset, in ConvGeometry g)
    {
        CheckBuffers(x.Length, col.Length, ldCol, colOffset, g);
        int hw = g.H * g.W, ow = g.OW, sw = g.SW;
        fixed (float* px = x, pcol = col)
            for (int c = 0; c < g.CiG; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int row = (c * g.KH + kh) * g.KW + kw;
                        float* dst = pcol + (long)row * ldCol + colOffset;
                        int dx = kw * g.DW - g.PW;
                        ValidRange(dx, sw, g.W, ow, out int owStart, out int owEnd);
                        for (int oh = 0; oh < g.OH; oh++, dst += ow)
                        {
                            int ih = oh * g.SH - g.PH + kh * g.DH;
                            if ((uint)ih >= (uint)g.H || owStart >= owEnd) { new Span<float>(dst, ow).Clear(); continue; }
                            float* src = px + c * hw + ih * g.W + dx;
                            int i = 0;
                            for (; i < owStart; i++) dst[i] = 0f;
                            if (sw == 1) for (; i < owEnd; i++) dst[i] = src[i];
                            else for (; i < owEnd; i++) dst[i] = src[i * sw];
                            for (; i < ow; i++) dst[i] = 0f;
                        }
                    }
    }

    /// <summary>
    /// The adjoint of <see cref="Forward"/>: col rows -> x: (CiG,H,W), accumulating
    /// (x must be zeroed by the caller); x[c, ih, iw] += col at every position that read it.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> col, int ldCol, int colOffset, Span<float> x, in ConvGeometry g)
    {
        CheckBuffers(x.Length, col.Length, ldCol, colOffset, g);
        int hw = g.H * g.W, ow = g.OW, sw = g.SW;
        fixed (float* px = x, pcol = col)
            for (int c = 0; c < g.CiG; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int row = (c * g.KH + kh) * g.KW + kw;
                        float* srcRow = pcol + (long)row * ldCol + colOffset;
                        int dx = kw * g.DW - g.PW;
                        ValidRange(dx, sw, g.W, ow, out int owStart, out int owEnd);
                        if (owStart >= owEnd) continue;
                        for (int oh = 0; oh < g.OH; oh++)
                        {
                            int ih = oh * g.SH - g.PH + kh * g.DH;
                            if ((uint)ih >= (uint)g.H) continue;
                            float* s = srcRow + oh * ow;
                            float* d = px + c * hw + ih * g.W + dx;
                            if (sw == 1) for (int i = owStart; i < owEnd; i++) d[i] += s[i];
                            else for (int i = owStart; i < owEnd; i++) d[i * sw] += s[i];
                        }
                    }
    }

    /// <summary>
    /// Channels [c0, c1) of a batch whose output map has at most 64 positions, x: (N,Ci,H,W) -> those channels' KH·KW
    /// rows of the batch's col (Ci·KH·KW, N·OH·OW), sample s at columns [s·OH·OW, (s+1)·OH·OW). Each (row, sample) is one
    /// gather per 16 of the map's positions (two 8-lane AVX2 gathers, padding masked to 0), from a table of where each tap
    /// reads the plane, the same for every channel: the row-by-row copy of <see cref="Forward"/> moves 1-8 values a step
    /// on such maps and ran the batch's 16 MB im2col of dcgan64's 4 x 4 layer in 4 ms.
    /// </summary>
    internal static unsafe void ForwardChannelsSmallMap(float* x, int n, int c0, int c1, float* col, in ConvGeometry g)
    {
        Debug.Assert(g.P <= 64 && g.Groups == 1 && Avx2.IsSupported);
        int plane = g.H * g.W, image = g.Ci * plane, p = g.P, taps = g.KH * g.KW;
        int blocks = (p + 15) / 16, lanes = blocks * 16;
        long l = (long)n * p;
        // Per tap (kh·KW + kw), per output position q: where it reads the plane, and whether that lies inside it.
        var index = taps * lanes <= 1024 ? stackalloc int[taps * lanes] : new int[taps * lanes];
        var mask = taps * lanes <= 1024 ? stackalloc float[taps * lanes] : new float[taps * lanes];
        for (int t = 0; t < taps; t++)
            for (int q = 0; q < lanes; q++)
            {
                int ih = q / g.OW * g.SH - g.PH + t / g.KW * g.DH, iw = q % g.OW * g.SW - g.PW + t % g.KW * g.DW;
                bool inside = q < p && (uint)ih < (uint)g.H && (uint)iw < (uint)g.W;
                index[t * lanes + q] = inside ? ih * g.W + iw : 0;
                mask[t * lanes + q] = inside ? BitConverter.Int32BitsToSingle(-1) : 0f;
            }
        float* rest = stackalloc float[16];
        fixed (int* pIndex = index)
        fixed (float* pMask = mask)
            for (int c = c0; c < c1; c++)
                for (int t = 0; t < taps; t++)
                {
                    float* dst = col + (c * taps + t) * l;
                    for (int s = 0; s < n; s++, dst += p)
                    {
                        float* xs = x + (long)s * image + c * plane;
                        for (int b = 0; b < blocks; b++)
                        {
                            int at = t * lanes + b * 16, count = Math.Min(16, p - b * 16);
                            var lo = Avx2.GatherMaskVector256(Vector256<float>.Zero, xs, Vector256.Load(pIndex + at), Vector256.Load(pMask + at), 4);
                            var hi = Avx2.GatherMaskVector256(Vector256<float>.Zero, xs, Vector256.Load(pIndex + at + 8), Vector256.Load(pMask + at + 8), 4);
                            if (count == 16) { lo.Store(dst + b * 16); hi.Store(dst + b * 16 + 8); continue; }
                            lo.Store(rest); hi.Store(rest + 8);
                            new ReadOnlySpan<float>(rest, count).CopyTo(new Span<float>(dst + b * 16, count));
                        }
                    }
                }
    }

    /// <summary>
    /// The adjoint of <see cref="ForwardChannelsSmallMap"/> for channels [c0, c1): the batch's col (Ci·KH·KW, N·OH·OW)
    /// -> x (N,Ci,H,W), each input position written once with the sum of the taps that read it (at most
    /// ceil(KH/SH)·ceil(KW/SW) of them without dilation: four for DCGAN's 4 x 4 stride-2 layers), eight positions at a time by masked
    /// AVX2 gathers from a table of (tap row, output position) per position, the same for every channel and sample. The
    /// row-by-row scatter of <see cref="Backward"/> adds 1-8 values a step on such maps.
    /// </summary>
    internal static unsafe void BackwardChannelsSmallMap(float* col, int n, int c0, int c1, float* x, in ConvGeometry g)
    {
        Debug.Assert(g.P <= 64 && g.Groups == 1 && Avx2.IsSupported);
        int plane = g.H * g.W, taps = g.KH * g.KW, p = g.P;
        int lanes = (plane + 7) / 8 * 8;
        long l = (long)n * p;
        // Per input position q, slot j: the j-th (tap, output position) that reads it, as the offset tap·L + o into a
        // sample's col; the slots past a position's count masked off.
        int slots = TapsPerPosition(g.KH, g.SH, g.DH) * TapsPerPosition(g.KW, g.SW, g.DW);
        var index = slots * lanes <= 1024 ? stackalloc int[slots * lanes] : new int[slots * lanes];
        var mask = slots * lanes <= 1024 ? stackalloc float[slots * lanes] : new float[slots * lanes];
        index.Clear();
        mask.Clear();
        for (int q = 0; q < plane; q++)
        {
            int ih = q / g.W, iw = q % g.W, j = 0;
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int hNum = ih + g.PH - kh * g.DH, wNum = iw + g.PW - kw * g.DW;
                    if (hNum < 0 || wNum < 0 || hNum % g.SH != 0 || wNum % g.SW != 0) continue;
                    int oh = hNum / g.SH, ow = wNum / g.SW;
                    if (oh >= g.OH || ow >= g.OW) continue;
                    Debug.Assert(j < slots);
                    index[j * lanes + q] = (int)((kh * g.KW + kw) * l) + oh * g.OW + ow;
                    mask[j * lanes + q] = BitConverter.Int32BitsToSingle(-1);
                    j++;
                }
        }
        float* rest = stackalloc float[8];
        fixed (int* pIndex = index)
        fixed (float* pMask = mask)
            for (int c = c0; c < c1; c++)
                for (int s = 0; s < n; s++)
                {
                    float* from = col + c * taps * l + (long)s * p, to = x + ((long)s * g.Ci + c) * plane;
                    for (int q0 = 0; q0 < plane; q0 += 8)
                    {
                        var sum = Vector256<float>.Zero;
                        for (int j = 0; j < slots; j++)
                            sum += Avx2.GatherMaskVector256(Vector256<float>.Zero, from, Vector256.Load(pIndex + j * lanes + q0), Vector256.Load(pMask + j * lanes + q0), 4);
                        if (q0 + 8 <= plane) { sum.Store(to + q0); continue; }
                        sum.Store(rest);
                        new ReadOnlySpan<float>(rest, plane - q0).CopyTo(new Span<float>(to + q0, plane - q0));
                    }
                }
    }

    // The most taps of k (stride s, dilation d) that read one input position along a dimension: those whose k·d meet the
    // position's residue mod s, one in every s / gcd(d, s) of them.
    static int TapsPerPosition(int k, int s, int d)
    {
        int a = d, b = s;
        while (b != 0) (a, b) = (b, a % b);
        return (k * a + s - 1) / s;
    }

    // Output columns ow with 0 <= ow*stride + offset < size, as the half-open range [start, end).
    static void ValidRange(int offset, int stride, int size, int outSize, out int start, out int end)
    {
        start = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        end = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
        start = Math.Min(start, outSize);
        end = Math.Clamp(end, start, outSize);
    }
}
