using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GanForge.Bench;

/// <summary>
/// Runs the PyTorch peers (Debian's python3-torch) in BENCHMARKS.md's four configurations (1 and 2 threads,
/// OpenBLAS pinned by the environment and unpinned; glibc malloc keeping freed memory unless --peer-malloc default)
/// and prints GanForge ÷ the fastest. The workloads of
/// BENCHMARKS.md go to the shared pytorch_peer.py (--peer), the others to bench/peer_zoo.py.
/// </summary>
static class Peer
{
    /// <summary>The workloads the shared pytorch_peer.py knows.</summary>
    static readonly string[] SharedWorkloads = ["dcgan28", "dcgan64", "mlpgan"];

    /// <summary>Variables that pin OpenBLAS to one kernel family; the unpinned configurations run without them.</summary>
    static readonly string[] OpenBlasPins = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

    /// <summary>
    /// glibc malloc's settings for the peer (--peer-malloc keep, the default): freed memory stays in the heap, never given
    /// back to the kernel. With glibc's defaults each tensor of 128 KB or more is mmapped when made and unmapped when freed,
    /// so every one is written into fresh pages; where a page fault is dear (12 us for each 4 KB on the Zen 5 host of the
    /// fourteenth pass, a virtual machine) the peer ran at a third of its speed: mlpgan 1,310-1,550 -> 3,990-4,190 img/s on
    /// one thread, dcgan28 221 -> 493. PyTorch's own guides give the same advice (jemalloc or tcmalloc, which did as well
    /// on mlpgan; jemalloc was slower on dcgan28).
    /// </summary>
    const string KeepFreedMemory = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295";

    /// <summary>
    /// One way of running the peer: its thread count, and what its command changes in OpenBLAS's environment:
    /// nothing (null), the pins removed ("unpinned"), or OPENBLAS_CORETYPE set to a kernel family (--peer-coretype).
    /// </summary>
    sealed record Config(int Threads, bool Unpin, string? CoreType)
    {
        public string OpenBlas => CoreType != null ? $"OPENBLAS_CORETYPE={CoreType}"
            : Unpin || OpenBlasPins.All(v => Environment.GetEnvironmentVariable(v) == null) ? "unpinned" : "pinned";
        public override string ToString() => $"{Threads} thread{(Threads > 1 ? "s" : "")}, openblas {OpenBlas}";
    }

    /// <summary>
    /// The peer configurations: 1 and 2 threads, as the environment has them and, when it pins OpenBLAS,
    /// again without the pins (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`); then 1 and 2 threads with each
    /// kernel family of --peer-coretype (for a processor OpenBLAS does not recognise, which it runs with its
    /// oldest kernels when nothing pins it). The peer figure is the fastest.
    /// </summary>
    static IEnumerable<Config> Configurations(BenchOptions opts)
    {
        bool pinned = OpenBlasPins.Any(v => Environment.GetEnvironmentVariable(v) != null);
        foreach (bool unpin in pinned ? new[] { false, true } : [false])
            foreach (int threads in new[] { 1, 2 })
                yield return new(threads, unpin, null);
        foreach (var coreType in opts.PeerCoreTypes.Where(Runnable))
            foreach (int threads in new[] { 1, 2 })
                yield return new(threads, true, coreType);
    }

    // OpenBLAS's AVX-512 kernel families die with SIGILL on a processor without AVX-512 (an AVX2 EPYC here).
    static readonly string[] Avx512CoreTypes = ["SkylakeX", "CooperLake", "SapphireRapids"];

    static bool Runnable(string coreType) =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported || !Avx512CoreTypes.Contains(coreType, StringComparer.OrdinalIgnoreCase);

    /// <summary>A round's ratio for one workload, and whether both sides ran with the cores near (<see cref="Line"/>).</summary>
    public readonly record struct Round(double Ratio, bool Near);

