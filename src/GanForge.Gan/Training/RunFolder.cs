using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GanForge.Serialization;

namespace GanForge.Gan.Training;

/// <summary>
/// Keeps a run folder consistent when a run starts or resumes: what a killed run wrote after its last
/// checkpoint is taken back, so the folder reads as if the run had stopped exactly there.
/// </summary>
public static partial class RunFolder
{
    /// <summary>The line logs of a run, one JSON object per line with its "step".</summary>
    public static IReadOnlyList<string> Logs { get; } = ["metrics.jsonl", "warnings.jsonl"];

    /// <summary>
    /// Drops from every log the lines of steps after <paramref name="step"/>, and lines that are not JSON objects
    /// (the torn last line of a killed run); rewrites a log atomically, and only when something was dropped or its
    /// last line lacks its newline (so the next line appended starts a line of its own). Returns the number of lines dropped.
    /// </summary>
    public static int CutLogs(string dir, long step)
    {
        int dropped = 0;
        foreach (var name in Logs)
        {
            var path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            var text = File.ReadAllText(path);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var kept = lines.Where(l => !string.IsNullOrWhiteSpace(l) && StepOf(l) is { } s && s <= step).ToList();
            if (kept.Count == lines.Length && (text.Length == 0 || text[^1] == '\n')) continue;
            dropped += lines.Length - kept.Count;
            AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        }
        return dropped;
    }

    /// <summary>A log line's step, or null when the line is not a JSON object with a numeric "step".</summary>
    static long? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("step", out var s)
                && s.TryGetInt64(out var step) ? step : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Removes sample grids of epochs after <paramref name="epoch"/> + 1 and of steps after <paramref name="step"/>
    /// (written by a run killed before its next checkpoint); the grid of the epoch under way is rewritten when it ends.
    /// </summary>
    public static void RemoveGridsAfter(string dir, int epoch, long step)
    {
        var samples = Path.Combine(dir, "samples");
        if (!Directory.Exists(samples)) return;
        foreach (var file in Directory.GetFiles(samples, "*.png"))
        {
            var name = Path.GetFileName(file);
            if ((EpochGridName().Match(name) is { Success: true } e && int.Parse(e.Groups[1].Value, CultureInfo.InvariantCulture) > epoch + 1)
                || (StepGridName().Match(name) is { Success: true } s && long.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture) > step))
                File.Delete(file);
        }
    }

    /// <summary>
    /// Removes the temporary files of atomic writes (<c>.NAME.PID.ID.tmp</c>) in the folder and its samples/ that a
    /// process no longer running left behind (a save cut short by a kill). Returns how many were removed.
    /// </summary>
    public static int RemoveStaleTempFiles(string dir)
    {
        int removed = 0;
        foreach (var folder in new[] { dir, Path.Combine(dir, "samples") })
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.GetFiles(folder, ".*.tmp"))
            {
                var m = TempName().Match(Path.GetFileName(file));
                if (!m.Success || IsRunning(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))) continue;
                try { File.Delete(file); removed++; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        return removed;
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    // AtomicFile's temporary names: "." + file name + "." + writer's process id + "." + 32 hex digits + ".tmp".
    [GeneratedRegex(@"^\..+\.(\d{1,9})\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempName();

    [GeneratedRegex(@"^step_(\d+)\.png$")]
    private static partial Regex StepGridName();

    [GeneratedRegex(@"^epoch_(\d+)\.png$")]
    private static partial Regex EpochGridName();
}
