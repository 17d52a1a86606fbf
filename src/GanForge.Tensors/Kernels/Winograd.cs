using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016): each 2x2 block of outputs from a 4x4 patch of input, with the sum over input
/// channels taken in the transformed domain as 16 GEMMs (one per element of the 4x4 tile): 16 multiply-adds for four
/// outputs where the direct convolution takes 36. The three kernels of a layer run on the same machinery.
/// x: (N,Ci,H,W), w: (Co,Ci,3,3) -> y: (N,Co,OH,OW), padding P of 0, 1 or 2 (zeros), OH = H + 2P - 2.
/// </summary>
/// <remarks>
/// Forward: U = G g Gᵀ per filter, V = Bᵀ d B per input patch, M = U·V (Co x Ci by Ci x tiles, for each of the 16
/// elements), y = Aᵀ M A. Backward-data: the forward of the output gradient, padded by 2 - P, with each filter turned
/// 180° and its two channel axes swapped. Weight gradient, the adjoint of the forward in g: Z = A dy Aᵀ per output-gradient block,
/// dU = Z·Vᵀ summed over the tiles, dw = Gᵀ dU G. With
/// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 -1 -1].
/// The tiles of the batch are taken in blocks sized so that a block's transformed inputs and products stay near the
/// core (about 2 MB, <see cref="BlockBudget"/>); each thread runs whole blocks with single-threaded GEMMs, so no thread
/// waits on another within a convolution. Odd sizes: a last tile's missing outputs are not written (forward) or read as zeros.
/// These kernels run where oneDNN has no Winograd of its own (its kernels are AVX-512 only; see <see cref="Conv"/>).
/// </remarks>
public static class Winograd
{
    const int Elements = 16; // of a transformed 4x4 tile

    /// <summary>True where the kernels run: their transforms are written on AVX2.</summary>
    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>True for the convolutions these kernels compute: 3x3, stride 1, the same padding of 0, 1 or 2 on both axes, no dilation, one group.</summary>
    public static bool Suits(in ConvGeometry g) =>
        g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.PH == g.PW && g.PH is >= 0 and <= 2 && g.DH == 1 && g.DW == 1 && g.Groups == 1
        && g.OH == g.H + 2 * g.PH - 2 && g.OW == g.W + 2 * g.PW - 2 && g.OH > 0 && g.OW > 0;

    // The 2x2 tiles of a batch of OutH x OutW output maps, numbered image by image, row by row; tile (r, c) reads the 4x4
    // patch of the InH x InW input from (2r - Pad, 2c - Pad).
    readonly record struct Tiling(int InH, int InW, int OutH, int OutW, int Pad, int Rows, int Columns, int Count)
    {
        public static Tiling Of(int n, int inH, int inW, int outH, int outW, int pad) =>
            new(inH, inW, outH, outW, pad, (outH + 1) / 2, (outW + 1) / 2, n * ((outH + 1) / 2) * ((outW + 1) / 2));
        public int PerImage => Rows * Columns;

        /// <summary>Tile p's image, tile row and column.</summary>
        public (int Image, int Row, int Column) Locate(int p) => (p / PerImage, p % PerImage / Columns, p % Columns);
    }

    /// <summary>
    /// Floats of transformed inputs and products a block of tiles may take (tests make blocks small). Timed on AVX2
    /// against 2^17, 2^18 and 2^20 (stylegan32's 8-32 px layers, alternating in one process): 2^19 was as fast as the
    /// best on every layer, 5-15% faster than 2^17.
    /// </summary>
    internal static int BlockBudget { get; set; } = 1 << 19;

    // Tiles per block: the block's transformed inputs and products (16 x (cin + cout) floats a tile) within about 2 MB.
    static int BlockTiles(int cin, int cout) => Math.Clamp(BlockBudget / (Elements * (cin + cout)) / 8 * 8, 16, 1024);

    /// <summary>y = conv(x, w). x: (N,Ci,H,W), w: (Co,Ci,3,3) -> y: (N,Co,OH,OW).</summary>
    public static void Forward(float[] x, float[] w, float[] y, int n, in ConvGeometry g)
    {
        Check(g, "Forward");
        var u = ArrayPool<float>.Shared.Rent(Elements * g.Co * g.Ci);
        TransformFilters(w, g.Co, g.Ci, turned: false, u);
        Convolve(x, g.Ci, u, y, g.Co, Tiling.Of(n, g.H, g.W, g.OH, g.OW, g.PH));
        ArrayPool<float>.Shared.Return(u);
    }

