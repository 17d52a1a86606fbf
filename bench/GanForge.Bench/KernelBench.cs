using System.Diagnostics;
using GanForge.Kernels;

namespace GanForge.Bench;

/// <summary>`--kernels`: GFLOP/s of the three conv kernels on each conv layer of dcgan28 and dcgan64, and of a square sgemm.</summary>
static class KernelBench
{
    /// <summary>One convolution layer of a workload: name, batch, Ci (image side), H, Co (feature side), OH, k, stride, pad.</summary>
    readonly record struct ConvLayer(string Name, int N, int Ci, int H, int Co, int OH, int K, int S, int P);

    static readonly ConvLayer[] Layers =
    [
        new("d28.conv1 1->64 28", 128, 1, 28, 64, 14, 4, 2, 1),
        new("d28.conv2 64->128 14", 128, 64, 14, 128, 7, 4, 2, 1),
        new("d64.conv1 1->64 64", 64, 1, 64, 64, 32, 4, 2, 1),
        new("d64.conv2 64->128 32", 64, 64, 32, 128, 16, 4, 2, 1),
        new("d64.conv3 128->256 16", 64, 128, 16, 256, 8, 4, 2, 1),
        new("d64.conv4 256->512 8", 64, 256, 8, 512, 4, 4, 2, 1),
        new("g64.convT1 100->512 1", 64, 512, 4, 100, 1, 4, 1, 0),
        new("cg.in 3->64 32", 8, 3, 38, 64, 32, 7, 1, 0),      // cyclegan32's c7s1-64 on the reflection-padded image, batch 8
        new("cg.out 64->3 32", 8, 64, 38, 3, 32, 7, 1, 0),     // and its last layer, 64 -> 3
        new("sr G in 3->64 k9 8", 16, 3, 8, 64, 8, 9, 1, 4),   // srgan32's first and last layers, 9 x 9
        new("sr G out 64->3 k9 32", 16, 64, 32, 3, 32, 9, 1, 4),
        // the zoo's layers into one channel at 28 px, batch 16: SRGAN's and CycleGAN's last, pix2pix's PatchGAN head at 32 px
        new("z sr28 out 64->1 k9 28", 16, 64, 28, 1, 28, 9, 1, 4),
        new("z cg28 out 64->1 28", 16, 64, 34, 1, 28, 7, 1, 0),
        new("z p2p head 128->1 15", 16, 128, 15, 1, 14, 4, 1, 1),
    ];

    public static void Run(int iters, bool bf16 = false)
    {
        if (bf16) { RunPrecision(iters); return; }
        var rng = new Generator(0);
        string? only = Environment.GetEnvironmentVariable("BENCH_LAYERS");   // as in RunBackends
        foreach (var l in Layers.Where(l => only == null || l.Name.StartsWith(only, StringComparison.Ordinal)))
        {
            var g = new ConvGeometry(l.Ci, l.H, l.H, l.Co, l.OH, l.OH, l.K, l.K, l.S, l.S, l.P, l.P, 1, 1, 1);
            var x = Tensor.Randn([l.N, l.Ci, l.H, l.H], rng).Storage;
            var w = Tensor.Randn([l.Co, l.Ci, l.K, l.K], rng).Storage;
            var y = Tensor.Randn([l.N, l.Co, l.OH, l.OH], rng).Storage;
            var dw = new float[w.Length];
            double flop = 2.0 * l.N * g.Co * g.K * g.P;
            double f = Time(() => Conv.Forward(x, w, y, l.N, g), iters);
            double t = Time(() => Conv.Transpose(y, w, x, l.N, g), iters);
            double wg = Time(() => Conv.WeightGrad(x, y, dw, l.N, g), iters);
            Console.WriteLine($"{l.Name,-24} forward {f * 1e3,7:F1} ms {flop / f / 1e9,6:F1} GFLOP/s | transpose {t * 1e3,7:F1} ms {flop / t / 1e9,6:F1} | weight grad {wg * 1e3,7:F1} ms {flop / wg / 1e9,6:F1}{Implementations(l.N, g)}");
            if (Conv.Picks(ConvDnnl.Kind.BackwardData, l.N, g) != "flipped" && Conv.Picks(ConvDnnl.Kind.BackwardWeights, l.N, g) != "flipped") continue;
            // A generator's last layer: its backward-data and weight gradient with the flipped image kernels and without,
            // in alternation, and the largest difference between them relative to the output's scale.
            var (dx, dxOther, dwOther) = (new float[x.Length], new float[x.Length], new float[w.Length]);
            try
            {
                var times = AlternateAll([() => Conv.Transpose(y, w, dx, l.N, g), () => Conv.Transpose(y, w, dxOther, l.N, g),
                    () => Conv.WeightGrad(x, y, dw, l.N, g), () => Conv.WeightGrad(x, y, dwOther, l.N, g)], iters,
                    i => Conv.FlippedImageKernels = i % 2 == 0);
                Console.WriteLine($"{"  flipped, alternated",-24} transpose {times[0] * 1e3,6:F2} ms against {times[1] * 1e3,6:F2} | weight grad " +
                    $"{times[2] * 1e3,6:F2} ms against {times[3] * 1e3,6:F2} | err {RelativeError(dxOther, dx):E1} / {RelativeError(dwOther, dw):E1}");
            }
            finally { Conv.FlippedImageKernels = true; }
        }
        Console.WriteLine($"conv backend: {Conv.Backend}");
        Console.WriteLine($"sgemm 1024^3: {SgemmPeak(iters):F1} GFLOP/s ({Gemm.Backend}, {Threading.Threads} threads)");
        Console.WriteLine($"fp32 FMA peak ({FmaPeak.Lanes} lanes): {FmaPeak.Measure(1):F1} GFLOP/s on 1 thread, {FmaPeak.Measure(2):F1} on 2");
    }

    // transgan32's attention layouts: its discriminator's 64 patches and class token (4 heads of 16), and the generator's
    // three stages (8 x 8 grid, 4 heads of 16; 16 x 16 in 8 x 8 windows, 4 heads of 4; 32 x 32 in windows, 2 heads of 2).
    static readonly AttentionLayout[] TransGanAttention =
    [
        new(32, 65, 4, 16, true), new(32, 64, 4, 16, true), new(128, 64, 4, 4, true), new(512, 64, 2, 2, true),
    ];

    /// <summary>
    /// `--kernels --attention`: the fused attention kernels (<see cref="Attention"/>) on each of transgan32's layouts:
    /// forward, backward and the second-order pass of a gradient penalty, ms and GFLOP/s (the products only: 2, 5 and
    /// 12 of L x L x d multiply-adds each).
    /// </summary>
    public static void RunAttention(int iters)
    {
        // A round over every layout first, untimed: without it the first layout read slow (Zen 4, forty-sixth pass: D's
        // forward 0.736 ms at 30 iterations, 0.571 at 300; the layouts after it read the same either way).
        RunAttention(5, print: false);
        RunAttention(iters, print: true);
    }

