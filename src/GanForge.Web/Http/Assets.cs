using System.Collections.Frozen;

namespace GanForge.Web.Http;

/// <summary>The pages, scripts and styles embedded in this assembly (wwwroot/), by file name.</summary>
static class Assets
{
    const string Prefix = "GanForge.Web.wwwroot.";

    static readonly FrozenDictionary<string, byte[]> Files = Load();

    static FrozenDictionary<string, byte[]> Load()
    {
        var assembly = typeof(Assets).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..]] = copy.ToArray();
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The names of the embedded files.</summary>
    public static IEnumerable<string> Names => Files.Keys;

    /// <summary>The bytes and content type of embedded file <paramref name="name"/>; null for a name that is not one.</summary>
    public static (byte[] Bytes, string ContentType)? Find(string name) =>
        Files.TryGetValue(name, out var bytes) ? (bytes, ContentType(name)) : null;

    static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };
}
