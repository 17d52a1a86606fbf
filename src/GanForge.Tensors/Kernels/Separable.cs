using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// A sparse (out x in) matrix acting along one spatial axis: output index o reads the inputs
/// Src[Ptr[o]..Ptr[o+1]) with Weight. Pooling, interpolation and padding all factor into one
/// such map per axis: Y = Rh X Rwᵀ for each (H,W) plane.
/// </summary>
public sealed class AxisMap
{
    public int InSize { get; }
    public int OutSize { get; }
    internal readonly int[] Ptr;
    internal readonly int[] Src;
    internal readonly float[] Weight;

    AxisMap(int inSize, List<(int Src, float W)>[] rows)
    {
        InSize = inSize; OutSize = rows.Length;
        Ptr = new int[rows.Length + 1];
        for (int o = 0; o < rows.Length; o++) Ptr[o + 1] = Ptr[o] + rows[o].Count;
        Src = new int[Ptr[^1]]; Weight = new float[Ptr[^1]];
        for (int o = 0, e = 0; o < rows.Length; o++)
            foreach (var (s, w) in rows[o]) { Src[e] = s; Weight[e] = w; e++; }
    }

    /// <summary>True when output <paramref name="o"/> reads no input (a constant-padded position).</summary>
    public bool IsEmpty(int o) => Ptr[o] == Ptr[o + 1];

    AxisMap? _transposed;

    /// <summary>
    /// The adjoint map (in and out swapped): input i of this map becomes output i, reading every output o that read
    /// it, in increasing o, with the same weight. Built once.
    /// </summary>
    internal AxisMap Transposed
    {
        get
        {
            if (_transposed != null) return _transposed;
            var rows = new List<(int, float)>[InSize];
            for (int i = 0; i < InSize; i++) rows[i] = [];
            for (int o = 0; o < OutSize; o++)
                for (int e = Ptr[o]; e < Ptr[o + 1]; e++) rows[Src[e]].Add((o, Weight[e]));
            return _transposed = new AxisMap(OutSize, rows);
        }
    }

    // The map as TapCount dense tap tables for gathers: tap k of output o reads TapSrc[k][o] with TapWeight[k][o]; where o
    // has fewer taps the rest read its first source with weight 0 (the same sum unless that input is infinite: then NaN,
    // not ±inf). TapCount is 0 (no gathers) when an output reads nothing (constant padding) or more than MaxGatherTaps.
    internal int TapCount { get; private set; } = -1;
    internal int[][] TapSrc = [];
    internal float[][] TapWeight = [];
    const int MaxGatherTaps = 4;

    internal bool EnsureTaps()
    {
        if (TapCount >= 0) return TapCount > 0;
        int taps = 0;
        bool empty = false;
        for (int o = 0; o < OutSize; o++) { taps = Math.Max(taps, Ptr[o + 1] - Ptr[o]); empty |= IsEmpty(o); }
        if (empty || taps > MaxGatherTaps) { TapCount = 0; return false; }
        TapSrc = new int[taps][]; TapWeight = new float[taps][];
        for (int k = 0; k < taps; k++)
        {
            TapSrc[k] = new int[OutSize]; TapWeight[k] = new float[OutSize];
            for (int o = 0; o < OutSize; o++)
                if (Ptr[o] + k < Ptr[o + 1]) { TapSrc[k][o] = Src[Ptr[o] + k]; TapWeight[k][o] = Weight[Ptr[o] + k]; }
                else TapSrc[k][o] = Src[Ptr[o]];
        }
        TapCount = taps;
        return true;
    }

    // The tap tables by blocks of 16 outputs for in-register permutes: where every source of block b lies in the 32
    // inputs from BlockBase[b] (pooling, interpolation by 2 or less, padding), tap k of output o reads lane
    // BlockLane[k][o] of those 32. Null where some block's sources spread wider, or without AVX-512.
    internal int[]? BlockBase;
    internal int[][] BlockLane = [];
    bool _blocksBuilt;
    internal const int Lanes = 16;

