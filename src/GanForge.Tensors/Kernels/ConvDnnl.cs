using System.Runtime.InteropServices;
using GanForge.Native;
using static GanForge.Native.NativeMethods;

namespace GanForge.Kernels;

/// <summary>
/// The three convolution kernels of <see cref="Conv"/> run by oneDNN: forward, backward-data (our
/// transpose) and backward-weights. Users' tensors stay NCHW / (Co,Ci/groups,KH,KW); a primitive may
/// choose its own blocked layout, or be asked for channels-last (<see cref="RuleLayout"/>), and then this wrapper
/// reorders into and out of library-owned buffers around it. One plan (primitive, memory objects, reorders) is built per kind, batch size,
/// geometry and thread count and kept for the life of the process; a plan oneDNN cannot build is
/// remembered as missing, so the caller falls back to im2col + GEMM. Every primitive (reorders too) takes its
/// scratchpad from one buffer this wrapper owns (oneDNN's user scratchpad mode): in the library's default mode the
/// scratchpad is thread-local to the thread that created the primitive, and a primitive run from another thread
/// (xUnit's, a training's) read and wrote past it: Winograd's large scratchpads crashed the process. The blocked
/// buffers the reorders fill and empty are likewise one arena for every plan (they run one at a time and keep nothing
/// between runs): the process holds the largest plan's once instead of a set per layer, kind and batch size (dcgan64's
/// peak working set 630 -> 457 MB; the reorders ran no faster for it).
/// </summary>
internal static unsafe class ConvDnnl
{
    internal enum Kind { Forward, BackwardData, BackwardWeights }

    /// <summary>The activations' layout a primitive is asked for: its own choice (blocked), channels last, or the users' plain NCHW.</summary>
    internal enum Layout { Blocked, ChannelsLast, Plain }

    /// <summary>The layout every primitive is asked for (GANFORGE_DNNL_LAYOUT=blocked|nhwc|plain), or null for <see cref="RuleLayout"/>'s.</summary>
    internal static Layout? ForcedLayout { get; set; } =
        Environment.GetEnvironmentVariable("GANFORGE_DNNL_LAYOUT")?.Trim().ToLowerInvariant() switch
        {
            "plain" => Layout.Plain,
            "nhwc" => Layout.ChannelsLast,
            "blocked" => Layout.Blocked,
            _ => null,
        };

    // The rule, from `bench --kernels --layouts` (both layouts through the wrapper's reorders, alternated; docs/performance.md,
    // eighteenth and nineteenth passes). oneDNN 2.6 has brgemm forward convolutions (brgconv:avx512_core) only for
    // channels-last activations: they ran the forward 1.06-1.26x faster than the blocked jit kernel where the input has 16
    // channels or more and the output map 7 x 7 or more (dcgan28's 64 -> 128, dcgan64's 128 -> 256, cyclegan32's
    // downsamplings), and 0.85-0.96x on 4 x 4 maps and on one-channel images. Its backward kinds are the jit kernels in
    // either layout; channels-last ran the backward-data of the stride-2 layers whose input gradient is 16 x 16 or smaller
    // 1.05-1.17x faster (0.92-0.95x at 32 x 32), both backward kinds 1.1-2.9x faster on a layer with fewer than 16 output
    // channels (cyclegan32's 64 -> 3 output layer: blocked pads 3 channels to 16), and the weight gradient 0.6-0.9x
    // elsewhere. Winograd plans stay blocked. The choice depends on the geometry alone, so a run and its resume make the
    // same one.
    internal static Layout RuleLayout(Kind kind, in ConvGeometry g, bool winograd)
    {
        if (winograd) return Layout.Blocked;
        bool channelsLast = kind switch
        {
            Kind.Forward => g.Ci >= 16 && g.OH * g.OW >= 49,
            Kind.BackwardData => g.Co < 16 || (g.SH == 2 && g.SW == 2 && g.H * g.W <= 256),
            _ => g.Co < 16,
        };
        return channelsLast ? Layout.ChannelsLast : Layout.Blocked;
    }

    // A primitive with the memory object for its scratchpad (no buffer of its own: the shared one is set before each run).
    readonly record struct Runnable(IntPtr Primitive, IntPtr Scratchpad);

    // One argument of a plan: the user's plain memory, and when the primitive wants another layout, its own memory
    // (InnerBytes at InnerOffset in the shared arena) plus the reorder between the two (user -> inner for inputs,
    // inner -> user for the output).
    sealed class Arg
    {
        public int Id;
        public IntPtr User, Inner;
        public nuint InnerBytes, InnerOffset;
        public Runnable Reorder;
        public bool IsOutput;
    }

