using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// A permutation of a tensor's dims copied out (<see cref="Tensor.Permute"/>). Dims that stay side by side are merged
/// and dims of size 1 dropped first; what is then a batch of 2-D transposes of chunks (B, M, N, C) -> (B, N, M, C), as
/// every Transpose is and TransGAN's token grids and windows are, runs in 16 x 16 tiles (<see cref="InTiles"/>: chunks of
/// several floats, or single floats in registers with AVX-512), anything else along the output's rows. Along the rows,
/// transgan32's token-grid transposes (512 kB) took 28-68 us on two threads; in tiles 8-12 (thirty-eighth pass).
/// </summary>
internal static class PermuteCopy
{
    const int Tile = 16;

    /// <summary>Whether batched transposes run in tiles (the default) or along the output's rows (the bench's switch permute-tiles).</summary>
    internal static bool Tiles { get; set; } = true;

    /// <summary>y = x permuted: y's dim k is x's dim perm[k] (count elements, shape x's dims).</summary>
    public static void Run(float[] x, ReadOnlySpan<int> shape, ReadOnlySpan<int> perm, float[] y, int count)
    {
        if (count == 0) return;
        var (dims, order) = Reduce(shape, perm);
        if (Tiles && AsBatchedTranspose(dims, order) is (int b, int m, int n, int c) && InTiles(m, n, c)) Transposes(x, y, b, m, n, c);
        else Rows(x, dims, order, y, count);
    }

    // The same permutation on fewest dims: x's dims of size 1 dropped, then runs of x's dims that stay consecutive in y
    // merged into one. Returns x's merged dims (x's order) and y's order of them.
    internal static (int[] Dims, int[] Order) Reduce(ReadOnlySpan<int> shape, ReadOnlySpan<int> perm)
    {
        var kept = new List<int>();   // y's dims of x, size-1 ones dropped
        foreach (int p in perm) if (shape[p] != 1) kept.Add(p);
        if (kept.Count == 0) return ([1], [0]);
        // groups: runs of y's dims whose x dims are consecutive
        var groups = new List<(int First, int Last)>();
        foreach (int p in kept)
        {
            if (groups.Count > 0 && NextKept(shape, groups[^1].Last) == p) groups[^1] = (groups[^1].First, p);
            else groups.Add((p, p));
        }
        // number the groups by their place in x
        var byX = groups.Select((g, i) => (g.First, i)).OrderBy(t => t.First).ToArray();
        var dims = new int[groups.Count];
        var order = new int[groups.Count];
        for (int xi = 0; xi < byX.Length; xi++)
        {
            var (first, last) = groups[byX[xi].i];
            int size = 1;
            for (int d = first; d <= last; d++) size *= shape[d];
            dims[xi] = size;
            order[byX[xi].i] = xi;
        }
        return (dims, order);
    }

    // x's next dim after d of size other than 1 (size-1 dims between do not break a run); -1 past the last.
    static int NextKept(ReadOnlySpan<int> shape, int d)
    {
        for (int e = d + 1; e < shape.Length; e++) if (shape[e] != 1) return e;
        return -1;
    }

    // Chunks of several floats in tiles anywhere; single floats only where whole tiles transpose in registers: a tile
    // of floats copied one by one ran no faster than the rows on two threads and 1.6-1.8x as long on one (AVX-512 off).
    static bool InTiles(int m, int n, int c) => c > 1 || (Math.Min(m, n) >= Tile && Avx512F.IsSupported);

    // (B, M, N, C) with y = (B, N, M, C) where the reduced permutation swaps two dims, an outer and an inner one at most
    // beside them; null for anything else.
    static (int B, int M, int N, int C)? AsBatchedTranspose(int[] dims, int[] order) => order switch
    {
        [1, 0] => (1, dims[0], dims[1], 1),
        [0, 2, 1] => (dims[0], dims[1], dims[2], 1),
        [1, 0, 2] => (1, dims[0], dims[1], dims[2]),
        [0, 2, 1, 3] => (dims[0], dims[1], dims[2], dims[3]),
        _ => null,
    };

    // y[b, j, i, :] = x[b, i, j, :] over tiles of 16 x 16 (i, j), the tiles shared out over threads.
    static void Transposes(float[] x, float[] y, int b, int m, int n, int c)
    {
        int mTiles = (m + Tile - 1) / Tile, nTiles = (n + Tile - 1) / Tile;
        long tiles = (long)b * mTiles * nTiles;
        Threading.ForRanges((int)tiles, (_, t0, t1) =>
        {
            ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
            ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
            for (int t = t0; t < t1; t++)
            {
                int batch = t / (mTiles * nTiles), rest = t % (mTiles * nTiles), i0 = rest / nTiles * Tile, j0 = rest % nTiles * Tile;
                int mi = Math.Min(Tile, m - i0), nj = Math.Min(Tile, n - j0);
                long plane = (long)batch * m * n * c;
                ref float from = ref Unsafe.Add(ref xr, (nint)(plane + ((long)i0 * n + j0) * c));
                ref float to = ref Unsafe.Add(ref yr, (nint)(plane + ((long)j0 * m + i0) * c));
                if (c == 1 && mi == Tile && nj == Tile && Avx512F.IsSupported) Transpose.Sixteen(ref from, n, ref to, m);
                else if (c == 1)
                    for (int j = 0; j < nj; j++)
                        for (int i = 0; i < mi; i++) Unsafe.Add(ref to, (nint)j * m + i) = Unsafe.Add(ref from, (nint)i * n + j);
                else
                    for (int j = 0; j < nj; j++)
                        for (int i = 0; i < mi; i++)
                            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref from, ((nint)i * n + j) * c), c)
                                .CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref to, ((nint)j * m + i) * c), c));
            }
        }, Math.Max(1, 4096 / (Tile * Tile * c)));
    }

    // Any other permutation: y's rows (its last dim) shared out over threads, each range starting its odometer over y's
    // other dims at its first row.
    static void Rows(float[] x, int[] dims, int[] order, float[] y, int count)
    {
        int rank = dims.Length;
        var xs = Shapes.Strides(dims);
        var outShape = new int[rank];
        var src = new int[rank];
        for (int k = 0; k < rank; k++) (outShape[k], src[k]) = (dims[order[k]], xs[order[k]]);
        int inner = outShape[rank - 1], innerStride = src[rank - 1];
        int rows = count / inner;
        Threading.ForRanges(rows, (_, r0, r1) =>
        {
            var idx = new int[rank];
            int off = 0;
            for (int d = rank - 2, rest = r0; d >= 0; d--)
            {
                idx[d] = rest % outShape[d];
                rest /= outShape[d];
                off += idx[d] * src[d];
            }
            ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
            for (int r = r0; r < r1; r++)
            {
                ref float yr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(y), (nint)r * inner);
                if (innerStride == 1) MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref xr, off), inner).CopyTo(MemoryMarshal.CreateSpan(ref yr, inner));
                else for (int j = 0, o = off; j < inner; j++, o += innerStride) Unsafe.Add(ref yr, j) = Unsafe.Add(ref xr, o);
                for (int d = rank - 2; d >= 0; d--)
                {
                    idx[d]++; off += src[d];
                    if (idx[d] < outShape[d]) break;
                    off -= src[d] * outShape[d]; idx[d] = 0;
                }
            }
        }, Math.Max(1, 16384 / inner));
    }
}
