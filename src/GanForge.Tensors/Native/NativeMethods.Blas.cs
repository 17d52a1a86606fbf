using System.Reflection;
using System.Runtime.InteropServices;

namespace GanForge.Native;

/// <summary>
/// OpenBLAS (or any CBLAS) entry points. The library is found lazily under several Debian names;
/// when none loads, <see cref="BlasAvailable"/> is false and callers use the managed GEMM.
/// </summary>
internal static unsafe partial class NativeMethods
{
    const string Blas = "ganforge-blas";

    internal const int CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112;

    // OpenBLAS only: a reference (netlib) libblas.so.3 also exports cblas_sgemm but is slower than the managed GEMM.
    static readonly string[] BlasCandidates =
        ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll"];

    static readonly Lazy<IntPtr> BlasHandle = new(LoadBlas);
    static delegate* unmanaged<int, void> _setNumThreads;

    /// <summary>True when a CBLAS library with cblas_sgemm was loaded.</summary>
    internal static bool BlasAvailable => BlasHandle.Value != IntPtr.Zero;

    /// <summary>The file name of the loaded BLAS, for reports.</summary>
    internal static string? BlasLibrary { get; private set; }

    static IntPtr LoadBlas()
    {
        foreach (var name in BlasCandidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            // A reference BLAS without the C interface is no use to us.
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _)) { NativeLibrary.Free(handle); continue; }
            BlasLibrary = name;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var setThreads))
            {
                // Single-threaded BLAS: the engine splits work itself (Gemm.Sgemm, the conv kernels), so
                // OpenBLAS's spinning pool would only compete with it for the cores.
                _setNumThreads = (delegate* unmanaged<int, void>)setThreads;
                _setNumThreads(1);
            }
            if (NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm)) Prime((delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm);
            EnsureResolver();
            return handle;
        }
        return IntPtr.Zero;
    }

    /// <summary>
    /// One product (256 x 384 by 384 x 768, about 5 ms) as the library loads. OpenBLAS 0.3.21 (Debian 12's) ran small
    /// products up to 2.7x slower in a process that had not yet made a wide one: on the Zen 1 host of the thirty-sixth pass,
    /// row-major 128 x 1,024 by 1,024 x 245 (dcgan28's 64 -> 128 layer, a chunk of 5 samples) took 5.1-6.0 ms a call
    /// (12 GFLOP/s) for as long as the process ran (8 s), and 1.9-2.4 ms (33 GFLOP/s), on every thread, once one product
    /// of 128 rows and 336 columns or more had run (128 x 64 by 64 x 336 did it; 8 x 8 by 8 x 352, 16 x 16 by 16 x 1,024,
    /// 64 x 64 by 64 x 4,096 and 352 x 8 by 8 x 8 did not), with the same bits either way. oneDNN's sgemm, which runs
    /// the products by default without AVX-512, has no such state; this is for GANFORGE_GEMM=openblas and hosts without oneDNN.
    /// </summary>
    static void Prime(delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemm)
    {
        const int m = 256, n = 768, k = 384;
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];
        fixed (float* pa = a, pb = b, pc = c)
            sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, pa, k, pb, n, 0f, pc, n);
    }

    static int _resolverSet;

    // One resolver per assembly maps every native library this class loads by hand (BLAS, oneDNN).
    static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _resolverSet, 1) == 1) return;
        try { NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve); }
        catch (InvalidOperationException) { /* another part of the assembly set one; it must map these names too */ }
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name switch
    {
        Blas => BlasHandle.Value,
        Dnnl => DnnlHandle.Value,
        _ => IntPtr.Zero,
    };

    /// <summary>C = alpha * op(A) op(B) + beta * C (cblas_sgemm).</summary>
    [LibraryImport(Blas, EntryPoint = "cblas_sgemm")]
    internal static partial void CblasSgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
