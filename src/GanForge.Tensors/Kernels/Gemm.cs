using System.Buffers;
using System.Numerics.Tensors;
using GanForge.Native;

namespace GanForge.Kernels;

/// <summary>
/// Single-precision GEMM on row-major buffers: C = alpha * op(A) * op(B) + beta * C.
/// A: (M,K) or (K,M) if transA; B: (K,N) or (N,K) if transB; C: (M,N).
/// Runs the AVX-512 kernel (<see cref="GemmAvx512"/>) where the JIT accelerates Vector512, else oneDNN's sgemm when
/// it can be loaded (<see cref="PreferDnnlProducts"/>), else OpenBLAS, otherwise the blocked managed kernel
/// (<see cref="GemmManaged"/>); GANFORGE_GEMM=avx512|dnnl|openblas|managed forces one. With <see cref="Precision.Current"/> bf16 (and oneDNN
/// loaded) and <see cref="Bf16Products"/>, every product reads its operands rounded to bf16 instead (<see cref="GemmBf16"/>).
/// </summary>
public static class Gemm
{
    static bool? _forceManaged = InitialChoice();

    static bool? InitialChoice() => Environment.GetEnvironmentVariable("GANFORGE_GEMM")?.Trim().ToLowerInvariant() switch
    {
        "managed" => true,
        "openblas" or "blas" => false,
        _ => null,
    };

    /// <summary>
    /// Forces the managed kernel (true), OpenBLAS (false; throws on use if it cannot be loaded),
    /// or lets the library choose (null, the default unless GANFORGE_GEMM is set).
    /// </summary>
    public static bool? ForceManaged
    {
        get => _forceManaged;
        set => _forceManaged = value;
    }

