using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// 3x3 stride-1 convolutions by Winograd's minimal filtering (Lavin and Gray, "Fast Algorithms for Convolutional Neural
/// Networks", 2016): F(4x4, 3x3) computes each 4x4 block of outputs from a 6x6 patch of input, F(2x2, 3x3) each 2x2
/// block from a 4x4 patch, with the sum over input channels taken in the transformed domain as one GEMM per element of
/// the tile (36 or 16): 2.25 or 4 multiply-adds an output where the direct convolution takes 9. The three kernels of a
/// layer run on the same machinery.
/// x: (N,Ci,H,W), w: (Co,Ci,3,3) -> y: (N,Co,OH,OW), padding P of 0, 1 or 2 (zeros), OH = H + 2P - 2.
/// </summary>
/// <remarks>
/// Forward: U = G g Gᵀ per filter, V = Bᵀ d B per input patch, M = U·V (Co x Ci by Ci x tiles, for each element),
/// y = Aᵀ M A. Backward-data: the forward of the output gradient, padded by 2 - P, with each filter turned 180° and its
/// two channel axes swapped. Weight gradient, the adjoint of the forward in g: Z = A dy Aᵀ per output-gradient block,
/// dU = Z·Vᵀ summed over the tiles, dw = Gᵀ dU G. The matrices of each size are in <see cref="F2"/> and <see cref="F4"/>.
/// F(4x4) runs where the output maps' width is a multiple of 8 (its transforms take two tiles of a row to a vector's
/// halves) and from 512 outputs a channel, F(2x2) everywhere else.
/// The tiles of the batch are taken in blocks sized so that a block's transformed inputs and products stay near the
/// core (about 2 MB, <see cref="BlockBudget"/>); each thread runs whole blocks with single-threaded GEMMs, so no thread
/// waits on another within a convolution. Where there are too few tiles for that (two blocks a thread or fewer), they
/// make one block whose steps are shared out over the threads (<see cref="OneBlock"/>). Odd sizes: a last tile's
/// missing outputs are not written (forward) or read as zeros.
/// These kernels run where oneDNN has no Winograd of its own (its kernels are AVX-512 only; see <see cref="Conv"/>).
/// </remarks>
public static partial class Winograd
{
    /// <summary>True where the kernels run: their transforms are written on AVX2.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True for the convolutions these kernels compute: 3x3, stride 1, the same padding of 0, 1 or 2 on both axes, no dilation, one group.</summary>
    public static bool Suits(in ConvGeometry g) =>
        g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.PH == g.PW && g.PH is >= 0 and <= 2 && g.DH == 1 && g.DW == 1 && g.Groups == 1
        && g.OH == g.H + 2 * g.PH - 2 && g.OW == g.W + 2 * g.PW - 2 && g.OH > 0 && g.OW > 0;

    /// <summary>
    /// The output tile's side: 4 (F(4x4, 3x3) where it fits and pays, F(2x2, 3x3) elsewhere; the default), or 2 (F(2x2, 3x3)
    /// always: about a tenth of F(4x4)'s rounding error, 1.2-1.4x its time). GANFORGE_WINOGRAD_TILE=2|4 sets it.
    /// </summary>
    public static int TileSize
    {
        get => _tileSize;
        set => _tileSize = value is 2 or 4 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Winograd.TileSize: 2 or 4");
    }

    static int _tileSize = Environment.GetEnvironmentVariable("GANFORGE_WINOGRAD_TILE")?.Trim() == "2" ? 2 : 4;

    // F(4x4)'s transforms take the two tiles of a row-pair to a vector's halves: whole pairs in every row. Below 512
    // outputs a channel F(2x2) was faster (cyclegan's 8 px blocks at batch 4: 16 tiles of F(4x4), 64 of F(2x2)).
    static bool UsesF4(int n, int outH, int outW) => TileSize == 4 && outW % 8 == 0 && (long)n * outH * outW >= F4FromOutputs;

    /// <summary>The outputs a channel from which F(4x4) runs (tests lower it).</summary>
    internal static int F4FromOutputs { get; set; } = 512;

