using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The two convolution backends: oneDNN's primitives (when libdnnl.so.2 is installed) and im2col + GEMM,
/// each against the naive kernels and the PyTorch fixtures. Shares a collection with <see cref="ConvTests"/>
/// because it switches <see cref="Conv.ForceManaged"/>, a process-wide setting.
/// </summary>
[Collection("ConvBackend")]
public class ConvBackendTests
{
    /// <summary>A theory skipped, with the reason, where oneDNN cannot be loaded (CI installs libdnnl2).</summary>
    public sealed class DnnlTheoryAttribute : TheoryAttribute
    {
        public DnnlTheoryAttribute() { if (!Conv.DnnlAvailable) Skip = NoDnnl; }
    }

    /// <summary>A fact skipped in the same way.</summary>
    public sealed class DnnlFactAttribute : FactAttribute
    {
        public DnnlFactAttribute() { if (!Conv.DnnlAvailable) Skip = NoDnnl; }
    }

    const string NoDnnl = "oneDNN (libdnnl.so.2, Debian package libdnnl2) is not installed; the oneDNN convolution path is untested here";

    static (ConvGeometry Geom, Tensor X, Tensor W, Tensor Gy) Case(int s, int p, int d, int groups, int k, int size, int n)
    {
        var gen = new Generator(7);
        int ci = 2 * groups, co = 3 * groups, o = (size + 2 * p - d * (k - 1) - 1) / s + 1;
        var geom = new ConvGeometry(ci, size, size, co, o, o, k, k, s, s, p, p, d, d, groups);
        return (geom, Tensor.Randn([n, ci, size, size], gen), Tensor.Randn([co, ci / groups, k, k], gen), Tensor.Randn([n, co, o, o], gen));
    }

    [DnnlTheory, MemberData(nameof(ConvTests.Geometries), MemberType = typeof(ConvTests))]
    public void DnnlKernels_VariousGeometries_MatchNaive(int s, int p, int d, int groups, int k, int size, int n)
    {
        var (g, x, w, gy) = Case(s, p, d, groups, k, size, n);
        AssertDnnlKindsMatchNaive(g, n, x, w, gy, "dnnl");
    }