    /// <summary>Runs the peers, prints one ratio line per workload and returns the ratios.</summary>
    public static Dictionary<string, Round> Compare(List<Dictionary<string, object>> ours, BenchOptions opts,
        List<Dictionary<string, object>> generated)
    {
        var ratios = new Dictionary<string, Round>();
        var best = new Dictionary<string, Best>();
        if (OpenBlasPins.All(v => Environment.GetEnvironmentVariable(v) == null))
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["peer_note"] = $"the environment sets none of {string.Join(", ", OpenBlasPins)}: pinned and unpinned are the same configuration, so the peer runs with 1 and 2 threads" + (opts.PeerCoreTypes.Length > 0 ? $", then with OPENBLAS_CORETYPE={string.Join(" and ", opts.PeerCoreTypes)}" : " (OpenBLAS picks its kernels from the processor; --peer-coretype adds configurations)"),
            }));
        foreach (var skipped in opts.PeerCoreTypes.Where(c => !Runnable(c)))
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["peer_note"] = $"OPENBLAS_CORETYPE={skipped} left out: its kernels need AVX-512, which this processor lacks",
            }));
        foreach (var group in opts.GenerateOnly ? [] : opts.Workloads.GroupBy(w => SharedWorkloads.Contains(w)))
        {
            string script = group.Key ? opts.Peer : FindZooPeer();
            if (!File.Exists(script)) { Console.Error.WriteLine($"compare: peer script for {string.Join(",", group)} not found at {script}"); continue; }
            foreach (var config in Configurations(opts))
            {
                var lines = RunPython($"\"{script}\" --threads {config.Threads} --iters {opts.Iters} --warmup {opts.Warmup} --workloads {string.Join(",", group)}", config, opts.PeerMallocKeeps);
                if (lines == null) break;
                KeepFastest(lines, config.ToString(), best);
            }
        }
        foreach (var r in ours)
        {
            string w = (string)r["workload"];
            if (!best.TryGetValue(w, out var peer)) continue;
            ratios[w] = Line(r, peer, new()
            {
                ["ganforge_gflop_per_s"] = r["gflop_per_s"], ["share_of_sgemm_peak"] = r["share_of_sgemm_peak"],
                ["share_of_fma_peak"] = r["share_of_fma_peak"],
            });
        }
        if (generated.Count > 0)
            foreach (var (w, ratio) in CompareGeneration(generated, opts)) ratios[w] = ratio;
        return ratios;
    }

    /// <summary>
    /// Generation alone: bench/peer_generate.py (beside this project) on the same workloads in each configuration; one
    /// ratio line per workload against the peer's fastest configuration. Returns the ratios ("&lt;workload&gt;-generate").
    /// </summary>
    static Dictionary<string, Round> CompareGeneration(List<Dictionary<string, object>> generated, BenchOptions opts)
    {
        var ratios = new Dictionary<string, Round>();
        var script = Path.Combine(AppContext.BaseDirectory, "peer_generate.py");
        if (!File.Exists(script)) { Console.Error.WriteLine($"compare: {script} not found"); return ratios; }
        var names = generated.Select(r => ((string)r["workload"]).Replace("-generate", "")).ToList();
        var best = new Dictionary<string, Best>();
        foreach (var config in Configurations(opts))
        {
            var lines = RunPython($"\"{script}\" --peer \"{opts.Peer}\" --zoo \"{FindZooPeer()}\" --threads {config.Threads} --iters {opts.Iters} " +
                                  $"--warmup {opts.Warmup} --mode generate --workloads {string.Join(",", names)}", config, opts.PeerMallocKeeps);
            if (lines == null) return ratios;
            KeepFastest(lines, config.ToString(), best);
        }
        foreach (var r in generated)
        {
            string w = (string)r["workload"];
            if (best.TryGetValue(w, out var peer)) ratios[w] = Line(r, peer, []);
        }
        return ratios;
    }

    /// <summary>A peer's figure for one workload: images/s, its configuration, and the cores' distance around its process (ns).</summary>
    sealed record Best(double Ips, string Config, double? HandoffBefore, double? HandoffAfter);

    // Each workload's fastest peer figure so far, with the configuration that gave it, updated by one run's JSON lines.
    static void KeepFastest(IEnumerable<string> lines, string config, Dictionary<string, Best> best)
    {
        foreach (var line in lines)
        {
            var doc = JsonDocument.Parse(line).RootElement;
            string w = doc.GetProperty("workload").GetString()!;
            double ips = doc.GetProperty("images_per_s").GetDouble();
            if (ips > (best.GetValueOrDefault(w)?.Ips ?? 0))
                best[w] = new(ips, config, Reading(doc, "core_handoff_ns_before"), Reading(doc, "core_handoff_ns_after"));
        }
    }

    static double? Reading(JsonElement doc, string name) =>
        doc.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    static double? Reading(Dictionary<string, object> ours, string name) =>
        ours.TryGetValue(name, out var v) ? Convert.ToDouble(v) : null;

    /// <summary>
    /// One workload's ratio line: ours against the peer's best, with the cores' distance around both runs. A round whose
    /// four readings are all near (<see cref="CoreHandoff.FarNs"/>) ran both sides on one die; in a spell across two dies
    /// either side can lose a sixth to a third of its speed (mlpgan's peer read 3,090-3,200 images/s in such an hour
    /// against 3,850-4,740 on one die), which moves the ratio either way.
    /// </summary>
    static Round Line(Dictionary<string, object> r, Best peer, Dictionary<string, object> fields)
    {
        string w = (string)r["workload"];
        double ratio = Math.Round(Convert.ToDouble(r["images_per_s"]) / peer.Ips, 3);
        double? ourBefore = Reading(r, "core_handoff_ns_before"), ourAfter = Reading(r, "core_handoff_ns_after");
        bool near = CoreHandoff.AllNear(ourBefore, ourAfter, peer.HandoffBefore, peer.HandoffAfter);
        var line = new Dictionary<string, object>
        {
            ["workload"] = w, ["ganforge_images_per_s"] = r["images_per_s"], ["pytorch_best_images_per_s"] = peer.Ips,
            ["pytorch_best_config"] = peer.Config, ["ratio"] = ratio,
        };
        foreach (var (k, v) in fields) line[k] = v;
        line["ganforge_core_handoff_ns"] = new[] { ourBefore, ourAfter };
        line["pytorch_core_handoff_ns"] = new[] { peer.HandoffBefore, peer.HandoffAfter };
        line["near_both_sides"] = near;
        Console.WriteLine(JsonSerializer.Serialize(line));
        return new(ratio, near);
    }

    /// <summary>bench/peer_zoo.py of the repository this bench was built from (or is run in).</summary>
    static string FindZooPeer()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "bench", "peer_zoo.py");
                if (File.Exists(p)) return p;
            }
        return Path.Combine("bench", "peer_zoo.py");
    }

    /// <summary>
    /// Runs Debian's python3 (the one with torch) on <paramref name="arguments"/> in OpenBLAS's environment of
    /// <paramref name="config"/> and with malloc keeping freed memory where <paramref name="mallocKeeps"/> (both changed for
    /// this command alone); echoes each JSON line it prints as "peer ..." (with the "openblas" and "malloc" settings and the
    /// cores' distance before and after the process added) and returns them so; null, with the error on stderr, when it fails.
    /// </summary>
    static string[]? RunPython(string arguments, Config config, bool mallocKeeps)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (config.Unpin) foreach (var v in OpenBlasPins) psi.Environment.Remove(v);
        if (config.CoreType != null) psi.Environment["OPENBLAS_CORETYPE"] = config.CoreType;
        if (mallocKeeps) psi.Environment["GLIBC_TUNABLES"] = KeepFreedMemory;
        // The cores' distance around the peer's process, as around ours (Program.cs): echoed on each of its lines.
        var ((output, exitCode, errors), handoffBefore, handoffAfter) = CoreHandoff.Around(() => RunToEnd(psi));
        string env = (config.Unpin ? $"env -u {string.Join(" -u ", OpenBlasPins)} " : "") + (config.CoreType != null ? $"OPENBLAS_CORETYPE={config.CoreType} " : "")
            + (mallocKeeps ? $"GLIBC_TUNABLES={KeepFreedMemory} " : "");
        if (exitCode != 0) { Console.Error.WriteLine($"compare: {env}python3 {arguments} failed ({exitCode}): {errors.Trim()}"); return null; }
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < lines.Length; i++)
        {
            var echo = JsonNode.Parse(lines[i])!.AsObject();
            echo["openblas"] = config.OpenBlas;
            echo["malloc"] = mallocKeeps ? "keeps freed memory" : "glibc default";
            if (handoffBefore is double before && handoffAfter is double after)
                (echo["core_handoff_ns_before"], echo["core_handoff_ns_after"]) = (before, after);
            lines[i] = echo.ToJsonString();
            Console.WriteLine("peer " + lines[i]);
        }
        return lines;
    }

    // The process's standard output, exit code and standard error, once it has ended.
    static (string Output, int ExitCode, string Errors) RunToEnd(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi)!;
        var errors = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (output, p.ExitCode, errors.Result);
    }
}
