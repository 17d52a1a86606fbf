using System.Globalization;
using GanForge.Fuzz;

// ganforge-fuzz: bounded mutation fuzzing of every reader of users' files (see docs/reliability.md, "Fuzzing").
//   ganforge-fuzz [--targets idx,png,...] [--inputs N] [--seconds S] [--seed N] [--timeout-ms MS] [--findings DIR] [--work DIR]
//   ganforge-fuzz seeds                      writes the GanForge-made seeds into tests/fixtures/fuzz/NAME/seeds
//   ganforge-fuzz replay --targets NAME FILE...   reads each file as the target does and prints the verdict
var options = new Dictionary<string, string>();
var files = new List<string>();
string command = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : "fuzz";
for (int i = command == "fuzz" ? 0 : 1; i < args.Length; i++)
{
    if (args[i].StartsWith("--") && i + 1 < args.Length) options[args[i][2..]] = args[++i];
    else files.Add(args[i]);
}
string Opt(string key, string fallback) => options.TryGetValue(key, out var v) ? v : fallback;

var fixtures = Opt("fixtures", FindFixtures());
if (command == "seeds") { Seeds.Write(fixtures); Console.WriteLine($"seeds written under {Path.Combine(fixtures, "fuzz")}"); return 0; }

var names = Opt("targets", string.Join(",", Targets.All.Select(t => t.Name))).Split(',');
var unknown = names.Where(n => Targets.All.All(t => t.Name != n)).ToList();
if (unknown.Count > 0) { Console.Error.WriteLine($"unknown target(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Targets.All.Select(t => t.Name))}"); return 2; }
long inputs = long.Parse(Opt("inputs", "100000"), CultureInfo.InvariantCulture);
var time = TimeSpan.FromSeconds(double.Parse(Opt("seconds", "600"), CultureInfo.InvariantCulture));
int seed = int.Parse(Opt("seed", "1"), CultureInfo.InvariantCulture);
var timeout = TimeSpan.FromMilliseconds(double.Parse(Opt("timeout-ms", "10000"), CultureInfo.InvariantCulture));
var findings = Path.GetFullPath(Opt("findings", "fuzz-findings"));
var work = Opt("work", Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "ganforge-fuzz"));

var rows = new List<string>();
int found = 0;
foreach (var target in Targets.All.Where(t => names.Contains(t.Name)))
{
    var seeds = SeedFiles(target).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
    if (seeds.Count == 0) { Console.Error.WriteLine($"{target.Name}: no seeds (run `ganforge-fuzz seeds`)"); return 2; }
    if (target.Name == "checkpoint") CheckpointTarget.Prepare(SeedFiles(target), work);
    var runner = new Runner(target, work, findings, timeout);
    if (command == "replay")
    {
        foreach (var file in files)
        {
            var v = runner.Try(File.ReadAllBytes(file), Path.GetFileName(file));
            Console.WriteLine($"{file}: {v.Outcome} {v.Signature} ({v.Allocated:N0} bytes allocated, {v.Milliseconds:F1} ms)\n  {v.Problem}\n  {v.Error?.GetType().Name}: {v.Error?.Message}");
            if (v.Outcome == Outcome.Finding) Console.WriteLine(v.Error);
        }
        continue;
    }
    Console.Error.WriteLine($"{target.Name}: {seeds.Count} seeds");
    var tally = runner.Run(seeds, inputs, time, seed);
    found += tally.Findings.Count;
    rows.Add($"| {target.Name} | {tally.Inputs:N0} | {tally.Loaded:N0} | {tally.Rejected:N0} | {tally.Rejections.Count} | {tally.Findings.Count} | {tally.SlowestMs:F0} | {tally.MostAllocated / 1048576.0:F1} | {tally.Elapsed.TotalSeconds:F0} |");
    Console.Error.WriteLine(rows[^1]);
}
if (command == "replay") return 0;
Console.WriteLine("| reader | inputs | loaded | rejected | kinds of rejection | findings | slowest (ms) | most allocated (MiB) | seconds |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
foreach (var row in rows) Console.WriteLine(row);
if (found > 0) Console.WriteLine($"{found} finding(s) saved under {findings}");
return found > 0 ? 1 : 0;

IEnumerable<string> SeedFiles(Target target)
{
    var dir = Path.Combine(fixtures, "fuzz", target.Name, "seeds");
    var own = Directory.Exists(dir) ? Directory.GetFiles(dir) : [];
    var extra = (target.ExtraSeeds ?? []).SelectMany(glob =>
    {
        var d = Path.Combine(fixtures, Path.GetDirectoryName(glob)!);
        return Directory.Exists(d) ? Directory.GetFiles(d, Path.GetFileName(glob)) : [];
    });
    return own.Concat(extra).Order(StringComparer.Ordinal);
}

static string FindFixtures()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "fixtures"))) return Path.Combine(dir.FullName, "tests", "fixtures");
    throw new DirectoryNotFoundException("tests/fixtures not found; pass --fixtures DIR");
}
