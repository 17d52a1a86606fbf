using System.Diagnostics;
using GanForge.Kernels;

namespace GanForge.Bench;

/// <summary>`--kernels`: GFLOP/s of the three conv kernels on each conv layer of dcgan28 and dcgan64, and of a square sgemm.</summary>
static class KernelBench
{
    // name, batch, Ci (image side), H, Co (feature side), OH, k, stride, pad
    static readonly (string Name, int N, int Ci, int H, int Co, int OH, int K, int S, int P)[] Layers =
    [
        ("d28.conv1 1->64 28", 128, 1, 28, 64, 14, 4, 2, 1),
        ("d28.conv2 64->128 14", 128, 64, 14, 128, 7, 4, 2, 1),
        ("d64.conv1 1->64 64", 64, 1, 64, 64, 32, 4, 2, 1),
        ("d64.conv2 64->128 32", 64, 64, 32, 128, 16, 4, 2, 1),
        ("d64.conv3 128->256 16", 64, 128, 16, 256, 8, 4, 2, 1),
        ("d64.conv4 256->512 8", 64, 256, 8, 512, 4, 4, 2, 1),
        ("g64.convT1 100->512 1", 64, 512, 4, 100, 1, 4, 1, 0),
    ];

    public static void Run(int iters)
    {
        var rng = new Generator(0);
        foreach (var l in Layers)
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
        }
        Console.WriteLine($"conv backend: {Conv.Backend}");
        Console.WriteLine($"sgemm 1024^3: {SgemmPeak(iters):F1} GFLOP/s ({Gemm.Backend}, {Threading.Threads} threads)");
        Console.WriteLine($"fp32 FMA peak ({FmaPeak.Lanes} lanes): {FmaPeak.Measure(1):F1} GFLOP/s on 1 thread, {FmaPeak.Measure(2):F1} on 2");
    }

    /// <summary>
    /// `--gemm`: GFLOP/s of every GEMM shape of an mlpgan step (forward y = x Wᵀ, dx = g W, dW = gᵀ x, at 64 rows and
    /// at 128 for D over real and fake together) and of the dense dcgan layers, with each backend on the engine's threads.
    /// </summary>
    public static void RunGemm(int iters)
    {
        var rng = new Generator(2);
        (int In, int Out)[] layers = [(100, 256), (256, 512), (512, 1024), (1024, 784), (784, 512), (512, 256), (256, 1), (6272, 1), (100, 6272)];
        foreach (int rows in new[] { 64, 128 })
            foreach (var (inF, outF) in layers)
                foreach (var (name, ta, tb, m, n, k) in new[] { ("fwd x·Wt", false, true, rows, outF, inF), ("dx g·W", false, false, rows, inF, outF), ("dW gt·x", true, false, outF, inF, rows) })
                {
                    var a = Tensor.Randn([m * k], rng).Storage; var b = Tensor.Randn([k * n], rng).Storage; var c = new float[m * n];
                    var line = $"{name,-9} {rows,3} rows {inF,5}->{outF,-5} ({m}x{n}x{k})";
                    foreach (var backend in new[] { "avx512", "openblas", "managed" })
                    {
                        var (force, prefer) = (Gemm.ForceManaged, Gemm.PreferAvx512);
                        try
                        {
                            (Gemm.ForceManaged, Gemm.PreferAvx512) = backend switch { "avx512" => ((bool?)null, true), "openblas" => (false, false), _ => (true, false) };
                            if (Gemm.Backend != backend) continue;
                            double t = Time(() => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c, n), iters);
                            line += $" | {backend} {2.0 * m * n * k / t / 1e9,6:F1}";
                        }
                        finally { (Gemm.ForceManaged, Gemm.PreferAvx512) = (force, prefer); }
                    }
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

    // oneDNN's implementation names for the three kinds, when it runs them.
    static string Implementations(int n, ConvGeometry g) => Conv.Backend != "dnnl" ? "" :
        $"  [{string.Join(", ", Enum.GetValues<ConvDnnl.Kind>().Select(k => ConvDnnl.Implementation(k, n, g) ?? "managed"))}]";

    static double Time(Action a, int iters)
    {
        a();
        var times = new List<double>();
        for (int i = 0; i < iters; i++) { var sw = Stopwatch.StartNew(); a(); times.Add(sw.Elapsed.TotalSeconds); }
        times.Sort();
        return times[times.Count / 2];
    }
}
