using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

public static partial class Winograd
{
    /// <summary>
    /// F(2x2, 3x3): Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 -1 -1].
    /// Each map is copied into a zero-bordered plane once a block and its tiles transformed along the tile rows, eight at
    /// a time: rows combined as they lie, then the stride-2 columns deinterleaved by permutes.
    /// </summary>
    readonly struct F2 : IVariant
    {
        public static int Size => 2;
        public static int Elements => 16;
        public static float[] RentPlane(Tiling t, bool inputs, int perBlock) => (inputs ? PaddedInputs : PaddedGradients).Rent(t);
        public static void TransformInputs(float[] x, int cin, int c0, int c1, Tiling t, int p0, int count, float[] v, int ld, float[] plane) =>
            TransformMaps<InputTransform>(x, cin, c0, c1, t.InH, t.InW, PaddedInputs, t, p0, count, v, ld, plane);
        public static void TransformGradients(float[] gy, int cout, int k0, int k1, Tiling t, int p0, int count, float[] z, int ld, float[] plane) =>
            TransformMaps<GradientTransform>(gy, cout, k0, k1, t.OutH, t.OutW, PaddedGradients, t, p0, count, z, ld, plane);
        // The transforms' vectors past a run read the plane's next columns: the GEMMs take only the block's tiles.
        public static int Columns(int count) => count;

        // t = G g Gᵀ (4x4 from 3x3), each lane a filter.
        public static void FilterTile(ReadOnlySpan<Vector256<float>> g, Span<Vector256<float>> t)
        {
            var half = Vector256.Create(0.5f);
            Span<Vector256<float>> a = stackalloc Vector256<float>[12]; // G g: 4 x 3
            for (int j = 0; j < 3; j++)
            {
                var (g0, g1, g2) = (g[j], g[3 + j], g[6 + j]);
                a[j] = g0; a[3 + j] = half * (g0 + g1 + g2); a[6 + j] = half * (g0 - g1 + g2); a[9 + j] = g2;
            }
            for (int i = 0; i < 4; i++)
            {
                var (a0, a1, a2) = (a[3 * i], a[3 * i + 1], a[3 * i + 2]);
                t[4 * i] = a0; t[4 * i + 1] = half * (a0 + a1 + a2); t[4 * i + 2] = half * (a0 - a1 + a2); t[4 * i + 3] = a2;
            }
        }

        // taps = Gᵀ dU G (3x3 from 4x4), each lane a filter. scratch: 12 vectors.
        public static void FilterTaps(ReadOnlySpan<Vector256<float>> du, Span<Vector256<float>> taps, Span<Vector256<float>> scratch)
        {
            var half = Vector256.Create(0.5f);
            Span<Vector256<float>> a = scratch[..12]; // Gᵀ dU: 3 x 4
            for (int j = 0; j < 4; j++)
            {
                var (u0, u1, u2, u3) = (du[j], du[4 + j], du[8 + j], du[12 + j]);
                a[j] = u0 + half * (u1 + u2); a[4 + j] = half * (u1 - u2); a[8 + j] = half * (u1 + u2) + u3;
            }
            for (int i = 0; i < 3; i++)
            {
                var (a0, a1, a2, a3) = (a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]);
                taps[3 * i] = a0 + half * (a1 + a2); taps[3 * i + 1] = half * (a1 - a2); taps[3 * i + 2] = half * (a1 + a2) + a3;
            }
        }

        /// <summary>
        /// A map with the zeros around it that its tiles read: the input's padding (Pad rows and columns before it, the rest
        /// after), or past an output gradient's last row and column; and room for whole vectors past the last tile. Zeroed
        /// once a call: each map copied in writes only its own place, so the zeros stay.
        /// </summary>
        readonly record struct PaddedMaps(bool Inputs)
        {
            public int Stride(Tiling t) => 2 * t.Columns + 2 + 2 * Lanes;
            public int Offset(Tiling t) => Inputs ? t.Pad : 0;
            public float[] Rent(Tiling t) => RentZeroed((2 * t.Rows + 2) * Stride(t));

            /// <summary>The height x width map into its place in the plane.</summary>
            public void Fill(ReadOnlySpan<float> map, int height, int width, Tiling t, float[] plane)
            {
                int stride = Stride(t), offset = Offset(t);
                ref float from = ref MemoryMarshal.GetReference(map);
                for (int r = 0; r < height; r++) CopyRow(ref Unsafe.Add(ref from, r * width), ref plane[(r + offset) * stride + offset], width);
            }
        }

        static readonly PaddedMaps PaddedInputs = new(Inputs: true), PaddedGradients = new(Inputs: false);

