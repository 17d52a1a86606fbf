using System.Runtime.InteropServices;

namespace GanForge.Native;

/// <summary>
/// oneDNN 2.x C API (libdnnl.so.2, OpenMP runtime): just what the convolution wrapper
/// (<see cref="Kernels.ConvDnnl"/>) needs. Loaded lazily; when it is absent <see cref="DnnlAvailable"/>
/// is false and the convolutions stay on im2col + GEMM. Handles are opaque pointers.
/// </summary>
internal static unsafe partial class NativeMethods
{
    const string Dnnl = "ganforge-dnnl";

    static readonly string[] DnnlCandidates = ["libdnnl.so.2", "libdnnl.so", "libdnnl.2.dylib", "dnnl.dll"];

    static readonly Lazy<IntPtr> DnnlHandle = new(LoadDnnl);
    static delegate* unmanaged<int, void> _ompSetNumThreads;

    /// <summary>True when libdnnl could be loaded.</summary>
    internal static bool DnnlAvailable => DnnlHandle.Value != IntPtr.Zero;

    internal const int DnnlSuccess = 0, DnnlBf16 = 2, DnnlF32 = 3, DnnlCpu = 1, DnnlStreamDefault = 1;
    internal const int DnnlTagAny = 1, DnnlNchw = 5, DnnlOihw = 5, DnnlGoihw = 7, DnnlNhwc = 20;
    internal const int DnnlForwardTraining = 64, DnnlForwardInference = 96, DnnlBackwardData = 160, DnnlBackwardWeights = 192;
    internal const int DnnlConvolutionDirect = 1, DnnlConvolutionWinograd = 2;
    internal const int ArgSrc = 1, ArgDst = 17, ArgWeights = 33, ArgDiffSrc = 129, ArgDiffDst = 145, ArgDiffWeights = 161;
    internal const int ArgFrom = 1, ArgTo = 17, ArgScratchpad = 80;
    internal const int QuerySrcMd = 129, QueryDiffSrcMd = 130, QueryWeightsMd = 131, QueryDiffWeightsMd = 132,
        QueryDstMd = 133, QueryDiffDstMd = 134, QueryScratchpadMd = 136, QueryImplInfoStr = 8;
    internal const int DnnlScratchpadModeUser = 1;

    /// <summary>dnnl_memory_desc_t (696 bytes in oneDNN 2.x), treated as an opaque value.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 696)]
    internal struct DnnlMemoryDesc { fixed long _data[87]; }

    /// <summary>dnnl_convolution_desc_t (5976 bytes in oneDNN 2.x), treated as an opaque value.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 5976)]
    internal struct DnnlConvDesc { fixed long _data[747]; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct DnnlExecArg { public int Arg; public IntPtr Memory; }

    static IntPtr LoadDnnl()
    {
        if (Environment.Is64BitProcess is false) return IntPtr.Zero;
        PreferPassiveOpenMp();
        foreach (var name in DnnlCandidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            // Only the 2.x API (op descriptors) is bound here; 3.x removed dnnl_convolution_forward_desc_init.
            if (!NativeLibrary.TryGetExport(handle, "dnnl_dilated_convolution_forward_desc_init", out _)) { NativeLibrary.Free(handle); continue; }
            // The OpenMP runtime the library was built with: thread counts are set per calling thread.
            foreach (var omp in (string[])["libgomp.so.1", "libomp.so.5", "libiomp5.so"])
                if (NativeLibrary.TryLoad(omp, out var ompHandle) && NativeLibrary.TryGetExport(ompHandle, "omp_set_num_threads", out var set))
                { _ompSetNumThreads = (delegate* unmanaged<int, void>)set; break; }
            EnsureResolver();
            return handle;
        }
        return IntPtr.Zero;
    }

