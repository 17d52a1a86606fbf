namespace GanForge.Tests;

/// <summary>
/// The fuzzing regression corpus (tests/fixtures/fuzz/READER): the seeds the fuzz harness (tools/fuzz) starts from,
/// in seeds/, which must load, and the inputs it found problems with, each of which must now load or be refused with
/// a clean one-line error (<see cref="ReaderErrors"/>), within an allocation bound linear in the file's size.
/// </summary>
public static class FuzzCorpus
{
    /// <summary>Bytes a read may allocate: a fixed allowance and 64 times the file (the harness's budgets are tighter per reader).</summary>
    public static long Budget(long fileLength) => (8L << 20) + 64 * fileLength;

    /// <summary>Every file of a reader's corpus as (reader, path relative to tests/fixtures/fuzz), seeds first.</summary>
    public static TheoryData<string, string> Files(params string[] readers)
    {
        var data = new TheoryData<string, string>();
        var root = Path.Combine(Fixtures.Root, "fuzz");
        foreach (var reader in readers)
        {
            var dir = Path.Combine(root, reader);
            foreach (var f in Directory.GetFiles(Path.Combine(dir, "seeds")).Order(StringComparer.Ordinal))
                data.Add(reader, Path.GetRelativePath(root, f));
            foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                data.Add(reader, Path.GetRelativePath(root, f));
        }
        return data;
    }

    /// <summary>
    /// Reads <paramref name="file"/> with <paramref name="load"/>: a seed must load; any other file may load or must
    /// be refused cleanly; either way within <see cref="Budget"/>.
    /// </summary>
    public static void Check(string file, Action<string> load, Func<Exception, bool>? mustNameFile = null)
    {
        var path = Path.Combine(Fixtures.Root, "fuzz", file);
        bool seed = file.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).Contains("seeds");
        Exception? error = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try { load(path); }
        catch (Exception e) { error = e; }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (seed && error != null) Assert.Fail($"seed {file} does not load: {error}");
        if (error != null && ReaderErrors.Problem(error, path, mustNameFile?.Invoke(error) ?? true) is { } problem)
            Assert.Fail($"{file}: {problem}: {error}");
        long length = new FileInfo(path).Length;
        Assert.True(allocated <= Budget(length), $"{file}: reading it allocated {allocated:N0} bytes, over {Budget(length):N0} for {length:N0} bytes");
    }
}
