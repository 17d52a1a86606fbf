using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using V = System.Runtime.Intrinsics.Vector256<float>;

namespace GanForge.Kernels;

public static partial class Winograd
{
    /// <summary>
    /// F(4x4, 3x3), on Lavin and Gray's points 0, ±1, ±2 and ∞:
    /// Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
    /// G = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1],
    /// Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
    /// </summary>
    /// <remarks>
    /// A block's maps of one channel are copied into a plane of zero-bordered slots, one an image the block touches after
    /// one slot of zeros. Eight tiles are transformed at once as four pairs of row neighbours: each pair's rows are
    /// combined as they lie in 8-float vectors (a 128-bit half a tile), then the four pairs' halves are transposed into
    /// columns, so that a vector's lanes hold tiles 0, 2, 4, 6, 1, 3, 5, 7 of the eight. The GEMMs take the tiles in
    /// any order; the output transform's transpose puts each pair's outputs back side by side in a row. A block's last
    /// vector is filled with tiles of the zero slot, so the GEMMs run on whole vectors and add nothing to dU.
    /// Needs the output maps' width a multiple of 8 (whole pairs in every row).
    /// </remarks>
    readonly struct F4 : IVariant
    {
        public static int Size => 4;
        public static int Elements => 36;
        public static int Columns(int count) => (count + Lanes - 1) / Lanes * Lanes;

        // A block's room for one channel: a zero slot, then a slot of Height x Stride floats an image, the map at
        // (Offset, Offset) in it. Inputs: a tile reads a 6x6 patch from (4r, 4c) (the pair's second loads reach column
        // 4c + 9); output gradients: a 4x4 block from (4r, 4c).
        readonly record struct Slots(int Height, int Stride, int Offset)
        {
            public static Slots Of(Tiling t, bool inputs) =>
                inputs ? new(4 * t.Rows + 2, 4 * t.Columns + 2, t.Pad) : new(4 * t.Rows, 4 * t.Columns, 0);

            // Images a block of perBlock tiles can touch.
            public static int Images(Tiling t, int perBlock) => Math.Min(t.Count / t.PerImage, perBlock / t.PerImage + 2);

            public int Slot => Height * Stride;

            // The plane position of tile (row, col) of the block's image `image` (0: its first).
            public int Origin(int image, int row, int col) => (image + 1) * Slot + 4 * row * Stride + 4 * col;

            public void Fill(float[] maps, int at, int height, int width, int image, float[] plane)
            {
                int to = (image + 1) * Slot + Offset * Stride + Offset;
                for (int r = 0; r < height; r++) CopyRow(ref maps[at + r * width], ref plane[to + r * Stride], width);
            }
        }

        public static float[] RentPlane(Tiling t, bool inputs, int perBlock) =>
            RentZeroed((Slots.Images(t, perBlock) + 1) * Slots.Of(t, inputs).Slot);

        // Each pair's patch in the plane, the tiles past the block's last reading the zero slot.
        static void PairOrigins(Tiling t, Slots slots, int p0, int count, Span<int> origins)
        {
            int image0 = p0 / t.PerImage;
            for (int k = 0; k < origins.Length; k++)
            {
                if (2 * k >= count) { origins[k] = 0; continue; }
                var (img, row, col) = t.Locate(p0 + 2 * k);
                origins[k] = slots.Origin(img - image0, row, col);
            }
        }

        // The channel's maps of the block's images (n, channels, height, width) into their slots.
        static void FillSlots(float[] maps, int channel, int channels, int height, int width, Tiling t, int p0, int count, Slots slots, float[] plane)
        {
            int hw = height * width, image0 = p0 / t.PerImage, image1 = (p0 + count - 1) / t.PerImage;
            for (int img = image0; img <= image1; img++) slots.Fill(maps, (img * channels + channel) * hw, height, width, img - image0, plane);
        }

        public static void TransformInputs(float[] x, int cin, int c0, int c1, Tiling t, int p0, int count, float[] v, int ld, float[] plane) =>
            TransformMaps<InputGroup>(x, cin, c0, c1, t.InH, t.InW, Slots.Of(t, inputs: true), t, p0, count, v, ld, plane);

        public static void TransformGradients(float[] gy, int cout, int k0, int k1, Tiling t, int p0, int count, float[] z, int ld, float[] plane) =>
            TransformMaps<GradientGroup>(gy, cout, k0, k1, t.OutH, t.OutW, Slots.Of(t, inputs: false), t, p0, count, z, ld, plane);

        // dst[e][ch][q] by T for the block's tiles of every map (N, channels, height, width), eight tiles at a time, the
        // block's maps of a channel copied into their slots first.
        [SkipLocalsInit]
        static void TransformMaps<TGroup>(float[] maps, int channels, int c0, int c1, int height, int width, Slots slots, Tiling t, int p0, int count,
            float[] dst, int ld, float[] plane) where TGroup : IGroupTransform
        {
            Span<int> origins = stackalloc int[Columns(count) / 2];
            PairOrigins(t, slots, p0, count, origins);
            for (int ch = c0; ch < c1; ch++)
            {
                FillSlots(maps, ch, channels, height, width, t, p0, count, slots, plane);
                for (int q = 0; q < count; q += Lanes) TGroup.Group(ref plane[0], origins.Slice(q / 2, 4), slots.Stride, ref dst[ch * ld + q], channels * ld);
            }
        }

        // Eight tiles' transform from four pairs of patches in the slots (origins[k]: pair k's) into elements 0-35 at dst,
        // each element `plane` floats after the last.
        interface IGroupTransform
        {
            static abstract void Group(ref float slots, ReadOnlySpan<int> origins, int stride, ref float dst, int plane);
        }

        [SkipLocalsInit]
        public static void TransformOutputs(float[] m, int cout, int k0, int k1, Tiling t, int p0, int count, int ld, float[] y)
        {
            int hw = t.OutH * t.OutW, pairs = Columns(count) / 2;
            // each pair's top-left output in its image's channel 0, and how many of its four rows the map has
            Span<int> targets = stackalloc int[pairs], rows = stackalloc int[pairs];
            for (int k = 0; k < pairs; k++)
            {
                if (2 * k >= count) { (targets[k], rows[k]) = (0, 0); continue; }
                var (img, row, col) = t.Locate(p0 + 2 * k);
                (targets[k], rows[k]) = (img * cout * hw + 4 * row * t.OutW + 4 * col, Math.Min(4, t.OutH - 4 * row));
            }
            for (int c = k0; c < k1; c++)
                for (int q = 0; q < count; q += Lanes)
                    OutputGroup(ref m[c * ld + q], cout * ld, targets.Slice(q / 2, 4), rows.Slice(q / 2, 4), ref y[c * hw], t.OutW);
        }

        // Bᵀ d B of four pairs of 6x6 input patches.
        readonly struct InputGroup : IGroupTransform
        {
            [SkipLocalsInit]
            public static void Group(ref float slots, ReadOnlySpan<int> origins, int stride, ref float v, int plane)
            {
                // Bᵀ d on each pair's rows as they lie: columns 0-7 (a tile's 0-3 in each half) and 2-9 (its 2-5). [row·4 + pair]
                Span<V> lo = stackalloc V[24], hi = stackalloc V[24];
                for (int k = 0; k < 4; k++)
                {
                    ref float o = ref Unsafe.Add(ref slots, origins[k]);
                    CombineInputRows(ref o, stride, 0, lo, k);
                    CombineInputRows(ref o, stride, 2, hi, k);
                }
                // (Bᵀ d) B: each combined row's six columns of the eight tiles, combined the same way
                for (int i = 0; i < 6; i++)
                {
                    var (x0, x1, x2, x3) = Transpose(lo[4 * i], lo[4 * i + 1], lo[4 * i + 2], lo[4 * i + 3]);
                    var (x4, x5) = TransposeUpper(hi[4 * i], hi[4 * i + 1], hi[4 * i + 2], hi[4 * i + 3]);
                    var (c0, c1, c2, c3, c4, c5) = Bt(x0, x1, x2, x3, x4, x5);
                    Store6(c0, c1, c2, c3, c4, c5, ref v, plane, 6 * i);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void CombineInputRows(ref float o, int stride, int column, Span<V> rows, int pair)
        {
            var (r0, r1, r2, r3, r4, r5) = Bt(Load(ref o, column), Load(ref o, stride + column), Load(ref o, 2 * stride + column),
                Load(ref o, 3 * stride + column), Load(ref o, 4 * stride + column), Load(ref o, 5 * stride + column));
            (rows[pair], rows[4 + pair], rows[8 + pair], rows[12 + pair], rows[16 + pair], rows[20 + pair]) = (r0, r1, r2, r3, r4, r5);
        }

        // A dy Aᵀ of four pairs of 4x4 output-gradient blocks.
        readonly struct GradientGroup : IGroupTransform
        {
            [SkipLocalsInit]
            public static void Group(ref float slots, ReadOnlySpan<int> origins, int stride, ref float z, int plane)
            {
                Span<V> rows = stackalloc V[24]; // A dy on each pair's rows as they lie, [row·4 + pair]
                for (int k = 0; k < 4; k++)
                {
                    ref float o = ref Unsafe.Add(ref slots, origins[k]);
                    var (r0, r1, r2, r3, r4, r5) = A(Load(ref o, 0), Load(ref o, stride), Load(ref o, 2 * stride), Load(ref o, 3 * stride));
                    (rows[k], rows[4 + k], rows[8 + k], rows[12 + k], rows[16 + k], rows[20 + k]) = (r0, r1, r2, r3, r4, r5);
                }
                for (int i = 0; i < 6; i++)
                {
                    var (x0, x1, x2, x3) = Transpose(rows[4 * i], rows[4 * i + 1], rows[4 * i + 2], rows[4 * i + 3]);
                    var (c0, c1, c2, c3, c4, c5) = A(x0, x1, x2, x3);
                    Store6(c0, c1, c2, c3, c4, c5, ref z, plane, 6 * i);
                }
            }
        }

        // Elements 0-35 of eight tiles at m (each `plane` after the last) into their pairs' 4x8 blocks of the map at y:
        // pair k's from targets[k], its first rows[k] rows.
        [SkipLocalsInit]
        static void OutputGroup(ref float m, int plane, ReadOnlySpan<int> targets, ReadOnlySpan<int> rows, ref float y, int width)
        {
            Span<V> t = stackalloc V[24]; // Aᵀ m: [row·6 + column]
            for (int j = 0; j < 6; j++)
            {
                var (o0, o1, o2, o3) = At(Load(ref m, j * plane), Load(ref m, (6 + j) * plane), Load(ref m, (12 + j) * plane),
                    Load(ref m, (18 + j) * plane), Load(ref m, (24 + j) * plane), Load(ref m, (30 + j) * plane));
                (t[j], t[6 + j], t[12 + j], t[18 + j]) = (o0, o1, o2, o3);
            }
            for (int r = 0; r < 4; r++)
            {
                var (c0, c1, c2, c3) = At(t[6 * r], t[6 * r + 1], t[6 * r + 2], t[6 * r + 3], t[6 * r + 4], t[6 * r + 5]);
                var (p0, p1, p2, p3) = Transpose(c0, c1, c2, c3); // pair k's row r: its two tiles' four columns
                if (r < rows[0]) p0.StoreUnsafe(ref y, (nuint)(targets[0] + r * width));
                if (r < rows[1]) p1.StoreUnsafe(ref y, (nuint)(targets[1] + r * width));
                if (r < rows[2]) p2.StoreUnsafe(ref y, (nuint)(targets[2] + r * width));
                if (r < rows[3]) p3.StoreUnsafe(ref y, (nuint)(targets[3] + r * width));
            }
        }

        // Bᵀ applied to d0 .. d5: 4d0 - 5d2 + d4, (d4 - 4d2) ± (d3 - 4d1), (d4 - d2) ± 2(d3 - d1), 4d1 - 5d3 + d5.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V, V, V, V, V) Bt(V d0, V d1, V d2, V d3, V d4, V d5)
        {
            var (four, minusFour, minusFive, two) = (Vector256.Create(4f), Vector256.Create(-4f), Vector256.Create(-5f), Vector256.Create(2f));
            var (t, s) = (Vector256.FusedMultiplyAdd(minusFour, d2, d4), Vector256.FusedMultiplyAdd(minusFour, d1, d3));
            var (u, w) = (d4 - d2, d3 - d1);
            return (Vector256.FusedMultiplyAdd(four, d0, Vector256.FusedMultiplyAdd(minusFive, d2, d4)), t + s, t - s,
                Vector256.FusedMultiplyAdd(two, w, u), Vector256.FusedMultiplyAdd(-two, w, u),
                Vector256.FusedMultiplyAdd(four, d1, Vector256.FusedMultiplyAdd(minusFive, d3, d5)));
        }

        // A applied to y0 .. y3 (the transpose of Aᵀ): y0, (y0 + y2) ± (y1 + y3), (y0 + 4y2) ± 2(y1 + 4y3), y3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V, V, V, V, V) A(V y0, V y1, V y2, V y3)
        {
            var four = Vector256.Create(4f);
            var (even, odd) = (y0 + y2, y1 + y3);
            var (even4, odd4) = (Vector256.FusedMultiplyAdd(four, y2, y0), Vector256.Create(2f) * Vector256.FusedMultiplyAdd(four, y3, y1));
            return (y0, even + odd, even - odd, even4 + odd4, even4 - odd4, y3);
        }

        // Aᵀ applied to m0 .. m5: m0 + s1 + s2, d1 + 2d2, s1 + 4s2, d1 + 8d2 + m5 (s1, d1 = m1 ± m2; s2, d2 = m3 ± m4).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V, V, V) At(V m0, V m1, V m2, V m3, V m4, V m5)
        {
            var (s1, d1, s2, d2) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4);
            return (m0 + s1 + s2, Vector256.FusedMultiplyAdd(Vector256.Create(2f), d2, d1), Vector256.FusedMultiplyAdd(Vector256.Create(4f), s2, s1),
                Vector256.FusedMultiplyAdd(Vector256.Create(8f), d2, d1) + m5);
        }

        // G applied to g0 .. g2: ¼g0, -⅙(g0 + g1 + g2), -⅙(g0 - g1 + g2), g0/24 ± g1/12 + g2/6, g2.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V, V, V, V, V) G(V g0, V g1, V g2)
        {
            var (sixth, twelfth) = (Vector256.Create(1f / 6), Vector256.Create(1f / 12));
            var s = g0 + g2;
            var p = Vector256.FusedMultiplyAdd(Vector256.Create(1f / 24), g0, sixth * g2);
            return (Vector256.Create(0.25f) * g0, -sixth * (s + g1), -sixth * (s - g1),
                Vector256.FusedMultiplyAdd(twelfth, g1, p), Vector256.FusedMultiplyAdd(-twelfth, g1, p), g2);
        }

        // Gᵀ applied to a0 .. a5: ¼a0 - ⅙(a1 + a2) + (a3 + a4)/24, ⅙(a2 - a1) + (a3 - a4)/12, ⅙(a3 + a4 - a1 - a2) + a5.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V, V) Gt(V a0, V a1, V a2, V a3, V a4, V a5)
        {
            var sixth = Vector256.Create(1f / 6);
            var (s12, d12, s34, d34) = (a1 + a2, a2 - a1, a3 + a4, a3 - a4);
            return (Vector256.Create(0.25f) * a0 - sixth * s12 + Vector256.Create(1f / 24) * s34,
                Vector256.FusedMultiplyAdd(sixth, d12, Vector256.Create(1f / 12) * d34), Vector256.FusedMultiplyAdd(sixth, s34 - s12, a5));
        }

        // t = G g Gᵀ (6x6 from 3x3), each lane a filter.
        public static void FilterTile(ReadOnlySpan<V> g, Span<V> t)
        {
            Span<V> a = stackalloc V[18]; // G g: 6 x 3
            for (int j = 0; j < 3; j++)
                (a[j], a[3 + j], a[6 + j], a[9 + j], a[12 + j], a[15 + j]) = G(g[j], g[3 + j], g[6 + j]);
            for (int i = 0; i < 6; i++)
                (t[6 * i], t[6 * i + 1], t[6 * i + 2], t[6 * i + 3], t[6 * i + 4], t[6 * i + 5]) = G(a[3 * i], a[3 * i + 1], a[3 * i + 2]);
        }

        // taps = Gᵀ dU G (3x3 from 6x6), each lane a filter. scratch: 18 vectors.
        public static void FilterTaps(ReadOnlySpan<V> du, Span<V> taps, Span<V> scratch)
        {
            Span<V> a = scratch[..18]; // Gᵀ dU: 3 x 6
            for (int j = 0; j < 6; j++)
                (a[j], a[6 + j], a[12 + j]) = Gt(du[j], du[6 + j], du[12 + j], du[18 + j], du[24 + j], du[30 + j]);
            for (int i = 0; i < 3; i++)
                (taps[3 * i], taps[3 * i + 1], taps[3 * i + 2]) = Gt(a[6 * i], a[6 * i + 1], a[6 * i + 2], a[6 * i + 3], a[6 * i + 4], a[6 * i + 5]);
        }

        // The in-lane 4x4 transpose: lane L of result j holds element j of lane L of a, b, c and d.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V, V, V) Transpose(V a, V b, V c, V d)
        {
            var (ab0, ab1, cd0, cd1) = (Avx.UnpackLow(a, b), Avx.UnpackHigh(a, b), Avx.UnpackLow(c, d), Avx.UnpackHigh(c, d));
            return (Avx.Shuffle(ab0, cd0, 0x44), Avx.Shuffle(ab0, cd0, 0xEE), Avx.Shuffle(ab1, cd1, 0x44), Avx.Shuffle(ab1, cd1, 0xEE));
        }

        // Results 2 and 3 of the same.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (V, V) TransposeUpper(V a, V b, V c, V d)
        {
            var (ab1, cd1) = (Avx.UnpackHigh(a, b), Avx.UnpackHigh(c, d));
            return (Avx.Shuffle(ab1, cd1, 0x44), Avx.Shuffle(ab1, cd1, 0xEE));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static V Load(ref float at, int offset) => Vector256.LoadUnsafe(ref at, (nuint)offset);

        // Elements e .. e+5 of eight tiles, each element's plane `plane` floats after the last.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store6(V a, V b, V c, V d, V e0, V f, ref float at, int plane, int e)
        {
            Store4(a, b, c, d, ref at, plane, e);
            e0.StoreUnsafe(ref at, (nuint)((e + 4) * plane));
            f.StoreUnsafe(ref at, (nuint)((e + 5) * plane));
        }
    }
}
