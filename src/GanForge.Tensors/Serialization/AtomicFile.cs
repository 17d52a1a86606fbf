using GanForge.Native;

namespace GanForge.Serialization;

/// <summary>Writes a file so readers see either the old content or the complete new one, never a torn file.</summary>
/// <remarks>
/// The one way GanForge replaces a file: write a temporary file beside it, flush it to the disk, rename it over the
/// old one, then flush the folder. The first flush keeps a power cut from leaving the new name on an empty or partial
/// file (the rename may reach the disk before the data otherwise); the folder's flush makes the rename itself durable,
/// so a checkpoint reported saved is still there after the cut. Both cost one fsync each, small beside the write.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> writes, atomically and durably.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
        NativeMethods.FsyncDirectory(dir);
    }

    /// <summary>
    /// Checks, before any work is done, that <paramref name="path"/> can be written as a file: it is not a folder,
    /// and its folder exists (or can be made) and takes files. <paramref name="what"/> names the path in errors (an option).
    /// </summary>
    public static void CheckWritable(string path, string what)
    {
        if (Directory.Exists(path))
            throw new ArgumentException($"{what} '{path}' is a folder; give a file name (e.g. {Path.Combine(path, "scores.json")})");
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{what} '{path}' cannot be written: {e.Message}", e);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="text"/> (UTF-8), atomically and durably.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/>, atomically and durably.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }
}
