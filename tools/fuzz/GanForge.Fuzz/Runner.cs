using System.Diagnostics;
using System.Text.RegularExpressions;
using GanForge.Tests;

namespace GanForge.Fuzz;

/// <summary>How one input fared.</summary>
public enum Outcome { Loaded, Rejected, Finding }

/// <summary>What a reader did with one input: the outcome, a signature grouping like behaviour, and what went wrong.</summary>
public readonly record struct Verdict(Outcome Outcome, string Signature, string? Problem, Exception? Error, long Allocated, double Milliseconds);

/// <summary>The counts of one target's run.</summary>
public sealed class Tally
{
    public long Inputs, Loaded, Rejected;
    public readonly HashSet<string> Rejections = [];
    public readonly Dictionary<string, string> Findings = [];   // signature -> saved file
    public double SlowestMs;
    public long MostAllocated;
    public TimeSpan Elapsed;
}

/// <summary>
/// Runs a target's reader on mutated inputs: each written to a file, read through the public entry point with the
/// bytes allocated measured and a watchdog for hangs, and judged by <see cref="ReaderErrors"/>. Inputs that make a
/// reader do something new (a rejection not seen before) join the pool that later inputs are mutated from.
/// </summary>
public sealed partial class Runner(Target target, string work, string findings, TimeSpan timeout)
{
    readonly string _dir = Path.Combine(work, target.Name);
    readonly List<(string Name, byte[] Bytes)> _pool = [];
    static string? _watched;
    static long _deadline = long.MaxValue;
    static Target? _watchedTarget;
    static string? _findings;