    sealed class Plan
    {
        public Runnable Primitive;
        public Arg[] Args = [];
        public string Impl = "";
    }

    // The scratchpad every primitive shares: they run one at a time, under Gate. Grown to the largest one asks for.
    static void* _scratchpad;
    static nuint _scratchpadBytes;

    // The arena of the blocked buffers (Arg.Inner): each plan's at offsets from its start, grown to the largest plan's.
    static byte* _arena;
    static nuint _arenaBytes;

    /// <summary>Which oneDNN algorithm a 3x3 stride-1 convolution asks for (GANFORGE_CONV_ALGO=auto|direct|winograd).</summary>
    internal enum Algorithm { Auto, Direct, Winograd }

    internal static Algorithm ConvAlgorithm { get; set; } =
        Environment.GetEnvironmentVariable("GANFORGE_CONV_ALGO")?.Trim().ToLowerInvariant() switch
        {
            "direct" => Algorithm.Direct,
            "winograd" => Algorithm.Winograd,
            _ => Algorithm.Auto,
        };

    // Auto's rule, from `bench --kernels --winograd` on 1 and 2 threads: oneDNN's F(4x4, 3x3) Winograd kernels
    // (jit_wino_4x3:avx512_core) run the three kinds 1.2-2.0x faster than direct once the batch holds 2048 output
    // positions or more (stylegan32's 8-32 px maps at batch 32). Below that it depends on the kind and the processor:
    // at 256 positions (cyclegan32's 8 px maps at batch 4) Winograd ran 0.41-0.78x on one AVX-512 host and 0.83-1.35x
    // on a Zen 4 (double-pumped 512-bit units); at 512-768 (cyclegan32's residual blocks as its three-pass phase calls
    // them, stylegan32's 4 px maps) the Zen 4 ran the forward 0.92-1.69x, the weight gradient 1.32-2.07x and the
    // backward-data 0.88-1.13x, and the whole cyclegan32 step 13% faster on Winograd. So the forward and the weight
    // gradient take Winograd from 512 positions, the backward-data from WinogradDataMinPositions. They differ from direct
    // by at most 1e-5 of the output's scale. The choice depends on the geometry alone, so a run and its resume make the
    // same one.
    static int WinogradMinPositions(Kind kind) => kind == Kind.BackwardData ? WinogradDataMinPositions : 512;

    /// <summary>
    /// The output positions (batch x map) from which the backward-data of a 3x3 stride-1 layer takes oneDNN's Winograd:
    /// 1,024 (2,048 until the sixty-fifth pass). At 1,024, srgan32's residual blocks (64 -> 64 at 8 x 8, batch 16) and
    /// its D's 128 -> 256 at 8 x 8 ran it in 0.33 and 1.68 ms against direct's 0.38 and 2.10 (`bench --kernels --winograd`,
    /// 2 threads, a Zen 5); no other workload has a layer between 1,024 and 2,048 positions. The bench switches it.
    /// </summary>
    internal static int WinogradDataMinPositions { get; set; } = 1024;

    internal static bool UsesWinograd(Kind kind, int n, in ConvGeometry g) =>
        g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1 && ConvAlgorithm switch
        {
            Algorithm.Winograd => true,
            Algorithm.Auto => (long)n * g.OH * g.OW >= WinogradMinPositions(kind),
            _ => false,
        };

    static readonly object Gate = new();
    static readonly Dictionary<(Kind, int, ConvGeometry, int, Layout?, bool, bool), Plan?> Plans = new();
    static IntPtr _engine, _stream;
    static bool _initFailed;

    /// <summary>True when the library loaded and a CPU engine could be created.</summary>
    internal static bool Available
    {
        get
        {
            if (!DnnlAvailable) return false;
            lock (Gate) return EnsureEngine();
        }
    }

    static bool EnsureEngine()
    {
        if (_engine != IntPtr.Zero) return true;
        // Loading the library also maps its name for the P/Invoke calls below: without it they look for the file
        // by name (what `bench --kernels --layouts` hit, asking for an implementation before any convolution ran).
        if (_initFailed || !DnnlAvailable) return false;
        if (DnnlEngineCreate(out var engine, DnnlCpu, 0) != DnnlSuccess || DnnlStreamCreate(out var stream, engine, DnnlStreamDefault) != DnnlSuccess)
        {
            _initFailed = true;
            return false;
        }
        (_engine, _stream) = (engine, stream);
        return true;
    }