    /// <summary>dx = convT(gy, w), the adjoint of <see cref="Forward"/> in x. gy: (N,Co,OH,OW), w: (Co,Ci,3,3) -> dx: (N,Ci,H,W).</summary>
    public static void BackwardData(float[] gy, float[] w, float[] dx, int n, in ConvGeometry g)
    {
        Check(g, "BackwardData");
        // dx[c] = Σ_k gy[k] ⋆ w'[c][k], w'[c][k] = w[k][c] turned 180°: a forward from Co channels to Ci, padding 2 - P.
        var u = ArrayPool<float>.Shared.Rent(Elements * g.Co * g.Ci);
        TransformFilters(w, g.Co, g.Ci, turned: true, u);
        Convolve(gy, g.Co, u, dx, g.Ci, Tiling.Of(n, g.OH, g.OW, g.H, g.W, 2 - g.PH));
        ArrayPool<float>.Shared.Return(u);
    }

    /// <summary>dw = the adjoint of <see cref="Forward"/> in w. x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci,3,3).</summary>
    public static void WeightGrad(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g)
    {
        Check(g, "WeightGrad");
        int cin = g.Ci, cout = g.Co, size = Elements * cout * cin;
        var tiles = Tiling.Of(n, g.H, g.W, g.OH, g.OW, g.PH);
        int perBlock = BlockTiles(cin, cout), blocks = (tiles.Count + perBlock - 1) / perBlock, ld = perBlock + Lanes;
        // Each thread sums its blocks' products into its own dU; the sums are added once at the end.
        int parts = Threading.ChunkCount(blocks);
        var du = new float[parts][];
        for (int t = 0; t < parts; t++) { du[t] = ArrayPool<float>.Shared.Rent(size); Array.Clear(du[t], 0, size); }
        Threading.ForRanges(blocks, (part, b0, b1) =>
        {
            var v = ArrayPool<float>.Shared.Rent(Elements * cin * ld);
            var z = ArrayPool<float>.Shared.Rent(Elements * cout * ld);
            var (inputPlane, gradientPlane) = (PaddedInputs.Rent(tiles), PaddedGradients.Rent(tiles));
            for (int blk = b0; blk < b1; blk++)
            {
                int p0 = blk * perBlock, count = Math.Min(perBlock, tiles.Count - p0);
                TransformMaps<InputTransform>(x, cin, tiles.InH, tiles.InW, PaddedInputs, tiles, p0, count, v, ld, inputPlane);
                TransformMaps<GradientTransform>(gy, cout, tiles.OutH, tiles.OutW, PaddedGradients, tiles, p0, count, z, ld, gradientPlane);
                for (int e = 0; e < Elements; e++)
                    Gemm.SgemmSerial(false, true, cout, cin, count, 1f, z.AsSpan(e * cout * ld, cout * ld), ld,
                        v.AsSpan(e * cin * ld, cin * ld), ld, 1f, du[part].AsSpan(e * cout * cin, cout * cin), cin);
            }
            ArrayPool<float>.Shared.Return(v);
            ArrayPool<float>.Shared.Return(z);
            ArrayPool<float>.Shared.Return(inputPlane);
            ArrayPool<float>.Shared.Return(gradientPlane);
        });
        for (int t = 1; t < parts; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(du[0].AsSpan(0, size), du[t].AsSpan(0, size), du[0].AsSpan(0, size));
            ArrayPool<float>.Shared.Return(du[t]);
        }
        FilterGradients(du[0], cout, cin, dw);
        ArrayPool<float>.Shared.Return(du[0]);
    }

    static void Check(in ConvGeometry g, string kernel)
    {
        if (!IsSupported) throw new PlatformNotSupportedException($"Winograd.{kernel}: needs AVX2");
        if (!Suits(g)) throw new ArgumentException($"Winograd.{kernel}: computes 3x3 stride-1 convolutions with padding 0-2 and one group, got {g}");
    }