    internal bool EnsureBlocks()
    {
        if (_blocksBuilt) return BlockBase != null;
        _blocksBuilt = true;
        if (!Avx512F.IsSupported || !EnsureTaps() || OutSize < Lanes) return false;
        int blocks = OutSize / Lanes;
        var bases = new int[blocks];
        var lanes = new int[TapCount][];
        for (int k = 0; k < TapCount; k++) lanes[k] = new int[blocks * Lanes];
        for (int b = 0; b < blocks; b++)
        {
            int lo = int.MaxValue, hi = int.MinValue;
            for (int k = 0; k < TapCount; k++)
                for (int o = b * Lanes; o < (b + 1) * Lanes; o++) { lo = Math.Min(lo, TapSrc[k][o]); hi = Math.Max(hi, TapSrc[k][o]); }
            if (hi - lo >= 2 * Lanes) return false;
            bases[b] = lo;
            for (int k = 0; k < TapCount; k++)
                for (int o = b * Lanes; o < (b + 1) * Lanes; o++) lanes[k][o] = TapSrc[k][o] - lo;
        }
        (BlockBase, BlockLane) = (bases, lanes);
        return true;
    }

    static AxisMap Build(int inSize, int outSize, Action<int, List<(int, float)>> fill)
    {
        var rows = new List<(int, float)>[outSize];
        for (int o = 0; o < outSize; o++) { rows[o] = []; fill(o, rows[o]); }
        return new AxisMap(inSize, rows);
    }

    /// <summary>Average pooling along one axis (PyTorch's divisor rules; the 2-D divisor is the product of the two axes').</summary>
    public static AxisMap AvgPool(int inSize, int outSize, int k, int s, int p, bool countIncludePad) =>
        Build(inSize, outSize, (o, r) =>
        {
            int start = o * s - p, end = Math.Min(start + k, inSize + p);
            int poolSize = end - start;
            start = Math.Max(start, 0); end = Math.Min(end, inSize);
            float w = 1f / (countIncludePad ? poolSize : Math.Max(end - start, 1));
            for (int i = start; i < end; i++) r.Add((i, w));
        });

    /// <summary>Adaptive average pooling: output o averages [floor(o*in/out), ceil((o+1)*in/out)).</summary>
    public static AxisMap AdaptiveAvg(int inSize, int outSize) =>
        Build(inSize, outSize, (o, r) =>
        {
            int start = (int)((long)o * inSize / outSize), end = (int)(((long)(o + 1) * inSize + outSize - 1) / outSize);
            for (int i = start; i < end; i++) r.Add((i, 1f / (end - start)));
        });

    /// <summary>Nearest neighbour as PyTorch's 'nearest': src = min(floor(o * scale), in - 1).</summary>
    /// <param name="inSize">Length of the input axis.</param>
    /// <param name="outSize">Length of the output axis.</param>
    /// <param name="scale">in/out, or 1/scale_factor when a scale factor was given.</param>
    public static AxisMap Nearest(int inSize, int outSize, double scale) =>
        Build(inSize, outSize, (o, r) => r.Add((Math.Min((int)Math.Floor((float)(o * (float)scale)), inSize - 1), 1f)));

    /// <summary>Linear interpolation as PyTorch's 'bilinear' along one axis (area_pixel_compute_source_index).</summary>
    /// <param name="inSize">Length of the input axis.</param>
    /// <param name="outSize">Length of the output axis.</param>
    /// <param name="alignCorners">Map the end pixels' centres onto each other (PyTorch's align_corners=True).</param>
    /// <param name="scale">in/out, or 1/scale_factor when a scale factor was given; ignored with alignCorners.</param>
    public static AxisMap Linear(int inSize, int outSize, bool alignCorners, double scale)
    {
        var map = Build(inSize, outSize, (o, r) =>
        {
            float src;
            if (alignCorners) src = outSize > 1 ? (float)(inSize - 1) / (outSize - 1) * o : 0f;
            else src = Math.Max((float)scale * (o + 0.5f) - 0.5f, 0f);
            int i0 = Math.Min((int)src, inSize - 1);
            int i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
            float l1 = src - i0, l0 = 1f - l1;
            if (i1 == i0) r.Add((i0, l0 + l1));
            else { r.Add((i0, l0)); r.Add((i1, l1)); }
        });
        map.IsDoubling = !alignCorners && outSize == 2 * inSize && (float)scale == 0.5f;
        return map;
    }