        static readonly Vector256<int> EvensThenOdds = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);

        // The even- and the odd-indexed of the 16 floats from `at`: x0, x2, .., x14 and x1, x3, .., x15.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(ref float at) =>
            Deinterleave(Vector256.LoadUnsafe(ref at), Vector256.LoadUnsafe(ref at, 8));

        // The same for the 16 floats of lo then hi.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> lo, Vector256<float> hi)
        {
            lo = Avx2.PermuteVar8x32(lo, EvensThenOdds);
            hi = Avx2.PermuteVar8x32(hi, EvensThenOdds);
            return (Avx.Permute2x128(lo, hi, 0x20), Avx.Permute2x128(lo, hi, 0x31));
        }

        // a0, b0, a1, b1, .. into the 16 floats from `at`.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Interleave(Vector256<float> a, Vector256<float> b, ref float at)
        {
            var lo = Avx.UnpackLow(a, b);
            var hi = Avx.UnpackHigh(a, b);
            Avx.Permute2x128(lo, hi, 0x20).StoreUnsafe(ref at);
            Avx.Permute2x128(lo, hi, 0x31).StoreUnsafe(ref at, 8);
        }

        // The per-run kernels of the two transforms that read maps through a zero-bordered plane.
        interface ITileTransform
        {
            static abstract void Tiles(ref float band, int stride, int run, ref float dst, int plane);
        }

        // v[e][c][q] = (Bᵀ d B)[e] for the 4x4 input patch d of tile p0 + q (zeros outside the map).
        readonly struct InputTransform : ITileTransform
        {
            public static void Tiles(ref float band, int stride, int run, ref float dst, int plane) => InputTiles(ref band, stride, run, ref dst, plane);
        }

        // z[e][k][q] = (A dy Aᵀ)[e] for the 2x2 output-gradient block of tile p0 + q (zeros past the map's edge).
        readonly struct GradientTransform : ITileTransform
        {
            public static void Tiles(ref float band, int stride, int run, ref float dst, int plane) => GradientTiles(ref band, stride, run, ref dst, plane);
        }

        // dst[e][ch][q] by T for the tiles p0 + q, q < count, of every map (N, channels, height, width), run by run along the
        // tile rows, eight tiles at a time, each map copied into the plane once; dst's rows (ld) have room for a vector past
        // the block's last tile.
        static void TransformMaps<T>(float[] maps, int channels, int c0, int c1, int height, int width, PaddedMaps padding, Tiling tiles, int p0, int count,
            float[] dst, int ld, float[] padded) where T : ITileTransform
        {
            int hw = height * width, plane = channels * ld, stride = padding.Stride(tiles);
            for (int ch = c0; ch < c1; ch++)
                for (int q = 0, filled = -1; q < count;)
                {
                    var (img, row, col0) = tiles.Locate(p0 + q);
                    int run = Math.Min(tiles.Columns - col0, count - q);
                    if (img != filled) { padding.Fill(maps.AsSpan((img * channels + ch) * hw, hw), height, width, tiles, padded); filled = img; }
                    T.Tiles(ref padded[2 * row * stride + 2 * col0], stride, run, ref dst[ch * ld + q], plane);
                    q += run;
                }
        }

        // Tile j's patch: columns 2j .. 2j+3 of the four rows from `band` (each `stride` after the last).
        static void InputTiles(ref float band, int stride, int run, ref float v, int plane)
        {
            for (int j = 0; j < run; j += Lanes)
            {
                // Bᵀ d on the rows as they lie (rows 0-2, 1+2, 2-1, 1-3; columns 0-15 and 2-17 of the eight patches), then
                // each combined row's columns 0, 1, 2, 3 of every patch deinterleaved: half the shuffles of doing it per row.
                ref float r0 = ref Unsafe.Add(ref band, 2 * j);
                ref float r1 = ref Unsafe.Add(ref r0, stride);
                ref float r2 = ref Unsafe.Add(ref r1, stride);
                ref float r3 = ref Unsafe.Add(ref r2, stride);
                var (a0, a1, a2, a3) = RowCombinations(ref r0, ref r1, ref r2, ref r3, 0);
                var (b0, b1, b2, b3) = RowCombinations(ref r0, ref r1, ref r2, ref r3, 8);
                var (c0, c1, c2, c3) = RowCombinations(ref r0, ref r1, ref r2, ref r3, 2);
                var (e0, e1, e2, e3) = RowCombinations(ref r0, ref r1, ref r2, ref r3, 10);
                ref float o = ref Unsafe.Add(ref v, j);
                ColumnCombinations(a0, b0, c0, e0, ref o, plane, 0);
                ColumnCombinations(a1, b1, c1, e1, ref o, plane, 4);
                ColumnCombinations(a2, b2, c2, e2, ref o, plane, 8);
                ColumnCombinations(a3, b3, c3, e3, ref o, plane, 12);
            }
        }

        // Bᵀ's rows applied to eight columns from `offset` of the patch rows r0 .. r3: r0-r2, r1+r2, r2-r1, r1-r3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) RowCombinations(ref float r0, ref float r1, ref float r2,
            ref float r3, nuint offset)
        {
            var (d0, d1, d2, d3) = (Vector256.LoadUnsafe(ref r0, offset), Vector256.LoadUnsafe(ref r1, offset),
                Vector256.LoadUnsafe(ref r2, offset), Vector256.LoadUnsafe(ref r3, offset));
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3);
        }

        // One combined row of eight patches, as columns 0-7 and 8-15 (lo, hi) and 2-9 and 10-17 (lo2, hi2): B applied to
        // each patch's four columns (0-2, 1+2, 2-1, 1-3), stored as elements e .. e+3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void ColumnCombinations(Vector256<float> lo, Vector256<float> hi, Vector256<float> lo2, Vector256<float> hi2, ref float at, int plane, int e)
        {
            var (x0, x1) = Deinterleave(lo, hi);
            var (x2, x3) = Deinterleave(lo2, hi2);
            Store4(x0 - x2, x1 + x2, x2 - x1, x1 - x3, ref at, plane, e);
        }

        // y (N,cout,OutH,OutW) at the 2x2 blocks of tiles p0 .. p0+count = Aᵀ m A, m[e][k][q] (ld: m's row length, with
        // room for a vector past the block's last tile), run by run along the tile rows.
        public static void TransformOutputs(float[] m, int cout, int k0, int k1, Tiling tiles, int p0, int count, int ld, float[] y)
        {
            int hw = tiles.OutH * tiles.OutW, plane = cout * ld;
            for (int k = k0; k < k1; k++)
                for (int q = 0; q < count;)
                {
                    var (img, row, col0) = tiles.Locate(p0 + q);
                    int run = Math.Min(tiles.Columns - col0, count - q);
                    int r0 = 2 * row, c0 = 2 * col0;
                    var map = y.AsSpan((img * cout + k) * hw, hw);
                    OutputTiles(ref m[k * ld + q], plane, run, map.Slice(r0 * tiles.OutW + c0), r0 + 1 < tiles.OutH ? tiles.OutW : -1,
                        Math.Min(2 * run, tiles.OutW - c0));
                    q += run;
                }
        }

        // Tiles 0 .. run's two output rows into `out` (tile j's at columns 2j, 2j+1; `width` of them in the map), the second
        // row `below` after the first (none where below < 0).
        static void OutputTiles(ref float m, int plane, int run, Span<float> output, int below, int width)
        {
            Span<float> tail = stackalloc float[2 * Lanes];
            for (int j = 0; j < run; j += Lanes)
            {
                ref float at = ref Unsafe.Add(ref m, j);
                var (m0, m1, m2, m3) = Load4(ref at, plane, 0);
                var (m4, m5, m6, m7) = Load4(ref at, plane, 4);
                var (m8, m9, m10, m11) = Load4(ref at, plane, 8);
                var (m12, m13, m14, m15) = Load4(ref at, plane, 12);
                // Aᵀ m: rows 0+1+2, 1-2-3
                var (s0, s1, s2, s3) = (m0 + m4 + m8, m1 + m5 + m9, m2 + m6 + m10, m3 + m7 + m11);
                var (t0, t1, t2, t3) = (m4 - m8 - m12, m5 - m9 - m13, m6 - m10 - m14, m7 - m11 - m15);
                // (Aᵀ m) A: the same on the columns; a last part vector's row through `tail`
                int n = Math.Min(2 * Lanes, width - 2 * j);
                if (n == 2 * Lanes) Interleave(s0 + s1 + s2, s1 - s2 - s3, ref output[2 * j]);
                else { Interleave(s0 + s1 + s2, s1 - s2 - s3, ref tail[0]); tail[..n].CopyTo(output.Slice(2 * j)); }
                if (below < 0) continue;
                if (n == 2 * Lanes) Interleave(t0 + t1 + t2, t1 - t2 - t3, ref output[below + 2 * j]);
                else { Interleave(t0 + t1 + t2, t1 - t2 - t3, ref tail[0]); tail[..n].CopyTo(output.Slice(below + 2 * j)); }
            }
        }

        // Tile j's block: columns 2j, 2j+1 of the two rows from `band` (`stride` apart).
        static void GradientTiles(ref float band, int stride, int run, ref float z, int plane)
        {
            for (int j = 0; j < run; j += Lanes)
            {
                var (y00, y01) = Deinterleave(ref Unsafe.Add(ref band, 2 * j));
                var (y10, y11) = Deinterleave(ref Unsafe.Add(ref band, stride + 2 * j));
                // A dy: rows y0, y0+y1, y0-y1, -y1 (each of two columns)
                var (b00, b01, b10, b11) = (y00, y01, y00 + y10, y01 + y11);
                var (b20, b21, b30, b31) = (y00 - y10, y01 - y11, -y10, -y11);
                // (A dy) Aᵀ: the same on the columns
                ref float o = ref Unsafe.Add(ref z, j);
                Store4(b00, b00 + b01, b00 - b01, -b01, ref o, plane, 0);
                Store4(b10, b10 + b11, b10 - b11, -b11, ref o, plane, 4);
                Store4(b20, b20 + b21, b20 - b21, -b21, ref o, plane, 8);
                Store4(b30, b30 + b31, b30 - b31, -b31, ref o, plane, 12);
            }
        }
    }
}
