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
            EnsureResolver();
            return handle;
        }
        return IntPtr.Zero;
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
