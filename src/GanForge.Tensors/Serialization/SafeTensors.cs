using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace GanForge.Serialization;

/// <summary>
/// The safetensors format (as the safetensors library writes it): an 8-byte little-endian header
/// length, a JSON header mapping names to {dtype, shape, data_offsets}, then raw little-endian data.
/// GanForge tensors are float32; F64/F16/BF16/I64/I32/U8/BOOL are converted to float on read.
/// Files GanForge writes carry a checksum in their metadata (<see cref="ChecksumKey"/>), checked when they are read.
/// </summary>
public static class SafeTensors
{
    /// <summary>Reads every tensor of a file, in header order.</summary>
    public static Dictionary<string, Tensor> Load(string path) => ReadFile(path).Tensors;

    /// <summary>Reads every tensor and the optional string metadata (__metadata__).</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        var file = ReadFile(path);
        return (file.Tensors, file.Metadata);
    }

    /// <summary>As <see cref="Read(string)"/>, from the bytes of a file already read (<paramref name="source"/> names it in errors).</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(byte[] bytes, string source)
    {
        var file = ReadFile(bytes, source);
        return (file.Tensors, file.Metadata);
    }

    /// <summary>
    /// Reads a file's header and the tensors whose names <paramref name="keep"/> accepts (every one where it is null). The
    /// file is read as a stream, each kept tensor straight into its own storage, so reading touches the memory of the
    /// tensors kept and no copy of the file; the whole file is still checked (its layout and its checksum).
    /// </summary>
    public static SafeTensorsFile ReadFile(string path, Func<string, bool>? keep = null)
    {
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new IOException($"safetensors: cannot read '{path}': {e.Message}", e); }
        using (file)
        {
            try { return Parse(file, path, keep); }
            catch (IOException e) when (e is not EndOfStreamException)
            { throw new IOException($"safetensors: cannot read '{path}': {e.Message}", e); }
        }
    }

    /// <summary>As <see cref="ReadFile(string, Func{string, bool}?)"/>, from the bytes of a file already read.</summary>
    public static SafeTensorsFile ReadFile(byte[] bytes, string source, Func<string, bool>? keep = null) =>
        Parse(new MemoryStream(bytes, writable: false), source, keep);

    /// <summary>
    /// The metadata key of the checksum GanForge writes into every file: CRC-32 (IEEE, as zip and PNG) of the data
    /// section, then of each other metadata entry in ordinal key order (UTF-8 key, a 0 byte, UTF-8 value, a 0 byte),
    /// as 8 lowercase hex digits. The metadata is covered because a checkpoint keeps its step and noise state there.
    /// A file that has it is verified on read; one without it (written by PyTorch or an older GanForge) is read
    /// unchecked. It is not returned with the metadata and cannot be given to <see cref="Save"/>.
    /// </summary>
    public const string ChecksumKey = "ganforge.crc32";

    /// <summary>Largest JSON header accepted (as the reference implementation), so a corrupt length cannot exhaust memory.</summary>
    public const int MaxHeaderSize = 100_000_000;

    // The file from its start: the header checked whole, then the data section read in offset order, the kept tensors into
    // their storage and the rest through a small buffer for the checksum (or skipped where there is none).
    static SafeTensorsFile Parse(Stream stream, string source, Func<string, bool>? keep)
    {
        long length = stream.Length;
        if (length < 8)
            throw new InvalidDataException($"safetensors: '{source}' is {length} bytes, too short for a header");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLen > MaxHeaderSize)
            throw new InvalidDataException($"safetensors: '{source}' declares a {headerLen}-byte header, over the {MaxHeaderSize}-byte limit (corrupt or not safetensors)");
        if (headerLen > (ulong)(length - 8))
            throw new InvalidDataException($"safetensors: '{source}' declares a {headerLen}-byte header but holds {length - 8} bytes after the length (truncated or not safetensors)");
        var headerBytes = new byte[(int)headerLen];
        stream.ReadExactly(headerBytes);
        long dataLen = length - 8 - (long)headerLen;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes); }
        catch (JsonException e) { throw new InvalidDataException($"safetensors: '{source}' has a corrupt JSON header: {MessageText.Quote(e.Message, 120)}", e); }

        var entries = new List<(string Name, string Dtype, int[] Shape, long Begin, long End)>();
        var metadata = new Dictionary<string, string>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"safetensors: '{source}': the header is a JSON {doc.RootElement.ValueKind}, expected an object");
            var names = new HashSet<string>();
            try
            {
                foreach (var entry in doc.RootElement.EnumerateObject())
                {
                    if (!names.Add(entry.Name))
                        throw new InvalidDataException($"safetensors: '{source}': '{MessageText.Quote(entry.Name)}' appears twice in the header");
                    if (entry.Name == "__metadata__")
                        ReadMetadata(entry.Value, metadata, source);
                    else
                        entries.Add(ReadEntry(entry, source));
                }
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument's strings are decoded when read: invalid UTF-8 or a lone surrogate fails only then.
                throw new InvalidDataException($"safetensors: '{source}': the header holds a name or string that is not valid text ({MessageText.Quote(e.Message, 80)})", e);
            }
        }

        // The data section must be tiled exactly: tensors in offset order, no gaps, no overlaps, nothing after.
        long expected = 0;
        string? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.End > dataLen)
                throw new InvalidDataException($"safetensors: '{source}': tensor '{MessageText.Quote(e.Name)}' spans bytes [{e.Begin},{e.End}) but the data section has {dataLen} bytes (truncated?)");
            if (e.Begin < expected)
                throw new InvalidDataException($"safetensors: '{source}': tensor '{MessageText.Quote(e.Name)}' at bytes [{e.Begin},{e.End}) overlaps '{MessageText.Quote(previous)}' (which ends at {expected})");
            if (e.Begin > expected)
                throw new InvalidDataException($"safetensors: '{source}': tensor '{MessageText.Quote(e.Name)}' starts at byte {e.Begin}, leaving a gap of {e.Begin - expected} bytes after {(previous == null ? "the header" : $"'{MessageText.Quote(previous)}'")}");
            expected = e.End;
            previous = e.Name;
        }
        if (expected != dataLen)
            throw new InvalidDataException($"safetensors: '{source}': tensors cover {expected} bytes of a {dataLen}-byte data section (trailing garbage or wrong offsets)");
        var crc = metadata.Remove(ChecksumKey, out var recorded) ? new Crc32() : null;

        // The kept tensors in header order, filled in the order of their data.
        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in entries)
            if (keep == null || keep(e.Name))
            {
                int numel = Shapes.Numel(e.Shape);
                AllocationLimit.Take(numel);
                tensors[e.Name] = new Tensor(GC.AllocateUninitializedArray<float>(numel), e.Shape);
            }
        ReadData(stream, entries, tensors, crc, source);

        if (crc != null)
        {
            uint actual = AppendMetadata(crc, metadata).GetCurrentHashAsUInt32();
            if (recorded!.Length != 8 || !uint.TryParse(recorded, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint want) || want != actual)
                throw new InvalidDataException($"{source} is damaged: checksum mismatch (CRC-32 of its data and metadata is {actual:x8}, its header records '{MessageText.Quote(recorded, 16)}')");
        }
        return new SafeTensorsFile(entries.ToDictionary(e => e.Name, e => e.Shape), tensors, metadata);
    }

    // The data section from the stream's position, which it tiles in offset order: each tensor of `tensors` read into its
    // storage, every other one through a small buffer into the checksum, or skipped where there is no checksum.
    static void ReadData(Stream stream, List<(string Name, string Dtype, int[] Shape, long Begin, long End)> entries,
        Dictionary<string, Tensor> tensors, Crc32? crc, string source)
    {
        byte[]? buffer = null;
        try
        {
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                long size = e.End - e.Begin;
                if (tensors.TryGetValue(e.Name, out var t) && e.Dtype == "F32" && BitConverter.IsLittleEndian)
                {
                    // Little-endian floats are the storage's bytes: read them in place.
                    var raw = MemoryMarshal.AsBytes(t.Data);
                    stream.ReadExactly(raw);
                    crc?.Append(raw);
                }
                else if (t != null)
                {
                    if (size > int.MaxValue)
                        throw new InvalidDataException($"safetensors: '{source}': tensor '{MessageText.Quote(e.Name)}' of {e.Dtype} is {size} bytes, too many to convert");
                    var raw = new byte[size];
                    stream.ReadExactly(raw);
                    crc?.Append(raw);
                    Decode(raw, e.Dtype, t.Data);
                }
                else if (crc == null) stream.Seek(size, SeekOrigin.Current);
                else
                {
                    buffer ??= ArrayPool<byte>.Shared.Rent(1 << 20);
                    for (long left = size; left > 0;)
                    {
                        var part = buffer.AsSpan(0, (int)Math.Min(left, buffer.Length));
                        stream.ReadExactly(part);
                        crc.Append(part);
                        left -= part.Length;
                    }
                }
            }
        }
        catch (EndOfStreamException e)
        { throw new InvalidDataException($"safetensors: '{source}' ended before its data section did (truncated while being read?)", e); }
        finally { if (buffer != null) ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Adds every metadata entry to <paramref name="crc"/>, in ordinal key order, as <see cref="ChecksumKey"/> defines.</summary>
    static Crc32 AppendMetadata(Crc32 crc, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata == null) return crc;
        ReadOnlySpan<byte> zero = [0];
        foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            crc.Append(Encoding.UTF8.GetBytes(key));
            crc.Append(zero);
            crc.Append(Encoding.UTF8.GetBytes(value));
            crc.Append(zero);
        }
        return crc;
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"safetensors: '{source}': __metadata__ is a JSON {value.ValueKind}, expected an object of strings");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"safetensors: '{source}': metadata '{MessageText.Quote(m.Name)}' is a JSON {m.Value.ValueKind}, expected a string");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    static (string Name, string Dtype, int[] Shape, long Begin, long End) ReadEntry(JsonProperty entry, string source)
    {
        string name = MessageText.Quote(entry.Name);   // for messages; the entry keeps its own name
        string dtype; int[] shape; long[] offsets;
        try
        {
            dtype = entry.Value.GetProperty("dtype").GetString()!;
            shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        { throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' has a malformed header entry ({MessageText.Quote(e.Message, 80)})", e); }
        if (offsets.Length != 2)
            throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' has {offsets.Length} data_offsets, expected [begin, end]");
        if (shape.Any(d => d < 0))
            throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' has a negative dimension in shape {MessageText.Quote(Shapes.Format(shape))}");

        int elemSize = ElementSize(dtype, name, source);
        var (begin, end) = (offsets[0], offsets[1]);
        // Saturating: a product past Array.MaxLength is refused below, and must not wrap around to a small one.
        long numel = shape.Aggregate(1L, (a, d) => d == 0 ? 0 : a > Array.MaxLength / d ? (long)Array.MaxLength + 1 : a * d);
        if (begin < 0 || end < begin)
            throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' has invalid data_offsets [{begin},{end})");
        if (numel > Array.MaxLength)
            throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' of shape {MessageText.Quote(Shapes.Format(shape))} has too many elements for one tensor");
        if (end - begin != numel * elemSize)
            throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' of {dtype} {MessageText.Quote(Shapes.Format(shape))} needs {numel * elemSize} bytes, header gives {end - begin}");
        return (entry.Name, dtype, shape, begin, end);
    }

    static int ElementSize(string dtype, string name, string source) => dtype switch
    {
        "F32" or "I32" => 4,
        "F64" or "I64" => 8,
        "F16" or "BF16" or "I16" => 2,
        "U8" or "I8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"safetensors: '{source}': tensor '{name}' has unsupported dtype {MessageText.Quote(dtype, 16)}"),
    };

    // Converts raw little-endian elements of dtype to floats, one per element of d.
    static void Decode(ReadOnlySpan<byte> raw, string dtype, Span<float> d)
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(i * 2)..]),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]) << 16),
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(raw[(i * 2)..]),
                "I8" => (sbyte)raw[i],
                _ => raw[i],
            };
        }
    }

    /// <summary>
    /// Writes tensors atomically (temp file, then rename), with a checksum of the data and metadata in the metadata
    /// (<see cref="ChecksumKey"/>). Tensors are stored as F32 unless their name is in <paramref name="int64Names"/>
    /// (e.g. BatchNorm's num_batches_tracked, an int64 in PyTorch).
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, ISet<string>? int64Names = null)
    {
        var list = tensors.ToList();
        var duplicate = list.GroupBy(kv => kv.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new ArgumentException($"safetensors: cannot write '{path}': tensor name '{duplicate.Key}' appears twice");
        if (list.Any(kv => kv.Key == "__metadata__"))
            throw new ArgumentException($"safetensors: cannot write '{path}': '__metadata__' is reserved and cannot name a tensor");
        if (metadata?.ContainsKey(ChecksumKey) == true)
            throw new ArgumentException($"safetensors: cannot write '{path}': metadata '{ChecksumKey}' is reserved for the checksum the writer adds");

        // The checksum goes into the header, before the data: a first pass over the data computes it.
        var crc = new Crc32();
        WriteData(list, int64Names, crc.Append);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [ChecksumKey] = AppendMetadata(crc, metadata).GetCurrentHashAsUInt32().ToString("x8", CultureInfo.InvariantCulture),
        };
        var header = new Dictionary<string, object> { ["__metadata__"] = meta };
        long offset = 0;
        foreach (var (name, t) in list)
        {
            bool i64 = int64Names?.Contains(name) == true;
            long size = (long)t.Numel * (i64 ? 8 : 4);
            header[name] = new { dtype = i64 ? "I64" : "F32", shape = t.Shape, data_offsets = new[] { offset, offset + size } };
            offset += size;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        // Pad the header with spaces to an 8-byte boundary, as the reference writer does.
        int pad = (8 - json.Length % 8) % 8;
        var headerBytes = new byte[json.Length + pad];
        json.CopyTo(headerBytes, 0);
        headerBytes.AsSpan(json.Length).Fill((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)headerBytes.Length);
            stream.Write(len);
            stream.Write(headerBytes);
            WriteData(list, int64Names, stream.Write);
        });
    }

    /// <summary>Hands the data section to <paramref name="emit"/> in parts, little-endian: F32 tensors as they lie in memory on a little-endian machine, others encoded.</summary>
    static void WriteData(List<KeyValuePair<string, Tensor>> list, ISet<string>? int64Names, Action<ReadOnlySpan<byte>> emit)
    {
        var chunk = new byte[1 << 16];
        int used = 0;
        foreach (var (name, t) in list)
        {
            bool i64 = int64Names?.Contains(name) == true;
            if (!i64 && BitConverter.IsLittleEndian)
            {
                if (used > 0) { emit(chunk.AsSpan(0, used)); used = 0; }
                emit(MemoryMarshal.AsBytes(t.Data));
                continue;
            }
            int size = i64 ? 8 : 4;
            foreach (float v in t.Data)
            {
                if (used + size > chunk.Length) { emit(chunk.AsSpan(0, used)); used = 0; }
                if (i64) BinaryPrimitives.WriteInt64LittleEndian(chunk.AsSpan(used), (long)v);
                else BinaryPrimitives.WriteSingleLittleEndian(chunk.AsSpan(used), v);
                used += size;
            }
        }
        if (used > 0) emit(chunk.AsSpan(0, used));
    }
}

/// <summary>
/// A safetensors file as <see cref="SafeTensors.ReadFile(string, Func{string, bool}?)"/> read it: the shape of every tensor
/// it holds (header order), the tensors kept, and its metadata.
/// </summary>
public sealed record SafeTensorsFile(IReadOnlyDictionary<string, int[]> TensorShapes, Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata)
{
    /// <summary>The values of every tensor the file holds, kept or not.</summary>
    public long Values => TensorShapes.Values.Sum(shape => (long)Shapes.Numel(shape));
}
