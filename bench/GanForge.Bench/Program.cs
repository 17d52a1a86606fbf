using System.Diagnostics;
using System.Text.Json;
using GanForge;
using GanForge.Bench;

// The training workloads of shared/bench/BENCHMARKS.md: one iteration = one D step + one G step
// (BCE-with-logits, non-saturating G loss, Adam 2e-4 (0.5, 0.999)). Prints one JSON line per workload
// with the keys of pytorch_peer.py; --compare also runs the peer and prints the ratios.
var opts = BenchOptions.Parse(args);
Threading.Threads = opts.Threads;
if (args.Contains("--kernels")) { KernelBench.Run(opts.Iters); return 0; }
var results = new List<Dictionary<string, object>>();
foreach (var name in opts.Workloads)
{
    var r = Workloads.Run(name, opts.Iters, opts.Warmup, opts.Profile);
    results.Add(r);
    Console.WriteLine(JsonSerializer.Serialize(r));
}
if (opts.Generate)
    foreach (var name in opts.Workloads.Where(w => w != "mlpgan"))
        Console.WriteLine(JsonSerializer.Serialize(Workloads.Generation(name, opts.Iters, opts.Warmup)));
if (opts.Compare)
{
    double peak = KernelBench.SgemmPeak(opts.Iters);
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["sgemm_1024_gflop_per_s"] = Math.Round(peak, 1), ["threads"] = Threading.Threads }));
    foreach (var r in results) r["share_of_sgemm_peak"] = Math.Round(Convert.ToDouble(r["gflop_per_s"]) / peak, 3);
    Peer.Compare(results, opts);
}
return 0;