    static void RunAttention(int iters, bool print)
    {
        var rng = new Generator(0);
        foreach (var a in TransGanAttention)
        {
            int rows = a.Batch * a.Length, e = a.Embed;
            var qkv = Tensor.Randn([rows * 3 * e], rng).Storage;
            var u = Tensor.Randn([rows * 3 * e], rng).Storage;
            var g = Tensor.Randn([rows * e], rng).Storage;
            var (output, stats, dqkv, dg) = (new float[rows * e], new float[Attention.StatsLength(a)], new float[rows * 3 * e], new float[rows * e]);
            float scale = 1f / MathF.Sqrt(a.HeadDim);
            double product = 2.0 * a.Pairs * a.Length * a.Length * a.HeadDim;
            double f = Time(() => Attention.Forward(qkv, output, stats, a, scale), iters);
            double b = Time(() => Attention.Backward(qkv, g, stats, dqkv, a, scale), iters);
            double s = Time(() => Attention.SecondOrder(qkv, g, u, stats, dqkv, dg, a, scale), iters);
            if (print) Console.WriteLine($"attention {a.Batch}x{a.Length} {a.Heads}x{a.HeadDim,-3} forward {f * 1e3,6:F3} ms {2 * product / f / 1e9,6:F1} GFLOP/s | " +
                $"backward {b * 1e3,6:F3} ms {5 * product / b / 1e9,6:F1} | second order {s * 1e3,6:F3} ms {12 * product / s / 1e9,6:F1}");
        }
    }

    // The GEMMs of the dcgan steps (rows = batch): dcgan28's G input Linear 100 -> 128·7·7 and D's head 6272 -> 1 (128 rows);
    // dcgan64's dense first convT (100 -> 512·4·4) and dense last conv (512·4·4 -> 1) at 64 rows.
    static readonly (string Name, int Rows, int In, int Out)[] DcganGemms =
    [
        ("d28 G.fc 100->6272", 128, 100, 6272), ("d28 D.fc 6272->1", 128, 6272, 1),
        ("d64 G.convT1 100->8192", 64, 100, 8192), ("d64 D.conv5 8192->1", 64, 8192, 1),
    ];