    /// <summary>True for a map made by <see cref="Linear"/> that doubles its axis with half-pixel centres (<see cref="Bilinear2x"/>'s case).</summary>
    internal bool IsDoubling { get; private set; }

    /// <summary>
    /// True for a map made by <see cref="Pad"/>: every output reads at most one input, with weight 1, so a plane padded
    /// along both axes is an index map (<see cref="Separable"/> moves it as one gather, its adjoint as one scatter-add).
    /// </summary>
    internal bool IsPadding => Padding != null;

    /// <summary>What a map made by <see cref="Pad"/> pads: the same for the same map (<see cref="PadPlanes"/> keeps its plans by it).</summary>
    internal readonly record struct PadSpec(int InSize, int Before, int After, PadMode Mode);

    /// <summary>The padding this map makes, for a map made by <see cref="Pad"/>; else null.</summary>
    internal PadSpec? Padding { get; private set; }

    /// <summary>Padding (negative values crop): 'constant' leaves new positions empty, 'reflect' mirrors without the edge, 'replicate' repeats it.</summary>
    public static AxisMap Pad(int inSize, int before, int after, PadMode mode)
    {
        var map = Build(inSize, inSize + before + after, (o, r) =>
        {
            int i = o - before;
            if (mode == PadMode.Reflect)
            {
                if (i < 0) i = -i;
                if (i >= inSize) i = 2 * (inSize - 1) - i;
            }
            else if (mode == PadMode.Replicate) i = Math.Clamp(i, 0, inSize - 1);
            if ((uint)i < (uint)inSize) r.Add((i, 1f));
        });
        map.Padding = new PadSpec(inSize, before, after, mode);
        return map;
    }
}

/// <summary>How <see cref="AxisMap.Pad"/> fills new positions (as torch.nn.functional.pad's mode).</summary>
public enum PadMode { Constant, Reflect, Replicate }

/// <summary>Applies a pair of <see cref="AxisMap"/>s to every (H,W) plane, and their adjoint.</summary>
public static class Separable
{
    const int Lanes = AxisMap.Lanes;

    /// <summary>x: (planes,H,W) -> y: (planes,OH,OW); y = Rh x Rwᵀ per plane.</summary>
    public static void Forward(float[] x, float[] y, int planes, AxisMap rows, AxisMap cols)
    {
        if (rows.IsPadding && cols.IsPadding)
        {
            if (PadPlanes.For(rows, cols) is { } plan) plan.Forward(x, y, planes);
            else PadForward(x, y, planes, rows, cols);
            return;
        }
        if (rows.IsDoubling && cols.IsDoubling && Bilinear2x.Suits(cols.InSize)) { Bilinear2x.Forward(x, y, planes, rows.InSize, cols.InSize); return; }
        int h = rows.InSize, w = cols.InSize, oh = rows.OutSize, ow = cols.OutSize;
        bool permute = cols.EnsureBlocks(), gather = !permute && Avx2.IsSupported && ow >= Vector256<float>.Count && cols.EnsureTaps();
        Threading.ForRanges(planes, (_, from, to) =>
        {
            // 32 floats of slack: a block's two vector loads may reach past the last row.
            var tmp = new float[oh * w + 2 * Lanes];
            for (int pl = from; pl < to; pl++)
            {
                var xp = x.AsSpan(pl * h * w, h * w);
                var yp = y.AsSpan(pl * oh * ow, oh * ow);
                // tmp = Rh x
                if (w % Lanes == 0 && Vector512.IsHardwareAccelerated) Rows(xp, tmp, rows, w);
                else
                {
                    Array.Clear(tmp);
                    for (int o = 0; o < oh; o++)
                    {
                        var t = tmp.AsSpan(o * w, w);
                        for (int e = rows.Ptr[o]; e < rows.Ptr[o + 1]; e++)
                            TensorPrimitives.MultiplyAdd(xp.Slice(rows.Src[e] * w, w), rows.Weight[e], t, t);
                    }
                }
                // y = tmp Rwᵀ
                for (int o = 0; o < oh; o++)
                {
                    var t = tmp.AsSpan(o * w, w);
                    var yr = yp.Slice(o * ow, ow);
                    int j = permute ? PermuteColumns(tmp, o * w, yr, cols) : gather ? GatherColumns(t, yr, cols) : 0;
                    for (; j < ow; j++)
                    {
                        float s = 0f;
                        for (int e = cols.Ptr[j]; e < cols.Ptr[j + 1]; e++) s += cols.Weight[e] * t[cols.Src[e]];
                        yr[j] = s;
                    }
                }
            }
        });
    }