    // The size x size tiles of a batch of OutH x OutW output maps, numbered image by image, row by row; tile (r, c) reads
    // the (size+2) x (size+2) patch of the InH x InW input from (size·r - Pad, size·c - Pad).
    readonly record struct Tiling(int InH, int InW, int OutH, int OutW, int Pad, int Rows, int Columns, int Count)
    {
        public static Tiling Of(int n, int inH, int inW, int outH, int outW, int pad, int size)
        {
            int rows = (outH + size - 1) / size, columns = (outW + size - 1) / size;
            return new(inH, inW, outH, outW, pad, rows, columns, n * rows * columns);
        }
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

    // Tiles a block may hold: its transformed inputs and products (`elements` x (cin + cout) floats a tile) within the
    // budget, a multiple of 8.
    static int MostTiles(int elements, int cin, int cout) => Math.Clamp(BlockBudget / (elements * (cin + cout)) / 8 * 8, 16, 1024);

    // Tiles per block, a multiple of 8: within the budget, and the blocks a multiple of the threads, so that they share
    // the `count` tiles evenly (stylegan32's 8 px layers, 128 tiles of F(4x4) in blocks of at most 56, had run as 112 on
    // one thread, 16 on the other).
    static int BlockTiles(int elements, int cin, int cout, int count)
    {
        int most = MostTiles(elements, cin, cout), threads = Threading.Threads;
        int blocks = ((count + most - 1) / most + threads - 1) / threads * threads;
        return Math.Max(8, ((count + blocks - 1) / blocks + 7) / 8 * 8);
    }

    // Few tiles, no more than two full blocks for each thread (cyclegan's 8 px residual blocks at batch 4-12: 16-48
    // tiles of F(4x4) on 256 channels; stylegan32's 8 px layers, 128): blocks a thread would leave GEMMs over a handful
    // of tiles, and for the weight gradient a 36 x Co x Ci sum per thread to read and write for each. Then all the tiles
    // make one block, each step of it shared out over the threads by channel or by element. Timed on AVX2 against
    // oneDNN's direct: cyclegan's blocks at batch 8 and 12 on F(4x4) from 0.79-0.93x to 1.42-1.66x in the weight
    // gradient and from 1.31-1.54x to 1.46-1.73x in the forward; stylegan32's 8 px weight gradient 11-32% faster (at one
    // block a thread it had stayed in blocks), its forward the same.
    static bool OneBlock(int elements, int cin, int cout, int count) => count <= 2 * Threading.Threads * MostTiles(elements, cin, cout);

    /// <summary>One tile size's transforms; the blocks, GEMMs and threads around them are shared.</summary>
    interface IVariant
    {
        /// <summary>Outputs along a tile's side.</summary>
        static abstract int Size { get; }

        /// <summary>Elements of a transformed tile, (Size + 2)².</summary>
        static abstract int Elements { get; }

        /// <summary>t = G g Gᵀ, each lane a filter: g its 9 taps, t its elements.</summary>
        static abstract void FilterTile(ReadOnlySpan<Vector256<float>> g, Span<Vector256<float>> t);

        /// <summary>taps = Gᵀ dU G, each lane a filter: the 9 taps' gradients from its elements' (scratch: working room).</summary>
        static abstract void FilterTaps(ReadOnlySpan<Vector256<float>> du, Span<Vector256<float>> taps, Span<Vector256<float>> scratch);

        /// <summary>A thread's zero-bordered room for the maps a block's transforms read.</summary>
        static abstract float[] RentPlane(Tiling t, bool inputs, int perBlock);

        /// <summary>v[e][c][q] = (Bᵀ d B)[e] for the input patches of the block's tiles p0 + q, q &lt; count, channels c0 .. c1.</summary>
        static abstract void TransformInputs(float[] x, int cin, int c0, int c1, Tiling t, int p0, int count, float[] v, int ld, float[] plane);

        /// <summary>z[e][k][q] = (A dy Aᵀ)[e] for the output-gradient blocks of the block's tiles, channels k0 .. k1.</summary>
        static abstract void TransformGradients(float[] gy, int cout, int k0, int k1, Tiling t, int p0, int count, float[] z, int ld, float[] plane);

        /// <summary>y's blocks of the block's tiles = Aᵀ m A, channels k0 .. k1.</summary>
        static abstract void TransformOutputs(float[] m, int cout, int k0, int k1, Tiling t, int p0, int count, int ld, float[] y);

        /// <summary>The GEMMs' columns for a block of `count` tiles (the transforms may fill whole vectors of zero tiles past them).</summary>
        static abstract int Columns(int count);
    }

    /// <summary>y = conv(x, w). x: (N,Ci,H,W), w: (Co,Ci,3,3) -> y: (N,Co,OH,OW).</summary>
    public static void Forward(float[] x, float[] w, float[] y, int n, in ConvGeometry g)
    {
        Check(g, "Forward");
        if (UsesF4(n, g.OH, g.OW)) Convolve<F4>(x, w, turned: false, y, n, g);
        else Convolve<F2>(x, w, turned: false, y, n, g);
    }

    /// <summary>dx = convT(gy, w), the adjoint of <see cref="Forward"/> in x. gy: (N,Co,OH,OW), w: (Co,Ci,3,3) -> dx: (N,Ci,H,W).</summary>
    public static void BackwardData(float[] gy, float[] w, float[] dx, int n, in ConvGeometry g)
    {
        Check(g, "BackwardData");
        if (UsesF4(n, g.H, g.W)) Convolve<F4>(gy, w, turned: true, dx, n, g);
        else Convolve<F2>(gy, w, turned: true, dx, n, g);
    }

    /// <summary>dw = the adjoint of <see cref="Forward"/> in w. x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> dw: (Co,Ci,3,3).</summary>
    public static void WeightGrad(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g)
    {
        Check(g, "WeightGrad");
        if (UsesF4(n, g.OH, g.OW)) WeightGrad<F4>(x, gy, dw, n, g);
        else WeightGrad<F2>(x, gy, dw, n, g);
    }

    static void WeightGrad<T>(float[] x, float[] gy, float[] dw, int n, in ConvGeometry g) where T : IVariant
    {
        int cin = g.Ci, cout = g.Co, elements = T.Elements, size = elements * cout * cin;
        var tiles = Tiling.Of(n, g.H, g.W, g.OH, g.OW, g.PH, T.Size);
        if (OneBlock(elements, cin, cout, tiles.Count)) { WeightGradOneBlock<T>(x, gy, dw, cin, cout, tiles); return; }
        int perBlock = BlockTiles(elements, cin, cout, tiles.Count), blocks = (tiles.Count + perBlock - 1) / perBlock, ld = perBlock + Lanes;
        // Each thread sums its blocks' products into its own dU; the sums are added once at the end.
        int parts = Threading.ChunkCount(blocks);
        var du = new float[parts][];
        for (int t = 0; t < parts; t++) { du[t] = ArrayPool<float>.Shared.Rent(size); Array.Clear(du[t], 0, size); }
        Threading.ForRanges(blocks, (part, b0, b1) =>
        {
            var v = ArrayPool<float>.Shared.Rent(elements * cin * ld);
            var z = ArrayPool<float>.Shared.Rent(elements * cout * ld);
            var (inputPlane, gradientPlane) = (T.RentPlane(tiles, inputs: true, perBlock), T.RentPlane(tiles, inputs: false, perBlock));
            for (int blk = b0; blk < b1; blk++)
            {
                int p0 = blk * perBlock, count = Math.Min(perBlock, tiles.Count - p0);
                T.TransformInputs(x, cin, 0, cin, tiles, p0, count, v, ld, inputPlane);
                T.TransformGradients(gy, cout, 0, cout, tiles, p0, count, z, ld, gradientPlane);
                WeightGemms(z, v, du[part], cin, cout, T.Columns(count), ld, 0, elements, beta: 1f);
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
        FilterGradients<T>(du[0], cout, cin, dw);
        ArrayPool<float>.Shared.Return(du[0]);
    }

    // All the tiles in one block: the input's channels and then the output gradient's transformed on all threads,
    // then the elements' GEMMs shared out, each over all the tiles, into one dU.
    static void WeightGradOneBlock<T>(float[] x, float[] gy, float[] dw, int cin, int cout, Tiling tiles) where T : IVariant
    {
        int elements = T.Elements, count = tiles.Count, columns = T.Columns(count), ld = columns + Lanes;
        var v = ArrayPool<float>.Shared.Rent(elements * cin * ld);
        var z = ArrayPool<float>.Shared.Rent(elements * cout * ld);
        var du = ArrayPool<float>.Shared.Rent(elements * cout * cin);
        Threading.ForRanges(cin + cout, (_, a0, a1) =>
        {
            if (a0 < cin)
            {
                var plane = T.RentPlane(tiles, inputs: true, count);
                T.TransformInputs(x, cin, a0, Math.Min(a1, cin), tiles, 0, count, v, ld, plane);
                ArrayPool<float>.Shared.Return(plane);
            }
            if (a1 > cin)
            {
                var plane = T.RentPlane(tiles, inputs: false, count);
                T.TransformGradients(gy, cout, Math.Max(a0, cin) - cin, a1 - cin, tiles, 0, count, z, ld, plane);
                ArrayPool<float>.Shared.Return(plane);
            }
        });
        Threading.ForRanges(elements, (_, e0, e1) => WeightGemms(z, v, du, cin, cout, columns, ld, e0, e1, beta: 0f));
        FilterGradients<T>(du, cout, cin, dw);
        ArrayPool<float>.Shared.Return(v);
        ArrayPool<float>.Shared.Return(z);
        ArrayPool<float>.Shared.Return(du);
    }

    // du[e] = beta·du[e] + z[e]·v[e]ᵀ for the elements e0 .. e1 (cout x cin from cout x columns by cin x columns).
    static void WeightGemms(float[] z, float[] v, float[] du, int cin, int cout, int columns, int ld, int e0, int e1, float beta)
    {
        for (int e = e0; e < e1; e++)
            Gemm.SgemmSerial(false, true, cout, cin, columns, 1f, z.AsSpan(e * cout * ld, cout * ld), ld,
                v.AsSpan(e * cin * ld, cin * ld), ld, beta, du.AsSpan(e * cout * cin, cout * cin), cin);
    }

    static void Check(in ConvGeometry g, string kernel)
    {
        if (!IsSupported) throw new PlatformNotSupportedException($"Winograd.{kernel}: needs AVX2 and FMA");
        if (!Suits(g)) throw new ArgumentException($"Winograd.{kernel}: computes 3x3 stride-1 convolutions with padding 0-2 and one group, got {g}");
    }

    // y = conv(x, w) (not turned), or dx = convT(gy, w) (turned): dx[c] = Σ_k gy[k] ⋆ w'[c][k], w'[c][k] = w[k][c]
    // turned 180°, a forward from Co channels to Ci with padding 2 - P.
    static void Convolve<T>(float[] input, float[] w, bool turned, float[] output, int n, in ConvGeometry g) where T : IVariant
    {
        var u = ArrayPool<float>.Shared.Rent(T.Elements * g.Co * g.Ci);
        TransformFilters<T>(w, g.Co, g.Ci, turned, u);
        var (cin, cout) = turned ? (g.Co, g.Ci) : (g.Ci, g.Co);
        var tiles = turned ? Tiling.Of(n, g.OH, g.OW, g.H, g.W, 2 - g.PH, T.Size) : Tiling.Of(n, g.H, g.W, g.OH, g.OW, g.PH, T.Size);
        if (OneBlock(T.Elements, cin, cout, tiles.Count)) ConvolveOneBlock<T>(input, cin, u, output, cout, tiles);
        else ConvolveBlocks<T>(input, cin, u, output, cout, tiles);
        ArrayPool<float>.Shared.Return(u);
    }

    // Blocks of tiles shared out over the threads, each run whole by one. u: the filters transformed, (elements, cout, cin).
    static void ConvolveBlocks<T>(float[] input, int cin, float[] u, float[] output, int cout, Tiling tiles) where T : IVariant
    {
        int elements = T.Elements, perBlock = BlockTiles(elements, cin, cout, tiles.Count), blocks = (tiles.Count + perBlock - 1) / perBlock;
        int ld = perBlock + Lanes;
        Threading.ForRanges(blocks, (_, b0, b1) =>
        {
            var v = ArrayPool<float>.Shared.Rent(elements * cin * ld);
            var m = ArrayPool<float>.Shared.Rent(elements * cout * ld);
            var inputPlane = T.RentPlane(tiles, inputs: true, perBlock);
            for (int blk = b0; blk < b1; blk++)
            {
                int p0 = blk * perBlock, count = Math.Min(perBlock, tiles.Count - p0);
                T.TransformInputs(input, cin, 0, cin, tiles, p0, count, v, ld, inputPlane);
                ForwardGemms(u, v, m, cin, cout, T.Columns(count), ld, 0, elements);
                T.TransformOutputs(m, cout, 0, cout, tiles, p0, count, ld, output);
            }
            ArrayPool<float>.Shared.Return(v);
            ArrayPool<float>.Shared.Return(m);
            ArrayPool<float>.Shared.Return(inputPlane);
        });
    }

    // All the tiles in one block, each of its three steps shared out over the threads: by input channel, element and
    // output channel.
    static void ConvolveOneBlock<T>(float[] input, int cin, float[] u, float[] output, int cout, Tiling tiles) where T : IVariant
    {
        int elements = T.Elements, count = tiles.Count, columns = T.Columns(count), ld = columns + Lanes;
        var v = ArrayPool<float>.Shared.Rent(elements * cin * ld);
        var m = ArrayPool<float>.Shared.Rent(elements * cout * ld);
        Threading.ForRanges(cin, (_, c0, c1) =>
        {
            var plane = T.RentPlane(tiles, inputs: true, count);
            T.TransformInputs(input, cin, c0, c1, tiles, 0, count, v, ld, plane);
            ArrayPool<float>.Shared.Return(plane);
        });
        Threading.ForRanges(elements, (_, e0, e1) => ForwardGemms(u, v, m, cin, cout, columns, ld, e0, e1));
        Threading.ForRanges(cout, (_, k0, k1) => T.TransformOutputs(m, cout, k0, k1, tiles, 0, count, ld, output));
        ArrayPool<float>.Shared.Return(v);
        ArrayPool<float>.Shared.Return(m);
    }

    // m[e] = u[e]·v[e] for the elements e0 .. e1 (cout x columns from cout x cin by cin x columns).
    static void ForwardGemms(float[] u, float[] v, float[] m, int cin, int cout, int columns, int ld, int e0, int e1)
    {
        for (int e = e0; e < e1; e++)
            Gemm.SgemmSerial(false, false, cout, columns, cin, 1f, u.AsSpan(e * cout * cin, cout * cin), cin,
                v.AsSpan(e * cin * ld, cin * ld), ld, 0f, m.AsSpan(e * cout * ld, cout * ld), ld);
    }

    // Tiles transformed at once: the lanes of a Vector256.
    const int Lanes = 8;

    // u[e][k][c] = (G g Gᵀ)[e] for g = w[k][c] (turned: u[e][c][k] for g = w[k][c] turned 180°), eight filters at a time
    // along u's contiguous axis, the outer axis shared out over the threads. w: (cout,cin,3,3).
    static void TransformFilters<T>(float[] w, int cout, int cin, bool turned, float[] u) where T : IVariant =>
        Threading.ForRanges(turned ? cin : cout, (_, o0, o1) => TransformFilters<T>(w, cout, cin, turned, u, o0, o1), minPerChunk: 8);

    static unsafe void TransformFilters<T>(float[] w, int cout, int cin, bool turned, float[] u, int o0, int o1) where T : IVariant
    {
        int plane = cout * cin, inner = turned ? cout : cin;
        // filter (k, c) starts at w[(k·cin + c)·9]; along the inner axis filters are 9 floats apart (c) or cin·9 (k)
        int step = turned ? cin * 9 : 9, outerStep = turned ? 9 : cin * 9;
        var offsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * step;
        Span<Vector256<float>> g = stackalloc Vector256<float>[9 + T.Elements]; // a group's taps, then its transformed tiles
        fixed (float* pw = w, pu = u)
            for (int o = o0; o < o1; o++)
            {
                int i = 0;
                for (; i + Lanes <= inner; i += Lanes) FilterGroup<T>(pw + o * outerStep + i * step, offsets, turned, pu + o * inner + i, plane, whole: true, g);
                // a tail of fewer than eight filters: one at a time (broadcast into every lane)
                for (; i < inner; i++) FilterGroup<T>(pw + o * outerStep + i * step, offsets, turned, pu + o * inner + i, plane, whole: false, g);
            }
    }

    // Eight filters from f (`offsets` apart) into u at dst, each element `plane` after the last; or (not whole) the one at f.
    // scratch: 9 + elements vectors.
    static unsafe void FilterGroup<T>(float* f, Vector256<int> offsets, bool turned, float* dst, int plane, bool whole, Span<Vector256<float>> scratch)
        where T : IVariant
    {
        Span<Vector256<float>> g = scratch[..9], t = scratch[9..];
        for (int tap = 0; tap < 9; tap++)
        {
            int from = turned ? 8 - tap : tap;
            g[tap] = whole ? Avx2.GatherVector256(f + from, offsets, 4) : Vector256.Create(f[from]);
        }
        T.FilterTile(g, t);
        for (int e = 0; e < T.Elements; e++)
            if (whole) t[e].Store(dst + e * plane);
            else dst[e * plane] = t[e][0];
    }

    // dw[k][c] = Gᵀ dU[k][c] G (3x3 from the elements), du: (elements, cout, cin), eight filters at a time.
    static unsafe void FilterGradients<T>(float[] du, int cout, int cin, float[] dw) where T : IVariant
    {
        int plane = cout * cin, kc = 0;
        fixed (float* pd = du, pw = dw)
        {
            // the elements, the taps, then working room
            Span<Vector256<float>> scratch = stackalloc Vector256<float>[T.Elements + 9 + 3 * (T.Size + 2)];
            for (; kc + Lanes <= plane; kc += Lanes) FilterGradientGroup<T>(pd + kc, plane, pw + kc * 9, whole: true, scratch);
            // a tail of fewer than eight filters: one at a time (broadcast into every lane)
            for (; kc < plane; kc++) FilterGradientGroup<T>(pd + kc, plane, pw + kc * 9, whole: false, scratch);
        }
    }

    // Eight filters' 3x3 gradients (or, not whole, the one) from the elements at `at` (each `plane` after the last).
    static unsafe void FilterGradientGroup<T>(float* at, int plane, float* dst, bool whole, Span<Vector256<float>> scratch) where T : IVariant
    {
        int elements = T.Elements;
        Span<Vector256<float>> du = scratch[..elements], taps = scratch.Slice(elements, 9), room = scratch[(elements + 9)..];
        for (int e = 0; e < elements; e++) du[e] = whole ? Vector256.Load(at + e * plane) : Vector256.Create(at[e * plane]);
        T.FilterTaps(du, taps, room);
        // taps (9 of eight filters) -> eight filters of 9 taps
        for (int f = 0; f < (whole ? Lanes : 1); f++)
            for (int tap = 0; tap < 9; tap++) dst[f * 9 + tap] = taps[tap][f];
    }

    // A plane of zeros for a thread's maps, cleared once a call: each map copied in writes only its own place.
    static float[] RentZeroed(int length)
    {
        var plane = ArrayPool<float>.Shared.Rent(length);
        Array.Clear(plane, 0, length);
        return plane;
    }

    // A row of a few dozen floats: Span.CopyTo's call cost more than the copy.
    static void CopyRow(ref float from, ref float to, int width)
    {
        int i = 0;
        for (; i <= width - Lanes; i += Lanes) Vector256.LoadUnsafe(ref from, (nuint)i).StoreUnsafe(ref to, (nuint)i);
        for (; i < width; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i);
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
}