    /// <summary>The implementation oneDNN picked for a kind on a geometry (e.g. "jit:avx2"), or null when it has none.</summary>
    internal static string? Implementation(Kind kind, int n, in ConvGeometry g)
    {
        lock (Gate) return GetPlan(kind, kind == Kind.BackwardWeights ? n : Chunk(n, g), g, batch: n)?.Impl;
    }

    /// <summary>
    /// Runs one kind. Forward: a = x, b = w, c = y. BackwardData: a = y, b = w, c = x.
    /// BackwardWeights: a = x, b = gy, c = dw. Returns false when oneDNN cannot run it.
    /// </summary>
    internal static bool TryRun(Kind kind, float[] a, float[] b, float[] c, int n, in ConvGeometry g)
    {
        if (!DnnlAvailable) return false;
        lock (Gate)
        {
            // The weight gradient sums over the batch: one run. The forward and backward-data map each sample on its own.
            int chunk = kind == Kind.BackwardWeights ? n : Chunk(n, g);
            long inFloats = (long)g.Ci * g.H * g.W, outFloats = (long)g.Co * g.OH * g.OW;
            var (aFloats, cFloats) = kind == Kind.Forward ? (inFloats, outFloats) : (outFloats, inFloats);
            OmpSetNumThreads(Threading.Threads);
            fixed (float* pa = a, pb = b, pc = c)
                for (int s0 = 0; s0 < n; s0 += chunk)
                {
                    int m = Math.Min(chunk, n - s0);
                    var plan = GetPlan(kind, m, g, batch: n);
                    if (plan == null || !Run(plan, pa + s0 * aFloats, pb, pc + s0 * cFloats)) return false;
                }
            return true;
        }
    }

    /// <summary>
    /// Input and output floats a forward or backward-data run takes at once (<see cref="Chunk"/>; 0 runs every batch
    /// whole). A plan's blocked copies of its input and output (the arena) and its Winograd scratchpad grow with the
    /// batch: over generation's 256 images, stylegan32's 128 -> 64 layer at 32 pixels held 192 MB of arena beside the 201
    /// MB of its own input and output, its 16-pixel layers 152 MB of scratchpad, cyclegan32's 128 -> 64 transposed layer
    /// 96 MB of arena.
    /// </summary>
    internal static long ChunkFloats { get; set; } = 16L << 20;

    /// <summary>
    /// Samples a forward or backward-data run takes at a time: the batch where its input and output fit
    /// <see cref="ChunkFloats"/>, else the largest power of two of samples that fits (at least one), the rest in a last,
    /// smaller run. Each sample's output is the same sum whatever the run's size (tests), so chunks change no bits; the
    /// training batches of the bench's workloads fit whole.
    /// </summary>
    internal static int Chunk(int n, in ConvGeometry g)
    {
        long perSample = (long)g.Ci * g.H * g.W + (long)g.Co * g.OH * g.OW;
        if (ChunkFloats <= 0 || n * perSample <= ChunkFloats) return n;
        long fits = Math.Max(1, ChunkFloats / perSample);
        return (int)Math.Min(n, 1L << (63 - (int)long.LeadingZeroCount(fits)));
    }

    // One run of a plan on its three user buffers: the inputs reordered into the arena where the primitive's layout
    // differs, the primitive, the output reordered back.
    static bool Run(Plan plan, float* pa, float* pb, float* pc)
    {
        var args = stackalloc DnnlExecArg[4];
        nint* data = stackalloc nint[] { (nint)pa, (nint)pb, (nint)pc };
        for (int i = 0; i < 3; i++)
        {
            var arg = plan.Args[i];
            DnnlMemorySetDataHandle(arg.User, (void*)data[i]);
            if (arg.Inner != IntPtr.Zero) DnnlMemorySetDataHandle(arg.Inner, _arena + arg.InnerOffset);
            if (!arg.IsOutput && arg.Reorder.Primitive != IntPtr.Zero && !Reorder(arg.Reorder, arg.User, arg.Inner)) return false;
            args[i] = new DnnlExecArg { Arg = arg.Id, Memory = arg.Reorder.Primitive != IntPtr.Zero ? arg.Inner : arg.User };
        }
        if (!Execute(plan.Primitive, args, 3)) return false;
        var output = plan.Args[2];
        if (output.Reorder.Primitive != IntPtr.Zero && !Reorder(output.Reorder, output.Inner, output.User)) return false;
        return DnnlStreamWait(_stream) == DnnlSuccess;
    }