    // tmp row o = Σ_e Weight[e]·x row Src[e], 16 columns a vector (rows a multiple of 16 long), taps in the order of the
    // scalar loop from 0, so the sums round alike; an output row that reads nothing (constant padding) is zero.
    static unsafe void Rows(ReadOnlySpan<float> x, float[] tmp, AxisMap rows, int w)
    {
        fixed (float* xp = x, tp = tmp)
            for (int o = 0; o < rows.OutSize; o++)
                for (int c = 0; c < w; c += Lanes)
                {
                    var s = Vector512<float>.Zero;
                    for (int e = rows.Ptr[o]; e < rows.Ptr[o + 1]; e++) s += Vector512.Create(rows.Weight[e]) * Vector512.Load(xp + rows.Src[e] * w + c);
                    s.Store(tp + o * w + c);
                }
    }

    // yr[j] = Σ_k TapWeight[k][j]·t[TapSrc[k][j]] for j in whole blocks of 16: the block's 32 inputs in two registers,
    // each tap's lanes picked by one two-register permute (taps in the order of the scalar loop, so the sums round
    // alike); t is row `start` of tmp, whose slack covers the loads. Returns the first j left to the scalar loop.
    static unsafe int PermuteColumns(float[] tmp, int start, Span<float> yr, AxisMap cols)
    {
        int blocks = yr.Length / Lanes;
        var bases = cols.BlockBase!;
        fixed (float* tp = tmp, yp = yr)
        {
            for (int b = 0; b < blocks; b++)
            {
                float* src = tp + start + bases[b];
                var (lo, hi) = (Vector512.Load(src), Vector512.Load(src + Lanes));
                var s = Vector512<float>.Zero;
                for (int k = 0; k < cols.TapCount; k++)
                {
                    var lane = Vector512.Create(cols.BlockLane[k], b * Lanes);
                    s += Vector512.Create(cols.TapWeight[k], b * Lanes) * Avx512F.PermuteVar16x32x2(lo, lane, hi);
                }
                s.Store(yp + b * Lanes);
            }
        }
        return blocks * Lanes;
    }

    // yr[j] = Σ_k TapWeight[k][j]·t[TapSrc[k][j]] for j in whole vectors of 8 (AVX2 gathers, taps in the order of the
    // scalar loop, so the sums round alike); returns the first j left to the scalar loop.
    static unsafe int GatherColumns(Span<float> t, Span<float> yr, AxisMap cols)
    {
        int ow = yr.Length, lanes = Vector256<float>.Count, j = 0;
        fixed (float* tp = t, yp = yr)
        {
            for (; j <= ow - lanes; j += lanes)
            {
                var s = Vector256<float>.Zero;
                for (int k = 0; k < cols.TapCount; k++)
                {
                    var idx = Vector256.Create(cols.TapSrc[k], j);
                    var wk = Vector256.Create(cols.TapWeight[k], j);
                    s += wk * Avx2.GatherVector256(tp, idx, 4);
                }
                s.Store(yp + j);
            }
        }
        return j;
    }

    /// <summary>
    /// g: (planes,OH,OW) -> dx: (planes,H,W); dx = Rhᵀ g Rw per plane (the adjoint of <see cref="Forward"/>): the
    /// forward pass of the transposed maps.
    /// </summary>
    public static void Adjoint(float[] g, float[] dx, int planes, AxisMap rows, AxisMap cols)
    {
        if (rows.IsPadding && cols.IsPadding)
        {
            if (PadPlanes.For(rows, cols) is { } plan) plan.Adjoint(g, dx, planes);
            else PadAdjoint(g, dx, planes, rows, cols);
        }
        else if (rows.IsDoubling && cols.IsDoubling && Bilinear2x.Suits(cols.InSize)) Bilinear2x.Adjoint(g, dx, planes, rows.InSize, cols.InSize);
        else Forward(g, dx, planes, rows.Transposed, cols.Transposed);
    }