    // output (N,cout,OutH,OutW) = conv(input (N,cin,InH,InW)) for filters already transformed, u: (16, cout, cin).
    static void Convolve(float[] input, int cin, float[] u, float[] output, int cout, Tiling tiles)
    {
        int perBlock = BlockTiles(cin, cout), blocks = (tiles.Count + perBlock - 1) / perBlock, ld = perBlock + Lanes;
        Threading.ForRanges(blocks, (_, b0, b1) =>
        {
            var v = ArrayPool<float>.Shared.Rent(Elements * cin * ld);
            var m = ArrayPool<float>.Shared.Rent(Elements * cout * ld);
            var inputPlane = PaddedInputs.Rent(tiles);
            for (int blk = b0; blk < b1; blk++)
            {
                int p0 = blk * perBlock, count = Math.Min(perBlock, tiles.Count - p0);
                TransformMaps<InputTransform>(input, cin, tiles.InH, tiles.InW, PaddedInputs, tiles, p0, count, v, ld, inputPlane);
                for (int e = 0; e < Elements; e++)
                    Gemm.SgemmSerial(false, false, cout, count, cin, 1f, u.AsSpan(e * cout * cin, cout * cin), cin,
                        v.AsSpan(e * cin * ld, cin * ld), ld, 0f, m.AsSpan(e * cout * ld, cout * ld), ld);
                TransformOutputs(m, cout, tiles, p0, count, ld, output);
            }
            ArrayPool<float>.Shared.Return(v);
            ArrayPool<float>.Shared.Return(m);
            ArrayPool<float>.Shared.Return(inputPlane);
        });
    }

    // Tiles transformed at once: the lanes of a Vector256.
    const int Lanes = 8;

    // u[e][k][c] = (G g Gᵀ)[e] for g = w[k][c] (turned: u[e][c][k] for g = w[k][c] turned 180°), eight filters at a time
    // along u's contiguous axis. w: (cout,cin,3,3).
    static unsafe void TransformFilters(float[] w, int cout, int cin, bool turned, float[] u)
    {
        int plane = cout * cin, outer = turned ? cin : cout, inner = turned ? cout : cin;
        // filter (k, c) starts at w[(k·cin + c)·9]; along the inner axis filters are 9 floats apart (c) or cin·9 (k)
        int step = turned ? cin * 9 : 9, outerStep = turned ? 9 : cin * 9;
        var offsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * step;
        Span<Vector256<float>> g = stackalloc Vector256<float>[9 + Elements]; // a group's taps, then its transformed tiles
        fixed (float* pw = w, pu = u)
            for (int o = 0; o < outer; o++)
            {
                int i = 0;
                for (; i + Lanes <= inner; i += Lanes) FilterGroup(pw + o * outerStep + i * step, offsets, turned, pu + o * inner + i, plane, whole: true, g);
                // a tail of fewer than eight filters: one at a time (broadcast into every lane)
                for (; i < inner; i++) FilterGroup(pw + o * outerStep + i * step, offsets, turned, pu + o * inner + i, plane, whole: false, g);
            }
    }

    // Eight filters from f (`offsets` apart) into u at dst, each element `plane` after the last; or (not whole) the one at f.
    // scratch: 9 + 16 vectors.
    static unsafe void FilterGroup(float* f, Vector256<int> offsets, bool turned, float* dst, int plane, bool whole, Span<Vector256<float>> scratch)
    {
        Span<Vector256<float>> g = scratch[..9], t = scratch[9..];
        for (int tap = 0; tap < 9; tap++)
        {
            int from = turned ? 8 - tap : tap;
            g[tap] = whole ? Avx2.GatherVector256(f + from, offsets, 4) : Vector256.Create(f[from]);
        }
        FilterTiles(g, t);
        for (int e = 0; e < Elements; e++)
            if (whole) t[e].Store(dst + e * plane);
            else dst[e * plane] = t[e][0];
    }

    // t = G g Gᵀ (4x4 from 3x3), each lane a filter.
    static void FilterTiles(ReadOnlySpan<Vector256<float>> g, Span<Vector256<float>> t)
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

    // dw[k][c] = Gᵀ dU[k][c] G (3x3 from 4x4), du: (16, cout, cin), eight filters at a time.
    static unsafe void FilterGradients(float[] du, int cout, int cin, float[] dw)
    {
        int plane = cout * cin, kc = 0;
        fixed (float* pd = du, pw = dw)
        {
            Span<Vector256<float>> scratch = stackalloc Vector256<float>[12 + 9]; // Gᵀ s (3 x 4), then the taps
            for (; kc + Lanes <= plane; kc += Lanes) FilterGradientGroup(pd + kc, plane, pw + kc * 9, whole: true, scratch);
            // a tail of fewer than eight filters: one at a time (broadcast into every lane)
            for (; kc < plane; kc++) FilterGradientGroup(pd + kc, plane, pw + kc * 9, whole: false, scratch);
        }
    }

