using System.Diagnostics;
using System.Text.Json;

namespace GanForge.Bench;

/// <summary>Runs pytorch_peer.py (Debian's python3-torch) with 1 and 2 threads and prints GanForge ÷ the faster peer.</summary>
static class Peer
{
    public static void Compare(List<Dictionary<string, object>> ours, BenchOptions opts)
    {
        if (!File.Exists(opts.Peer)) { Console.Error.WriteLine($"compare: peer script not found at {opts.Peer}"); return; }
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
            if (p.ExitCode != 0) { Console.Error.WriteLine($"compare: peer failed ({p.ExitCode}): {err.Trim()}"); return; }
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
            if (best.TryGetValue(w, out var peer))
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["workload"] = w, ["ganforge_images_per_s"] = r["images_per_s"], ["pytorch_best_images_per_s"] = peer,
                    ["ratio"] = Math.Round(Convert.ToDouble(r["images_per_s"]) / peer, 3),
                    ["ganforge_gflop_per_s"] = r["gflop_per_s"], ["share_of_sgemm_peak"] = r["share_of_sgemm_peak"],
                }));
        }
        if (opts.Generate) CompareGeneration(opts);
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