    static bool Reorder(Runnable reorder, IntPtr from, IntPtr to)
    {
        var args = stackalloc DnnlExecArg[3];
        args[0] = new DnnlExecArg { Arg = ArgFrom, Memory = from };
        args[1] = new DnnlExecArg { Arg = ArgTo, Memory = to };
        return Execute(reorder, args, 2);
    }

    // Runs a primitive with its count arguments in args (room for one more: the scratchpad, when it has one).
    static bool Execute(Runnable r, DnnlExecArg* args, int count)
    {
        if (r.Scratchpad != IntPtr.Zero)
        {
            DnnlMemorySetDataHandle(r.Scratchpad, _scratchpad);
            args[count++] = new DnnlExecArg { Arg = ArgScratchpad, Memory = r.Scratchpad };
        }
        return DnnlPrimitiveExecute(r.Primitive, _stream, count, args) == DnnlSuccess;
    }

    // Creates the primitive of pd (made with the user scratchpad mode) and the memory object for its scratchpad,
    // growing the shared buffer to its size.
    static Runnable CreateRunnable(IntPtr pd)
    {
        if (DnnlPrimitiveCreate(out var primitive, pd) != DnnlSuccess) throw new InvalidOperationException("dnnl_primitive_create");
        var md = DnnlPrimitiveDescQueryMd(pd, QueryScratchpadMd, 0);
        nuint bytes = md == null ? 0 : DnnlMemoryDescGetSize(md);
        if (bytes == 0) return new Runnable(primitive, IntPtr.Zero);
        if (bytes > _scratchpadBytes)
        {
            NativeMemory.AlignedFree(_scratchpad);
            _scratchpad = NativeMemory.AlignedAlloc(bytes, 64);
            HugePages.Advise(_scratchpad, bytes);
            _scratchpadBytes = bytes;
        }
        if (DnnlMemoryCreate(out var memory, md, _engine, null) != DnnlSuccess) throw new InvalidOperationException("dnnl_memory_create (scratchpad)");
        return new Runnable(primitive, memory);
    }

    // Primitive attributes with the user scratchpad mode, created once.
    static IntPtr UserScratchpad
    {
        get
        {
            if (_userScratchpad != IntPtr.Zero) return _userScratchpad;
            if (DnnlPrimitiveAttrCreate(out var attr) != DnnlSuccess || DnnlPrimitiveAttrSetScratchpadMode(attr, DnnlScratchpadModeUser) != DnnlSuccess)
                throw new InvalidOperationException("dnnl_primitive_attr_set_scratchpad_mode");
            return _userScratchpad = attr;
        }
    }
    static IntPtr _userScratchpad;

    // The plan of a run of n samples of a batch of `batch`; the rules (bf16, Winograd) read the batch's size, so that a
    // batch run in chunks takes the algorithm it would take whole.
    static Plan? GetPlan(Kind kind, int n, in ConvGeometry g, int batch)
    {
        bool bf16 = Conv.RunsBf16(kind, batch, g), winograd = !bf16 && UsesWinograd(kind, batch, g);
        var key = (kind, n, g, Threading.Threads, ForcedLayout, bf16, winograd);
        if (Plans.TryGetValue(key, out var plan)) return plan;
        // A geometry the Winograd kernels refuse (channels not a multiple of 16, say) runs direct, and one the rule's
        // channels-last layout cannot build runs blocked.
        var layout = ForcedLayout ?? RuleLayout(kind, g, false);
        plan = !EnsureEngine() ? null
            : (winograd ? Build(kind, n, g, false, DnnlConvolutionWinograd, ForcedLayout ?? RuleLayout(kind, g, true)) : null)
              ?? Build(kind, n, g, bf16, DnnlConvolutionDirect, layout)
              ?? (ForcedLayout == null && layout != Layout.Blocked ? Build(kind, n, g, bf16, DnnlConvolutionDirect, Layout.Blocked) : null);
        Plans[key] = plan;
        return plan;
    }

