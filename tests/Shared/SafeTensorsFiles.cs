using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using GanForge.Serialization;

namespace GanForge.Tests;

/// <summary>Byte-level changes to safetensors files, for tests of damaged files and of files older writers left.</summary>
public static class SafeTensorsFiles
{
    /// <summary>Where the data section starts: after the 8-byte length and the header.</summary>
    public static int DataStart(string path)
    {
        Span<byte> length = stackalloc byte[8];
        using (var f = File.OpenRead(path)) f.ReadExactly(length);
        return 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(length);
    }

    /// <summary>Inverts every bit of the byte at <paramref name="offset"/>.</summary>
    public static void FlipByte(string path, int offset)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Rewrites the file as GanForge wrote it before checksums: the same header less the checksum, the same data.</summary>
    public static void RemoveChecksum(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int dataStart = DataStart(path);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, dataStart - 8))!.AsObject();
        var metadata = header["__metadata__"]!.AsObject();
        Assert.True(metadata.Remove(SafeTensors.ChecksumKey), $"{path} has no checksum to remove");
        if (metadata.Count == 0) header.Remove("__metadata__");
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        using var f = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        f.Write(length);
        f.Write(json);
        for (int i = json.Length; i < padded; i++) f.WriteByte((byte)' ');
        f.Write(bytes.AsSpan(dataStart));
    }
}