    /// <summary>
    /// Whether the AVX-512 kernel runs where it is supported and neither OpenBLAS nor the managed kernel is forced
    /// (true by default; GANFORGE_GEMM=openblas or ForceManaged = false turn it off).
    /// </summary>
    public static bool PreferAvx512 { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_GEMM")?.Trim().ToLowerInvariant() is not ("openblas" or "blas" or "managed" or "dnnl");

    // A product with fewer rows or columns than this (a matrix-vector product: D's last layer, its weight
    // gradient) wastes most of the AVX-512 kernel's 8x32 tile; OpenBLAS ran those 3-6x faster (bench --gemm).
    const int Avx512MinSide = 8;

    static bool UseAvx512 => _forceManaged == null && PreferAvx512 && GemmAvx512.IsSupported;

    /// <summary>True when products run on the AVX-512 kernel (the convolution rules that count on its speed ask).</summary>
    internal static bool RunsAvx512 => UseAvx512;

    /// <summary>True when oneDNN could be loaded (it runs the bf16 products of <see cref="Precision"/>).</summary>
    public static bool DnnlAvailable => NativeMethods.DnnlAvailable;

    /// <summary>True when a CBLAS library (OpenBLAS) could be loaded.</summary>
    public static bool OpenBlasAvailable => NativeMethods.BlasAvailable;

    static bool UseBlas
    {
        get
        {
            if (_forceManaged == true) return false;
            if (_forceManaged == false && !NativeMethods.BlasAvailable)
                throw new InvalidOperationException("Gemm: OpenBLAS was requested (GANFORGE_GEMM=openblas or ForceManaged=false) but no libopenblas/libcblas could be loaded");
            return NativeMethods.BlasAvailable;
        }
    }

    /// <summary>
    /// Which implementation runs: "avx512", "dnnl" (oneDNN's sgemm, the default without AVX-512), "dnnl/threaded"
    /// (GANFORGE_GEMM=dnnl: every split product on oneDNN's own threads), "openblas" or "managed" (reported by the
    /// bench and the CLI).
    /// </summary>
    public static string Backend => UseAvx512 ? "avx512" : DnnlProducts ? (UseDnnl ? "dnnl/threaded" : "dnnl")
        : UseBlas ? (UseDnnl ? "openblas/dnnl" : "openblas") : "managed";

    // oneDNN's threaded sgemm for large products from outside the engine's loops: only when asked for.
    internal static bool PreferDnnl { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_GEMM")?.Trim().ToLowerInvariant() == "dnnl";

    static bool UseDnnl => PreferDnnl && _forceManaged == null && NativeMethods.DnnlAvailable;

    /// <summary>
    /// Whether products run on oneDNN's sgemm instead of OpenBLAS's where the AVX-512 kernel does not (true by default;
    /// GANFORGE_GEMM=openblas or <see cref="ForceManaged"/> turn it off).
    /// </summary>
    /// <remarks>
    /// On the Zen 3 (AVX2) host of the thirtieth pass oneDNN's single-threaded sgemm ran 5-25% faster than OpenBLAS's
    /// Haswell kernels on most GAN shapes (mlpgan's 64- and 128-row layers, transgan32's 64-wide ones, a 1024³
    /// product at par): OpenBLAS clears C in a pass of its own before it accumulates when beta = 0, which costs a
    /// fifth of a product whose inner dimension is a batch of 64 (784 x 1,024 x 64: 72 GFLOP/s with beta = 0, 88 with
    /// beta = 1); oneDNN writes C once. Whole steps alternated in one process: 0.99-1.13 (mlpgan 1.10-1.13, transgan32
    /// 0.994); mlpgan's generation 0.973.
    /// </remarks>
    internal static bool PreferDnnlProducts { get; set; } = true;

    /// <summary>
    /// Products summing more than this many terms go to OpenBLAS instead (where it loads); none by default. The thirtieth
    /// pass kept them on OpenBLAS from 513 terms (its kernel tied or beat oneDNN's on a Zen 3: 256 x 392 x 1,024, 76 against
    /// 66 GFLOP/s, measured one thread at a time). On the Zen 1 host of the thirty-sixth pass, two threads calling OpenBLAS
    /// at once made 44.5-47.0 GFLOP/s between them on dcgan28's 128 x 1,024 by 1,024 x 245 against 34 for one (each
    /// caller single-threaded, the library primed as it loads: NativeMethods.Blas.cs); oneDNN's 62-65 against 33-34:
    /// OpenBLAS's concurrent callers wait for each other, and the engine's threads are such callers. Whole steps with
    /// every product on oneDNN, against the 512-term limit, alternated in one process (`--alternate deep-dnnl`): dcgan28
    /// 1.146 and 1.155, wgangp28 1.175, transgan32 1.147, mlpgan 1.047 and 1.102, cyclegan32 1.054, dcgan64 1.013,
    /// stylegan32 1.018; generation 0.966-1.011 (dcgan28 0.980, dcgan64 0.966, mlpgan 1.011, wgangp28 0.983).
    /// </summary>
    internal static int DnnlMaxDepth { get; set; } = int.MaxValue;

    /// <summary>Whether a single-threaded product summing <paramref name="k"/> terms runs on oneDNN's sgemm.</summary>
    internal static bool SerialOnDnnl(int k) => DnnlProducts && k <= DnnlMaxDepth;

    static bool DnnlProducts => PreferDnnlProducts && _forceManaged == null && !UseAvx512 && NativeMethods.DnnlAvailable;

    // A weight gradient over a small batch (Aᵀ·B, at most 128 rows summed) of a layer 256 wide or more each way with
    // 256K weights or more (mlpgan's): oneDNN's threaded sgemm ran these 10-20% faster than two single-threaded halves
    // (it splits the rows and columns of C together); whole mlpgan steps 1.04-1.07. Smaller ones (512 x 256), narrow
    // ones (dcgan28's 6,272 x 100) and other shapes lost on its threads, and transgan32's many small products lost 4-6%
    // a step to its team's wake-ups.
    internal static bool ThreadedOnDnnl(bool transA, bool transB, int m, int n, int k) =>
        DnnlProducts && transA && !transB && k <= 128 && m >= 256 && n >= 256 && (long)m * n >= 1 << 18;

    // Below this many multiply-adds a split across threads costs more than it saves... 1M since the forty-ninth pass;
    // the 2M before it dates from the products on OpenBLAS, before the AVX-512 kernel and the workers' spin. The one
    // product between the two in the workloads is mlpgan's first layer (64 x 256 over 100 inputs, twice a step, and its
    // weight gradient with Adam's step inside, 256 x 100 over 64 rows): whole mlpgan steps ran 1.002-1.034 as fast with it
    // split as on one thread, 1.016 the median of four runs (the bench's switch split-from-1m; docs/performance.md).
    internal static long ParallelWork { get; set; } = 1 << 20;

    // ...unless the product writes at least this many floats (1 MB): then the writes are its cost, however few its
    // multiply-adds. Two threads, alternating in one process (fortieth pass): transgan32's last 4 -> 12 layer over 32,768
    // rows 113 -> 70 us.
    const long ParallelOutput = 1 << 18;

    // Whether a product is too small to split over the threads (above).
    static bool TooSmallToSplit(int m, int n, int k) =>
        (long)m * n * k < ParallelWork && (!SplitsWideOutputs || (long)m * n < ParallelOutput);

    /// <summary>Whether products of at least <see cref="ParallelOutput"/> floats split over the threads however shallow (the bench's switch wide-outputs).</summary>
    internal static bool SplitsWideOutputs { get; set; } = true;

    /// <summary>
    /// Whether a Linear layer's forward (x·Wᵀ) over many rows splits over C's rows where each part then takes the AVX-512
    /// GEMM's swapped product, rather than over C's columns (the bench's switch swapped-rows). The swapped product reads W
    /// where it lies, so no thread packs W; each part's rows of x and y are one of the halves the element-wise ops before
    /// and after it split their buffers into, where a part of the columns reads every row of x (half of them just written
    /// by the other thread) and writes half of every row of y. mlpgan's generation (batch 256, two threads) 1.071 in 20
    /// alternating rounds (each 1.027-1.100); parts of 64 rows (D's forward over 128 rows in training) lost, 0.980
    /// (sixtieth pass).
    /// </summary>
    internal static bool RowsForSwapped { get; set; } = true;

    // Rows a part at least for the split above.
    const int SwappedRowsMin = 128;

    // Whether C = A·Bᵀ splits over its rows into `parts` parts for the reason above: each part's rows take the swapped
    // product on the AVX-512 GEMM, the smallest at least SwappedRowsMin (parts of so many rows, against a B at least twice
    // as wide, are the AVX-512 GEMM's whatever SerialOnAvx512's least side).
    static bool SwappedRowParts(bool transA, bool transB, int m, int n, int k, float beta, int parts)
    {
        if (!RowsForSwapped || !UseAvx512) return false;
        int smallest = Part(m, 0, parts).End, largest = m - Part(m, parts - 1, parts).Start;
        return smallest >= SwappedRowsMin && GemmAvx512.Swaps(transA, transB, largest, n, k, beta);
    }

    /// <summary>Parts a split product is cut into per thread, claimed from the pool's shared counter.</summary>
    internal static int PartsPerThread { get; set; } = int.TryParse(Environment.GetEnvironmentVariable("GANFORGE_GEMM_PARTS"), out var p) && p >= 1 ? p : 1;

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C on <see cref="Threading.Threads"/> threads: C is split by rows or
    /// columns into single-threaded calls (the AVX-512 kernel, oneDNN's or OpenBLAS's sgemm) on the engine's workers,
    /// so no library's threads spin against the engine's own loops; without AVX-512 a small batch's weight gradient
    /// of a wide layer runs on oneDNN's threads instead (<see cref="ThreadedOnDnnl"/>). With GANFORGE_GEMM=dnnl a
    /// large product outside those loops goes to oneDNN's sgemm on that many OpenMP threads instead: in
    /// isolation it was faster on the skinny products of a GAN at batch 64 (6.2 vs 7.1 ms over the mlpgan
    /// shapes on 2 threads), inside a training step 12% slower (its OpenMP workers sleep between calls).
    /// A <paramref name="bias"/> of n values (beta = 0) is added to every row of C: by the AVX-512 kernel as it stores
    /// C, on the other paths written into C before the product is added to it.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, ReadOnlySpan<float> bias = default)
    {
        if (!bias.IsEmpty && !BiasInKernel(m, n, beta, bias)) { AddBiasRows(m, n, beta, bias, c, ldc); beta = 1f; bias = default; }
        if (NarrowWeightGradient(transA, transB, m, n, k, beta, bias)) { SwappedNarrow(m, n, k, alpha, a, lda, b, ldb, c, ldc); return; }
        int parts = Threading.Threads;
        // oneDNN asked first: where it takes the products, OpenBLAS is never loaded (nor primed).
        if (Bf16Gemms && m > 0 && n > 0 && k > 0 && alpha != 0f && !WorkerPool.InParallelRegion
            && GemmBf16.TryRun(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parts)) return;
        if (DepthParts(transA, transB, m, n, k, beta, bias) is int depthParts and > 1) { SplitDepth(depthParts, m, n, k, alpha, a, lda, b, ldb, c, ldc); return; }
        if (parts == 1 || TooSmallToSplit(m, n, k) || !(DnnlProducts || UseAvx512 || UseBlas) || WorkerPool.InParallelRegion) { SgemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias); return; }
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                if ((UseDnnl || ThreadedOnDnnl(transA, transB, m, n, k)) && m > 0 && n > 0 && k > 0 && bias.IsEmpty
                    && TryDnnl(parts, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)) return;
                nint A = (nint)pa, B = (nint)pb, C = (nint)pc;
                int la = a.Length, lb = b.Length, lc = c.Length;
                var biasCopy = bias.IsEmpty ? null : bias[..n].ToArray();
                bool byColumns = n >= m && !SwappedRowParts(transA, transB, m, n, k, beta, parts * PartsPerThread);
                int extent = byColumns ? n : m;
                parts = Math.Min(parts * PartsPerThread, Math.Max(1, extent / 16));
                Threading.For(parts, t =>
                {
                    var (s, e) = Part(extent, t, parts);
                    if (e <= s) return;
                    var sa = new ReadOnlySpan<float>((float*)A, la); var sb = new ReadOnlySpan<float>((float*)B, lb);
                    var sc = new Span<float>((float*)C, lc);
                    if (byColumns)
                        SgemmSerial(transA, transB, m, e - s, k, alpha, sa, lda, sb[(transB ? s * ldb : s)..], ldb, beta, sc[s..], ldc,
                            biasCopy == null ? default : biasCopy.AsSpan(s, e - s));
                    else
                        SgemmSerial(transA, transB, e - s, n, k, alpha, sa[(transA ? s : s * lda)..], lda, sb, ldb, beta, sc[(s * ldc)..], ldc, biasCopy);
                });
            }
        }
    }

    // C = Aᵀ·B under 32 columns and at least twice as many rows: a weight gradient of few inputs (out × in over the
    // batch's rows, transgan32's 16 -> 64 and 4 -> 16 layers). Its columns fill less than one strip of the kernels, and
    // A is read across its rows to pack; the same product as (Bᵀ·A)ᵀ, whose columns are the wide side, then transposed
    // back, took a fifth to a half of the time (64 x 16 over 2,080 rows 147 -> 31 us, over 8,192 568 -> 111; 16 x 4 over
    // 8,192 41 -> 22), each sum over the rows in the same order. Three columns or fewer do not gain (48 x 3: 15 -> 17 us).
    static bool NarrowWeightGradient(bool transA, bool transB, int m, int n, int k, float beta, ReadOnlySpan<float> bias) =>
        transA && !transB && beta == 0f && bias.IsEmpty && n >= 4 && n < 32 && m >= 16 && m >= 2 * n && k > 0;

    static void SwappedNarrow(int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        var ct = ArrayPool<float>.Shared.Rent(n * m);
        Sgemm(true, false, n, m, k, alpha, b, ldb, a, lda, 0f, ct, m);   // Cᵀ = Bᵀ·A, n × m
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++) row[j] = ct[j * m + i];
        }
        ArrayPool<float>.Shared.Return(ct);
    }

    /// <summary>
    /// Whether a deep weight gradient (Aᵀ·B over 2,048 rows or more into at most 64k floats) is split over its depth (the
    /// default) rather than over C's rows or columns (the bench's switch depth-split).
    /// </summary>
    internal static bool SplitsDepth { get; set; } = true;

    // Parts of its depth a weight gradient Aᵀ·B is summed in: one per 1,024 terms, at most four, fixed by the shape alone
    // (never by the threads), so that its sums are the same on any number of threads. 1 for every other product.
    static int DepthParts(bool transA, bool transB, int m, int n, int k, float beta, ReadOnlySpan<float> bias) =>
        SplitsDepth && transA && !transB && beta == 0f && bias.IsEmpty && k >= 2 * DepthPerPart && (long)m * n <= 1 << 16
            ? Math.Min(4, k / DepthPerPart) : 1;

    const int DepthPerPart = 1024;

    // C = alpha·Aᵀ·B as the sum of `parts` products over consecutive runs of the depth, made on the threads (each single-
    // threaded: the first into C, the others into buffers of their own) and then added into C in order. Split over C's
    // rows or columns instead, each thread read all of the depth of the other operand, and transgan32's weight gradients
    // (64-256 x 64 over 2,080 rows) ran 1.3-1.7x as fast on two threads as on one (fortieth pass).
    static void SplitDepth(int parts, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc)
    {
        var partial = ArrayPool<float>.Shared.Rent((parts - 1) * m * n);
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c, pp = partial)
            {
                nint A = (nint)pa, B = (nint)pb, C = (nint)pc, P = (nint)pp;
                int la = a.Length, lb = b.Length, lc = c.Length;
                Threading.For(parts, t =>
                {
                    int p0 = (int)((long)k * t / parts), p1 = (int)((long)k * (t + 1) / parts);
                    var sa = new ReadOnlySpan<float>((float*)A, la)[(p0 * lda)..];
                    var sb = new ReadOnlySpan<float>((float*)B, lb)[(p0 * ldb)..];
                    if (t == 0) SgemmSerial(true, false, m, n, p1 - p0, alpha, sa, lda, sb, ldb, 0f, new Span<float>((float*)C, lc), ldc);
                    else SgemmSerial(true, false, m, n, p1 - p0, alpha, sa, lda, sb, ldb, 0f, new Span<float>((float*)P + (t - 1) * m * n, m * n), n);
                });
            }
        }
        for (int t = 1; t < parts; t++)
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                TensorPrimitives.Add(row, partial.AsSpan((t - 1) * m * n + i * n, n), row);
            }
        ArrayPool<float>.Shared.Return(partial);
    }

    /// <summary>
    /// Whether a Linear layer's input gradient over a few rows is made in the two halves of its weight's rows
    /// (<see cref="InputGradient"/>; true, the bench's switch input-grad-halves).
    /// </summary>
    internal static bool InputGradientInHalves { get; set; } = true;

    /// <summary>
    /// A Linear layer's input gradient dx = g·W (g rows × out, W out × in, dx rows × in, all contiguous). Over at most 128
    /// rows of a weight of 256 or more outputs and inputs it is made as two products over the halves of W's rows, added
    /// (<see cref="InputGradientInHalves"/>): the forward (x·Wᵀ, split over W's rows) and the optimizer's step in the weight
    /// gradient's product (split over them too) then find each half of W where the same thread left it. Split over W's
    /// columns instead, each thread read half of every row; where the host ran the two cores on different dies (each with its
    /// own L3, a cache line 160-176 ns from one core to the other against 27-50 on one die), each step's writes of the
    /// weights found half their lines on the other die, and mlpgan ran at 0.55 of its speed: in 25 processes each, 6 slow
    /// (3,805-4,817 images/s) one way, none this way (forty-seventh pass). Each half is split over the columns between the
    /// threads beyond two, and the halves are added in one order, so the sums are the same on any number of threads (and
    /// inside another loop, where the items run one after the other). Where the halves run in turn (one thread, or inside
    /// another loop) and each is one depth block of the AVX-512 kernel (a weight of at most 512 outputs), the second is
    /// added into dx as its tiles are stored, the same bits without the buffer and the pass that adds it: on one thread the
    /// halves had cost mlpgan's step 0.991 and a gradient penalty's pass 0.969-0.988 of the speed of one product, 0.998-1.004
    /// and 0.993-1.003 this way (forty-eighth pass). bf16 products go to <see cref="Sgemm"/> whole.
    /// </summary>
    public static void InputGradient(int rows, int inF, int outF, ReadOnlySpan<float> g, ReadOnlySpan<float> w, Span<float> dx)
    {
        if (!InputGradientInHalves || Bf16Gemms || rows > 128 || outF < 256 || inF < 256)
        {
            Sgemm(false, false, rows, inF, outF, 1f, g, outF, w, inF, 0f, dx, inF);
            return;
        }
        int split = Part(outF, 0, 2).End;
        if ((Threading.Threads == 1 || WorkerPool.InParallelRegion) && SerialOnAvx512(rows, inF)
            && GemmAvx512.OneDepthBlock(split) && GemmAvx512.OneDepthBlock(outF - split))
        {
            // The halves in turn on this thread, each one depth block: the second is added into dx as its tiles are stored,
            // dx + its sum rounded once, the bits the add of the two halves makes, with no buffer and no pass of its own.
            SgemmSerial(false, false, rows, inF, split, 1f, g, outF, w, inF, 0f, dx, inF);
            SgemmSerial(false, false, rows, inF, outF - split, 1f, g[split..], outF, w[(split * inF)..], inF, 1f, dx, inF);
            return;
        }
        int slices = Math.Max(1, Threading.Threads / 2);
        var half = ArrayPool<float>.Shared.Rent(rows * inF);
        unsafe
        {
            fixed (float* pg = g, pw = w, pdx = dx, ph = half)
            {
                nint G = (nint)pg, W = (nint)pw, Dx = (nint)pdx, H = (nint)ph;
                int lg = g.Length, lw = w.Length, ldx = dx.Length;
                // item h·slices + j: half h of W's rows, slice j of the columns; the first half into dx, the second aside
                Threading.For(2 * slices, item =>
                {
                    int h = item / slices;
                    var (k0, k1) = Part(outF, h, 2);
                    var (j0, j1) = Part(inF, item % slices, slices);
                    if (j1 <= j0) return;
                    var a = new ReadOnlySpan<float>((float*)G, lg)[k0..];
                    var b = new ReadOnlySpan<float>((float*)W, lw)[(k0 * inF + j0)..];
                    var c = h == 0 ? new Span<float>((float*)Dx, ldx)[j0..] : new Span<float>((float*)H, rows * inF)[j0..];
                    SgemmSerial(false, false, rows, j1 - j0, k1 - k0, 1f, a, outF, b, inF, 0f, c, inF);
                });
            }
        }
        TensorPrimitives.Add(dx[..(rows * inF)], half.AsSpan(0, rows * inF), dx[..(rows * inF)]);
        ArrayPool<float>.Shared.Return(half);
    }

    // Part t of parts of an extent of C: 16-aligned boundaries keep each part's panels whole.
    internal static (int Start, int End) Part(int extent, int t, int parts) =>
        (extent * t / parts / 16 * 16, t == parts - 1 ? extent : extent * (t + 1) / parts / 16 * 16);

    /// <summary>
    /// Whether <see cref="TrySgemmAdam"/> runs at all on this process: the AVX-512 GEMM in use and fp32 products. A product
    /// may still decline by its shape.
    /// </summary>
    public static bool FusesAdam => UseAvx512 && !Bf16Gemms;

    /// <summary>
    /// The weights p (m × n, contiguous) take one Adam step with the gradient alpha·op(A)·op(B), made and applied 8 rows at
    /// a time (<see cref="GemmAvx512.SgemmAdam"/>), the rows split over the threads (each thread's weights and moments one
    /// contiguous run: split by columns, the same step ran 20% slower). False, with nothing done, where that kernel does
    /// not run (no AVX-512, bf16 products, a product deeper than one block or with a side under the kernel's minimum):
    /// the caller then makes the gradient and steps as usual.
    /// </summary>
    public static unsafe bool TrySgemmAdam(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> p, Span<float> mMoment, Span<float> vMoment, AdamStep.Scalars step)
    {
        if (!FusesAdam || !GemmAvx512.FusesAdam(k) || Math.Min(m, n) < Avx512MinSide) return false;
        if (p.Length < m * n || mMoment.Length < m * n || vMoment.Length < m * n)
            throw new ArgumentException($"Gemm.TrySgemmAdam: weights {p.Length}, moments {mMoment.Length} and {vMoment.Length} for a {m} x {n} product");
        int parts = Math.Min(Threading.Threads, Math.Max(1, m / 16));
        if (parts == 1 || (long)m * n * k < ParallelWork || WorkerPool.InParallelRegion)
        {
            GemmAvx512.SgemmAdam(transA, transB, m, n, k, alpha, a, lda, b, ldb, p, mMoment, vMoment, n, step);
            return true;
        }
        fixed (float* pa = a, pb = b, pp = p, pm = mMoment, pv = vMoment)
        {
            nint A = (nint)pa, B = (nint)pb, P = (nint)pp, M = (nint)pm, V = (nint)pv;
            int la = a.Length, lb = b.Length;
            Threading.For(parts, t =>
            {
                var (s, e) = Part(m, t, parts);
                if (e <= s) return;
                int offset = s * n, length = (e - s) * n;
                GemmAvx512.SgemmAdam(transA, transB, e - s, n, k, alpha,
                    new ReadOnlySpan<float>((float*)A, la)[(transA ? s : s * lda)..], lda, new ReadOnlySpan<float>((float*)B, lb), ldb,
                    new Span<float>((float*)P + offset, length), new Span<float>((float*)M + offset, length),
                    new Span<float>((float*)V + offset, length), n, step);
            });
        }
        return true;
    }

    /// <summary>
    /// Whether matrix products follow <see cref="Precision.Current"/> bf16 as the convolutions do (false by default: with
    /// bf16 they stay fp32). oneDNN's bf16 GEMM, the rounding of its inputs included, lost to the AVX-512 fp32 kernel at
    /// the GAN's Linear shapes where the bf16 convolutions won (Zen 5: mlpgan's step 26-35% slower with bf16 products;
    /// with the convolutions alone in bf16 dcgan64 +23-49%, wgangp28 +19-22%; docs/performance.md, "bf16 on the Zen 5").
    /// The bench's per-shape bf16 columns and the bf16 GEMM tests turn it on.
    /// </summary>
    public static bool Bf16Products { get; set; }

    // Whether products run in bf16 now (GemmBf16).
    static bool Bf16Gemms => Bf16Products && Precision.Bf16Active;

    // Whether SgemmSerial runs an m × n product on the AVX-512 kernel (InputGradient's halves in turn rely on its beta 1).
    static bool SerialOnAvx512(int m, int n) => UseAvx512 && (Math.Min(m, n) >= Avx512MinSide || !NativeMethods.BlasAvailable);

    /// <summary>The same product on the calling thread only (for callers that are already parallel).</summary>
    public static unsafe void SgemmSerial(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, ReadOnlySpan<float> bias = default)
    {
        if (!bias.IsEmpty && !BiasInKernel(m, n, beta, bias)) { AddBiasRows(m, n, beta, bias, c, ldc); beta = 1f; bias = default; }
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) { ScaleC(m, n, beta, c, ldc); return; }
        if (Bf16Gemms && GemmBf16.TryRun(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1)) return;
        if (SerialOnAvx512(m, n)) { GemmAvx512.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias); return; }
        if (SerialOnDnnl(k))
            fixed (float* pa = a, pb = b, pc = c)
                if (TryDnnl(1, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)) return;
        if (UseBlas)
        {
            fixed (float* pa = a, pb = b, pc = c)
                NativeMethods.CblasSgemm(NativeMethods.CblasRowMajor,
                    transA ? NativeMethods.CblasTrans : NativeMethods.CblasNoTrans,
                    transB ? NativeMethods.CblasTrans : NativeMethods.CblasNoTrans,
                    m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            return;
        }
        GemmManaged.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    // oneDNN's sgemm on a team of this many OpenMP threads (the calling thread's setting only: oneDNN's primitives set
    // their team's size before they run); false where oneDNN refuses the call.
    static unsafe bool TryDnnl(int threads, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        NativeMethods.OmpSetNumThreads(threads);
        return NativeMethods.DnnlSgemm(transA ? (sbyte)'T' : (sbyte)'N', transB ? (sbyte)'T' : (sbyte)'N',
            m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == NativeMethods.DnnlSuccess;
    }

    // Whether the AVX-512 kernel will add a row bias as it stores C (beta = 0, its path for these sides); else callers
    // write the bias into C first and accumulate onto it.
    static bool BiasInKernel(int m, int n, float beta, ReadOnlySpan<float> bias) =>
        beta == 0f && bias.Length >= n && UseAvx512 && !Bf16Gemms && (Math.Min(m, n) >= Avx512MinSide || !NativeMethods.BlasAvailable);

    // C[i, :] = bias (beta·C + bias with beta = 0: the products are then added with beta = 1).
    static void AddBiasRows(int m, int n, float beta, ReadOnlySpan<float> bias, Span<float> c, int ldc)
    {
        if (bias.Length < n || beta != 0f) throw new ArgumentException($"Sgemm: a bias needs beta = 0 and {n} values, got beta {beta} and {bias.Length}");
        FillRows(m, n, bias, c, ldc);
    }

    /// <summary>C[i, 0..n) = values[0..n) for every row i.</summary>
    internal static void FillRows(int m, int n, ReadOnlySpan<float> values, Span<float> c, int ldc)
    {
        if (ldc != n || m < 2 || !FillsByDoubling)
        {
            for (int i = 0; i < m; i++) values[..n].CopyTo(c.Slice(i * ldc, n));
            return;
        }
        // Contiguous rows: the first row, then the rows filled so far copied after themselves. A copy a row cost as
        // much as the product where the rows are a few floats (one thread, 32,768 rows of 4 -> 4: 118 -> 60 us with the
        // product, fortieth pass).
        values[..n].CopyTo(c);
        for (long filled = n, total = (long)m * n; filled < total; filled *= 2)
            c[..(int)Math.Min(filled, total - filled)].CopyTo(c[(int)filled..]);
    }

    /// <summary>Whether <see cref="FillRows"/> fills contiguous rows by doubling copies (the default) or a row at a time (the bench's switch fill-by-doubling).</summary>
    internal static bool FillsByDoubling { get; set; } = true;

    internal static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == 0f) ci.Clear(); else TensorPrimitives.Multiply(ci, beta, ci);
        }
    }

    /// <summary>Straightforward managed kernel: row-times-matrix accumulation with SIMD axpy (the test reference).</summary>
    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        // Bring B into (K,N) row-major so each row of C is a sum of scaled rows of B.
        ReadOnlySpan<float> bk = b;
        int ldbk = ldb;
        float[]? bt = null;
        if (transB)
        {
            bt = new float[k * n];
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) bt[p * n + j] = b[j * ldb + p];
            bk = bt; ldbk = n;
        }
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == 0f) ci.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(ci, beta, ci);
            for (int p = 0; p < k; p++)
            {
                float aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                if (aip == 0f) continue;
                TensorPrimitives.MultiplyAdd(bk.Slice(p * ldbk, n), aip, ci, ci);
            }
        }
    }
}