    static Runner()
    {
        var watchdog = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(100);
                if (Stopwatch.GetTimestamp() <= Interlocked.Read(ref _deadline) || _watched is not { } path) continue;
                var saved = Save(_findings!, _watchedTarget!.Name, "hang", File.ReadAllBytes(path), Path.GetFileName(path), "no result within the time limit");
                Console.Error.WriteLine($"HANG in {_watchedTarget.Name}: input saved as {saved}; stopping");
                Environment.Exit(3);
            }
        }) { IsBackground = true, Name = "fuzz watchdog" };
        watchdog.Start();
    }

    /// <summary>Reads <paramref name="bytes"/> as the file <paramref name="name"/> and judges the outcome.</summary>
    public Verdict Try(byte[] bytes, string name)
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        // Names the input while it is read: left behind only when the process dies reading it (ReportLeftover).
        var current = Path.Combine(_dir, "current");
        File.WriteAllText(current, path);
        (_watched, _watchedTarget, _findings) = (path, target, findings);
        Exception? error = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _deadline, start + (long)(timeout.TotalSeconds * Stopwatch.Frequency));
        try { target.Load(path); }
        catch (Exception e) { error = e; }
        Interlocked.Exchange(ref _deadline, long.MaxValue);
        File.Delete(current);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        long budget;
        try { budget = target.Budget(bytes); }
        catch (Exception e) { throw new InvalidOperationException($"{target.Name}: the harness's budget of this input failed: {e.Message}", e); }
        string? problem = error == null ? null
            : ReaderErrors.Problem(error, path, target.MustNameFile?.Invoke(error) ?? true);
        if (problem == null && allocated > budget) problem = $"allocated {allocated:N0} bytes, over the budget of {budget:N0} for a {bytes.Length:N0}-byte input";
        if (problem != null)
        {
            string where = error == null ? "" : FirstFrame(error);
            string kind = error == null || ReaderErrors.Problem(error, path, target.MustNameFile?.Invoke(error) ?? true) == null ? "alloc" : "error";
            return new Verdict(Outcome.Finding, $"{kind}: {error?.GetType().Name} {Normalise(problem)} at {where}", problem, error, allocated, ms);
        }
        return error == null
            ? new Verdict(Outcome.Loaded, "loaded", null, null, allocated, ms)
            : new Verdict(Outcome.Rejected, Normalise(error.Message.Replace(path, "FILE").Replace(name, "NAME")), null, error, allocated, ms);
    }

    /// <summary>Mutates and reads inputs until <paramref name="inputs"/> are done or <paramref name="time"/> has passed.</summary>
    public Tally Run(IReadOnlyList<(string Name, byte[] Bytes)> seeds, long inputs, TimeSpan time, int seed)
    {
        ReportLeftover();
        var tally = new Tally();
        var m = new Mutator(new Random(seed));
        var clock = Stopwatch.StartNew();
        _pool.AddRange(seeds);
        foreach (var (name, bytes) in seeds)
        {
            var v = Try(bytes, name);
            if (v.Outcome != Outcome.Loaded) Console.Error.WriteLine($"  seed {name} does not load: {v.Problem ?? v.Error?.Message}");
        }
        int totalWeight = target.Layers.Sum(l => l.Weight);
        while (tally.Inputs < inputs && clock.Elapsed < time)
        {
            var parent = m.Rng.Next(10) < 3 ? seeds[m.Rng.Next(seeds.Count)] : _pool[m.Rng.Next(_pool.Count)];
            var other = _pool[m.Rng.Next(_pool.Count)].Bytes;
            int pick = m.Rng.Next(totalWeight);
            var layer = target.Layers.First(l => (pick -= l.Weight) < 0).Layer;
            byte[]? child;
            try { child = layer(parent.Bytes, m, other); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or System.Text.Json.JsonException or InvalidDataException or IOException)
            { child = null; }   // a layer that cannot take the input apart (invalid UTF-8 in a mutated header, ...) leaves it to a raw mutation
            child ??= Layers.Raw(parent.Bytes, m, other)!;
            if (child.Length > 16 << 20) continue;
            var verdict = Try(child, parent.Name);
            tally.Inputs++;
            tally.SlowestMs = Math.Max(tally.SlowestMs, verdict.Milliseconds);
            tally.MostAllocated = Math.Max(tally.MostAllocated, verdict.Allocated);
            switch (verdict.Outcome)
            {
                case Outcome.Loaded:
                    tally.Loaded++;
                    if (m.Rng.Next(64) == 0) Keep(parent.Name, child, m);
                    break;
                case Outcome.Rejected:
                    tally.Rejected++;
                    if (tally.Rejections.Add(verdict.Signature)) Keep(parent.Name, child, m);
                    break;
                default:
                    if (tally.Findings.ContainsKey(verdict.Signature)) break;
                    var min = Minimise(child, parent.Name, verdict.Signature);
                    var file = Save(findings, target.Name, verdict.Signature.StartsWith("alloc") ? "alloc" : "error", min, parent.Name, Describe(verdict));
                    tally.Findings[verdict.Signature] = file;
                    Console.Error.WriteLine($"  FINDING {verdict.Signature}\n    {verdict.Problem}: {Shorten(verdict.Error?.Message)}\n    saved {file} ({min.Length} bytes)");
                    break;
            }
            if (tally.Inputs % 20000 == 0) Console.Error.WriteLine($"  {target.Name}: {tally.Inputs:N0} inputs, {tally.Rejections.Count} kinds of rejection, {tally.Findings.Count} findings, {clock.Elapsed.TotalSeconds:F0} s");
        }
        tally.Elapsed = clock.Elapsed;
        return tally;
    }

    void Keep(string name, byte[] input, Mutator m)
    {
        if (_pool.Count < 2000) _pool.Add((name, input));
        else _pool[m.Rng.Next(_pool.Count)] = (name, input);
    }

    /// <summary>Cuts bytes from a finding while it still gives the same signature (a few hundred tries at most).</summary>
    byte[] Minimise(byte[] input, string name, string signature)
    {
        var best = input;
        int tries = 0;
        for (int chunk = Math.Max(1, best.Length / 2); chunk >= 1 && tries < 400; chunk /= 2)
            for (int at = 0; at + chunk <= best.Length && tries < 400; tries++)
            {
                byte[] candidate = [.. best.AsSpan(0, at), .. best.AsSpan(at + chunk)];
                if (Try(candidate, name).Signature == signature) best = candidate;
                else at += chunk;
            }
        return best;
    }

    /// <summary>An input the last run was reading when the process died (a stack overflow, an abort) is saved as a finding.</summary>
    void ReportLeftover()
    {
        var current = Path.Combine(_dir, "current");
        if (!File.Exists(current)) return;
        var path = File.ReadAllText(current);
        if (File.Exists(path))
        {
            var saved = Save(findings, target.Name, "process", File.ReadAllBytes(path), Path.GetFileName(path), "the process died reading it");
            Console.Error.WriteLine($"  FINDING the previous run died reading an input of {target.Name}: saved {saved}");
        }
        File.Delete(current);
    }

    static string Save(string findings, string targetName, string kind, byte[] bytes, string name, string description)
    {
        var dir = Path.Combine(findings, targetName);
        Directory.CreateDirectory(dir);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..8];
        var file = Path.Combine(dir, $"{kind}-{hash}-{name}");
        File.WriteAllBytes(file, bytes);
        File.WriteAllText(file + ".txt", description + "\n");
        return file;
    }

    static string Describe(Verdict v) => $"{v.Problem}\n{v.Error}";

    static string FirstFrame(Exception e)
    {
        var frames = new StackTrace(e, fNeedFileInfo: false).GetFrames();
        var f = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("GanForge") == true) ?? frames.FirstOrDefault();
        var method = f?.GetMethod();
        return method == null ? "?" : $"{method.DeclaringType?.Name}.{method.Name}";
    }

    static string Shorten(string? s) => s == null ? "" : s.Length <= 200 ? s : s[..200] + "...";

    /// <summary>A message with its numbers and quoted parts blanked, so one kind of rejection is one signature.</summary>
    static string Normalise(string message)
    {
        var s = Quoted().Replace(message, "'_'");
        s = Digits().Replace(s, "#");
        return s.Length <= 100 ? s : s[..100];
    }

    [GeneratedRegex(@"'[^']*'")] private static partial Regex Quoted();
    [GeneratedRegex(@"[0-9a-fA-F]*[0-9][0-9a-fA-F]*")] private static partial Regex Digits();
}
