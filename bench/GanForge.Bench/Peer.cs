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
            var lines = RunPython($"\"{opts.Peer}\" --threads {threads} --iters {opts.Iters} --warmup {opts.Warmup} --workloads {string.Join(",", opts.Workloads)}");
            if (lines == null) return ratios;
            foreach (var line in lines)
            {
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
            if (RunPython($"\"{script}\" --peer \"{opts.Peer}\" --threads {threads} --iters {opts.Iters} --warmup {opts.Warmup} --mode generate") == null) return;
    }

    /// <summary>
    /// Runs Debian's python3 (the one with torch) on <paramref name="arguments"/>, echoes each JSON line it
    /// prints as "peer ..." and returns them; null, with the error on stderr, when it fails.
    /// </summary>
    static string[]? RunPython(string arguments)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) { Console.Error.WriteLine($"compare: python3 {arguments} failed ({p.ExitCode}): {stderr.Result.Trim()}"); return null; }
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var line in lines) Console.WriteLine("peer " + line);
        return lines;
    }
}
