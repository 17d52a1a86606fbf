using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static GanForge.Kernels.CacheLines;

namespace GanForge.Kernels;

/// <summary>
/// Single-threaded SGEMM on AVX-512 (GotoBLAS structure): C = alpha·op(A)·op(B) + beta·C, row-major.
/// A: (M,K) or (K,M) if transA; B: (K,N) or (N,K) if transB; C: (M,N).
/// </summary>
/// <remarks>
/// For each NC×KC panel of op(B) (packed into 32-column strips; a row-major B under at most 128 rows of A is read
/// in place) and each MC×KC block of op(A) (packed into 8-row strips), an 8×32 register tile (16 zmm
/// accumulators, two 16-lane B vectors and a broadcast per row of A per step of k) is accumulated over KC and
/// added into C. 16 independent FMA chains cover the FMA latency on two ports. The B strip (KC·32 floats, 32 KB)
/// stays in L1 while the A strips stream from L2.
/// OpenBLAS on this machine runs AVX2 (or, unpinned on a processor it does not know, SSE3) kernels, at
/// half the AVX-512 rate or less; this kernel exists for the GAN shapes (64-1024 rows, transposed weights).
/// A transposed B (a Linear's weight, y = x Wᵀ) is packed with 16×16 in-register transposes: at 64 rows of
/// A, scalar packing would cost half as much as the product itself.
/// Thread-safe: packing buffers are per thread; callers split C across threads (<see cref="Gemm.Sgemm"/>).
/// </remarks>
public static unsafe class GemmAvx512
{
    const int MR = 8, NR = 32;
    const int KC = 256, MC = 256, NC = 1024;

    [ThreadStatic] static float[]? _packA, _packB, _swap;