    // Eight filters' 3x3 gradients (or, not whole, the one) from the 16 elements at `at` (each `plane` after the last).
    // scratch: 12 + 9 vectors.
    static unsafe void FilterGradientGroup(float* at, int plane, float* dst, bool whole, Span<Vector256<float>> scratch)
    {
        var half = Vector256.Create(0.5f);
        Span<Vector256<float>> a = scratch[..12], taps = scratch[12..];
        for (int j = 0; j < 4; j++)
        {
            var (u0, u1, u2, u3) = (Lane(at, j * plane, whole), Lane(at, (4 + j) * plane, whole), Lane(at, (8 + j) * plane, whole), Lane(at, (12 + j) * plane, whole));
            a[j] = u0 + half * (u1 + u2); a[4 + j] = half * (u1 - u2); a[8 + j] = half * (u1 + u2) + u3;
        }
        for (int i = 0; i < 3; i++)
        {
            var (a0, a1, a2, a3) = (a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]);
            taps[3 * i] = a0 + half * (a1 + a2); taps[3 * i + 1] = half * (a1 - a2); taps[3 * i + 2] = half * (a1 + a2) + a3;
        }
        // taps (9 of eight filters) -> eight filters of 9 taps
        for (int f = 0; f < (whole ? Lanes : 1); f++)
            for (int tap = 0; tap < 9; tap++) dst[f * 9 + tap] = taps[tap][f];
    }

    // Eight floats from at + offset, or (not whole) the one there in every lane.
    static unsafe Vector256<float> Lane(float* at, int offset, bool whole) =>
        whole ? Vector256.Load(at + offset) : Vector256.Create(at[offset]);

    /// <summary>
    /// A map with the zeros around it that its tiles read: the input's padding (Pad rows and columns before it, the rest
    /// after), or past an output gradient's last row and column; and room for whole vectors past the last tile. Zeroed
    /// once a call: each map copied in writes only its own place, so the zeros stay.
    /// </summary>
    readonly record struct PaddedMaps(bool Inputs)
    {
        public int Stride(Tiling t) => 2 * t.Columns + 2 + 2 * Lanes;
        public int Offset(Tiling t) => Inputs ? t.Pad : 0;
        public float[] Rent(Tiling t)
        {
            int length = (2 * t.Rows + 2) * Stride(t);
            var plane = ArrayPool<float>.Shared.Rent(length);
            Array.Clear(plane, 0, length);
            return plane;
        }

        /// <summary>The height x width map into its place in the plane.</summary>
        public void Fill(ReadOnlySpan<float> map, int height, int width, Tiling t, float[] plane)
        {
            int stride = Stride(t), offset = Offset(t);
            ref float from = ref MemoryMarshal.GetReference(map);
            for (int r = 0; r < height; r++) CopyRow(ref Unsafe.Add(ref from, r * width), ref plane[(r + offset) * stride + offset], width);
        }

        // A row of a few dozen floats: Span.CopyTo's call cost more than the copy.
        static void CopyRow(ref float from, ref float to, int width)
        {
            int i = 0;
            for (; i <= width - Lanes; i += Lanes) Vector256.LoadUnsafe(ref from, (nuint)i).StoreUnsafe(ref to, (nuint)i);
            for (; i < width; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i);
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
    static void TransformMaps<T>(float[] maps, int channels, int height, int width, PaddedMaps padding, Tiling tiles, int p0, int count,
        float[] dst, int ld, float[] padded) where T : ITileTransform
    {
        int hw = height * width, plane = channels * ld, stride = padding.Stride(tiles);
        for (int ch = 0; ch < channels; ch++)
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

    // Elements e .. e+3 of eight tiles, each element's plane `plane` floats after the last.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d, ref float at, int plane, int e)
    {
        a.StoreUnsafe(ref at, (nuint)(e * plane));
        b.StoreUnsafe(ref at, (nuint)((e + 1) * plane));
        c.StoreUnsafe(ref at, (nuint)((e + 2) * plane));
        d.StoreUnsafe(ref at, (nuint)((e + 3) * plane));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Load4(ref float at, int plane, int e) =>
        (Vector256.LoadUnsafe(ref at, (nuint)(e * plane)), Vector256.LoadUnsafe(ref at, (nuint)((e + 1) * plane)),
         Vector256.LoadUnsafe(ref at, (nuint)((e + 2) * plane)), Vector256.LoadUnsafe(ref at, (nuint)((e + 3) * plane)));

    // y (N,cout,OutH,OutW) at the 2x2 blocks of tiles p0 .. p0+count = Aᵀ m A, m[e][k][q] (ld: m's row length, with
    // room for a vector past the block's last tile), run by run along the tile rows.
    static void TransformOutputs(float[] m, int cout, Tiling tiles, int p0, int count, int ld, float[] y)
    {
        int hw = tiles.OutH * tiles.OutW, plane = cout * ld;
        for (int k = 0; k < cout; k++)
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
