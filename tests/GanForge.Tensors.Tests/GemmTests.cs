using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

// Shares the backend collection: some of its tests switch Gemm.ForceManaged and Gemm.PreferDnnl, process-wide settings that
// the convolution tests' path checks read (a small-map test running beside them once saw no AVX-512 GEMM and expected
// another path).
[Collection("ConvBackend")]
public class GemmTests
{
    public static TheoryData<bool, bool, int, int, int> Cases()
    {
        var d = new TheoryData<bool, bool, int, int, int>();
        int[][] sizes = [[1, 1, 1], [7, 33, 5], [33, 7, 129], [129, 33, 7], [6, 16, 300], [65, 130, 257]];
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
                foreach (var s in sizes) d.Add(ta, tb, s[0], s[1], s[2]);
        return d;
    }

    // C = alpha * op(A) op(B) + beta * C in double, the ground truth for every backend.
    static float[] Naive(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        var r = (float[])c.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                r[i * ldc + j] = (float)(alpha * s + beta * c[i * ldc + j]);
            }
        return r;
    }

    static void Check(Action<bool, bool, int, int, int, float, float[], int, float[], int, float, float[], int> sgemm,
        bool ta, bool tb, int m, int n, int k, string what)
    {
        var g = new Generator(42);
        // Leading dims larger than the logical width catch stride mistakes.
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
        var a = Tensor.Randn([(ta ? k : m) * lda], g).ToArray();
        var b = Tensor.Randn([(tb ? n : k) * ldb], g).ToArray();
        var c = Tensor.Randn([m * ldc], g).ToArray();
        var expected = Naive(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c, ldc);
        sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c, ldc);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(c), 1e-4, 1e-4 * Math.Sqrt(k), $"{what} ta={ta} tb={tb} {m}x{n}x{k}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void Managed_AllTransposesOddSizes_MatchesNaive(bool ta, bool tb, int m, int n, int k) =>
        Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => GemmManaged.Sgemm(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, m, n, k, "managed");

    [Theory, MemberData(nameof(Cases))]
    public void Reference_AllTransposesOddSizes_MatchesNaive(bool ta, bool tb, int m, int n, int k) =>
        Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => Gemm.Reference(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, m, n, k, "reference");

    /// <summary>A theory skipped, with the reason, where OpenBLAS cannot be loaded (CI installs libopenblas0-pthread).</summary>
    public sealed class OpenBlasTheoryAttribute : TheoryAttribute
    {
        public OpenBlasTheoryAttribute()
        {
            if (!Gemm.OpenBlasAvailable)
                Skip = "OpenBLAS (libopenblas.so.0 / libcblas.so.3) is not installed; the native GEMM path is untested here";
        }
    }

    [OpenBlasTheory, MemberData(nameof(Cases))]
    public void OpenBlas_AllTransposesOddSizes_MatchesNaive(bool ta, bool tb, int m, int n, int k)
    {
        var previous = Gemm.ForceManaged;
        try
        {
            Gemm.ForceManaged = false;
            Assert.Equal("openblas", Gemm.Backend);
            Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => Gemm.Sgemm(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, m, n, k, "openblas");
        }
        finally { Gemm.ForceManaged = previous; }
    }

    /// <summary>A theory skipped, with the reason, where oneDNN cannot be loaded (CI installs libdnnl2).</summary>
    public sealed class DnnlGemmTheoryAttribute : TheoryAttribute
    {
        public DnnlGemmTheoryAttribute()
        {
            if (!Gemm.DnnlAvailable) Skip = "oneDNN (libdnnl.so.2/3) is not installed; its sgemm path is untested here";
        }
    }

    // Runs body with the products on oneDNN's sgemm (the default without AVX-512), on this many threads.
    static void OnDnnl(int threads, Action body)
    {
        var saved = (Gemm.ForceManaged, Gemm.PreferAvx512, Gemm.PreferDnnl, Gemm.PreferDnnlProducts, Threading.Threads);
        try
        {
            (Gemm.ForceManaged, Gemm.PreferAvx512, Gemm.PreferDnnl, Gemm.PreferDnnlProducts, Threading.Threads) = (null, false, false, true, threads);
            Assert.Equal("dnnl", Gemm.Backend);
            body();
        }
        finally { (Gemm.ForceManaged, Gemm.PreferAvx512, Gemm.PreferDnnl, Gemm.PreferDnnlProducts, Threading.Threads) = saved; }
    }

    [DnnlGemmTheory, MemberData(nameof(Cases))]
    public void Dnnl_AllTransposesOddSizes_MatchesNaive(bool ta, bool tb, int m, int n, int k) =>
        OnDnnl(1, () => Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => Gemm.Sgemm(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, m, n, k, "dnnl"));

    [DnnlGemmTheory]
    [InlineData(false, false, 70, 300, 130)]   // split by columns into one oneDNN call a thread
    [InlineData(false, true, 300, 70, 130)]    // split by rows
    [InlineData(true, false, 300, 70, 130)]
    [InlineData(true, false, 512, 512, 64)]    // a small batch's weight gradient of a wide layer: oneDNN's own threads
    [InlineData(true, false, 1000, 100, 64)]   // a narrow one: split
    [InlineData(false, false, 128, 245, 1024)] // deeper than 512 terms (dcgan28's 64 -> 128 layer, a chunk of 5 samples)
    [InlineData(true, true, 96, 300, 1100)]
    public void Dnnl_TwoThreads_MatchesNaive(bool ta, bool tb, int m, int n, int k) =>
        OnDnnl(2, () => Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => Gemm.Sgemm(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, m, n, k, "dnnl, 2 threads"));

    [DnnlGemmTheory]
    [InlineData(true, false, 512, 512, 64, true)]
    [InlineData(true, false, 784, 1024, 128, true)]
    [InlineData(true, false, 784, 1024, 129, false)]   // more than a small batch summed
    [InlineData(true, false, 512, 256, 64, false)]     // under 256K weights
    [InlineData(true, false, 6272, 100, 64, false)]    // narrow
    [InlineData(false, false, 64, 1024, 784, false)]   // not a weight gradient
    [InlineData(false, true, 1024, 1024, 64, false)]
    public void Dnnl_ThreadsOnlyForASmallBatchsWideWeightGradient(bool ta, bool tb, int m, int n, int k, bool threaded) =>
        OnDnnl(2, () => Assert.Equal(threaded, Gemm.ThreadedOnDnnl(ta, tb, m, n, k)));

    // Every product goes to oneDNN, the deep ones too: OpenBLAS's concurrent callers wait for each other (the thirty-sixth pass).
    [DnnlGemmTheory]
    [InlineData(64)]
    [InlineData(512)]
    [InlineData(1024)]
    [InlineData(6272)]
    public void Dnnl_TakesProductsOfEveryDepth(int k) => OnDnnl(2, () => Assert.True(Gemm.SerialOnDnnl(k), $"a product of {k} terms is not on oneDNN"));

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, false)]
    [InlineData(false, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, false, true)]
    [InlineData(true, true, true)]
    public void Sgemm_LargeProductOnTwoThreads_MatchesNaive(bool ta, bool tb, bool preferDnnl)
    {
        // 70x300x130 is above the parallel threshold: split into single-threaded calls, or oneDNN's
        // threaded sgemm when preferred (and present); both must give the naive product.
        int previous = Threading.Threads;
        bool previousDnnl = Gemm.PreferDnnl;
        try
        {
            Threading.Threads = 2;
            Gemm.PreferDnnl = preferDnnl;
            Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => Gemm.Sgemm(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, 70, 300, 130, Gemm.Backend);
        }
        finally { Threading.Threads = previous; Gemm.PreferDnnl = previousDnnl; }
    }

    [Theory]
    [InlineData(false, true, 64, 256, 100)]   // mlpgan's first layer at batch 64 (x·Wᵀ)
    [InlineData(true, false, 256, 100, 64)]   // and its weight gradient gᵀ·x
    public void Sgemm_OneToTwoMillionMultiplyAdds_SplitOnTwoThreads_MatchesNaive(bool ta, bool tb, int m, int n, int k)
    {
        // Between Gemm.ParallelWork and the 2M it was until the forty-ninth pass: split over two threads now. The split
        // product must be the naive one, and with the AVX-512 kernel (each element's sum in the same order on either
        // side of the split) the one-thread product bit for bit.
        Assert.InRange((long)m * n * k, Gemm.ParallelWork, (1L << 21) - 1);
        var g = new Generator(5);
        int lda = ta ? m : k, ldb = tb ? k : n;
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([k * n], g).ToArray();
        var (one, two) = (ProductOn(1, ta, tb, m, n, k, a, lda, b, ldb, n), ProductOn(2, ta, tb, m, n, k, a, lda, b, ldb, n));
        var expected = Naive(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0f, new float[m * n], n);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(two), 1e-4, 1e-4 * Math.Sqrt(k), $"two threads {m}x{n}x{k}");
        if (Gemm.Backend == "avx512") Assert.Equal(one, two);
    }

    [Theory]
    [InlineData(70, 45, 2500)]    // a deep weight gradient: two parts of its depth
    [InlineData(33, 40, 4500)]    // four parts, boundaries inside the kernels' blocks
    [InlineData(64, 16, 8200)]    // a narrow one (swapped), then split
    [InlineData(300, 300, 2500)]  // C over 64k floats: split over C instead
    public void Sgemm_DeepWeightGradient_MatchesNaive_SameOnAnyThreads(int m, int n, int k)
    {
        var (a, b, lda, ldb, ldc, expected) = WeightGradient(11, m, n, k);
        var (one, two) = (ProductOn(1, true, false, m, n, k, a, lda, b, ldb, ldc), ProductOn(2, true, false, m, n, k, a, lda, b, ldb, ldc));
        AssertRowsClose(expected, two, m, n, k, ldc);
        // split over its depth in parts fixed by the shape: the same sums on any number of threads
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n && (long)m * n <= 1 << 16; j++)
                Assert.True(one[i * ldc + j] == two[i * ldc + j], $"C[{i},{j}] of {m}x{n}x{k}: {one[i * ldc + j]} on one thread, {two[i * ldc + j]} on two");
    }

    // C = 0.75·op(A)·op(B) (beta 0, row stride ldc) by Gemm.Sgemm on that many threads; C starts as NaN, never read.
    static float[] ProductOn(int threads, bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb, int ldc)
    {
        var c = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        ThreadingTests.WithThreads(threads, () => Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0f, c, ldc));
        return c;
    }

    // A weight gradient's operands, Aᵀ·B with leading dims past the widths, and the naive C = 0.75·Aᵀ·B (row stride ldc).
    static (float[] A, float[] B, int Lda, int Ldb, int Ldc, float[] Expected) WeightGradient(ulong seed, int m, int n, int k)
    {
        var g = new Generator(seed);
        int lda = m + 3, ldb = n + 1, ldc = n + 2;
        var a = Tensor.Randn([k * lda], g).ToArray();
        var b = Tensor.Randn([k * ldb], g).ToArray();
        return (a, b, lda, ldb, ldc, Naive(true, false, m, n, k, 0.75f, a, lda, b, ldb, 0f, new float[m * ldc], ldc));
    }

    // C's m rows of n against the expected ones, each to 1e-4 relative and 1e-4·√k absolute.
    static void AssertRowsClose(float[] expected, float[] c, int m, int n, int k, int ldc)
    {
        for (int i = 0; i < m; i++)
            Fixtures.AssertClose(Tensor.FromArray(expected.AsSpan(i * ldc, n).ToArray()), Tensor.FromArray(c.AsSpan(i * ldc, n).ToArray()),
                1e-4, 1e-4 * Math.Sqrt(k), $"row {i} of {m}x{n}x{k}");
    }

    [Theory]
    [InlineData(1000, 4, 5, 4)]      // few columns: the bias written into contiguous rows first, by doubling copies
    [InlineData(1001, 1, 4, 1)]      // one column, a row count off the powers of two
    [InlineData(300, 3, 7, 5)]       // rows not contiguous (ldc past n): a row at a time
    [InlineData(70000, 4, 4, 4)]     // over 256k floats of C in few multiply-adds: split over the threads
    public void Sgemm_FewColumnsWithBias_MatchesNaive(int m, int n, int k, int ldc)
    {
        var g = new Generator(13);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([n * k], g).ToArray();
        var bias = Tensor.Randn([n], g).ToArray();
        var expected = Naive(false, true, m, n, k, 1f, a, k, b, k, 1f, Enumerable.Range(0, m * ldc).Select(i => i % ldc < n ? bias[i % ldc] : 0f).ToArray(), ldc);
        var c = Enumerable.Repeat(float.NaN, m * ldc).ToArray();   // never read
        ThreadingTests.WithThreads(2, () => Gemm.Sgemm(false, true, m, n, k, 1f, a, k, b, k, 0f, c, ldc, bias));
        for (int i = 0; i < m; i++)
        {
            Fixtures.AssertClose(Tensor.FromArray(expected.AsSpan(i * ldc, n).ToArray()), Tensor.FromArray(c.AsSpan(i * ldc, n).ToArray()),
                1e-4, 1e-4 * Math.Sqrt(k), $"row {i} of {m}x{n}x{k}");
            for (int j = n; j < ldc; j++) Assert.True(float.IsNaN(c[i * ldc + j]), $"C[{i},{j}] past the width was written");
        }
    }

    /// <summary>A theory skipped, with the reason, where the JIT does not accelerate Vector512 (no AVX-512).</summary>
    public sealed class Avx512TheoryAttribute : TheoryAttribute
    {
        public Avx512TheoryAttribute()
        {
            if (!GemmAvx512.IsSupported) Skip = "this processor or runtime has no accelerated Vector512; the AVX-512 GEMM is untested here";
        }
    }

    /// <summary>A fact skipped, with the reason, where the JIT does not accelerate Vector512 (no AVX-512).</summary>
    public sealed class Avx512FactAttribute : FactAttribute
    {
        public Avx512FactAttribute()
        {
            if (!GemmAvx512.IsSupported) Skip = "this processor or runtime has no accelerated Vector512; its AVX-512 kernels are untested here";
        }
    }

    public static TheoryData<bool, bool, int, int, int> Avx512Cases()
    {
        var d = Cases();
        // Whole 8x32 tiles with 16x16 transposes of B, and shapes past every block size (MC 256, KC 256, NC 1024).
        int[][] sizes = [[64, 64, 48], [64, 784, 1024], [300, 1100, 520], [257, 33, 17]];
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
                foreach (var s in sizes) d.Add(ta, tb, s[0], s[1], s[2]);
        return d;
    }

    [Avx512Theory, MemberData(nameof(Avx512Cases))]
    public void Avx512_AllTransposesOddSizesAndStrides_MatchesNaive(bool ta, bool tb, int m, int n, int k) =>
        Check((a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) => GemmAvx512.Sgemm(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13), ta, tb, m, n, k, "avx512");

    [Avx512Theory]
    [InlineData(false, true, 0f)]
    [InlineData(true, false, 0f)]
    [InlineData(false, false, 1f)]
    [InlineData(false, true, 1f)]
    public void Avx512_BetaZeroOrOne_IgnoresOrAddsC(bool ta, bool tb, float beta)
    {
        // beta = 0 must never read C (uninitialised outputs may hold NaN); beta = 1 adds into it, across K blocks.
        int m = 70, n = 45, k = 300;
        var g = new Generator(5);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([k * n], g).ToArray();
        var c = beta == 0f ? Enumerable.Repeat(float.NaN, m * n).ToArray() : Tensor.Randn([m * n], g).ToArray();
        var expected = Naive(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, beta, beta == 0f ? new float[m * n] : c, n);
        GemmAvx512.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, beta, c, n);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(c), 1e-4, 1e-4 * Math.Sqrt(k), $"avx512 beta={beta}");
    }

    [Theory]
    [InlineData(64, 16, 300)]    // transgan32's 16 -> 64 weight gradient, shorter
    [InlineData(16, 4, 1030)]    // its 4 -> 16
    [InlineData(70, 31, 65)]     // the widest narrow product, odd sizes
    [InlineData(48, 3, 200)]     // three columns: not swapped
    public void Sgemm_NarrowWeightGradient_MatchesNaive(int m, int n, int k)
    {
        // Aᵀ·B of few columns runs as (Bᵀ·A)ᵀ: alpha kept, C never read with beta = 0, leading dims past the widths.
        var (a, b, lda, ldb, ldc, expected) = WeightGradient(9, m, n, k);
        var c = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        Gemm.Sgemm(true, false, m, n, k, 0.75f, a, lda, b, ldb, 0f, c, ldc);
        AssertRowsClose(expected, c, m, n, k, ldc);
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++) Assert.True(float.IsNaN(c[i * ldc + j]), $"C[{i},{j}] past the width was written");
    }

    [Avx512Theory]
    [InlineData(192, 64, 600, 192, 0f)]    // a weight gradient's gᵀ read in place: whole strips, three K blocks
    [InlineData(70, 45, 300, 73, 0f)]      // in place with an edge strip (packed) and edge columns
    [InlineData(70, 45, 300, 73, 1f)]      // added into C
    [InlineData(64, 64, 520, 1024, 0f)]    // rows 4 kB apart: packed
    [InlineData(100, 40, 300, 2048, 1f)]   // the same, edge strip, added into C
    public void Avx512_TransposedA_InPlaceOrPacked_MatchesNaive(int m, int n, int k, int lda, float beta)
    {
        var g = new Generator(10);
        int ldb = n + 1, ldc = n + 2;
        var a = Tensor.Randn([k * lda], g).ToArray();
        var b = Tensor.Randn([k * ldb], g).ToArray();
        var c = Tensor.Randn([m * ldc], g).ToArray();
        var expected = Naive(true, false, m, n, k, 0.75f, a, lda, b, ldb, beta, beta == 0f ? new float[m * ldc] : c, ldc);
        if (beta == 0f) Array.Fill(c, float.NaN);   // never read
        GemmAvx512.Sgemm(true, false, m, n, k, 0.75f, a, lda, b, ldb, beta, c, ldc);
        for (int i = 0; i < m; i++)
            Fixtures.AssertClose(Tensor.FromArray(expected.AsSpan(i * ldc, n).ToArray()), Tensor.FromArray(c.AsSpan(i * ldc, n).ToArray()),
                1e-4, 1e-4 * Math.Sqrt(k), $"row {i} of {m}x{n}x{k}, A's rows {lda} apart");
    }

    [Avx512Theory]
    [InlineData(64, 1024, 512)]
    [InlineData(17, 50, 77)]
    public void Avx512_FewRowsWideDeep_SwappedProductMatchesNaive(int m, int n, int k)
    {
        // x·Wᵀ at batch 64 runs as (W·xᵀ)ᵀ; alpha kept, C never read with beta = 0, leading dims past the widths.
        var g = new Generator(8);
        int lda = k + 3, ldb = k + 1, ldc = n + 2;
        var a = Tensor.Randn([m * lda], g).ToArray();
        var b = Tensor.Randn([n * ldb], g).ToArray();
        var c = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        var expected = Naive(false, true, m, n, k, 0.75f, a, lda, b, ldb, 0f, new float[m * ldc], ldc);
        GemmAvx512.Sgemm(false, true, m, n, k, 0.75f, a, lda, b, ldb, 0f, c, ldc);
        for (int i = 0; i < m; i++)
            Fixtures.AssertClose(Tensor.FromArray(expected.AsSpan(i * ldc, n).ToArray()), Tensor.FromArray(c.AsSpan(i * ldc, n).ToArray()),
                1e-4, 1e-4 * Math.Sqrt(k), $"row {i} of {m}x{n}x{k}");
    }

    [Avx512Theory]
    [InlineData(70, 45, 300)]     // edge tiles both ways, two K blocks (the bias goes in with the first only)
    [InlineData(64, 64, 48)]      // whole tiles, A read in place
    [InlineData(2080, 192, 64)]   // a transformer's in-projection
    [InlineData(64, 512, 256)]    // few rows, wide and deep: computed as Cᵀ = B·Aᵀ and transposed back, whole 16 x 16 blocks
    [InlineData(13, 40, 100)]     // the same with edge rows and columns
    public void Avx512_Bias_AddedToEveryRowOnce(int m, int n, int k)
    {
        var g = new Generator(6);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([n * k], g).ToArray();
        var bias = Tensor.Randn([n], g).ToArray();
        var c = Enumerable.Repeat(float.NaN, m * n).ToArray();   // never read
        var expected = Naive(false, true, m, n, k, 1f, a, k, b, k, 1f, Enumerable.Range(0, m * n).Select(i => bias[i % n]).ToArray(), n);
        GemmAvx512.Sgemm(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, bias);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(c), 1e-4, 1e-4 * Math.Sqrt(k), $"avx512 with bias {m}x{n}x{k}");
    }

    [Avx512Theory]
    [InlineData(2080, 192, 64, 0f)]   // a transformer's in-projection: whole tiles, C's next tile fetched while each is made
    [InlineData(301, 70, 65, 0f)]     // an edge strip of 5 rows (its lines past C's last row not fetched) and edge columns
    [InlineData(301, 70, 300, 1f)]    // added into C, two K blocks
    public void Avx512_PrefetchingC_SameBitsAsWithout(int m, int n, int k, float beta)
    {
        var g = new Generator(11);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([n * k], g).ToArray();
        var c0 = Tensor.Randn([m * n], g).ToArray();
        float[] Product(bool prefetch)
        {
            var c = (float[])c0.Clone();
            bool was = GemmAvx512.PrefetchesC;
            GemmAvx512.PrefetchesC = prefetch;
            try { GemmAvx512.Sgemm(false, true, m, n, k, 0.75f, a, k, b, k, beta, c, n); }
            finally { GemmAvx512.PrefetchesC = was; }
            return c;
        }
        var with = Product(true);
        Assert.Equal(Product(false), with);
        var expected = Naive(false, true, m, n, k, 0.75f, a, k, b, k, beta, beta == 0f ? new float[m * n] : c0, n);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(with), 1e-4, 1e-4 * Math.Sqrt(k), $"avx512 prefetching C {m}x{n}x{k}");
    }

    [Avx512Theory]
    [InlineData(40, 100, 300, 1f)]      // edge rows and columns both ways, two K blocks
    [InlineData(64, 1024, 600, 0.75f)]  // whole tiles both ways (the same bits for any alpha), three K blocks
    [InlineData(128, 784, 1024, 1f)]    // a two-thread part of mlpgan's last layer at 256 rows
    [InlineData(13, 40, 100, 1f)]       // edge tiles only, one K block
    public void Avx512_SwappedProduct_SameBitsAsDirect(int m, int n, int k, float alpha)
    {
        // x·Wᵀ + b over m ≤ 128 rows is made as (W·xᵀ)ᵀ, Cᵀ's rows starting as the bias; over 136 rows directly. The first
        // m rows of the direct product must be the swapped product's bits: the same sums in the same order, the bias
        // rounded in with the first K block.
        var g = new Generator(12);
        const int directRows = 136;
        var a = Tensor.Randn([directRows * k], g).ToArray();
        var b = Tensor.Randn([n * k], g).ToArray();
        var bias = Tensor.Randn([n], g).ToArray();
        var swapped = Enumerable.Repeat(float.NaN, m * n).ToArray();
        var direct = Enumerable.Repeat(float.NaN, directRows * n).ToArray();
        Assert.True(GemmAvx512.Swaps(false, true, m, n, k, 0f), $"{m}x{n}x{k} should take the swapped product");
        Assert.False(GemmAvx512.Swaps(false, true, directRows, n, k, 0f), $"{directRows}x{n}x{k} should not");
        GemmAvx512.Sgemm(false, true, m, n, k, alpha, a, k, b, k, 0f, swapped, n, bias);
        GemmAvx512.Sgemm(false, true, directRows, n, k, alpha, a, k, b, k, 0f, direct, n, bias);
        Assert.Equal(direct.AsSpan(0, m * n).ToArray(), swapped);
        var expected = Naive(false, true, m, n, k, alpha, a, k, b, k, 1f, Enumerable.Range(0, m * n).Select(i => bias[i % n]).ToArray(), n);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(swapped), 1e-4, 1e-4 * Math.Sqrt(k), $"swapped {m}x{n}x{k}");
    }

    [Theory]
    [InlineData(256, 784, 1024)]   // mlpgan's generation: over two threads each half of the rows takes the swapped product
    [InlineData(256, 512, 256)]
    [InlineData(300, 640, 400)]    // halves of 144 and 156 rows, past the swapped product's 128: split over the columns
    [InlineData(256, 256, 100)]    // too shallow to swap: split over the columns
    public void Sgemm_LinearForward_SameBitsOnAnyThreads(int m, int n, int k)
    {
        var g = new Generator(14);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([n * k], g).ToArray();
        var bias = Tensor.Randn([n], g).ToArray();
        float[] On(int threads)
        {
            var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            ThreadingTests.WithThreads(threads, () => Gemm.Sgemm(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, bias));
            return c;
        }
        var one = On(1);
        Assert.Equal(one, On(2));
        Assert.Equal(one, On(3));
        var expected = Naive(false, true, m, n, k, 1f, a, k, b, k, 1f, Enumerable.Range(0, m * n).Select(i => bias[i % n]).ToArray(), n);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(one), 1e-4, 1e-4 * Math.Sqrt(k), $"linear forward {m}x{n}x{k}");
    }

    [Theory]
    [InlineData(2080, 192, 64, 2)]   // split by rows over two threads
    [InlineData(40, 300, 64, 2)]     // split by columns: each part its slice of the bias
    [InlineData(32768, 4, 4, 2)]     // four columns: OpenBLAS's side of the dispatcher, bias written into C first
    [InlineData(9, 5, 3, 1)]
    public void Sgemm_Bias_OnEveryBackendAndSplit_AddedToEveryRow(int m, int n, int k, int threads)
    {
        var g = new Generator(7);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([n * k], g).ToArray();
        var bias = Tensor.Randn([n], g).ToArray();
        var expected = Naive(false, true, m, n, k, 1f, a, k, b, k, 1f, Enumerable.Range(0, m * n).Select(i => bias[i % n]).ToArray(), n);
        foreach (bool? managed in new bool?[] { null, true, false })
        {
            if (managed == false && !Gemm.OpenBlasAvailable) continue;
            var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            var (previous, previousThreads) = (Gemm.ForceManaged, Threading.Threads);
            try
            {
                (Gemm.ForceManaged, Threading.Threads) = (managed, threads);
                Gemm.Sgemm(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, bias);
            }
            finally { (Gemm.ForceManaged, Threading.Threads) = (previous, previousThreads); }
            Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(c), 1e-4, 1e-4 * Math.Sqrt(k), $"bias, backend {managed?.ToString() ?? "default"}, {m}x{n}x{k}");
        }
    }

    [Fact]
    public void Sgemm_BiasWithBetaOne_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 2, 3, 2, 1f, new float[4], 2, new float[6], 2, 1f, new float[6], 3, new float[3]));
        Assert.Contains("bias", ex.Message);
    }

    [Avx512Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Sgemm_Avx512OnTwoThreads_MatchesOpenBlasAndManaged(bool ta, bool tb)
    {
        // The dispatcher's split into per-thread AVX-512 calls against the other backends on a GAN-sized product.
        int m = 64, n = 784, k = 1024;
        var g = new Generator(9);
        var a = Tensor.Randn([m * k], g).ToArray();
        var b = Tensor.Randn([k * n], g).ToArray();
        float[] Run(bool? forceManaged)
        {
            var c = new float[m * n];
            var (previous, threads) = (Gemm.ForceManaged, Threading.Threads);
            try
            {
                Gemm.ForceManaged = forceManaged; Threading.Threads = 2;
                if (forceManaged == null) Assert.Equal("avx512", Gemm.Backend);
                Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c, n);
            }
            finally { Gemm.ForceManaged = previous; Threading.Threads = threads; }
            return c;
        }
        var ours = Run(null);
        Fixtures.AssertClose(Tensor.FromArray(Run(true)), Tensor.FromArray(ours), 1e-4, 1e-3, "avx512 vs managed");
        if (Gemm.OpenBlasAvailable) Fixtures.AssertClose(Tensor.FromArray(Run(false)), Tensor.FromArray(ours), 1e-4, 1e-3, "avx512 vs openblas");
    }

    [Fact]
    public void Managed_SingleThread_SameAsMultiThread()
    {
        var g = new Generator(3);
        var a = Tensor.Randn([70 * 90], g).ToArray();
        var b = Tensor.Randn([90 * 50], g).ToArray();
        var c1 = new float[70 * 50]; var c2 = new float[70 * 50];
        int previous = Threading.Threads;
        try
        {
            Threading.Threads = 1;
            GemmManaged.Sgemm(false, false, 70, 50, 90, 1f, a, 90, b, 50, 0f, c1, 50);
            Threading.Threads = 2;
            GemmManaged.Sgemm(false, false, 70, 50, 90, 1f, a, 90, b, 50, 0f, c2, 50);
        }
        finally { Threading.Threads = previous; }
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void Backend_ForcedManaged_ReportsManaged()
    {
        var previous = Gemm.ForceManaged;
        try { Gemm.ForceManaged = true; Assert.Equal("managed", Gemm.Backend); }
        finally { Gemm.ForceManaged = previous; }
    }

    [Fact]
    public void Threads_Zero_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => Threading.Threads = 0);
}
