using System.Diagnostics;
using System.Text.Json;
using GanForge;
using GanForge.Bench;

// The training workloads of shared/bench/BENCHMARKS.md: one iteration = one D step + one G step
// (BCE-with-logits, non-saturating G loss, Adam 2e-4 (0.5, 0.999)). Prints one JSON line per workload
// with the keys of pytorch_peer.py; --compare also runs the peer and prints the ratios.
BenchOptions opts;
try { opts = BenchOptions.Parse(args); }
catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 2;
}
Threading.Threads = opts.Threads;
// srgan32's content loss reads the built-in evaluator's features, registered as the `ganforge` command registers them.
GanForge.Metrics.Evaluators.ContentFeatures.Register();
// --kernels with --precision bf16 times both precisions side by side; the workloads run in the one asked for.
if (args.Contains("--kernels") && args.Contains("--backends")) { KernelBench.RunBackends(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--layouts")) { KernelBench.RunLayouts(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--winograd")) { KernelBench.RunWinograd(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--batch-lanes")) { KernelBench.RunBatchLanes(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--attention")) { KernelBench.RunAttention(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--adam")) { KernelBench.RunAdam(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--products")) { KernelBench.RunProducts(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--shallow")) { KernelBench.RunShallow(opts.Iters); return 0; }
if (args.Contains("--kernels") && args.Contains("--penalty")) { KernelBench.RunPenalty(opts.Iters, opts.Rounds); return 0; }
if (args.Contains("--kernels")) { KernelBench.Run(opts.Iters, opts.Precision == ComputePrecision.Bf16); return 0; }
Precision.EnsureSupported(opts.Precision);
Precision.Current = opts.Precision;
// Under bf16, the kernels training keeps fp32 (Conv.RunsBf16) run bf16 too: the rule's whole-step effect.
GanForge.Kernels.Conv.Bf16Everywhere = args.Contains("--bf16-every-kernel");
if (args.Contains("--gemm")) { KernelBench.RunGemm(opts.Iters); return 0; }
if (opts.Alternate != null)
{
    // One process, the switch off and on in turn every few steps (with --generate-only, generation calls): a lever's
    // whole-step effect without the drift between processes.
    foreach (var name in opts.Workloads) Console.WriteLine(JsonSerializer.Serialize(Workloads.Alternate(name, opts.Alternate, opts.Rounds, opts.Iters, opts.Warmup, opts.GenerateOnly)));
    return 0;
}
if (args.Contains("--curve"))
{
    // Run it in a fresh process per setting (DOTNET_TieredCompilation, DOTNET_TieredPGO, ReadyToRun): see docs/performance.md.
    foreach (var name in opts.Workloads) Console.WriteLine(JsonSerializer.Serialize(Workloads.Curve(name, opts.Iters)));
    return 0;
}
// --rounds N alternates our run and the peer's N times and ends with the median ratio per workload:
// on a shared machine whose speed drifts from minute to minute one pair of runs can land either way.
// --generate times generation after the last round's training; --generate-only times generation alone, every round.
var ratios = new Dictionary<string, List<Peer.Round>>();
for (int round = 1; round <= opts.Rounds; round++)
{
    if (opts.Rounds > 1) Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["round"] = round }));
    var results = new List<Dictionary<string, object>>();
    if (!opts.GenerateOnly)
    {
        // The fp32 FMA ceiling of this round (the machine's speed drifts): each workload's GFLOP/s is shown as a share of it.
        var peak1 = FmaPeak.Measure(1);
        var peakN = Threading.Threads == 1 ? peak1 : FmaPeak.Measure(Threading.Threads);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["fma_peak_gflop_per_s_1_thread"] = Math.Round(peak1, 1), [$"fma_peak_gflop_per_s_{Threading.Threads}_threads"] = Math.Round(peakN, 1),
            ["fma_lanes"] = FmaPeak.Lanes, ["loadavg"] = LoadAverage(),
        }));
        foreach (var name in opts.Workloads)
        {
            var r = ReadingCores(() => Workloads.Run(name, opts.Iters, opts.Warmup, opts.Profile));
            // The FMA rate on the run's threads just after it (two trials): in the forty-eighth pass's hour the host gave two
            // threads one core's FMA units for whole rounds (117 of 233 GFLOP/s), which the reading at the round's start
            // catches only when it falls there.
            if (Threading.Threads > 1) r["fma_gflop_per_s_after"] = Math.Round(FmaPeak.Measure(Threading.Threads, trials: 2), 1);
            r["fma_peak_gflop_per_s"] = Math.Round(peakN, 1);
            r["share_of_fma_peak"] = Math.Round(Convert.ToDouble(r["gflop_per_s"]) / peakN, 3);
            r["loadavg"] = LoadAverage();
            results.Add(r);
            Console.WriteLine(JsonSerializer.Serialize(r));
        }
    }
    bool last = round == opts.Rounds;
    var generated = new List<Dictionary<string, object>>();
    if (opts.GenerateOnly || opts.Generate && last)
        foreach (var name in opts.Workloads)
        {
            generated.Add(ReadingCores(() => Workloads.Generation(name, opts.Iters, opts.Warmup, opts.Profile)));
            Console.WriteLine(JsonSerializer.Serialize(generated[^1]));
        }
    if (!opts.Compare) continue;
    if (!opts.GenerateOnly)
    {
        double peak = KernelBench.SgemmPeak(opts.Iters);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["sgemm_1024_gflop_per_s"] = Math.Round(peak, 1), ["threads"] = Threading.Threads }));
        foreach (var r in results) r["share_of_sgemm_peak"] = Math.Round(Convert.ToDouble(r["gflop_per_s"]) / peak, 3);
    }
    foreach (var (w, result) in Peer.Compare(results, opts, generated))
    {
        if (!ratios.TryGetValue(w, out var list)) ratios[w] = list = [];
        list.Add(result);
    }
}
// The median of every round, and beside it the median of the rounds whose four readings of the cores' distance were near
// (both sides on one die; Peer.Line): the figure that does not depend on the host's placement in that hour.
if (opts.Compare && opts.Rounds > 1)
    foreach (var (w, list) in ratios.Where(kv => kv.Value.Count > 0))
    {
        var all = list.Select(r => r.Ratio).ToList();
        var near = list.Where(r => r.Near).Select(r => r.Ratio).ToList();
        var summary = new Dictionary<string, object>
        {
            ["workload"] = w, ["rounds"] = list.Count, ["ratios"] = all, ["median_ratio"] = Math.Round(Workloads.Median(all), 3),
            ["rounds_near_both_sides"] = near.Count,
        };
        if (near.Count > 0) summary["median_ratio_near_both_sides"] = Math.Round(Workloads.Median(near), 3);
        Console.WriteLine(JsonSerializer.Serialize(summary));
    }
return 0;

// A run's line with the cores' distance just before and just after it: a host that moves the two cores onto different dies
// for a spell costs mlpgan up to a sixth of its speed then and the peer about a third (CoreHandoff).
static Dictionary<string, object> ReadingCores(Func<Dictionary<string, object>> run)
{
    var (r, before, after) = CoreHandoff.Around(run);
    if (before is double b && after is double a) (r["core_handoff_ns_before"], r["core_handoff_ns_after"]) = (b, a);
    return r;
}

// The 1-minute load average (Linux), printed beside the figures: on a shared machine it says how much they can be trusted.
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
