using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GanForge.Fuzz;

/// <summary>
/// A way to mutate an input of one format. <see cref="Raw"/> mutates the bytes; the format-aware layers reach past what
/// would stop most raw mutations early (a checksum, compression, a length field) to the parts of a reader behind them.
/// Each returns null when the input is not of its format (then a raw mutation is used).
/// </summary>
public delegate byte[]? Layer(byte[] input, Mutator m, byte[]? other);

public static class Layers
{
    /// <summary>Cap on what a layer decompresses, so a bomb among the inputs cannot stall the harness.</summary>
    const int InflateCap = 64 << 20;

    public static byte[]? Raw(byte[] input, Mutator m, byte[]? other) => m.Havoc(input, other);

    /// <summary>gzip: the decompressed bytes mutated, then compressed again (a valid gzip stream around bad content).</summary>
    public static byte[]? Gzip(byte[] input, Mutator m, byte[]? other)
    {
        if (input.Length < 2 || input[0] != 0x1F || input[1] != 0x8B) return null;
        var inner = TryInflate(() => new GZipStream(new MemoryStream(input), CompressionMode.Decompress));
        if (inner == null) return null;
        var mutated = m.Havoc(inner);
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(mutated);
        return ms.ToArray();
    }

    static byte[]? TryInflate(Func<Stream> open)
    {
        try
        {
            using var s = open();
            using var outBuf = new MemoryStream();
            var buffer = new byte[1 << 16];
            int n;
            while ((n = s.Read(buffer)) > 0)
            {
                outBuf.Write(buffer, 0, n);
                if (outBuf.Length > InflateCap) return null;
            }
            return outBuf.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException) { return null; }   // IOException: ZLibException
    }

    // ---- PNG: chunks with their CRCs made right ----

    record struct Chunk(string Type, byte[] Data);