    // OpenMP workers that spin after each primitive would take the cores from the engine's own parallel
    // loops that run between convolutions (the reason OpenBLAS runs single-threaded too), so unless the
    // user chose a policy, workers sleep when idle. The runtime reads this when it loads, hence before
    // libdnnl; the native environment must be set (Environment.SetEnvironmentVariable is managed only).
    static void PreferPassiveOpenMp()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") != null) return;
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "setenv", out var setenv)) return;
        var name = "OMP_WAIT_POLICY\0"u8; var value = "passive\0"u8;
        fixed (byte* pn = name, pv = value)
            ((delegate* unmanaged<byte*, byte*, int, int>)setenv)(pn, pv, 0);
    }

    /// <summary>Sets the OpenMP team size for parallel regions started by the calling thread (no-op without OpenMP).</summary>
    internal static void OmpSetNumThreads(int n)
    {
        if (n > 1) WorkerPool.Park();   // the team is about to run: the engine's idle workers leave it the cores
        if (_ompSetNumThreads != null) _ompSetNumThreads(n);
    }

    // The calls that run oneDNN's kernels hold asynchronous signals off the thread meanwhile (SignalsHeld: its
    // generated GEMM kernels keep the stack pointer in the heap).

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C (oneDNN's sgemm; threads: the caller's OpenMP team size).</summary>
    internal static int DnnlSgemm(sbyte transA, sbyte transB, long m, long n, long k, float alpha,
        float* a, long lda, float* b, long ldb, float beta, float* c, long ldc)
    {
        using var held = SignalsHeld.Begin();
        return DnnlSgemmCall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    [LibraryImport(Dnnl, EntryPoint = "dnnl_sgemm")]
    private static partial int DnnlSgemmCall(sbyte transA, sbyte transB, long m, long n, long k, float alpha,
        float* a, long lda, float* b, long ldb, float beta, float* c, long ldc);

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C with bf16 A and B (bit patterns) and float32 C, accumulated in float32.</summary>
    internal static int DnnlGemmBf16(sbyte transA, sbyte transB, long m, long n, long k, float alpha,
        ushort* a, long lda, ushort* b, long ldb, float beta, float* c, long ldc)
    {
        using var held = SignalsHeld.Begin();
        return DnnlGemmBf16Call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    [LibraryImport(Dnnl, EntryPoint = "dnnl_gemm_bf16bf16f32")]
    private static partial int DnnlGemmBf16Call(sbyte transA, sbyte transB, long m, long n, long k, float alpha,
        ushort* a, long lda, ushort* b, long ldb, float beta, float* c, long ldc);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_engine_create")]
    internal static partial int DnnlEngineCreate(out IntPtr engine, int kind, nuint index);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_stream_create")]
    internal static partial int DnnlStreamCreate(out IntPtr stream, IntPtr engine, uint flags);

    internal static int DnnlStreamWait(IntPtr stream)
    {
        using var held = SignalsHeld.Begin();
        return DnnlStreamWaitCall(stream);
    }

    [LibraryImport(Dnnl, EntryPoint = "dnnl_stream_wait")]
    private static partial int DnnlStreamWaitCall(IntPtr stream);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_memory_desc_init_by_tag")]
    internal static partial int DnnlMemoryDescInitByTag(DnnlMemoryDesc* md, int ndims, long* dims, int dataType, int tag);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_memory_desc_equal")]
    internal static partial int DnnlMemoryDescEqual(DnnlMemoryDesc* a, DnnlMemoryDesc* b);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_memory_desc_get_size")]
    internal static partial nuint DnnlMemoryDescGetSize(DnnlMemoryDesc* md);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_dilated_convolution_forward_desc_init")]
    internal static partial int DnnlConvForwardDescInit(DnnlConvDesc* desc, int propKind, int algKind,
        DnnlMemoryDesc* src, DnnlMemoryDesc* weights, DnnlMemoryDesc* bias, DnnlMemoryDesc* dst,
        long* strides, long* dilates, long* padL, long* padR);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_dilated_convolution_backward_data_desc_init")]
    internal static partial int DnnlConvBackwardDataDescInit(DnnlConvDesc* desc, int algKind,
        DnnlMemoryDesc* diffSrc, DnnlMemoryDesc* weights, DnnlMemoryDesc* diffDst,
        long* strides, long* dilates, long* padL, long* padR);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_dilated_convolution_backward_weights_desc_init")]
    internal static partial int DnnlConvBackwardWeightsDescInit(DnnlConvDesc* desc, int algKind,
        DnnlMemoryDesc* src, DnnlMemoryDesc* diffWeights, DnnlMemoryDesc* diffBias, DnnlMemoryDesc* diffDst,
        long* strides, long* dilates, long* padL, long* padR);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_attr_create")]
    internal static partial int DnnlPrimitiveAttrCreate(out IntPtr attr);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_attr_destroy")]
    internal static partial int DnnlPrimitiveAttrDestroy(IntPtr attr);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_attr_set_scratchpad_mode")]
    internal static partial int DnnlPrimitiveAttrSetScratchpadMode(IntPtr attr, int mode);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_desc_create")]
    internal static partial int DnnlPrimitiveDescCreate(out IntPtr pd, void* opDesc, IntPtr attr, IntPtr engine, IntPtr hintForward);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_desc_destroy")]
    internal static partial int DnnlPrimitiveDescDestroy(IntPtr pd);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_desc_query_md")]
    internal static partial DnnlMemoryDesc* DnnlPrimitiveDescQueryMd(IntPtr pd, int what, int index);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_desc_query")]
    internal static partial int DnnlPrimitiveDescQuery(IntPtr pd, int what, int index, void* result);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_reorder_primitive_desc_create")]
    internal static partial int DnnlReorderPrimitiveDescCreate(out IntPtr pd, DnnlMemoryDesc* src, IntPtr srcEngine,
        DnnlMemoryDesc* dst, IntPtr dstEngine, IntPtr attr);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_create")]
    internal static partial int DnnlPrimitiveCreate(out IntPtr primitive, IntPtr pd);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_destroy")]
    internal static partial int DnnlPrimitiveDestroy(IntPtr primitive);

    internal static int DnnlPrimitiveExecute(IntPtr primitive, IntPtr stream, int nargs, DnnlExecArg* args)
    {
        using var held = SignalsHeld.Begin();
        return DnnlPrimitiveExecuteCall(primitive, stream, nargs, args);
    }

    [LibraryImport(Dnnl, EntryPoint = "dnnl_primitive_execute")]
    private static partial int DnnlPrimitiveExecuteCall(IntPtr primitive, IntPtr stream, int nargs, DnnlExecArg* args);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_memory_create")]
    internal static partial int DnnlMemoryCreate(out IntPtr memory, DnnlMemoryDesc* md, IntPtr engine, void* handle);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_memory_set_data_handle")]
    internal static partial int DnnlMemorySetDataHandle(IntPtr memory, void* handle);

    [LibraryImport(Dnnl, EntryPoint = "dnnl_memory_destroy")]
    internal static partial int DnnlMemoryDestroy(IntPtr memory);
}