    // Padding along both axes as one index per output position: where in the input plane it reads, or -1 (a constant
    // position). PadPlanes builds its permutes from it; PadForward and PadAdjoint move planes by it without AVX-512 or
    // past PadPlanes' size. The two sparse products ran cyclegan32's 8 x 8 -> 10 x 10 reflection of 4 x 256 planes in
    // 0.33 ms (0.45 its adjoint), a few floats a call at a time.
    internal static int[] PadIndex(AxisMap rows, AxisMap cols)
    {
        int oh = rows.OutSize, ow = cols.OutSize, w = cols.InSize;
        var index = new int[oh * ow];
        for (int o = 0; o < oh; o++)
            for (int j = 0; j < ow; j++)
                index[o * ow + j] = rows.IsEmpty(o) || cols.IsEmpty(j) ? -1 : rows.Src[rows.Ptr[o]] * w + cols.Src[cols.Ptr[j]];
        return index;
    }

    // y[q] = x[index[q]] (0 where index[q] is -1) per plane: AVX2 masked gathers of 8 positions, the rest one by one.
    static unsafe void PadForward(float[] x, float[] y, int planes, AxisMap rows, AxisMap cols)
    {
        var index = PadIndex(rows, cols);
        int inPlane = rows.InSize * cols.InSize, outPlane = index.Length, lanes = Vector256<int>.Count;
        int vectorEnd = Avx2.IsSupported ? outPlane / lanes * lanes : 0;
        Threading.ForRanges(planes, (_, from, to) =>
        {
            fixed (float* px = x, py = y)
            fixed (int* pi = index)
                for (int pl = from; pl < to; pl++)
                {
                    float* xp = px + (long)pl * inPlane, yp = py + (long)pl * outPlane;
                    for (int q = 0; q < vectorEnd; q += lanes)
                    {
                        var idx = Vector256.Load(pi + q);
                        var inside = Vector256.GreaterThanOrEqual(idx, Vector256<int>.Zero).AsSingle();
                        Avx2.GatherMaskVector256(Vector256<float>.Zero, xp, idx, inside, 4).Store(yp + q);
                    }
                    for (int q = vectorEnd; q < outPlane; q++) yp[q] = pi[q] >= 0 ? xp[pi[q]] : 0f;
                }
        });
    }

    // dx[index[q]] += g[q] per plane, the adjoint of PadForward (dx overwritten).
    static unsafe void PadAdjoint(float[] g, float[] dx, int planes, AxisMap rows, AxisMap cols)
    {
        var index = PadIndex(rows, cols);
        int inPlane = rows.InSize * cols.InSize, outPlane = index.Length;
        Threading.ForRanges(planes, (_, from, to) =>
        {
            dx.AsSpan(from * inPlane, (to - from) * inPlane).Clear();
            fixed (float* pg = g, pd = dx)
            fixed (int* pi = index)
                for (int pl = from; pl < to; pl++)
                {
                    float* gp = pg + (long)pl * outPlane, dp = pd + (long)pl * inPlane;
                    for (int q = 0; q < outPlane; q++)
                        if (pi[q] >= 0) dp[pi[q]] += gp[q];
                }
        });
    }
}

/// <summary>Max pooling's argmax and the gather/scatter it reduces to once the indices are fixed.</summary>
public static class MaxPool
{
    /// <summary>
    /// x: (planes,H,W) -> idx: (planes,OH,OW), the flat in-plane index of each window's maximum
    /// (first one on ties; NaN wins, as PyTorch). Padding never wins.
    /// </summary>
    public static void Indices(float[] x, int[] idx, int planes, int h, int w, int oh, int ow,
        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
    {
        if (IsHalving(h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw)) { Halving(x, planes, h, w, oh, ow, idx, null); return; }
        Threading.ForRanges(planes, (_, from, to) =>
        {
            for (int pl = from; pl < to; pl++)
            {
                var xp = x.AsSpan(pl * h * w, h * w);
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int best = -1; float bv = float.NegativeInfinity;
                        for (int a = 0; a < kh; a++)
                        {
                            int ih = i * sh - ph + a * dh;
                            if ((uint)ih >= (uint)h) continue;
                            for (int b = 0; b < kw; b++)
                            {
                                int iw = j * sw - pw + b * dw;
                                if ((uint)iw >= (uint)w) continue;
                                float v = xp[ih * w + iw];
                                if (best < 0 || v > bv || float.IsNaN(v)) { best = ih * w + iw; bv = v; if (float.IsNaN(v)) goto done; }
                            }
                        }
                    done:
                        idx[(pl * oh + i) * ow + j] = best;
                    }
            }
        });
    }