    // oneDNN's forward, backward-data and backward-weights on one layer, each against the naive kernel.
    static void AssertDnnlKindsMatchNaive(ConvGeometry g, int n, Tensor x, Tensor w, Tensor gy, string label)
    {
        var (y, yRef) = (new Tensor(gy.Shape), new Tensor(gy.Shape));
        Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.Forward, x.Storage, w.Storage, y.Storage, n, g), $"{label}: oneDNN forward could not run");
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        Fixtures.AssertClose(yRef, y, 1e-4, 1e-4, $"{label} forward");
        var (dx, dxRef) = (new Tensor(x.Shape), new Tensor(x.Shape));
        Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.BackwardData, gy.Storage, w.Storage, dx.Storage, n, g), $"{label}: oneDNN backward-data could not run");
        Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4, $"{label} backward data");
        var (dw, dwRef) = (new Tensor(w.Shape), new Tensor(w.Shape));
        Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.BackwardWeights, x.Storage, gy.Storage, dw.Storage, n, g), $"{label}: oneDNN backward-weights could not run");
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-4, $"{label} backward weights");
    }

    [Theory]
    [InlineData(1, 4, 32, 64, 3)]   // transgan32's patch embedding (1 -> 64, 4 x 4 patches of 32 pixels)
    [InlineData(3, 2, 10, 5, 2)]    // three channels of 2 x 2 patches
    public void PatchEmbedding_DefaultDispatch_MatchesNaive(int ci, int patch, int size, int co, int n)
    {
        // Non-overlapping patches run im2col + GEMM by default (oneDNN's kernels are slower there).
        int o = size / patch;
        AssertDefaultDispatchMatchesNaive(new ConvGeometry(ci, size, size, co, o, o, patch, patch, patch, patch, 0, 0, 1, 1, 1), n, threads: 2, seed: 11);
    }

    [Theory]
    [InlineData(1, 28, 64, 4, 2, 1, 5)]    // a DCGAN / WGAN-GP critic's first layer on grey 28 px (its backward-data: the penalty's input gradient)
    [InlineData(3, 14, 16, 7, 1, 0, 3)]    // CycleGAN's c7s1-64 on a reflection-padded RGB image
    [InlineData(4, 9, 8, 3, 2, 1, 2)]      // four channels, the most that count as an image's
    public void ImageSideBackwardData_DefaultDispatch_MatchesNaive(int ci, int size, int co, int k, int stride, int pad, int n)
    {
        // Backward-data into at most four channels runs col2im after our GEMM by default where AVX-512 is accelerated
        // (oneDNN's kernels are slow there), oneDNN's elsewhere: either way it must match the naive kernel.
        int o = (size + 2 * pad - k) / stride + 1;
        AssertDefaultDispatchMatchesNaive(new ConvGeometry(ci, size, size, co, o, o, k, k, stride, stride, pad, pad, 1, 1, 1), n, threads: 2, seed: 12);
    }

    // Every kernel through the default dispatch on `threads` threads against the naive ones; the outputs hold garbage
    // first, so a kernel must overwrite them, not add to them.
    static void AssertDefaultDispatchMatchesNaive(ConvGeometry g, int n, int threads, ulong seed)
    {
        var gen = new Generator(seed);
        var (x, w, gy) = (Tensor.Randn([n, g.Ci, g.H, g.W], gen), Tensor.Randn([g.Co, g.CiG, g.KH, g.KW], gen), Tensor.Randn([n, g.Co, g.OH, g.OW], gen));
        var (y, dx, dw) = (Tensor.Full(gy.Shape, 5f), Tensor.Full(x.Shape, 5f), Tensor.Full(w.Shape, 5f));
        int previous = Threading.Threads;
        try
        {
            Threading.Threads = threads;
            Conv.Forward(x.Storage, w.Storage, y.Storage, n, g);
            Conv.Transpose(gy.Storage, w.Storage, dx.Storage, n, g);
            Conv.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
        }
        finally { Threading.Threads = previous; }
        var (yRef, dxRef, dwRef) = (new Tensor(gy.Shape), new Tensor(x.Shape), new Tensor(w.Shape));
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        Fixtures.AssertClose(yRef, y, 1e-4, 1e-4, "forward");
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4, "backward data");
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-4, "backward weights");
    }

    [Theory]
    [InlineData(1, 64, 8, 5, 2)]     // stylegan32's fromRGB: one channel to 64, samples shared out over two threads
    [InlineData(64, 1, 8, 4, 2)]     // toRGB to one channel
    [InlineData(6, 10, 7, 3, 2)]     // three samples on two threads: one after another, each product on both threads
    [InlineData(5, 9, 6, 1, 1)]      // one sample, one thread
    [InlineData(24, 40, 12, 9, 3)]   // odd sizes on three threads
    public void Pointwise_DefaultDispatch_MatchesNaive(int ci, int co, int size, int n, int threads)
    {
        // 1x1 stride-1 convolutions run a GEMM per sample by default.
        AssertDefaultDispatchMatchesNaive(new ConvGeometry(ci, size, size, co, size, size, 1, 1, 1, 1, 0, 0, 1, 1, 1), n, threads, seed: 13);
    }

    [DnnlTheory, MemberData(nameof(ConvTests.Geometries), MemberType = typeof(ConvTests))]
    public void DnnlAndManaged_VariousGeometries_Agree(int s, int p, int d, int groups, int k, int size, int n)
    {
        var (g, x, w, gy) = Case(s, p, d, groups, k, size, n);
        Tensor[] Run(bool managed)
        {
            var previous = Conv.ForceManaged;
            try
            {
                Conv.ForceManaged = managed;
                Assert.Equal(managed ? "managed" : "dnnl", Conv.Backend);
                var (y, dx, dw) = (new Tensor(gy.Shape), new Tensor(x.Shape), new Tensor(w.Shape));
                Conv.Forward(x.Storage, w.Storage, y.Storage, n, g);
                Conv.Transpose(gy.Storage, w.Storage, dx.Storage, n, g);
                Conv.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
                return [y, dx, dw];
            }
            finally { Conv.ForceManaged = previous; }
        }
        var (a, b) = (Run(managed: true), Run(managed: false));
        for (int i = 0; i < 3; i++) Fixtures.AssertClose(a[i], b[i], 1e-4, 1e-4, $"managed vs dnnl, kernel {i}");
    }

    // 3x3 stride-1 convolutions with 2048 or more output positions run oneDNN's Winograd kernels (stylegan32's maps);
    // from 512 (cyclegan32's residual blocks at batch 8 and 12) the forward and weight gradient do; fewer positions
    // (cyclegan32's 8 px maps at batch 4) stay direct, where Winograd is slower.
    [DnnlTheory]
    [InlineData(8, 16, 1, "Forward,BackwardData,BackwardWeights")]   // 8·16·16 = 2048 positions
    [InlineData(2, 16, 1, "Forward,BackwardWeights")]                // 2·16·16 = 512 positions
    [InlineData(4, 8, 0, "")]                                        // 4·6·6 = 144 positions, reflection-padded input (no conv padding)
    public void ThreeByThreeStrideOne_AutoAlgorithm_PicksByPositionsAndMatchesNaive(int n, int size, int pad, string winogradKinds)
    {
        var gen = new Generator(11);
        int ci = 32, co = 48, o = size + 2 * pad - 2;
        var g = new ConvGeometry(ci, size, size, co, o, o, 3, 3, 1, 1, pad, pad, 1, 1, 1);
        var (x, w, gy) = (Tensor.Randn([n, ci, size, size], gen), Tensor.Randn([co, ci, 3, 3], gen), Tensor.Randn([n, co, o, o], gen));
        var previous = ConvDnnl.ConvAlgorithm;
        try
        {
            ConvDnnl.ConvAlgorithm = ConvDnnl.Algorithm.Auto;
            var (y, yRef) = (new Tensor(gy.Shape), new Tensor(gy.Shape));
            Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.Forward, x.Storage, w.Storage, y.Storage, n, g), "oneDNN forward could not run");
            Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
            Fixtures.AssertClose(yRef, y, 0, ScaleTolerance(yRef), "3x3 forward");
            var (dx, dxRef) = (new Tensor(x.Shape), new Tensor(x.Shape));
            Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.BackwardData, gy.Storage, w.Storage, dx.Storage, n, g), "oneDNN backward-data could not run");
            Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
            Fixtures.AssertClose(dxRef, dx, 0, ScaleTolerance(dxRef), "3x3 backward data");
            var (dw, dwRef) = (new Tensor(w.Shape), new Tensor(w.Shape));
            Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.BackwardWeights, x.Storage, gy.Storage, dw.Storage, n, g), "oneDNN backward-weights could not run");
            Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
            Fixtures.AssertClose(dwRef, dw, 0, ScaleTolerance(dwRef), "3x3 backward weights");
            // oneDNN has Winograd kernels for AVX-512 only; elsewhere every geometry runs direct.
            foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
            {
                bool winogradHere = winogradKinds.Split(',').Contains(kind.ToString()) && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
                Assert.True(ConvDnnl.Implementation(kind, n, g)!.Contains("wino") == winogradHere,
                    $"{kind}: oneDNN ran {ConvDnnl.Implementation(kind, n, g)}, expected {(winogradHere ? "Winograd" : "direct")}");
            }
        }
        finally { ConvDnnl.ConvAlgorithm = previous; }
    }

    [DnnlTheory, MemberData(nameof(ConvTests.Geometries), MemberType = typeof(ConvTests))]
    public void DnnlKernels_ChannelsLast_VariousGeometries_MatchNaive(int s, int p, int d, int groups, int k, int size, int n)
    {
        var (g, x, w, gy) = Case(s, p, d, groups, k, size, n);
        WithLayout(ConvDnnl.Layout.ChannelsLast, () => AssertDnnlKindsMatchNaive(g, n, x, w, gy, "dnnl channels-last"));
    }

    // The layers the layout rule sends to channels-last (dcgan28's 64 -> 128 forward and backward-data, cyclegan32's 64 -> 3 output layer)
    // and one it keeps blocked (a 4 x 4 output map), each in both layouts against the naive kernels; where AVX-512 runs, the
    // forward the rule picks for the first is oneDNN's brgemm kernel (what the rule is for), and the one it picks for a
    // 4 x 4 output map the blocked jit kernel.
    [DnnlFact]
    public void LayoutRule_ChannelsLastWhereItsKernelsWin_BothLayoutsMatchNaive()
    {
        var gen = new Generator(14);
        var dcgan = new ConvGeometry(64, 14, 14, 128, 7, 7, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var small = new ConvGeometry(64, 8, 8, 64, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var output = new ConvGeometry(64, 14, 14, 3, 8, 8, 7, 7, 1, 1, 0, 0, 1, 1, 1);
        Assert.Equal(ConvDnnl.Layout.ChannelsLast, ConvDnnl.RuleLayout(ConvDnnl.Kind.Forward, dcgan, winograd: false));
        Assert.Equal(ConvDnnl.Layout.Blocked, ConvDnnl.RuleLayout(ConvDnnl.Kind.BackwardWeights, dcgan, winograd: false));
        Assert.Equal(ConvDnnl.Layout.Blocked, ConvDnnl.RuleLayout(ConvDnnl.Kind.Forward, small, winograd: false));
        Assert.Equal(ConvDnnl.Layout.ChannelsLast, ConvDnnl.RuleLayout(ConvDnnl.Kind.BackwardData, dcgan, winograd: false));   // stride 2
        Assert.Equal(ConvDnnl.Layout.Blocked, ConvDnnl.RuleLayout(ConvDnnl.Kind.BackwardData,
            new ConvGeometry(64, 16, 16, 64, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1), winograd: false));
        Assert.Equal(ConvDnnl.Layout.ChannelsLast, ConvDnnl.RuleLayout(ConvDnnl.Kind.BackwardData, output, winograd: false));
        Assert.Equal(ConvDnnl.Layout.ChannelsLast, ConvDnnl.RuleLayout(ConvDnnl.Kind.BackwardWeights, output, winograd: false));
        Assert.Equal(ConvDnnl.Layout.Blocked, ConvDnnl.RuleLayout(ConvDnnl.Kind.Forward, output, winograd: true));
        foreach (var (g, n) in new[] { (dcgan, 4), (small, 3), (output, 2) })
        {
            var (x, w, gy) = (Tensor.Randn([n, g.Ci, g.H, g.W], gen), Tensor.Randn([g.Co, g.Ci, g.KH, g.KW], gen), Tensor.Randn([n, g.Co, g.OH, g.OW], gen));
            foreach (var layout in new[] { ConvDnnl.Layout.Blocked, ConvDnnl.Layout.ChannelsLast })
                WithLayout(layout, () => AssertDnnlKindsMatchNaive(g, n, x, w, gy, $"{g.Ci} -> {g.Co} at {g.H} {layout}"));
        }
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        WithLayout(null, () =>
        {
            Assert.StartsWith("brgconv", ConvDnnl.Implementation(ConvDnnl.Kind.Forward, 4, dcgan));
            Assert.StartsWith("jit:", ConvDnnl.Implementation(ConvDnnl.Kind.Forward, 3, small));
        });
    }

    static void WithLayout(ConvDnnl.Layout? layout, Action body)
    {
        var previous = ConvDnnl.ForcedLayout;
        try { ConvDnnl.ForcedLayout = layout; body(); }
        finally { ConvDnnl.ForcedLayout = previous; }
    }

    // A plan built on one thread and run on others (xUnit's threads, a trainer's): with oneDNN's library-mode scratchpad,
    // thread-local to the creating thread, the Winograd kernels wrote past it and the process crashed.
    [DnnlFact]
    public void WinogradPlan_RunOnOtherThreads_MatchesNaive()
    {
        var gen = new Generator(12);
        int n = 8, ci = 64, co = 64, size = 16;
        var g = new ConvGeometry(ci, size, size, co, size, size, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        var (x, w) = (Tensor.Randn([n, ci, size, size], gen), Tensor.Randn([co, ci, 3, 3], gen));
        var yRef = new Tensor(n, co, size, size);
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        var previous = ConvDnnl.ConvAlgorithm;
        try
        {
            ConvDnnl.ConvAlgorithm = ConvDnnl.Algorithm.Winograd;
            var outputs = new Tensor[4];
            for (int t = 0; t < outputs.Length; t++)   // the first thread builds the plan; it has exited when the next ones run it
            {
                var y = outputs[t] = new Tensor(n, co, size, size);
                var thread = new Thread(() => Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.Forward, x.Storage, w.Storage, y.Storage, n, g)));
                thread.Start(); thread.Join();
            }
            foreach (var y in outputs) Fixtures.AssertClose(yRef, y, 0, ScaleTolerance(yRef), "forward run on another thread");
        }
        finally { ConvDnnl.ConvAlgorithm = previous; }
    }

    // A forward or backward-data over more input and output floats than ConvDnnl.ChunkFloats runs in chunks of a power of
    // two of samples and a smaller last one (its own plan): each output must be the bits of the whole batch's run,
    // Winograd's (the rule picks it for both run sizes here), the blocked layout's and a direct kernel's alike, and match
    // the naive kernel. 11 samples in runs of 4, 4 and 3. The weight gradient, a sum over the batch, runs whole.
    [DnnlTheory]
    [InlineData(64, 32, 16, 3, 1, 1)]   // 3 x 3 stride 1: Winograd with AVX-512 (1,024 and 768 positions a run)
    [InlineData(32, 48, 16, 4, 2, 1)]   // 4 x 4 stride 2 (a DCGAN layer), blocked
    [InlineData(3, 20, 12, 5, 1, 2)]    // channels off the 16-blocks
    public void ConvInChunks_SameBitsAsWholeBatch_MatchNaive(int ci, int co, int size, int k, int stride, int pad)
    {
        const int n = 11;
        int o = (size + 2 * pad - k) / stride + 1;
        var g = new ConvGeometry(ci, size, size, co, o, o, k, k, stride, stride, pad, pad, 1, 1, 1);
        var gen = new Generator(19);
        var (x, w, gy) = (Tensor.Randn([n, ci, size, size], gen), Tensor.Randn([co, ci, k, k], gen), Tensor.Randn([n, co, o, o], gen));
        Tensor Run(ConvDnnl.Kind kind, long chunkFloats, int expectedChunk)
        {
            long saved = ConvDnnl.ChunkFloats;
            var output = Tensor.Full(kind == ConvDnnl.Kind.Forward ? [n, co, o, o] : [n, ci, size, size], float.NaN);
            try
            {
                ConvDnnl.ChunkFloats = chunkFloats;
                Assert.Equal(expectedChunk, ConvDnnl.Chunk(n, g));
                var (a, c) = kind == ConvDnnl.Kind.Forward ? (x, output) : (gy, output);
                Assert.True(ConvDnnl.TryRun(kind, a.Storage, w.Storage, c.Storage, n, g), $"oneDNN {kind} could not run");
            }
            finally { ConvDnnl.ChunkFloats = saved; }
            return output;
        }
        long perSample = (long)ci * size * size + (long)co * o * o;
        var (y, yWhole) = (Run(ConvDnnl.Kind.Forward, 5 * perSample, 4), Run(ConvDnnl.Kind.Forward, 0, n));
        var (dx, dxWhole) = (Run(ConvDnnl.Kind.BackwardData, 5 * perSample, 4), Run(ConvDnnl.Kind.BackwardData, 0, n));
        var (yRef, dxRef) = (new Tensor([n, co, o, o]), new Tensor([n, ci, size, size]));
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
        Fixtures.AssertClose(yRef, y, 0, ScaleTolerance(yRef), $"{ci} -> {co} k{k}: the forward in chunks");
        Fixtures.AssertClose(dxRef, dx, 0, ScaleTolerance(dxRef), $"{ci} -> {co} k{k}: the backward-data in chunks");
        Assert.Equal(yWhole.Data.ToArray(), y.Data.ToArray());
        Assert.Equal(dxWhole.Data.ToArray(), dx.Data.ToArray());
    }

    // Every plan's blocked buffers lie in one arena, reused by the next plan and moved when a larger plan grows it: a
    // small layer, then one 16x larger (its first run grows the arena), then the small one again, each kind of each,
    // must match the naive kernels every time (a plan keeping anything in its buffers between runs would not).
    [DnnlFact]
    public void BlockedBuffers_SharedByPlans_ArenaGrownBetweenRuns_MatchNaive()
    {
        var gen = new Generator(13);
        ConvGeometry Geometry(int c, int size) => new(c, size, size, c, size / 2, size / 2, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var layers = new[] { (G: Geometry(32, 8), N: 2), (G: Geometry(64, 32), N: 4), (G: Geometry(32, 8), N: 2) }
            .Select(l => (l.G, l.N, X: Tensor.Randn([l.N, l.G.Ci, l.G.H, l.G.W], gen), W: Tensor.Randn([l.G.Co, l.G.Ci, 4, 4], gen),
                Gy: Tensor.Randn([l.N, l.G.Co, l.G.OH, l.G.OW], gen)))
            .ToArray();
        foreach (var (g, n, x, w, gy) in layers) AssertDnnlKindsMatchNaive(g, n, x, w, gy, $"{g.Ci} channels at {g.H}");
    }

    // Winograd's transforms round differently from a direct sum: its error is a fraction of the output's scale (1e-5
    // measured on stylegan32's layers), not of each element, so the bound is 2e-5 of the largest |value|.
    static double ScaleTolerance(Tensor reference) => 2e-5 * reference.Data.ToArray().Max(MathF.Abs);

    [Theory, MemberData(nameof(ConvTests.Names), MemberType = typeof(ConvTests))]
    public void Conv_FixtureManagedBackend_MatchesPyTorch(string name) => WithBackend(true, () => new ConvTests().Conv_Fixture_MatchesPyTorchOutputAndGradients(name));

    [DnnlTheory, MemberData(nameof(ConvTests.Names), MemberType = typeof(ConvTests))]
    public void Conv_FixtureDnnlBackend_MatchesPyTorch(string name) => WithBackend(false, () => new ConvTests().Conv_Fixture_MatchesPyTorchOutputAndGradients(name));

    [Fact]
    public void Backend_ForcedManaged_ReportsManaged() => WithBackend(true, () => Assert.Equal("managed", Conv.Backend));

    static void WithBackend(bool managed, Action body)
    {
        var previous = Conv.ForceManaged;
        try { Conv.ForceManaged = managed; body(); }
        finally { Conv.ForceManaged = previous; }
    }
}
