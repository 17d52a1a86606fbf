using System.Globalization;
using GanForge.Serialization;

namespace GanForge.Gan.Training;

/// <summary>
/// A run folder's lock: one run (training or resuming) writes into a folder at a time. It is an OS lock on
/// <c>.lock</c> in the folder (the file opened with FileShare.None: flock on Unix, a sharing lock on Windows),
/// held for the run's life and let go by the OS when the process dies, kill -9 included. Who holds it
/// (process id, host, start time) is written beside it in <c>.lock-owner</c>, since a locked file cannot be
/// read by others.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".lock";
    public const string OwnerFileName = ".lock-owner";

    FileStream? _stream;
    readonly string _dir;

    RunLock(FileStream stream, string dir) { _stream = stream; _dir = dir; }

    /// <summary>The folder locked.</summary>
    public string Folder => _dir;

    /// <summary>Takes the lock of <paramref name="dir"/> (created if missing); an IOException naming the holder if another run has it.</summary>
    public static RunLock Acquire(string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException) && File.Exists(path))
        {
            throw new IOException($"'{dir}' is in use by another run ({Holder(dir)}); wait for it to end or stop it, or choose another --out", e);
        }
        var owner = string.Create(CultureInfo.InvariantCulture,
            $"process {Environment.ProcessId} on {Environment.MachineName}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z");
        AtomicFile.WriteAllText(Path.Combine(dir, OwnerFileName), owner + "\n");
        return new RunLock(stream, dir);
    }

    /// <summary>Throws as <see cref="Acquire"/> does if another run holds <paramref name="dir"/>'s lock; takes nothing.</summary>
    public static void ThrowIfHeld(string dir)
    {
        if (Directory.Exists(dir)) Acquire(dir).Dispose();
    }

    static string Holder(string dir)
    {
        try { return File.ReadAllText(Path.Combine(dir, OwnerFileName)).Trim() is { Length: > 0 } owner ? owner : "an unknown process"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "an unknown process"; }
    }

    /// <summary>Lets go of the lock. The lock file stays: deleting it would let a third run lock a new file while a second holds the old one.</summary>
    public void Dispose()
    {
        if (_stream == null) return;
        try { File.Delete(Path.Combine(_dir, OwnerFileName)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
        _stream = null;
    }
}