    static Plan? Build(Kind kind, int n, in ConvGeometry g, bool bf16, int algorithm, Layout layout)
    {
        // oneDNN sizes its per-thread work and scratchpad from the team size at creation time.
        OmpSetNumThreads(Threading.Threads);
        // The user's tensors are always plain float32 (src, wei, dst); the primitive's (srcAny, weiAny, dstAny) may be
        // blocked and, in bf16, read its two inputs in bf16 while it writes its output in float32: the reorders
        // MakeArg adds convert (oneDNN rounds to nearest even). Outputs: dst (forward), src (backward-data), wei (weights).
        bool blocked = layout != Layout.Plain;
        int act = layout switch { Layout.Blocked => DnnlTagAny, Layout.ChannelsLast => DnnlNhwc, _ => DnnlNchw };
        int tSrc = bf16 && kind != Kind.BackwardData ? DnnlBf16 : DnnlF32, tWei = bf16 && kind != Kind.BackwardWeights ? DnnlBf16 : DnnlF32,
            tDst = bf16 && kind != Kind.Forward ? DnnlBf16 : DnnlF32;
        DnnlMemoryDesc src, wei, dst, srcAny, weiAny, dstAny, srcHint, weiHint, dstHint;
        int tHint = bf16 ? DnnlBf16 : DnnlF32;
        long* dims = stackalloc long[5];
        dims[0] = n; dims[1] = g.Ci; dims[2] = g.H; dims[3] = g.W;
        if (DnnlMemoryDescInitByTag(&src, 4, dims, DnnlF32, DnnlNchw) != DnnlSuccess) return null;
        if (DnnlMemoryDescInitByTag(&srcAny, 4, dims, tSrc, act) != DnnlSuccess) return null;
        if (DnnlMemoryDescInitByTag(&srcHint, 4, dims, tHint, act) != DnnlSuccess) return null;
        dims[1] = g.Co; dims[2] = g.OH; dims[3] = g.OW;
        if (DnnlMemoryDescInitByTag(&dst, 4, dims, DnnlF32, DnnlNchw) != DnnlSuccess) return null;
        if (DnnlMemoryDescInitByTag(&dstAny, 4, dims, tDst, act) != DnnlSuccess) return null;
        // The forward hint of a bf16 backward kind is the bf16 training forward (bf16 src, weights and dst).
        if (DnnlMemoryDescInitByTag(&dstHint, 4, dims, tHint, act) != DnnlSuccess) return null;
        int wRank = g.Groups == 1 ? 4 : 5;
        if (g.Groups == 1) { dims[0] = g.Co; dims[1] = g.CiG; dims[2] = g.KH; dims[3] = g.KW; }
        else { dims[0] = g.Groups; dims[1] = g.CoG; dims[2] = g.CiG; dims[3] = g.KH; dims[4] = g.KW; }
        int wTag = g.Groups == 1 ? DnnlOihw : DnnlGoihw;
        if (DnnlMemoryDescInitByTag(&wei, wRank, dims, DnnlF32, wTag) != DnnlSuccess) return null;
        if (DnnlMemoryDescInitByTag(&weiAny, wRank, dims, tWei, blocked ? DnnlTagAny : wTag) != DnnlSuccess) return null;
        if (DnnlMemoryDescInitByTag(&weiHint, wRank, dims, tHint, blocked ? DnnlTagAny : wTag) != DnnlSuccess) return null;

        // oneDNN counts dilation from 0; its right padding makes (H + pl + pr - extent) / S + 1 = OH exact.
        long* strides = stackalloc long[] { g.SH, g.SW };
        long* dilates = stackalloc long[] { g.DH - 1, g.DW - 1 };
        long* padL = stackalloc long[] { g.PH, g.PW };
        long* padR = stackalloc long[]
        {
            (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1 - g.H - g.PH,
            (g.OW - 1) * g.SW + (g.KW - 1) * g.DW + 1 - g.W - g.PW,
        };

        DnnlMemoryDesc* s = &srcAny, w = &weiAny, d = &dstAny;
        DnnlConvDesc fwdDesc;
        if (kind == Kind.Forward
                ? DnnlConvForwardDescInit(&fwdDesc, DnnlForwardTraining, algorithm, s, w, null, d, strides, dilates, padL, padR) != DnnlSuccess
                : DnnlConvForwardDescInit(&fwdDesc, DnnlForwardTraining, algorithm, &srcHint, &weiHint, null, &dstHint, strides, dilates, padL, padR) != DnnlSuccess)
            return null;
        IntPtr attr;
        try { attr = UserScratchpad; }
        catch (InvalidOperationException) { return null; }
        if (DnnlPrimitiveDescCreate(out var fwdPd, &fwdDesc, attr, _engine, IntPtr.Zero) != DnnlSuccess) return null;
        IntPtr pd = fwdPd;
        try
        {
            if (kind != Kind.Forward)
            {
                DnnlConvDesc bwdDesc;
                int status = kind == Kind.BackwardData
                    ? DnnlConvBackwardDataDescInit(&bwdDesc, algorithm, s, w, d, strides, dilates, padL, padR)
                    : DnnlConvBackwardWeightsDescInit(&bwdDesc, algorithm, s, w, null, d, strides, dilates, padL, padR);
                if (status != DnnlSuccess || DnnlPrimitiveDescCreate(out pd, &bwdDesc, attr, _engine, fwdPd) != DnnlSuccess)
                    return null;
            }
            var plan = new Plan { Primitive = CreateRunnable(pd) };
            byte* impl = null;
            if (DnnlPrimitiveDescQuery(pd, QueryImplInfoStr, 0, &impl) == DnnlSuccess && impl != null)
                plan.Impl = Marshal.PtrToStringUTF8((IntPtr)impl) ?? "";
            plan.Args = kind switch
            {
                Kind.Forward => [MakeArg(pd, ArgSrc, QuerySrcMd, &src, false), MakeArg(pd, ArgWeights, QueryWeightsMd, &wei, false),
                                 MakeArg(pd, ArgDst, QueryDstMd, &dst, true)],
                Kind.BackwardData => [MakeArg(pd, ArgDiffDst, QueryDiffDstMd, &dst, false), MakeArg(pd, ArgWeights, QueryWeightsMd, &wei, false),
                                      MakeArg(pd, ArgDiffSrc, QueryDiffSrcMd, &src, true)],
                _ => [MakeArg(pd, ArgSrc, QuerySrcMd, &src, false), MakeArg(pd, ArgDiffDst, QueryDiffDstMd, &dst, false),
                      MakeArg(pd, ArgDiffWeights, QueryDiffWeightsMd, &wei, true)],
            };
            if (!plan.Args.All(a => a != null)) return null;
            PlaceInArena(plan.Args);
            return plan;
        }
        catch (InvalidOperationException) { return null; }
        finally
        {
            if (pd != fwdPd) DnnlPrimitiveDescDestroy(pd);
            DnnlPrimitiveDescDestroy(fwdPd);
        }
    }

    // Lays a plan's blocked buffers out one after another (each on a 4 KB boundary) and grows the arena to hold them.
    static void PlaceInArena(Arg[] args)
    {
        nuint end = 0;
        foreach (var arg in args)
        {
            if (arg.Inner == IntPtr.Zero) continue;
            arg.InnerOffset = end;
            end += (arg.InnerBytes + 4095) & ~(nuint)4095;
        }
        if (end <= _arenaBytes) return;
        NativeMemory.AlignedFree(_arena);
        _arena = (byte*)NativeMemory.AlignedAlloc(end, 4096);
        HugePages.Advise(_arena, end);
        _arenaBytes = end;
    }

    // The user's plain memory for one argument, and the primitive's own buffer + reorder when its layout differs.
    static Arg MakeArg(IntPtr pd, int id, int query, DnnlMemoryDesc* userMd, bool isOutput)
    {
        var arg = new Arg { Id = id, IsOutput = isOutput };
        if (DnnlMemoryCreate(out arg.User, userMd, _engine, null) != DnnlSuccess) throw new InvalidOperationException("dnnl_memory_create");
        var inner = DnnlPrimitiveDescQueryMd(pd, query, 0);
        if (inner == null || DnnlMemoryDescEqual(inner, userMd) != 0) return arg;
        // No buffer of its own: the arena's place is set before each run.
        if (DnnlMemoryCreate(out arg.Inner, inner, _engine, null) != DnnlSuccess) throw new InvalidOperationException("dnnl_memory_create");
        arg.InnerBytes = DnnlMemoryDescGetSize(inner);
        int status = isOutput
            ? DnnlReorderPrimitiveDescCreate(out var rpd, inner, _engine, userMd, _engine, UserScratchpad)
            : DnnlReorderPrimitiveDescCreate(out rpd, userMd, _engine, inner, _engine, UserScratchpad);
        if (status != DnnlSuccess) throw new InvalidOperationException("dnnl_reorder_primitive_desc_create");
        try { arg.Reorder = CreateRunnable(rpd); }
        finally { DnnlPrimitiveDescDestroy(rpd); }
        return arg;
    }
}