    /// <summary>True when the JIT accelerates 512-bit vectors (AVX-512F).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C on the calling thread. With beta = 0, C is never read (it may hold NaN), and a
    /// <paramref name="bias"/> of n values, when given, is added to every row as the first K block is stored (a Linear
    /// layer's bias at no pass of its own: writing it into C first and adding to it cost as much as the product at 64
    /// inputs).
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, ReadOnlySpan<float> bias = default)
    {
        if (!IsSupported) throw new PlatformNotSupportedException("GemmAvx512: this processor or runtime does not accelerate Vector512");
        if (!bias.IsEmpty && (beta != 0f || bias.Length < n))
            throw new ArgumentException($"GemmAvx512: a bias needs beta = 0 and {n} values, got beta {beta} and {bias.Length}");
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            Gemm.ScaleC(m, n, beta, c, ldc);
            if (!bias.IsEmpty) Gemm.FillRows(m, n, bias, c, ldc);
            return;
        }
        if (beta != 0f && beta != 1f) { Gemm.ScaleC(m, n, beta, c, ldc); beta = 1f; }
        if (Swaps(transA, transB, m, n, k, beta)) { SwappedProduct(m, n, k, alpha, a, lda, b, ldb, c, ldc, bias); return; }
        var packA = _packA ??= GC.AllocateUninitializedArray<float>(MC * KC + 16, pinned: true);
        var packB = _packB ??= GC.AllocateUninitializedArray<float>(NC * KC + 16, pinned: true);
        fixed (float* pa = a, pb = b, pc = c, packedA = packA, packedB = packB, pbias = bias)
        {
            float* ap = Aligned(packedA), bp = Aligned(packedB);
            float* tile = stackalloc float[MR * NR];
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc), nStrips = (nc + NR - 1) / NR;
                for (int p0 = 0; p0 < k; p0 += KC)
                {
                    int kc = Math.Min(KC, k - p0);
                    // The first K block overwrites C when beta = 0; later blocks add into it.
                    bool overwrite = p0 == 0 && beta == 0f;
                    // B row-major under few rows of A: whole strips are read in place (two vectors from one row of B per
                    // step of k), the edge strip packed. Packing all of a Linear's weight for its input gradient at a batch
                    // of 64 rows cost more than reading it where it lies: in place, those products ran 2-10% faster.
                    bool bInPlace = !transB && m <= BInPlaceRows;
                    for (int s = 0; s < nStrips; s++)
                        if (!bInPlace || jc + s * NR + NR > n) PackB(pb, ldb, transB, n, p0, kc, jc + s * NR, bp + s * NR * kc);
                    for (int ic = 0; ic < m; ic += MC)
                    {
                        int mc = Math.Min(MC, m - ic), mStrips = (mc + MR - 1) / MR;
                        // A row-major: whole 8-row strips are read in place (eight broadcasts from eight rows per
                        // step of k); packing them cost as much as a third of the product at 100 columns. A transposed A
                        // too, eight contiguous floats per step of k, unless its rows lie a multiple of 4 kB apart
                        // (ReadsTransposedInPlace).
                        bool inPlace = !transA || ReadsTransposedInPlace(lda);
                        if (!inPlace) PackTransposedStrips(pa, lda, m, p0, kc, ic, mStrips, ap);
                        else
                            for (int s = 0; s < mStrips; s++)
                                if (ic + s * MR + MR > m) PackA(pa, lda, transA, m, p0, kc, ic + s * MR, ap + s * MR * kc);
                        for (int r = 0; r < nStrips; r++)
                        {
                            int j0 = jc + r * NR, nr = Math.Min(NR, n - j0);
                            bool stripInPlace = bInPlace && nr == NR;
                            float* bStrip = stripInPlace ? pb + (long)p0 * ldb + j0 : bp + r * NR * kc;
                            nint bStride = stripInPlace ? ldb : NR;
                            for (int s = 0; s < mStrips; s++)
                            {
                                int i0 = ic + s * MR, mr = Math.Min(MR, m - i0);
                                float* cTile = pc + (long)i0 * ldc + j0;
                                if (PrefetchesC && s + 1 < mStrips) PrefetchTile(cTile + MR * (long)ldc, ldc, Math.Min(MR, m - i0 - MR));
                                // the bias goes in with the first K block, which overwrites C
                                float* tileBias = overwrite && pbias != null ? pbias + j0 : null;
                                float* aRows = inPlace && mr == MR ? (transA ? pa + (long)p0 * lda + i0 : pa + (long)i0 * lda + p0) : null;
                                Tile(kc, alpha, aRows, lda, transA, ap + s * MR * kc, bStrip, bStride, mr, nr, cTile, ldc, overwrite, tileBias, tile);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Whether each tile of C has the next tile's lines (the next 8 rows of the same 32 columns) fetched into L1 while
    /// it is made (the default; the bench's switch prefetch-c turns it off). A tile of a shallow product (depth 64)
    /// stores its 16 lines after about a thousand cycles of multiply-adds: where C is not in cache (transgan32's layers
    /// over 2,080 rows, whose outputs come back from memory), each store can wait for its line. transgan32's step on
    /// over off: 1.013 and 1.012 in two runs of 40 rounds of 6 steps (median rounds 1.011 and 1.007), 1.008-1.063 in
    /// three shorter ones; mlpgan, stylegan32 and dcgan28 ties. Alone (`bench --kernels --shallow`, one thread), the
    /// 2,080-row products from memory read 0.98-1.04 in five runs (1.005-1.041 in the first two, 0.983-1.014 in the
    /// last three) and in cache 0.989-0.999 (fifty-first pass).
    /// </summary>
    internal static bool PrefetchesC { get; set; } = true;

    // The lines of `rows` rows of a tile of C (32 floats each, ldc apart) towards L1.
    static void PrefetchTile(float* c, int ldc, int rows)
    {
        for (int i = 0; i < rows; i++, c += ldc)
        {
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + 16);
        }
    }

    // Rows of a strip's gradient in SgemmAdam: NC plus a line, so that its 8 rows do not fall 4 KB apart (one cache set).
    const int StripStride = NC + 16;
    [ThreadStatic] static float[]? _strip;

    /// <summary>True when <see cref="SgemmAdam"/> takes a product of this depth: one K block, so each tile is final when stored.</summary>
    public static bool FusesAdam(int k) => IsSupported && OneDepthBlock(k);

    /// <summary>
    /// Whether a product of this depth is one K block: each tile is summed whole in registers, then stored once, over C
    /// (beta 0) or added to it (beta 1, C + the tile's sum rounded once).
    /// </summary>
    internal static bool OneDepthBlock(int k) => k > 0 && k <= KC;

    /// <summary>
    /// The weights p (m × n, row stride ldp) take one Adam step with the gradient alpha·op(A)·op(B): the product is made
    /// 8 rows at a time into a strip that stays in cache, and each strip's rows step p and its moments (mMoment and vMoment,
    /// laid out as p) as soon as they are made. The gradient never goes to memory as a whole, which the usual order (the
    /// product into a gradient of m × n, then the step reading it back) pays for twice. The same float operations as
    /// that order: the same tiles, then <see cref="AdamStep.Update"/>'s. Needs <see cref="FusesAdam"/>(k).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SgemmAdam(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> p, Span<float> mMoment, Span<float> vMoment, int ldp, in AdamStep.Scalars step)
    {
        if (!FusesAdam(k)) throw new ArgumentException($"GemmAvx512.SgemmAdam: a product of depth {k} is not one block of at most {KC}");
        if (m <= 0 || n <= 0) return;
        long need = (long)(m - 1) * ldp + n;
        if (p.Length < need || mMoment.Length < need || vMoment.Length < need)
            throw new ArgumentException($"GemmAvx512.SgemmAdam: weights {p.Length}, moments {mMoment.Length} and {vMoment.Length} for a {m} x {n} product (row stride {ldp})");
        var packA = _packA ??= GC.AllocateUninitializedArray<float>(MC * KC + 16, pinned: true);
        var packB = _packB ??= GC.AllocateUninitializedArray<float>(NC * KC + 16, pinned: true);
        var strip = _strip ??= GC.AllocateUninitializedArray<float>(MR * StripStride + 16, pinned: true);
        fixed (float* pa = a, pb = b, packedA = packA, packedB = packB, gradients = strip, pp = p, pm = mMoment, pv = vMoment)
        {
            float* ap = Aligned(packedA), bp = Aligned(packedB), g = Aligned(gradients);
            float* tile = stackalloc float[MR * NR];
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc), nStrips = (nc + NR - 1) / NR;
                for (int s = 0; s < nStrips; s++)
                    PackB(pb, ldb, transB, n, 0, k, jc + s * NR, bp + s * NR * k);
                for (int i0 = 0; i0 < m; i0 += MR)
                {
                    int mr = Math.Min(MR, m - i0);
                    bool inPlace = !transA && mr == MR;
                    if (!inPlace) PackA(pa, lda, transA, m, 0, k, i0, ap);
                    // the strip's gradient, 8 rows by nc, tile by tile
                    for (int r = 0; r < nStrips; r++)
                    {
                        int j0 = r * NR, nr = Math.Min(NR, nc - j0);
                        if (i0 + 2 * MR <= m) PrefetchRows(pp + (long)(i0 + MR) * ldp + jc + j0, ldp, pm - pp, pv - pp);
                        // all 8 rows of the strip are written (rows past m from A's zero padding), only mr of them read
                        Tile(k, alpha, inPlace ? pa + (long)i0 * lda : null, lda, false, ap, bp + r * NR * k, NR, MR, nr, g + j0, StripStride,
                            overwrite: true, null, tile);
                    }
                    for (int i = 0; i < mr; i++)
                    {
                        int row = (i0 + i) * ldp + jc;
                        AdamStep.Range(p.Slice(row, nc), new ReadOnlySpan<float>(g + i * StripStride, nc), mMoment.Slice(row, nc),
                            vMoment.Slice(row, nc), step);
                    }
                }
            }
        }
    }

    // 32 columns of the next strip's 8 rows of weights and moments towards L2 while this strip's tile is made, so that
    // the step finds them there (2-4% off the fused products of an mlpgan step, alternating in one process).
    static void PrefetchRows(float* w, int ldp, long toM, long toV)
    {
        for (int i = 0; i < MR; i++, w += ldp)
        {
            Sse.Prefetch1(w); Sse.Prefetch1(w + 16);
            Sse.Prefetch1(w + toM); Sse.Prefetch1(w + toM + 16);
            Sse.Prefetch1(w + toV); Sse.Prefetch1(w + toV + 16);
        }
    }

    /// <summary>
    /// Whether the product reads a transposed A (a weight gradient's gᵀ, a convolution's transposed weights) where it lies, a
    /// strip's eight floats at each step of k from one of A's rows, rather than packing its strips first. One thread, in
    /// one process alternating with the packed strips (fortieth pass): transgan32's weight gradients 0.72-1.01 of the time
    /// (its 64 -> 192 layer over 2,080 rows 343 -> 248 us), 2,080 rows of 64 -> 128 0.57, 64 -> 1,024 0.77; at rows 4 kB
    /// apart (1,024 outputs: mlpgan's 1,024-wide layers) each strip's rows fall in one cache set, and in place ran 8-13%
    /// longer, so those are packed (the bench's switch transposed-a-in-place turns this off).
    /// </summary>
    internal static bool TransposedInPlace { get; set; } = true;

    static bool ReadsTransposedInPlace(int lda) => TransposedInPlace && lda % 1024 != 0;

    // Rows of A at most this many for B read in place.
    const int BInPlaceRows = 128;

    // Rows of C at most this many for SwappedProduct.
    const int SwapRows = 128;

    /// <summary>Whether <see cref="Sgemm"/> makes C = A·Bᵀ of this shape as the swapped product (<see cref="SwappedProduct"/>).</summary>
    internal static bool Swaps(bool transA, bool transB, int m, int n, int k, float beta) =>
        !transA && transB && beta == 0f && m <= SwapRows && n >= 2 * m && k >= 2 * m;

    /// <summary>
    /// C = alpha·A·Bᵀ (+ bias) for a few rows of A against a wide, deep B (a Linear layer's forward at batch 64: x·Wᵀ)
    /// as Cᵀ = alpha·B·Aᵀ, then Cᵀ transposed into C. B is then read in place (8 rows at a time) and only A, m × k, is
    /// packed with transposes, where the direct product packs all of Bᵀ, n × k, on every call; transposing Cᵀ (n × m)
    /// costs less than that packing when k ≥ 2m. With a bias, Cᵀ's rows start as it and the product is added into them:
    /// the first K block's tiles then store alpha·sums + bias as the direct product's tiles do, so with alpha 1 (a Linear
    /// layer's) both make the same bits, whatever the depth; added after the transpose, the bias had been rounded in after
    /// the last K block instead of the first.
    /// </summary>
    static void SwappedProduct(int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, ReadOnlySpan<float> bias)
    {
        if (_swap == null || _swap.Length < n * m) _swap = GC.AllocateUninitializedArray<float>(Math.Max(n * m, 1 << 16), pinned: true);
        var ct = _swap;
        if (!bias.IsEmpty)
            for (int j = 0; j < n; j++) ct.AsSpan(j * m, m).Fill(bias[j]);
        Sgemm(false, true, n, m, k, alpha, b, ldb, a, lda, bias.IsEmpty ? 0f : 1f, ct, m);   // Cᵀ (n × m): B (n × k) in place, A read transposed
        fixed (float* pt = ct, pc = c)
        {
            int m16 = m / 16 * 16, n16 = n / 16 * 16;
            for (int i0 = 0; i0 < m16; i0 += 16)
                for (int j0 = 0; j0 < n16; j0 += 16)
                    Transpose16(pt + (long)j0 * m + i0, m, pc + (long)i0 * ldc + j0, ldc);
            // the edges: rows past the last 16, columns past the last 16
            for (int i = 0; i < m; i++)
                for (int j = i < m16 ? n16 : 0; j < n; j++)
                    pc[(long)i * ldc + j] = pt[(long)j * m + i];
        }
    }

    // One mr x nr tile of C (+)= alpha · op(A) · op(B) over kc: from op(A) in place (aRows: A's rows, lda apart, or with
    // transA A's columns) or its packed strip, a whole tile straight into C, an edge tile through scratch (its padding
    // rows and columns are zeros) and then its valid part into C.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile(int kc, float alpha, float* aRows, int lda, bool transA, float* aPacked, float* b, nint ldb, int mr, int nr,
        float* c, int ldc, bool overwrite, float* bias, float* scratch)
    {
        bool whole = mr == MR && nr == NR;
        float* dst = whole ? c : scratch;
        int ldd = whole ? ldc : NR;
        if (aRows != null && transA) KernelRows<ColumnsOfA>(kc, alpha, aRows, lda, b, ldb, dst, ldd, overwrite || !whole, whole ? bias : null);
        else if (aRows != null) KernelRows<RowsOfA>(kc, alpha, aRows, lda, b, ldb, dst, ldd, overwrite || !whole, whole ? bias : null);
        else Kernel(kc, alpha, aPacked, b, ldb, dst, ldd, overwrite || !whole, whole ? bias : null);
        if (!whole) AddTile(scratch, c, ldc, mr, nr, overwrite, bias);
    }

    // C[0..8, 0..32] (+)= alpha · Σ_p a[p*8 + i] · b[p*ldb + j] (ldb 32 for a packed strip, B's row stride in place).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel(int kc, float alpha, float* a, float* b, nint ldb, float* c, int ldc, bool overwrite, float* bias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++, a += MR, b += ldb)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ar = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(ar, b0, c00); c01 = Vector512.FusedMultiplyAdd(ar, b1, c01);
            ar = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(ar, b0, c10); c11 = Vector512.FusedMultiplyAdd(ar, b1, c11);
            ar = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(ar, b0, c20); c21 = Vector512.FusedMultiplyAdd(ar, b1, c21);
            ar = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(ar, b0, c30); c31 = Vector512.FusedMultiplyAdd(ar, b1, c31);
            ar = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(ar, b0, c40); c41 = Vector512.FusedMultiplyAdd(ar, b1, c41);
            ar = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(ar, b0, c50); c51 = Vector512.FusedMultiplyAdd(ar, b1, c51);
            ar = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(ar, b0, c60); c61 = Vector512.FusedMultiplyAdd(ar, b1, c61);
            ar = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(ar, b0, c70); c71 = Vector512.FusedMultiplyAdd(ar, b1, c71);
        }
        var va = Vector512.Create(alpha);
        var (bLo, bHi) = bias == null ? (Vector512<float>.Zero, Vector512<float>.Zero) : (Vector512.Load(bias), Vector512.Load(bias + 16));
        Store(c, c00, c01, va, overwrite, bLo, bHi); Store(c + ldc, c10, c11, va, overwrite, bLo, bHi);
        Store(c + 2 * ldc, c20, c21, va, overwrite, bLo, bHi); Store(c + 3 * ldc, c30, c31, va, overwrite, bLo, bHi);
        Store(c + 4 * ldc, c40, c41, va, overwrite, bLo, bHi); Store(c + 5 * ldc, c50, c51, va, overwrite, bLo, bHi);
        Store(c + 6 * ldc, c60, c61, va, overwrite, bLo, bHi); Store(c + 7 * ldc, c70, c71, va, overwrite, bLo, bHi);
    }

    // C[0..mr, 0..nr] (+)= tile[i*32 + j], the valid part of an edge tile; bias[j] added when given (with overwrite).
    // The tile is read in whole vectors, as the kernel stored it, and C written through lane masks: a float at a time,
    // the copy was most of an edge tile's cost where the products are short (one thread, 8,192 x 16 -> 16: 96 -> 47 us,
    // as fast as -> 32 of whole tiles; -> 48 138 -> 89; thirty-eighth pass).
    static void AddTile(float* tile, float* c, int ldc, int mr, int nr, bool overwrite, float* bias)
    {
        for (int j0 = 0; j0 < nr; j0 += 16)
        {
            var mask = FloatLanes.FirstLanes(nr - j0);
            var add = overwrite && bias != null ? Avx512F.MaskLoad(bias + j0, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            for (int i = 0; i < mr; i++)
            {
                float* ci = c + (long)i * ldc + j0;
                var t = Vector512.Load(tile + i * NR + j0);
                Avx512F.MaskStore(ci, mask, t + (overwrite ? add : Avx512F.MaskLoad(ci, mask, Vector512<float>.Zero)));
            }
        }
    }

    // Where op(A)[r, p] lies in place: a[r·lda + p] (A's rows) or a[p·lda + r] (a transposed A's columns). A type
    // argument rather than a stride argument, so that each kernel's strides are constants where they are 1: with the
    // stride a variable, three of five transgan32 forwards ran 1-2% longer (one thread, alternating processes).
    interface IInPlaceA
    {
        static abstract nint RowStride(nint lda);
        static abstract nint Step(nint lda);
    }

    readonly struct RowsOfA : IInPlaceA
    {
        public static nint RowStride(nint lda) => lda;
        public static nint Step(nint lda) => 1;
    }

    readonly struct ColumnsOfA : IInPlaceA
    {
        public static nint RowStride(nint lda) => 1;
        public static nint Step(nint lda) => lda;
    }

    // As Kernel, with op(A) read in place (see IInPlaceA).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void KernelRows<TA>(int kc, float alpha, float* a, int lda, float* b, nint ldb, float* c, int ldc, bool overwrite, float* bias)
        where TA : struct, IInPlaceA
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        nint l1 = TA.RowStride(lda), l2 = 2 * l1, l3 = 3 * l1, step = TA.Step(lda);
        float* a0 = a, a4 = a + 4 * l1;
        for (int p = 0; p < kc; p++, a0 += step, a4 += step, b += ldb)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ar = Vector512.Create(a0[0]); c00 = Vector512.FusedMultiplyAdd(ar, b0, c00); c01 = Vector512.FusedMultiplyAdd(ar, b1, c01);
            ar = Vector512.Create(a0[l1]); c10 = Vector512.FusedMultiplyAdd(ar, b0, c10); c11 = Vector512.FusedMultiplyAdd(ar, b1, c11);
            ar = Vector512.Create(a0[l2]); c20 = Vector512.FusedMultiplyAdd(ar, b0, c20); c21 = Vector512.FusedMultiplyAdd(ar, b1, c21);
            ar = Vector512.Create(a0[l3]); c30 = Vector512.FusedMultiplyAdd(ar, b0, c30); c31 = Vector512.FusedMultiplyAdd(ar, b1, c31);
            ar = Vector512.Create(a4[0]); c40 = Vector512.FusedMultiplyAdd(ar, b0, c40); c41 = Vector512.FusedMultiplyAdd(ar, b1, c41);
            ar = Vector512.Create(a4[l1]); c50 = Vector512.FusedMultiplyAdd(ar, b0, c50); c51 = Vector512.FusedMultiplyAdd(ar, b1, c51);
            ar = Vector512.Create(a4[l2]); c60 = Vector512.FusedMultiplyAdd(ar, b0, c60); c61 = Vector512.FusedMultiplyAdd(ar, b1, c61);
            ar = Vector512.Create(a4[l3]); c70 = Vector512.FusedMultiplyAdd(ar, b0, c70); c71 = Vector512.FusedMultiplyAdd(ar, b1, c71);
        }
        var va = Vector512.Create(alpha);
        var (bLo, bHi) = bias == null ? (Vector512<float>.Zero, Vector512<float>.Zero) : (Vector512.Load(bias), Vector512.Load(bias + 16));
        Store(c, c00, c01, va, overwrite, bLo, bHi); Store(c + ldc, c10, c11, va, overwrite, bLo, bHi);
        Store(c + 2 * ldc, c20, c21, va, overwrite, bLo, bHi); Store(c + 3 * ldc, c30, c31, va, overwrite, bLo, bHi);
        Store(c + 4 * ldc, c40, c41, va, overwrite, bLo, bHi); Store(c + 5 * ldc, c50, c51, va, overwrite, bLo, bHi);
        Store(c + 6 * ldc, c60, c61, va, overwrite, bLo, bHi); Store(c + 7 * ldc, c70, c71, va, overwrite, bLo, bHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector512<float> lo, Vector512<float> hi, Vector512<float> alpha, bool overwrite,
        Vector512<float> biasLo, Vector512<float> biasHi)
    {
        if (overwrite)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(lo, alpha, biasLo), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(hi, alpha, biasHi), c + 16);
        }
        else
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(lo, alpha, Vector512.Load(c)), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(hi, alpha, Vector512.Load(c + 16)), c + 16);
        }
    }

    // A strip: rows i0..i0+8 of op(A), columns p0..p0+kc -> dst[p*8 + r], zero rows past M.
    static void PackA(float* a, int lda, bool transA, int m, int p0, int kc, int i0, float* dst)
    {
        if (!transA || m - i0 < MR) { GemmPacking.PackA(a, lda, transA, m, p0, kc, i0, MR, dst); return; }
        // op(A)[i, p] = a[p, i]: eight contiguous floats per p, one 256-bit copy each.
        for (int p = 0; p < kc; p++) Vector256.Store(Vector256.Load(a + (long)(p0 + p) * lda + i0), dst + p * MR);
    }

    // The strips of a block of a transposed A (a weight gradient's output gradient, gᵀ), two at a time: for each p, the
    // sixteen contiguous floats of both strips in one 512-bit load, its halves to the two strips. One strip at a time, each
    // of its kc rows of A was visited twice, half a cache line each time, a block of rows apart.
    static void PackTransposedStrips(float* a, int lda, int m, int p0, int kc, int ic, int mStrips, float* ap)
    {
        int s = 0;
        for (; s + 1 < mStrips && ic + (s + 2) * MR <= m; s += 2)
        {
            float* src = a + (long)p0 * lda + ic + s * MR, first = ap + s * MR * kc, second = first + MR * kc;
            for (int p = 0; p < kc; p++, src += lda)
            {
                var v = Vector512.Load(src);
                v.GetLower().Store(first + p * MR);
                v.GetUpper().Store(second + p * MR);
            }
        }
        for (; s < mStrips; s++) PackA(a, lda, true, m, p0, kc, ic + s * MR, ap + s * MR * kc);
    }

    // B strip: rows p0..p0+kc of op(B), columns j0..j0+32 -> dst[p*32 + j], zero columns past N.
    static void PackB(float* b, int ldb, bool transB, int n, int p0, int kc, int j0, float* dst)
    {
        int cols = Math.Min(NR, n - j0);
        if (!transB)
        {
            if (cols < NR) { GemmPacking.PackB(b, ldb, transB, n, p0, kc, j0, NR, dst); return; }
            for (int p = 0; p < kc; p++)
            {
                float* src = b + (long)(p0 + p) * ldb + j0, d = dst + p * NR;
                Vector512.Store(Vector512.Load(src), d);
                Vector512.Store(Vector512.Load(src + 16), d + 16);
            }
            return;
        }
        // op(B)[p, j] = b[j, p]: rows of b are contiguous along p, so 16×16 blocks are transposed in registers.
        int p16 = cols == NR ? kc / 16 * 16 : 0;
        for (int half = 0; half < 2; half++)
            for (int p = 0; p < p16; p += 16)
                Transpose16(b + (long)(j0 + half * 16) * ldb + p0 + p, ldb, dst + p * NR + half * 16, NR);
        GemmPacking.PackBTransposed(b, ldb, cols, p0, p16, kc, j0, NR, dst);
    }

    // dst[c*ldd + r] = src[r*lds + c] for r, c in 0..16.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose16(float* src, int lds, float* dst, int ldd) => Transpose.Sixteen(ref *src, lds, ref *dst, ldd);
}