    static List<Chunk>? PngChunks(byte[] png)
    {
        if (png.Length < 8) return null;
        var chunks = new List<Chunk>();
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (len > png.Length - pos - 12) break;
            chunks.Add(new Chunk(Encoding.Latin1.GetString(png, pos + 4, 4), png.AsSpan(pos + 8, (int)len).ToArray()));
            pos += 12 + (int)len;
        }
        return chunks.Count == 0 ? null : chunks;
    }

    static byte[] PngBytes(byte[] signature, IEnumerable<Chunk> chunks)
    {
        using var ms = new MemoryStream();
        ms.Write(signature);
        Span<byte> word = stackalloc byte[4];
        foreach (var c in chunks)
        {
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)c.Data.Length); ms.Write(word);
            var typeAndData = new byte[4 + c.Data.Length];
            Encoding.Latin1.GetBytes(c.Type.PadRight(4).AsSpan(0, 4), typeAndData);
            c.Data.CopyTo(typeAndData, 4);
            ms.Write(typeAndData);
            BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typeAndData)); ms.Write(word);
        }
        return ms.ToArray();
    }

    /// <summary>PNG: a chunk's data, the IHDR fields, the inflated image data or the chunk list mutated; every CRC recomputed.</summary>
    public static byte[]? Png(byte[] input, Mutator m, byte[]? other)
    {
        var chunks = PngChunks(input);
        if (chunks == null) return null;
        var sig = input[..8];
        var r = m.Rng;
        switch (r.Next(6))
        {
            case 0:
            {
                int i = r.Next(chunks.Count);
                chunks[i] = chunks[i] with { Data = m.Havoc(chunks[i].Data) };
                break;
            }
            case 1:
            {
                int i = chunks.FindIndex(c => c.Type == "IHDR");
                if (i < 0 || chunks[i].Data.Length != 13) return null;
                var d = (byte[])chunks[i].Data.Clone();
                switch (r.Next(4))
                {
                    case 0: Mutator.WriteField(d.AsSpan(0, 4), m.Boundary(), bigEndian: true); break;
                    case 1: Mutator.WriteField(d.AsSpan(4, 4), m.Boundary(), bigEndian: true); break;
                    case 2: d[8] = (byte)(r.Next(3) == 0 ? r.Next(256) : 1 << r.Next(5)); d[9] = (byte)(r.Next(3) == 0 ? r.Next(256) : r.Next(7)); break;
                    default: d[8 + r.Next(5)] = (byte)m.Boundary(); break;
                }
                chunks[i] = chunks[i] with { Data = d };
                break;
            }
            case 2:
            {
                // The image data: inflated, mutated (filter bytes, samples, length), deflated into one IDAT.
                int first = chunks.FindIndex(c => c.Type == "IDAT");
                if (first < 0) return null;
                var z = chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray();
                var raw = TryInflate(() => new ZLibStream(new MemoryStream(z), CompressionMode.Decompress));
                if (raw == null) return null;
                var mutated = m.Havoc(raw);
                using var ms = new MemoryStream();
                using (var zs = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(mutated);
                chunks.RemoveAll(c => c.Type == "IDAT");
                chunks.Insert(Math.Min(first, chunks.Count), new Chunk("IDAT", ms.ToArray()));
                break;
            }
            case 3:
            {
                int i = r.Next(chunks.Count);
                if (r.Next(2) == 0) chunks.RemoveAt(i); else chunks.Insert(r.Next(chunks.Count + 1), chunks[i]);
                break;
            }
            case 4:
            {
                string[] types = ["PLTE", "tRNS", "IDAT", "IHDR", "IEND", "gAMA", "aBcD", "ABCD", "\0\x01\x1b[", "tEXt"];
                var data = new byte[r.Next(4) == 0 ? r.Next(1024) : r.Next(16)];
                r.NextBytes(data);
                chunks.Insert(r.Next(chunks.Count + 1), new Chunk(types[r.Next(types.Length)], data));
                break;
            }
            default:
            {
                int i = r.Next(chunks.Count);
                chunks[i] = chunks[i] with { Type = Encoding.Latin1.GetString(m.Havoc(Encoding.Latin1.GetBytes(chunks[i].Type))).PadRight(4)[..4] };
                break;
            }
        }
        return PngBytes(sig, chunks);
    }

    // ---- .npy: the header text with its length field kept right ----

    /// <summary>.npy: the header dictionary mutated as text (numbers swapped for boundary ones), its length rewritten.</summary>
    public static byte[]? NpyHeader(byte[] input, Mutator m, byte[]? other)
    {
        if (input.Length < 10 || input[0] != 0x93) return null;
        int start = input[6] == 1 ? 10 : 12;
        int len = start == 10 ? BinaryPrimitives.ReadUInt16LittleEndian(input.AsSpan(8)) : (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(8)), int.MaxValue);
        if (input.Length < start + len) return null;
        var header = m.Havoc(input[start..(start + len)]);
        if (start == 10 && header.Length > ushort.MaxValue) return null;
        var body = input[(start + len)..];
        if (m.Rng.Next(3) == 0) body = m.Havoc(body);
        var result = new byte[start + header.Length + body.Length];
        input.AsSpan(0, start).CopyTo(result);
        if (start == 10) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)header.Length);
        header.CopyTo(result, start);
        body.CopyTo(result, start + header.Length);
        return result;
    }

    // ---- safetensors: the JSON header, with the length and (when there was one) the checksum made right ----

    const string ChecksumKey = "ganforge.crc32";

    static (JsonObject Header, byte[] Data)? SafetensorsParts(byte[] input)
    {
        if (input.Length < 8) return null;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(input);
        if (n > (ulong)(input.Length - 8)) return null;
        try
        {
            return JsonNode.Parse(input.AsSpan(8, (int)n)) is JsonObject o ? (o, input[(8 + (int)n)..]) : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// The bytes of a safetensors file from a header and data; when the header's metadata has a checksum it is
    /// recomputed (as SafeTensors.Save does: CRC-32 of the data, then each other metadata entry in ordinal key order).
    /// </summary>
    public static byte[] SafetensorsBytes(JsonObject header, byte[] data)
    {
        if (header["__metadata__"] is JsonObject meta && meta.ContainsKey(ChecksumKey))
        {
            var crc = new Crc32();
            crc.Append(data);
            foreach (var (k, v) in meta.Where(kv => kv.Key != ChecksumKey).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                crc.Append(Encoding.UTF8.GetBytes(k)); crc.Append([0]);
                crc.Append(Encoding.UTF8.GetBytes(v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v?.ToJsonString() ?? "")); crc.Append([0]);
            }
            meta[ChecksumKey] = crc.GetCurrentHashAsUInt32().ToString("x8");
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var result = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
        json.CopyTo(result, 8);
        data.CopyTo(result, 8 + json.Length);
        return result;
    }

    /// <summary>safetensors: the JSON header mutated (a value, an entry, or the text), the data sometimes; length and checksum made right.</summary>
    public static byte[]? SafetensorsHeader(byte[] input, Mutator m, byte[]? other)
    {
        if (SafetensorsParts(input) is not var (header, data)) return null;
        if (m.Rng.Next(4) == 0)
        {
            // As text: breaks the JSON too, which is a reader's first line of defence.
            var text = m.Havoc(Encoding.UTF8.GetBytes(header.ToJsonString()));
            var result = new byte[8 + text.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)text.Length);
            text.CopyTo(result, 8);
            data.CopyTo(result, 8 + text.Length);
            return result;
        }
        Json(header, m);
        if (m.Rng.Next(4) == 0) data = m.Havoc(data);
        return SafetensorsBytes(header, data);
    }

    // ---- checkpoints: the state (checkpoint.json's content, kept in the metadata) and the config in it ----

    /// <summary>
    /// A checkpoint: its state JSON (the 'ganforge' metadata entry) mutated as JSON, or the config YAML inside it as
    /// text, or its tensors renamed, reshaped or dropped; the checksum recomputed, so the change reaches the code past it.
    /// </summary>
    public static byte[]? Checkpoint(byte[] input, Mutator m, byte[]? other)
    {
        if (SafetensorsParts(input) is not var (header, data)) return null;
        if (header["__metadata__"] is not JsonObject meta || meta["ganforge"]?.GetValue<string>() is not { } stateText) return null;
        var r = m.Rng;
        switch (r.Next(4))
        {
            case 0: case 1:
            {
                var state = JsonNode.Parse(stateText)!.AsObject();
                if (r.Next(3) == 0 && state["ConfigYaml"]?.GetValue<string>() is { } yaml)
                    state["ConfigYaml"] = Encoding.UTF8.GetString(Yaml(Encoding.UTF8.GetBytes(yaml), m, null)!);
                else Json(state, m);
                meta["ganforge"] = state.ToJsonString();
                break;
            }
            case 2:
                meta["ganforge"] = Encoding.UTF8.GetString(m.Havoc(Encoding.UTF8.GetBytes(stateText)));
                break;
            default:
                Json(header, m);
                break;
        }
        return SafetensorsBytes(header, data);
    }

    /// <summary>One structural mutation somewhere in a JSON tree: a value replaced, a property removed or renamed, an array grown or cut.</summary>
    public static void Json(JsonNode root, Mutator m)
    {
        var nodes = new List<JsonNode>();
        void Walk(JsonNode? n) { if (n == null) return; nodes.Add(n); if (n is JsonObject o) foreach (var kv in o) Walk(kv.Value); else if (n is JsonArray a) foreach (var x in a) Walk(x); }
        Walk(root);
        var r = m.Rng;
        var node = nodes[r.Next(nodes.Count)];
        switch (node)
        {
            case JsonObject o when o.Count > 0 && r.Next(2) == 0:
            {
                var key = o.ElementAt(r.Next(o.Count)).Key;
                if (r.Next(2) == 0) o.Remove(key);
                else { var v = o[key]; o.Remove(key); o[key + (r.Next(2) == 0 ? "x" : "\u001b")] = v; }
                return;
            }
            case JsonArray a when r.Next(2) == 0:
            {
                if (a.Count > 0 && r.Next(2) == 0) a.RemoveAt(r.Next(a.Count));
                else a.Add(a.Count > 0 ? a[r.Next(a.Count)]!.DeepClone() : JsonValue.Create(m.Boundary()));
                return;
            }
        }
        JsonNode? replacement = r.Next(8) switch
        {
            0 or 1 or 2 => JsonValue.Create(m.Boundary()),
            3 => JsonValue.Create(m.Number()),
            4 => null,
            5 => new JsonArray(),
            6 => new JsonObject(),
            _ => JsonValue.Create(r.Next(2) == 0 ? "" : new string('9', r.Next(1, 40))),
        };
        if (node.Parent is JsonObject parent) parent[node.GetPropertyName()] = replacement;
        else if (node.Parent is JsonArray array) array[node.GetElementIndex()] = replacement;
    }

    // ---- YAML: settings files ----

    static readonly string[] YamlSnippets =
    [
        "[1, 2]", "{a: 1}", "~", "null", "!!binary AAAA", "&a x", "*a", "*nope", "'unterminated", "\"\\x00\\e[31m\"", "- x", "? x",
        "!!int 12", "!!float .nan", ".inf", "-.inf", "0x1F", "0o17", "1_000", "true", "yes", "<<: *a", "|\n  text", ">-",
        new string('[', 300), new string('{', 300) + "a", "\t", "%YAML 1.2", "---", "...", "\u0000", "\ufeff", new string('x', 5000),
    ];

    /// <summary>YAML text: a value or a line swapped for a YAML construct, a line duplicated, dropped or re-indented, or raw havoc.</summary>
    public static byte[]? Yaml(byte[] input, Mutator m, byte[]? other)
    {
        var r = m.Rng;
        var lines = Encoding.UTF8.GetString(input).Split('\n').ToList();
        if (lines.Count == 0 || r.Next(5) == 0) return m.Havoc(input, other);
        int i = r.Next(lines.Count);
        string line = lines[i];
        switch (r.Next(6))
        {
            case 0: case 1:
            {
                int colon = line.IndexOf(':');
                string value = r.Next(3) == 0 ? m.Number() : YamlSnippets[r.Next(YamlSnippets.Length)];
                lines[i] = colon >= 0 ? line[..(colon + 1)] + " " + value : value;
                break;
            }
            case 2: lines.Insert(r.Next(lines.Count + 1), line); break;
            case 3: lines.RemoveAt(i); break;
            case 4: lines[i] = new string(' ', r.Next(2) == 0 ? 2 : r.Next(9)) + line.TrimStart(); break;
            default: lines[i] = Encoding.UTF8.GetString(m.Havoc(Encoding.UTF8.GetBytes(line))); break;
        }
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
