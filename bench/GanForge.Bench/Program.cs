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
// --rounds N alternates our run and the peer's N times and ends with the median ratio per workload:
// on a shared machine whose speed drifts from minute to minute one pair of runs can land either way.
var ratios = opts.Workloads.ToDictionary(w => w, _ => new List<double>());
for (int round = 1; round <= opts.Rounds; round++)
{
    if (opts.Rounds > 1) Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["round"] = round }));
    var results = new List<Dictionary<string, object>>();
    foreach (var name in opts.Workloads)
    {
        var r = Workloads.Run(name, opts.Iters, opts.Warmup, opts.Profile);
        results.Add(r);
        Console.WriteLine(JsonSerializer.Serialize(r));
    }
    bool last = round == opts.Rounds;
    if (opts.Generate && last)
        foreach (var name in opts.Workloads.Where(w => w is not ("mlpgan" or "cyclegan32")))   // cyclegan32 maps images, not latents
            Console.WriteLine(JsonSerializer.Serialize(Workloads.Generation(name, opts.Iters, opts.Warmup)));
    if (!opts.Compare) continue;
    double peak = KernelBench.SgemmPeak(opts.Iters);
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["sgemm_1024_gflop_per_s"] = Math.Round(peak, 1), ["threads"] = Threading.Threads }));
    foreach (var r in results) r["share_of_sgemm_peak"] = Math.Round(Convert.ToDouble(r["gflop_per_s"]) / peak, 3);
    foreach (var (w, ratio) in Peer.Compare(results, opts, generate: opts.Generate && last)) ratios[w].Add(ratio);
}
if (opts.Compare && opts.Rounds > 1)
    foreach (var (w, list) in ratios.Where(kv => kv.Value.Count > 0))
    {
        var sorted = list.Order().ToList();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["workload"] = w, ["rounds"] = list.Count, ["ratios"] = list,
            ["median_ratio"] = Math.Round(sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2, 3),
        }));
    }
return 0;