    /// <summary>
    /// The values of max pooling without its indices (where no graph needs them): y[p,o] = x[p, the index
    /// <see cref="Indices"/> finds], bit for bit, in one pass.
    /// </summary>
    public static void Values(float[] x, float[] y, int planes, int h, int w, int oh, int ow,
        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
    {
        if (IsHalving(h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw)) { Halving(x, planes, h, w, oh, ow, null, y); return; }
        // The indices a moment, from the shared pool as the graph's are (MaxPool2d).
        var idx = System.Buffers.ArrayPool<int>.Shared.Rent(planes * oh * ow);
        Indices(x, idx, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw);
        Gather(x, idx, y, planes, h * w, oh * ow);
        System.Buffers.ArrayPool<int>.Shared.Return(idx);
    }

    // Planes of fewer positions than this a thread are not worth splitting.
    const int MinPlanePositions = 1 << 15;

    // 2 x 2 windows of stride 2, no padding or dilation, inside the input (the CNNs' pooling): every window has its four values.
    static bool IsHalving(int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) =>
        kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1 && 2 * oh <= h && 2 * ow <= w;

    // Every plane's 2 x 2 windows over the threads: their indices into idx and/or their values into y.
    static void Halving(float[] x, int planes, int h, int w, int oh, int ow, int[]? idx, float[]? y) =>
        Threading.ForRanges(planes, (_, from, to) => { for (int pl = from; pl < to; pl++) HalvingPlane(x, pl * h * w, w, oh, ow, idx, pl * oh * ow, y); },
            MinPlanePositions / Math.Max(h * w, 1));

    // One plane's 2 x 2 windows, as Indices' loop scans them (row by row, the first maximum, a NaN at once): their indices
    // into idx and/or their values into y, from offsets in and out.
    static void HalvingPlane(float[] x, int inOffset, int w, int oh, int ow, int[]? idx, int outOffset, float[]? y)
    {
        for (int i = 0; i < oh; i++)
        {
            int top = inOffset + 2 * i * w, o = outOffset + i * ow;
            for (int j = 0; j < ow; j++)
            {
                int a = top + 2 * j, best = a;
                float bv = x[a];
                if (!float.IsNaN(bv) && Next(x, a + 1, ref best, ref bv) && Next(x, a + w, ref best, ref bv)) Next(x, a + w + 1, ref best, ref bv);
                if (idx != null) idx[o + j] = best - inOffset;
                if (y != null) y[o + j] = bv;
            }
        }
    }

    // Takes x[at] where it beats the maximum so far or is NaN; false once a NaN is taken (it wins the window).
    static bool Next(float[] x, int at, ref int best, ref float bv)
    {
        float v = x[at];
        if (!(v > bv || float.IsNaN(v))) return true;
        (best, bv) = (at, v);
        return !float.IsNaN(v);
    }

    /// <summary>x: (planes,inPlane) -> y: (planes,outPlane); y[p,o] = x[p, idx[p,o]].</summary>
    public static void Gather(float[] x, int[] idx, float[] y, int planes, int inPlane, int outPlane)
    {
        Threading.ForRanges(planes, (_, from, to) =>
        {
            for (int pl = from; pl < to; pl++)
                for (int o = 0; o < outPlane; o++) y[pl * outPlane + o] = x[pl * inPlane + idx[pl * outPlane + o]];
        });
    }

    /// <summary>The adjoint of <see cref="Gather"/>: g: (planes,outPlane) -> dx: (planes,inPlane), summing repeats.</summary>
    public static void Scatter(float[] g, int[] idx, float[] dx, int planes, int inPlane, int outPlane)
    {
        Threading.ForRanges(planes, (_, from, to) =>
        {
            dx.AsSpan(from * inPlane, (to - from) * inPlane).Clear();
            for (int pl = from; pl < to; pl++)
                for (int o = 0; o < outPlane; o++) dx[pl * inPlane + idx[pl * outPlane + o]] += g[pl * outPlane + o];
        });
    }
}