    /// <summary>
    /// `--kernels --precision bf16`: every conv kernel of the dcgan and cyclegan32 layers, the 3 x 3 layers of stylegan32
    /// and cyclegan32, and the dcgan GEMMs, fp32 and bf16 timed in alternation (the bf16 time includes the rounding of the
    /// inputs to bf16), with bf16's relative error against fp32, the implementation each precision runs, and "training:
    /// fp32" where `--precision bf16` keeps the kernel fp32 (<see cref="Conv.Fp32Faster"/>; the bf16 column times it in bf16).
    /// </summary>
    static void RunPrecision(int iters)
    {
        var rng = new Generator(0);
        var (saved, savedProducts, savedEverywhere) = (Precision.Current, Gemm.Bf16Products, Conv.Bf16Everywhere);
        Gemm.Bf16Products = true;   // the GEMM rows (and the dense layer, one GEMM) measure the bf16 GEMM, off in training
        Conv.Bf16Everywhere = true; // and every conv kernel in bf16, the ones training keeps fp32 too ("training: fp32")
        try
        {
            Console.WriteLine($"{"layer",-24} {"kernel",-11} {"fp32 ms",8} {"bf16 ms",8} {"speed-up",8} {"fp32 GF/s",9} {"bf16 GF/s",9} {"max err/scale",13}  [bf16 impl]");
            foreach (var l in Layers.Concat(Winograd3x3))
            {
                var (g, x, w, y) = Buffers(l, rng);
                double flop = 2.0 * l.N * g.Co * g.K * g.P;
                foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                {
                    var (outLen, run) = Kernel(kind, x, w, y, l.N, g);
                    var c32 = new float[outLen]; var c16 = new float[outLen];
                    var (t32, t16) = Alternate(() => run(c32), () => run(c16), iters);
                    Precision.Current = ComputePrecision.Bf16;
                    // A dense layer (1x1 output, the kernel covering the image) runs as one GEMM, not through a conv primitive.
                    bool dense = l.OH == 1 && l.P == 0 && l.H == l.K;
                    string impl = dense ? "GEMM: dnnl_gemm_bf16bf16f32" : Conv.Backend == "dnnl" ? ConvDnnl.Implementation(kind, l.N, g) ?? "managed" : "managed";
                    string training = Conv.Fp32Faster(kind, l.N, g) ? "; training: fp32" : "";
                    Precision.Current = saved;
                    Print(l.Name, kind.ToString(), flop, t32, t16, c32, c16, $"{impl}; fp32 {Conv.Picks(kind, l.N, g)}{training}");
                }
            }
            foreach (var (name, rows, inF, outF) in DcganGemms)
                foreach (var (kname, ta, tb, m, n, k) in new[] { ("fwd x·Wt", false, true, rows, outF, inF), ("dx g·W", false, false, rows, inF, outF), ("dW gt·x", true, false, outF, inF, rows) })
                {
                    var a = Tensor.Randn([m * k], rng).Storage; var b = Tensor.Randn([k * n], rng).Storage;
                    var c32 = new float[m * n]; var c16 = new float[m * n];
                    var (t32, t16) = Alternate(() => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c32, n),
                        () => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c16, n), iters);
                    Print(name, kname, 2.0 * m * n * k, t32, t16, c32, c16, "dnnl_gemm_bf16bf16f32");
                }
        }
        finally { (Precision.Current, Gemm.Bf16Products, Conv.Bf16Everywhere) = (saved, savedProducts, savedEverywhere); }
        var src = Tensor.Randn([1 << 20], rng).Storage; var dst = new ushort[src.Length];
        double conv = Time(() => BFloat16.FromFloat(src, dst), iters);
        Console.WriteLine($"float32 -> bf16 rounding (managed, Vector512): {src.Length / conv / 1e9:F2} G values/s on one thread ({conv * 1e3:F2} ms per 1M)");
        Console.WriteLine($"fp32 FMA peak ({FmaPeak.Lanes} lanes): {FmaPeak.Measure(1):F1} GFLOP/s on 1 thread, {FmaPeak.Measure(Threading.Threads):F1} on {Threading.Threads}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }

    // A layer's geometry and random input (x), weight (w) and output-sized (y) buffers.
    static (ConvGeometry G, float[] X, float[] W, float[] Y) Buffers(ConvLayer l, Generator rng) =>
        (new ConvGeometry(l.Ci, l.H, l.H, l.Co, l.OH, l.OH, l.K, l.K, l.S, l.S, l.P, l.P, 1, 1, 1),
         Tensor.Randn([l.N, l.Ci, l.H, l.H], rng).Storage, Tensor.Randn([l.Co, l.Ci, l.K, l.K], rng).Storage, Tensor.Randn([l.N, l.Co, l.OH, l.OH], rng).Storage);

    // One conv kernel on those buffers (forward: x, w -> y; backward-data: y, w -> x; weight gradient: x, y -> w):
    // the length of its output and a runner that writes the output to the array it is given.
    static (int OutLength, Action<float[]> Run) Kernel(ConvDnnl.Kind kind, float[] x, float[] w, float[] y, int n, ConvGeometry g) => kind switch
    {
        ConvDnnl.Kind.Forward => (y.Length, c => Conv.Forward(x, w, c, n, g)),
        ConvDnnl.Kind.BackwardData => (x.Length, c => Conv.Transpose(y, w, c, n, g)),
        _ => (w.Length, c => Conv.WeightGrad(x, y, c, n, g)),
    };

    // Median seconds of fp32 and of bf16, the two run one after the other in each trial so that the machine's drift hits both.
    static (double Fp32, double Bf16) Alternate(Action fp32, Action bf16, int iters)
    {
        var saved = Precision.Current;
        try { return Alternate(fp32, bf16, iters, second => Precision.Current = second ? ComputePrecision.Bf16 : ComputePrecision.Fp32); }
        finally { Precision.Current = saved; }
    }

    // Median seconds of two ways of running the same thing, alternating in each trial; select(false/true) switches to the first/second.
    static (double First, double Second) Alternate(Action first, Action second, int iters, Action<bool> select)
    {
        var t = AlternateAll([first, second], iters, i => select(i == 1));
        return (t[0], t[1]);
    }

    // The 3x3 stride-1 convolutions of stylegan32 (batch 32; G's 128 channels at 4-16 px and 64 at 32 px, D's residual
    // blocks) and cyclegan32 (batch 4, and 8 and 12 as its three-pass phase calls them; the ResNet blocks' 256 channels at
    // 8 px on reflection-padded 10 x 10 inputs).
    static readonly ConvLayer[] Winograd3x3 =
    [
        new("sg G 128->128 4", 32, 128, 4, 128, 4, 3, 1, 1),
        new("sg G 128->128 8", 32, 128, 8, 128, 8, 3, 1, 1),
        new("sg G 128->128 16", 32, 128, 16, 128, 16, 3, 1, 1),
        new("sg G 128->64 32", 32, 128, 32, 64, 32, 3, 1, 1),
        new("sg G/D 64->64 32", 32, 64, 32, 64, 32, 3, 1, 1),
        new("sg D 64->128 32", 32, 64, 32, 128, 32, 3, 1, 1),
        new("cg res 256->256 8", 4, 256, 10, 256, 8, 3, 1, 0),
        new("cg res x2 256->256 8", 8, 256, 10, 256, 8, 3, 1, 0),   // the three-pass phase: G over (a, b)
        new("cg res x3 256->256 8", 12, 256, 10, 256, 8, 3, 1, 0),  // F over (b, a, G(a))
        new("cg res x4 256->256 8", 16, 256, 10, 256, 8, 3, 1, 0),  // a batch of 16: the rule's edge
        // the zoo's default batch of 16: stylegan's (and ProGAN's) 8 px layers, 1,024 positions like srgan32's below
        new("b16 sg 128->128 8", 16, 128, 8, 128, 8, 3, 1, 1),
        new("b16 pg 256->256 8", 16, 256, 8, 256, 8, 3, 1, 1),
        // srgan32: G's residual blocks at 8 px, its 64 -> 256 layers before the pixel shuffles, D's stride-1 layers
        new("sr G res 64->64 8", 16, 64, 8, 64, 8, 3, 1, 1),
        new("sr G up 64->256 8", 16, 64, 8, 256, 8, 3, 1, 1),
        new("sr G up 64->256 16", 16, 64, 16, 256, 16, 3, 1, 1),
        new("sr D 64->128 16", 16, 64, 16, 128, 16, 3, 1, 1),
        new("sr D 128->256 8", 16, 128, 8, 256, 8, 3, 1, 1),
        new("sr D 256->512 4", 16, 256, 4, 512, 4, 3, 1, 1),
    ];

    /// <summary>
    /// `--kernels --winograd`: oneDNN's direct and Winograd algorithms and our own F(2x2, 3x3) and F(4x4, 3x3)
    /// (<see cref="Winograd"/>; F(4x4) where the output's width is a multiple of 8, else F(2x2) again) on every 3x3
    /// stride-1 conv kernel of stylegan32 and cyclegan32, timed in alternation, with each Winograd's largest difference
    /// from direct relative to the output's scale. Where oneDNN has no Winograd (AVX2), its column is direct again.
    /// </summary>
    public static void RunWinograd(int iters)
    {
        var rng = new Generator(0);
        var (saved, savedTile) = (ConvDnnl.ConvAlgorithm, Winograd.TileSize);
        try
        {
            Console.WriteLine($"{"layer",-20} {"kernel",-15} {"direct ms",9} {"wino ms",8} {"own2 ms",8} {"own4 ms",8} {"wino x",7} {"own2 x",7} {"own4 x",7} " +
                $"{"wino err",9} {"own2 err",9} {"own4 err",9}  [direct impl | winograd impl]");
            string? only = Environment.GetEnvironmentVariable("BENCH_LAYERS");   // as in RunBackends
            foreach (var l in Winograd3x3.Where(l => only == null || l.Name.StartsWith(only, StringComparison.Ordinal)))
            {
                var (g, x, w, y) = Buffers(l, rng);
                foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                {
                    var (outLen, run) = Kernel(kind, x, w, y, l.N, g);
                    var (direct, wino, own2, own4) = (new float[outLen], new float[outLen], new float[outLen], new float[outLen]);
                    Action RunOwn(float[] o) => kind switch
                    {
                        ConvDnnl.Kind.Forward => () => Winograd.Forward(x, w, o, l.N, g),
                        ConvDnnl.Kind.BackwardData => () => Winograd.BackwardData(y, w, o, l.N, g),
                        _ => () => Winograd.WeightGrad(x, y, o, l.N, g),
                    };
                    var times = AlternateAll([() => run(direct), () => run(wino), RunOwn(own2), RunOwn(own4)], iters, i =>
                    {
                        Conv.OwnWinograd = false;
                        ConvDnnl.ConvAlgorithm = i == 1 ? ConvDnnl.Algorithm.Winograd : ConvDnnl.Algorithm.Direct;
                        Winograd.TileSize = i == 3 ? 4 : 2;
                    });
                    Conv.OwnWinograd = null;
                    ConvDnnl.ConvAlgorithm = ConvDnnl.Algorithm.Direct;
                    string implDirect = ConvDnnl.Implementation(kind, l.N, g) ?? "managed";
                    ConvDnnl.ConvAlgorithm = ConvDnnl.Algorithm.Winograd;
                    string implWino = ConvDnnl.Implementation(kind, l.N, g) ?? "managed";
                    Console.WriteLine($"{l.Name,-20} {kind,-15} {times[0] * 1e3,9:F2} {times[1] * 1e3,8:F2} {times[2] * 1e3,8:F2} {times[3] * 1e3,8:F2} " +
                        $"{times[0] / times[1],7:F2} {times[0] / times[2],7:F2} {times[0] / times[3],7:F2} " +
                        $"{RelativeError(direct, wino),9:E1} {RelativeError(direct, own2),9:E1} {RelativeError(direct, own4),9:E1}  [{implDirect} | {implWino}]");
                }
            }
        }
        finally { (ConvDnnl.ConvAlgorithm, Winograd.TileSize) = (saved, savedTile); Conv.OwnWinograd = null; }
    }

    // 3 x 3 stride-1 layers of a batch of 16 beyond the workloads': a grid of channels and map sizes for BatchLaneConv's rule,
    // and srgan32's content network's 32 -> 64 layer at 16 px.
    static readonly ConvLayer[] LaneGrid =
    [
        new("grid 32->32 16", 16, 32, 16, 32, 16, 3, 1, 1),
        new("grid 64->64 16", 16, 64, 16, 64, 16, 3, 1, 1),
        new("grid 64->128 8", 16, 64, 8, 128, 8, 3, 1, 1),
        new("grid 128->128 8", 16, 128, 8, 128, 8, 3, 1, 1),
        new("grid 64->64 4", 16, 64, 4, 64, 4, 3, 1, 1),
        new("grid 128->128 4", 16, 128, 4, 128, 4, 3, 1, 1),
        new("grid 256->256 4", 16, 256, 4, 256, 4, 3, 1, 1),
        new("grid 512->512 4", 16, 512, 4, 512, 4, 3, 1, 1),
        new("grid b32 64->64 8", 32, 64, 8, 64, 8, 3, 1, 1),
        new("sr C 32->64 16", 16, 32, 16, 64, 16, 3, 1, 1),
    ];

    /// <summary>
    /// `--kernels --batch-lanes`: each kernel of the 3 x 3 stride-1 layers in batches of 16 (the workloads' and a grid) with
    /// the batch in the lanes (<see cref="BatchLaneConv"/>, whatever the rule) and on the path the rules take without it, timed in alternation:
    /// ms, the ratio, the largest difference relative to the output's scale, and whether the rule takes the lanes.
    /// </summary>
    public static void RunBatchLanes(int iters)
    {
        var rng = new Generator(0);
        Console.WriteLine($"{"layer",-22} {"kernel",-15} {"other ms",9} {"lanes ms",9} {"x",6} {"lanes GF",9} {"err",9}  rule");
        string? only = Environment.GetEnvironmentVariable("BENCH_LAYERS");   // as in RunBackends
        try
        {
            foreach (var l in Winograd3x3.Concat(LaneGrid).Where(l => l.N % 16 == 0 && l.P == 1 && l.K == 3 && l.S == 1)
                .Where(l => only == null || l.Name.StartsWith(only, StringComparison.Ordinal)))
            {
                var (g, x, w, y) = Buffers(l, rng);
                double flop = 2.0 * l.N * g.Co * g.K * g.P;
                foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                {
                    var (outLen, run) = Kernel(kind, x, w, y, l.N, g);
                    var (other, lanes) = (new float[outLen], new float[outLen]);
                    var t = AlternateAll([() => run(other), () => run(lanes)], iters, i => Conv.BatchLaneKernels = Conv.BatchLaneEverywhere = i == 1);
                    (Conv.BatchLaneKernels, Conv.BatchLaneEverywhere) = (true, false);
                    string rule = Conv.Picks(kind, l.N, g) == "lanes" ? "lanes" : "-";
                    Console.WriteLine($"{l.Name,-22} {kind,-15} {t[0] * 1e3,9:F3} {t[1] * 1e3,9:F3} {t[0] / t[1],6:F2} {flop / t[1] / 1e9,9:F1} {RelativeError(other, lanes),9:E1}  {rule}");
                }
            }
        }
        finally { (Conv.BatchLaneKernels, Conv.BatchLaneEverywhere) = (true, false); }
    }

    /// <summary>
    /// `--kernels --layouts`: each conv kernel of every layer above on oneDNN with its activations in the layout the
    /// primitive picks (blocked, nChw16c here) and in channels-last (NHWC, where oneDNN 2.6 has brgemm convolutions),
    /// both through the wrapper's reorders from and to NCHW, timed in alternation; and the layout the rule picks.
    /// </summary>
    public static void RunLayouts(int iters)
    {
        var rng = new Generator(0);
        var saved = ConvDnnl.ForcedLayout;
        Console.WriteLine($"{"layer",-24} {"kernel",-15} {"blocked ms",10} {"nhwc ms",8} {"nhwc x",7} {"blocked GF",10} {"nhwc GF",8}  [blocked impl | nhwc impl] rule");
        string? only = Environment.GetEnvironmentVariable("BENCH_LAYERS");   // as in RunBackends
        try
        {
            foreach (var l in Layers.Concat(BackendLayers).Concat(Winograd3x3).DistinctBy(l => l.Name)
                .Where(l => only == null || l.Name.StartsWith(only, StringComparison.Ordinal)))
            {
                var (g, x, w, y) = Buffers(l, rng);
                double flop = 2.0 * l.N * g.Co * g.K * g.P;
                foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                {
                    var (outLen, run) = Kernel(kind, x, w, y, l.N, g);
                    var o = new float[outLen];
                    var t = AlternateAll([() => run(o), () => run(o)], iters,
                        i => ConvDnnl.ForcedLayout = i == 0 ? ConvDnnl.Layout.Blocked : ConvDnnl.Layout.ChannelsLast);
                    ConvDnnl.ForcedLayout = ConvDnnl.Layout.Blocked;
                    string implBlocked = ConvDnnl.Implementation(kind, l.N, g) ?? "managed";
                    ConvDnnl.ForcedLayout = ConvDnnl.Layout.ChannelsLast;
                    string implLast = ConvDnnl.Implementation(kind, l.N, g) ?? "managed";
                    ConvDnnl.ForcedLayout = saved;
                    string rule = Conv.Picks(kind, l.N, g);
                    if (rule == "dnnl") rule += " " + ConvDnnl.RuleLayout(kind, g, ConvDnnl.UsesWinograd(kind, l.N, g));
                    Console.WriteLine($"{l.Name,-24} {kind,-15} {t[0] * 1e3,10:F2} {t[1] * 1e3,8:F2} {t[0] / t[1],7:F2} {flop / t[0] / 1e9,10:F1} {flop / t[1] / 1e9,8:F1}  " +
                        $"[{implBlocked} | {implLast}] {rule}");
                }
            }
        }
        finally { ConvDnnl.ForcedLayout = saved; }
        Console.WriteLine($"fp32 FMA peak: {FmaPeak.Measure(Threading.Threads):F1} GFLOP/s on {Threading.Threads} threads; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }

    // The layers of the workloads whose convolutions run furthest below the FMA peak: wgangp28 (dcgan28's D and G at
    // batch 64, the critic's passes) and cyclegan32 (batch 4; its three-pass phases call the same layers at 8 and 12).
    static readonly ConvLayer[] BackendLayers =
    [
        new("w28 1->64 28", 64, 1, 28, 64, 14, 4, 2, 1),
        new("w28 64->128 14", 64, 64, 14, 128, 7, 4, 2, 1),
        .. Layers.Where(l => l.Name.StartsWith("d28.conv2") || l.Name.StartsWith("d64.conv3") || l.Name.StartsWith("d64.conv4")),
        .. Winograd3x3.Where(l => l.Name.StartsWith("cg res")),
        new("cg down1 64->128 32", 4, 64, 32, 128, 16, 3, 2, 1),
        new("cg down2 128->256 16", 4, 128, 16, 256, 8, 3, 2, 1),
        new("cg D 64->128 16", 4, 64, 16, 128, 15, 4, 1, 1),
        new("cg out 64->3 32", 4, 64, 38, 3, 32, 7, 1, 0),
        // srgan32's D at batch 16 (from 32 px; every second layer of stride 2) and G's residual layers at 8 px
        new("sr D 64->64 s2 32", 16, 64, 32, 64, 16, 3, 2, 1),
        new("sr D 128->128 s2 16", 16, 128, 16, 128, 8, 3, 2, 1),
        new("sr D 256->256 s2 8", 16, 256, 8, 256, 4, 3, 2, 1),
        new("sr D 512->512 s2 4", 16, 512, 4, 512, 2, 3, 2, 1),
        new("sr G out 64->3 k9 32", 16, 64, 32, 3, 32, 9, 1, 4),
        new("sr G res 64->64 8", 16, 64, 8, 64, 8, 3, 1, 1),
        .. Winograd3x3.Where(l => l.Name.StartsWith("sr D")),
        // pix2pix32's U-Net down to 4 x 4 and 2 x 2 (4 x 4 kernels of stride 2, batch 16)
        new("p2p down 128->256 8", 16, 128, 8, 256, 4, 4, 2, 1),
        new("p2p down 256->512 4", 16, 256, 4, 512, 2, 4, 2, 1),
        // generation: the dcgans' G layers at the bench's batch of 256, each the transpose (backward-data) of a D layer
        .. Layers.Where(l => l.Name.StartsWith("d28.") || l.Name.StartsWith("d64.")).Select(l => l with { Name = "gen256 " + l.Name[..l.Name.IndexOf(' ')], N = 256 }),
    ];

    /// <summary>
    /// `--kernels --backends`: each conv kernel of <see cref="BackendLayers"/> on oneDNN (its default algorithm), on
    /// im2col + our GEMM, and (3x3 stride 1) on our Winograd, timed in alternation; ms and GFLOP/s of each, and which the
    /// library's rule picks now.
    /// </summary>
    public static void RunBackends(int iters)
    {
        var rng = new Generator(0);
        Console.WriteLine($"{"layer",-22} {"kernel",-15} {"dnnl ms",8} {"gemm ms",8} {"wino ms",8} {"dnnl GF",8} {"gemm GF",8} {"wino GF",8}  rule");
        bool smallMaps = Conv.SmallMapGemms;
        try
        {
            // BENCH_LAYERS=PREFIX: only the layers whose names start so (srgan32's: "sr ")
            string? only = Environment.GetEnvironmentVariable("BENCH_LAYERS");
            foreach (var l in BackendLayers.Where(l => only == null || l.Name.StartsWith(only, StringComparison.Ordinal)))
            {
                var (g, x, w, y) = Buffers(l, rng);
                double flop = 2.0 * l.N * g.Co * g.K * g.P;
                foreach (var kind in Enum.GetValues<ConvDnnl.Kind>())
                {
                    var (outLen, run) = Kernel(kind, x, w, y, l.N, g);
                    var o = new float[outLen];
                    bool wino = Winograd.Suits(g);
                    var ways = new List<Action> { () => run(o), () => run(o) };
                    if (wino) ways.Add(() => run(o));
                    var t = AlternateAll([.. ways], iters, i =>
                    {
                        Conv.ForceManaged = i == 1;
                        if (i == 0) Conv.ForceManaged = false;
                        Conv.OwnWinograd = i == 2;
                        Conv.SmallMapGemms = i == 1 && smallMaps;   // the gemm column: one GEMM over the batch where that rule reaches
                    });
                    (Conv.ForceManaged, Conv.OwnWinograd, Conv.SmallMapGemms) = (null, null, smallMaps);
                    var rule = Conv.Picks(kind, l.N, g);
                    string Gf(int i) => i < t.Length ? $"{flop / t[i] / 1e9,8:F1}" : $"{"",8}";
                    string Ms(int i) => i < t.Length ? $"{t[i] * 1e3,8:F2}" : $"{"",8}";
                    Console.WriteLine($"{l.Name,-22} {kind,-15} {Ms(0)} {Ms(1)} {Ms(2)} {Gf(0)} {Gf(1)} {Gf(2)}  {rule}");
                }
            }
        }
        finally { (Conv.ForceManaged, Conv.OwnWinograd, Conv.SmallMapGemms) = (null, null, smallMaps); }
        Console.WriteLine($"fp32 FMA peak: {FmaPeak.Measure(Threading.Threads):F1} GFLOP/s on {Threading.Threads} threads; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }

    // Largest |a - b| over the largest |a|.
    static double RelativeError(float[] a, float[] b)
    {
        double scale = 0, err = 0;
        for (int i = 0; i < a.Length; i++) { scale = Math.Max(scale, Math.Abs(a[i])); err = Math.Max(err, Math.Abs(a[i] - b[i])); }
        return err / Math.Max(scale, 1e-30);
    }

    // Rounds of a setting off and on, each a turn (turn(on) returns its time), both warmed for warmSeconds first; the order
    // alternates from round to round so that neither setting always runs first. Each round's (off, on) times.
    static List<(double Off, double On)> TurnRounds(Func<bool, double> turn, int rounds, double warmSeconds)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < warmSeconds) { turn(true); turn(false); }
        var times = new List<(double Off, double On)>();
        for (int round = 0; round < rounds; round++)
        {
            bool onFirst = round % 2 == 0;
            double first = turn(onFirst), second = turn(!onFirst);
            times.Add(onFirst ? (second, first) : (first, second));
        }
        return times;
    }

    // Median seconds of each way of running the same thing, all run once in each trial; select(i) switches to the i-th.
    static double[] AlternateAll(Action[] ways, int iters, Action<int> select)
    {
        var t = ways.Select(_ => new List<double>()).ToArray();
        for (int i = -1; i < iters; i++)
            for (int j = 0; j < ways.Length; j++)
            {
                select(j);
                var sw = Stopwatch.StartNew(); ways[j](); if (i >= 0) t[j].Add(sw.Elapsed.TotalSeconds);
            }
        return t.Select(l => { l.Sort(); return l[l.Count / 2]; }).ToArray();
    }

    static void Print(string layer, string kernel, double flop, double t32, double t16, float[] c32, float[] c16, string impl)
    {
        Console.WriteLine($"{layer,-24} {kernel,-11} {t32 * 1e3,8:F2} {t16 * 1e3,8:F2} {t32 / t16,8:F2} {flop / t32 / 1e9,9:F1} {flop / t16 / 1e9,9:F1} {RelativeError(c32, c16),13:E1}  [{impl}]");
    }

    /// <summary>
    /// `--kernels --adam`: Adam's step inside the weight gradient's product (<see cref="Gemm.TrySgemmAdam"/>, the default
    /// with the AVX-512 GEMM) against its parts, on mlpgan's weight gradients (dW = gᵀ x over 64 rows, D's over 128), each
    /// shape with weights, moments and operands of its own as in a step (2M weights, 24 MB with their moments): the
    /// product alone, the step alone (<see cref="AdamStep.Update"/> over that gradient) and the fused call, us on the
    /// engine's threads, each the median of <paramref name="iters"/> passes over all shapes, the three ways in turn in every
    /// pass. Then the step alone over 4,096 floats in L1 on one thread, ns a float: a square root and two divisions a
    /// weight, where the product's multiply-adds cannot hide them (forty-seventh pass).
    /// </summary>
    public static void RunAdam(int iters)
    {
        (int Out, int In, int Rows)[] shapes = [(256, 100, 64), (512, 256, 64), (1024, 512, 64), (784, 1024, 64), (512, 784, 128), (256, 512, 128)];
        var rng = new Generator(3);
        var step = new AdamStep.Scalars(0.5f, 0.999f, 0.5f, 0.001f, 0f, 2e-4f, 0.03f, 1e-8f);
        // The weights first, all of them, as a model makes its parameters before the optimizer its state.
        var weights = shapes.Select(s => Tensor.Randn([s.Out * s.In], rng).Storage).ToArray();
        var buffers = shapes.Select((s, i) => (G: Tensor.Randn([s.Rows * s.Out], rng).Storage, X: Tensor.Randn([s.Rows * s.In], rng).Storage,
            P: weights[i], M: new float[s.Out * s.In], V: new float[s.Out * s.In], Grad: new float[s.Out * s.In])).ToArray();
        Action<int>[] ways =
        [
            i => Gemm.Sgemm(true, false, shapes[i].Out, shapes[i].In, shapes[i].Rows, 1f, buffers[i].G, shapes[i].Out, buffers[i].X, shapes[i].In, 0f, buffers[i].Grad, shapes[i].In),
            i => AdamStep.Update(buffers[i].P, buffers[i].Grad, buffers[i].M, buffers[i].V, step.Beta1, step.Beta2, step.C1, step.C2, step.WeightDecay, step.StepSize, step.BiasCorrection2Sqrt, step.Eps),
            i =>
            {
                if (!Gemm.TrySgemmAdam(true, false, shapes[i].Out, shapes[i].In, shapes[i].Rows, 1f, buffers[i].G, shapes[i].Out, buffers[i].X, shapes[i].In,
                        buffers[i].P, buffers[i].M, buffers[i].V, step))
                    throw new InvalidOperationException("bench --adam: the fused step does not run here (it needs the AVX-512 GEMM)");
            },
        ];
        var times = shapes.Select(_ => ways.Select(_ => new List<double>()).ToArray()).ToArray();
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1) foreach (var way in ways) for (int i = 0; i < shapes.Length; i++) way(i);
        Thread.Sleep(100);
        for (int pass = 0; pass < iters; pass++)
            for (int w = 0; w < ways.Length; w++)
                for (int i = 0; i < shapes.Length; i++)
                {
                    var sw = Stopwatch.StartNew();
                    ways[w](i);
                    times[i][w].Add(sw.Elapsed.TotalSeconds * 1e6);
                }
        Console.WriteLine($"Adam inside mlpgan's weight gradients, {Threading.Threads} threads, us (median of {iters} passes)");
        Console.WriteLine($"{"dW = gT x",-26} {"product",9} {"step",9} {"both",9} {"fused",9} {"fused/both",11}");
        var sums = new double[ways.Length];
        for (int i = 0; i < shapes.Length; i++)
        {
            var med = times[i].Select(Workloads.Median).ToArray();
            for (int w = 0; w < ways.Length; w++) sums[w] += med[w];
            var (o, n, r) = shapes[i];
            Console.WriteLine($"{$"{n}->{o} over {r} rows",-26} {med[0],9:F1} {med[1],9:F1} {med[0] + med[1],9:F1} {med[2],9:F1} {med[2] / (med[0] + med[1]),11:F3}");
        }
        Console.WriteLine($"{"sum",-26} {sums[0],9:F1} {sums[1],9:F1} {sums[0] + sums[1],9:F1} {sums[2],9:F1} {sums[2] / (sums[0] + sums[1]),11:F3}");
        int threads = Threading.Threads;
        Threading.Threads = 1;
        try
        {
            const int count = 4096;
            float[] p = Tensor.Randn([count], rng).Storage, g = Tensor.Randn([count], rng).Storage, m = new float[count], v = new float[count];
            double t = Time(() => AdamStep.Update(p, g, m, v, step.Beta1, step.Beta2, step.C1, step.C2, step.WeightDecay, step.StepSize, step.BiasCorrection2Sqrt, step.Eps), Math.Max(iters, 1000));
            Console.WriteLine($"the step alone over {count} floats in L1, 1 thread: {t / count * 1e9:F3} ns a float");
        }
        finally { Threading.Threads = threads; }
    }

    /// <summary>
    /// `--kernels --products`: each of mlpgan's products as one thread runs it in a step, alone on one thread, against the
    /// one-thread FMA peak. A step splits a Linear layer's forward (x·Wᵀ) over W's rows, its input gradient (g·W) over the
    /// halves of W's rows and its weight gradient (gᵀ·x) over W's rows (<see cref="Gemm.InputGradient"/>): each row here is
    /// the larger of the two halves, with the whole layer's strides, the median of <paramref name="iters"/> calls. The
    /// last line sums them with a step's counts (G's forward twice, D's over 128 rows and then 64): what the products cost
    /// a thread in a step where nothing else ran (fiftieth pass: 0.81-0.97 of the peak but the shallowest weight gradient,
    /// 0.87-0.88 summed). The step's weight gradients run with Adam's step inside (`--kernels --adam`); these are plain.
    /// </summary>
    public static void RunProducts(int iters)
    {
        int threads = Threading.Threads;
        Threading.Threads = 1;
        try
        {
            double peak = FmaPeak.Measure(1);
            var rng = new Generator(3);
            // (rows, inputs, outputs) of each layer in the step, and how many forwards, input gradients and weight gradients it
            // runs; D's last layer (256 -> 1, a few thousand multiply-adds) is left out
            (int Rows, int In, int Out, int Forwards, int InputGrads, int WeightGrads)[] layers =
            [
                (64, 100, 256, 2, 0, 1), (64, 256, 512, 2, 1, 1), (64, 512, 1024, 2, 1, 1), (64, 1024, 784, 2, 1, 1),   // G
                (128, 784, 512, 1, 0, 1), (128, 512, 256, 1, 1, 1),                                                      // D over real and fake
                (64, 784, 512, 1, 1, 0), (64, 512, 256, 1, 1, 0),                                                        // D in G's step
            ];
            var products = new List<(string Label, int Count, int M, int N, int K, Action Run)>();
            foreach (var (rows, inF, outF, forwards, inputGrads, weightGrads) in layers)
            {
                var (start, end) = Gemm.Part(outF, 1, 2);   // the second of two parts, the larger where they differ
                int half = end - start;
                float[] x = Tensor.Randn([rows * inF], rng).Storage, w = Tensor.Randn([outF * inF], rng).Storage, g = Tensor.Randn([rows * outF], rng).Storage;
                float[] y = new float[rows * outF], dx = new float[rows * inF], dw = new float[outF * inF];
                string layer = $"{inF}->{outF} over {rows} rows";
                if (forwards > 0) products.Add(($"x·Wᵀ {layer}", forwards, rows, half, inF,
                    () => Gemm.SgemmSerial(false, true, rows, half, inF, 1f, x, inF, w.AsSpan(start * inF), inF, 0f, y.AsSpan(start), outF)));
                if (inputGrads > 0) products.Add(($"g·W {layer}", inputGrads, rows, inF, half,
                    () => Gemm.SgemmSerial(false, false, rows, inF, half, 1f, g.AsSpan(start), outF, w.AsSpan(start * inF), inF, 0f, dx, inF)));
                if (weightGrads > 0) products.Add(($"gᵀ·x {layer}", weightGrads, half, inF, rows,
                    () => Gemm.SgemmSerial(true, false, half, inF, rows, 1f, g.AsSpan(start), outF, x, inF, 0f, dw.AsSpan(start * inF), inF)));
            }
            // Every product warm before any is timed: timed one after another from cold, the first read a third slow (the
            // JIT starts counting calls for its tier-up only once no new method has been compiled for 100 ms).
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1) foreach (var p in products) p.Run();
            Console.WriteLine($"mlpgan's products, each thread's larger half, alone on 1 thread (FMA peak {peak:F1} GFLOP/s), median of {iters} calls");
            Console.WriteLine($"{"product",-34} {"m x n x k",-18} {"us",8} {"GFLOP/s",8} {"of peak",8}");
            double step = 0, stepAtPeak = 0;
            foreach (var (label, count, m, n, k, run) in products)
            {
                double seconds = Time(run, iters), flop = 2.0 * m * n * k;
                step += count * seconds;
                stepAtPeak += count * flop / (peak * 1e9);
                Console.WriteLine($"{label,-34} {$"{m}x{n}x{k}",-18} {seconds * 1e6,8:F1} {flop / seconds / 1e9,8:F1} {flop / seconds / 1e9 / peak,8:F2}");
            }
            Console.WriteLine($"a thread's products in a step: {step * 1e3:F2} ms, {stepAtPeak * 1e3:F2} at the peak ({stepAtPeak / step:F2})");
        }
        finally { Threading.Threads = threads; }
    }

    /// <summary>
    /// `--kernels --shallow`: transgan32's products over 2,080 rows (D's Linear layers over 32 sequences of 65 tokens),
    /// on one thread, with each tile of C's next tile fetched while it is made (<see cref="GemmAvx512.PrefetchesC"/>) and
    /// without, in cache (one set of operands) and from memory (16 sets, A and C 34-43 MB in all, one after another), 15
    /// rounds of <paramref name="iters"/> calls each way, which goes first alternating: the median call of each way, and the
    /// median round's speed-up
    /// (fifty-first pass: from memory 0.98-1.04 over five runs, in cache 0.989-0.999; the whole step gains about 1%).
    /// </summary>
    public static void RunShallow(int iters)
    {
        if (!GemmAvx512.IsSupported) { Console.WriteLine("--kernels --shallow: no accelerated Vector512 here, so no AVX-512 GEMM to time"); return; }
        var rng = new Generator(1);
        // (label, transB, m, n, k): C = A (m × k) · op(B), as the layers run them: x·Wᵀ forwards, the input gradient g·W
        (string Label, bool TransB, int M, int N, int K)[] shapes =
        [
            ("x·Wᵀ 64->256", true, 2080, 256, 64), ("x·Wᵀ 64->192", true, 2080, 192, 64), ("x·Wᵀ 256->64", true, 2080, 64, 256),
            ("g·W 256->64", false, 2080, 256, 64),
        ];
        bool was = GemmAvx512.PrefetchesC;
        try
        {
            Console.WriteLine($"transgan32's products over 2,080 rows, 1 thread, median of {iters} calls a round, 15 rounds: without / with C's next tile fetched");
            Console.WriteLine($"{"product",-16} {"operands",-10} {"without us",11} {"with us",9} {"GFLOP/s with",13} {"speed-up",9}");
            foreach (var (label, transB, m, n, k) in shapes)
                foreach (int sets in new[] { 1, 16 })
                {
                    var a = Enumerable.Range(0, sets).Select(_ => Tensor.Randn([m * k], rng).Storage).ToArray();
                    var b = Tensor.Randn([n * k], rng).Storage;
                    var c = Enumerable.Range(0, sets).Select(_ => new float[m * n]).ToArray();
                    int next = 0;
                    double Calls(bool prefetch, int calls)
                    {
                        GemmAvx512.PrefetchesC = prefetch;
                        var watch = Stopwatch.StartNew();
                        for (int i = 0; i < calls; i++, next = (next + 1) % sets)
                            GemmAvx512.Sgemm(false, transB, m, n, k, 1f, a[next], k, b, transB ? k : n, 0f, c[next], n);
                        return watch.Elapsed.TotalSeconds / calls;
                    }
                    var rounds = TurnRounds(prefetch => Calls(prefetch, iters), 15, warmSeconds: 0.5);
                    double flop = 2.0 * m * n * k, callWithout = Workloads.Median([.. rounds.Select(r => r.Off)]),
                        callWith = Workloads.Median([.. rounds.Select(r => r.On)]);
                    Console.WriteLine($"{label,-16} {(sets == 1 ? "in cache" : "memory"),-10} {callWithout * 1e6,11:F1} {callWith * 1e6,9:F1} {flop / callWith / 1e9,13:F1} {Workloads.Median([.. rounds.Select(r => r.Off / r.On)]),9:F3}");
                }
        }
        finally { GemmAvx512.PrefetchesC = was; }
    }

    /// <summary>
    /// `--kernels --penalty`: WGAN-GP's gradient penalty (<see cref="Gan.Losses.GradientPenalty"/>, as the trainer computes
    /// it) over an MLP critic (784 -> 512 -> 256 -> 1, LeakyReLU 0.2, 64 rows: the interpolates, the critic's forward,
    /// ∇ₓD with a graph, then the penalty's backward into the critic's weights), the double backward through Linear
    /// layers, ms on the engine's threads. The rounds alternate a Linear layer's input gradient in the two halves of
    /// its weight's rows (<see cref="Gemm.InputGradientInHalves"/>, with a graph and without since the forty-eighth pass)
    /// against one product split over its columns; each round prints the median pass of both, and the last line the median
    /// round's ratio, on over off as speeds.
    /// </summary>
    public static void RunPenalty(int iters, int rounds)
    {
        var rng = new Generator(3);
        var critic = new NN.Sequential(new NN.Linear(784, 512, generator: rng), new NN.LeakyReLU(0.2f),
            new NN.Linear(512, 256, generator: rng), new NN.LeakyReLU(0.2f), new NN.Linear(256, 1, generator: rng));
        var (real, fake, epsilon) = (Tensor.Randn([64, 784], new Generator(4)), Tensor.Randn([64, 784], new Generator(5)), Tensor.Rand([64], new Generator(6)));
        var penalty = new Gan.Losses.GradientPenalty();
        void Pass()
        {
            foreach (var p in critic.Parameters()) p.Grad = null;
            penalty.Compute(critic, real, fake, epsilon).Backward();
            penalty.ReleasePass();
        }
        double Turn(bool halves)
        {
            Gemm.InputGradientInHalves = halves;
            var t = new List<double>();
            for (int i = 0; i < iters; i++)
            {
                var sw = Stopwatch.StartNew();
                Pass();
                t.Add(sw.Elapsed.TotalMilliseconds);
            }
            return Workloads.Median(t);
        }
        bool saved = Gemm.InputGradientInHalves;
        try
        {
            var times = TurnRounds(Turn, rounds, warmSeconds: 1);
            Console.WriteLine($"A gradient penalty's pass over an MLP critic at 64 rows, {Threading.Threads} threads, ms (median of {iters} passes a turn)");
            for (int round = 0; round < rounds; round++)
                Console.WriteLine($"round {round + 1,3}: halves {times[round].On,7:F3}  columns {times[round].Off,7:F3}  on/off {times[round].Off / times[round].On:F3}");
            Console.WriteLine($"halves on over off (speeds): median round {Workloads.Median([.. times.Select(r => r.Off / r.On)]):F3}");
        }
        finally { Gemm.InputGradientInHalves = saved; }
    }

    /// <summary>
    /// `--gemm`: GFLOP/s of every GEMM shape of an mlpgan step (forward y = x Wᵀ, dx = g W, dW = gᵀ x, at 64 rows and
    /// at 128 for D over real and fake together) and of the dense dcgan layers, with each backend on the engine's threads (bf16: the same products with bf16 inputs through oneDNN).
    /// </summary>
    public static void RunGemm(int iters)
    {
        var rng = new Generator(2);
        // The ceiling first: the FMA loop on the engine's threads.
        Console.WriteLine($"fp32 FMA peak ({FmaPeak.Lanes} lanes): {FmaPeak.Measure(Threading.Threads):F1} GFLOP/s on {Threading.Threads} threads");
        (int In, int Out)[] layers = [(100, 256), (256, 512), (512, 1024), (1024, 784), (784, 512), (512, 256), (256, 1), (6272, 1), (100, 6272)];
        // the GAN's Linear layers at batches of 64 and 128 (training) and 256 (generation), then one large square product beside them
        IEnumerable<(int Rows, int In, int Out)> shapes = new[] { 64, 128, 256 }.SelectMany(rows => layers.Select(l => (rows, l.In, l.Out))).Append((1024, 1024, 1024));
        foreach (var (rows, inF, outF) in shapes)
            foreach (var (name, ta, tb, m, n, k) in new[] { ("fwd x·Wt", false, true, rows, outF, inF), ("dx g·W", false, false, rows, inF, outF), ("dW gt·x", true, false, outF, inF, rows) })
            {
                var a = Tensor.Randn([m * k], rng).Storage; var b = Tensor.Randn([k * n], rng).Storage; var c = new float[m * n];
                var line = $"{name,-9} {rows,3} rows {inF,5}->{outF,-5} ({m}x{n}x{k})";
                // The backends alternate over three rounds (the median of each): the host's speed drifts by more than
                // the differences between them from one minute to the next.
                var rates = new Dictionary<string, List<double>>();
                for (int round = 0; round < 3; round++)
                    foreach (var backend in new[] { "avx512", "openblas", "dnnl", "dnnl/threaded", "managed", "bf16" })
                    {
                        var saved = (Gemm.ForceManaged, Gemm.PreferAvx512, Precision.Current, Gemm.Bf16Products, Gemm.PreferDnnl, Gemm.PreferDnnlProducts);
                        try
                        {
                            // dnnl: oneDNN's sgemm on each of the engine's threads (its threads for a small batch's weight
                            // gradients); dnnl/threaded: every split product on oneDNN's threads (GANFORGE_GEMM=dnnl)
                            (Gemm.ForceManaged, Gemm.PreferAvx512, Gemm.PreferDnnl, Gemm.PreferDnnlProducts) = backend switch
                            {
                                "avx512" or "bf16" => ((bool?)null, true, false, true),
                                "openblas" => (false, false, false, false),
                                "dnnl" => (null, false, false, true),
                                "dnnl/threaded" => (null, false, true, true),
                                _ => (true, false, false, false),
                            };
                            // bf16: oneDNN's dnnl_gemm_bf16bf16f32, the rounding of A and B to bf16 included.
                            if (backend == "bf16") { if (!Precision.Bf16Supported) continue; (Precision.Current, Gemm.Bf16Products) = (ComputePrecision.Bf16, true); }
                            else if (Gemm.Backend != backend) continue;
                            double t = Time(() => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c, n), iters);
                            (rates.TryGetValue(backend, out var list) ? list : rates[backend] = []).Add(2.0 * m * n * k / t / 1e9);
                        }
                        finally { (Gemm.ForceManaged, Gemm.PreferAvx512, Precision.Current, Gemm.Bf16Products, Gemm.PreferDnnl, Gemm.PreferDnnlProducts) = saved; }
                    }
                foreach (var (backend, list) in rates) { list.Sort(); line += $" | {backend} {list[list.Count / 2],6:F1}"; }
                Console.WriteLine(line);
            }
    }

    /// <summary>GFLOP/s of a 1024³ sgemm with the engine's threads: the machine's reference rate in this run.</summary>
    public static double SgemmPeak(int iters)
    {
        int n = 1024;
        var rng = new Generator(1);
        var a = Tensor.Randn([n, n], rng).Storage; var b = Tensor.Randn([n, n], rng).Storage; var c = new float[n * n];
        double s = Time(() => Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n), Math.Max(iters, 5));
        return 2.0 * n * n * n / s / 1e9;
    }

    // What runs each of the three kinds: oneDNN's implementation name where the rule gives it to oneDNN, else the rule's
    // pick ("image", "direct", "gemm", ...).
    static string Implementations(int n, ConvGeometry g) => Conv.Backend != "dnnl" ? "" :
        $"  [{string.Join(", ", Enum.GetValues<ConvDnnl.Kind>().Select(k => Conv.Picks(k, n, g) is var pick && pick != "dnnl" ? pick : ConvDnnl.Implementation(k, n, g) ?? "managed"))}]";

    static double Time(Action a, int iters)
    {
        // Warm until the JIT has tiered the callers up (0.2 s, or 200 calls): one warm call left the packing and
        // transposes of the GEMMs in their first, unoptimised tier, and their figures at 2 threads up to 5x low.
        // The pause lets the background compilation of the tier-up finish.
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 200 && warm.Elapsed.TotalSeconds < 0.2; i++) a();
        Thread.Sleep(100);
        for (int i = 0; i < 3; i++) a();
        var times = new List<double>();
        for (int i = 0; i < iters; i++) { var sw = Stopwatch.StartNew(); a(); times.Add(sw.Elapsed.TotalSeconds); }
        times.Sort();
        return times[times.Count / 2];
    }
}
