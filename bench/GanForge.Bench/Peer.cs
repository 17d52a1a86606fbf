using System.Diagnostics;
using System.Text.Json;

namespace GanForge.Bench;

/// <summary>Runs pytorch_peer.py (Debian's python3-torch) with 1 and 2 threads and prints GanForge ÷ the faster peer.</summary>
static class Peer
{
    /// <summary>Runs the peer, prints one ratio line per workload and returns the ratios.</summary>
    public static Dictionary<string, double> Compare(List<Dictionary<string, object>> ours, BenchOptions opts, bool generate)
    {
        var ratios = new Dictionary<string, double>();
        if (!File.Exists(opts.Peer)) { Console.Error.WriteLine($"compare: peer script not found at {opts.Peer}"); return ratios; }
        var best = new Dictionary<string, double>();
        foreach (int threads in new[] { 1, 2 })
        {
            var psi = new ProcessStartInfo("/usr/bin/python3",
                $"\"{opts.Peer}\" --threads {threads} --iters {opts.Iters} --warmup {opts.Warmup} --workloads {string.Join(",", opts.Workloads)}")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) { Console.Error.WriteLine($"compare: peer failed ({p.ExitCode}): {err.Trim()}"); return ratios; }
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Console.WriteLine("peer " + line);
                var doc = JsonDocument.Parse(line).RootElement;
                string w = doc.GetProperty("workload").GetString()!;
                double ips = doc.GetProperty("images_per_s").GetDouble();
                best[w] = Math.Max(best.GetValueOrDefault(w), ips);
            }
        }
        foreach (var r in ours)
        {
            string w = (string)r["workload"];
            if (!best.TryGetValue(w, out var peer)) continue;
            ratios[w] = Math.Round(Convert.ToDouble(r["images_per_s"]) / peer, 3);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["workload"] = w, ["ganforge_images_per_s"] = r["images_per_s"], ["pytorch_best_images_per_s"] = peer,
                ["ratio"] = ratios[w], ["ganforge_gflop_per_s"] = r["gflop_per_s"], ["share_of_sgemm_peak"] = r["share_of_sgemm_peak"],
            }));
        }
        if (generate) CompareGeneration(opts);
        return ratios;
    }

    /// <summary>Generation alone: bench/peer_generate.py (beside this project) with 1 and 2 threads against our figures.</summary>
    static void CompareGeneration(BenchOptions opts)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "peer_generate.py");
        if (!File.Exists(script)) { Console.Error.WriteLine($"compare: {script} not found"); return; }
        foreach (int threads in new[] { 1, 2 })
        {
            var psi = new ProcessStartInfo("/usr/bin/python3",
                $"\"{script}\" --peer \"{opts.Peer}\" --threads {threads} --iters {opts.Iters} --warmup {opts.Warmup} --mode generate")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries)) Console.WriteLine("peer " + line);
        }
    }
}
