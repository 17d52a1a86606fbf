using System.Buffers.Binary;
using System.IO.Compression;
using GanForge.Serialization;

namespace GanForge.Data.Formats;

/// <summary>Encodes 8-bit gray, gray+alpha, RGB or RGBA PNG files, non-interlaced.</summary>
/// <remarks>
/// Each row gets the filter (of the five) whose output has the smallest sum of absolute values taken as
/// signed bytes, the heuristic the PNG specification suggests.
/// </remarks>
public static class PngEncoder
{
    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, ByteImage image, CompressionLevel level = CompressionLevel.Optimal)
    {
        var bytes = Encode(image, level);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The PNG file bytes for <paramref name="image"/>.</summary>
    public static byte[] Encode(ByteImage image, CompressionLevel level = CompressionLevel.Optimal)
    {
        int w = image.Width, h = image.Height, bpp = image.Channels, rowBytes = w * bpp;
        byte colorType = image.Channels switch { 1 => 0, 2 => 4, 3 => 2, _ => 6 };

        var filtered = new byte[h * (rowBytes + 1)];
        var candidate = new byte[rowBytes];
        for (int y = 0; y < h; y++)
        {
            var cur = image.Pixels.AsSpan(y * rowBytes, rowBytes);
            var prev = y > 0 ? image.Pixels.AsSpan((y - 1) * rowBytes, rowBytes) : ReadOnlySpan<byte>.Empty;
            var dest = filtered.AsSpan(y * (rowBytes + 1), rowBytes + 1);
            long best = long.MaxValue;
            for (int f = 0; f <= 4; f++)
            {
                long cost = Filter(f, cur, prev, bpp, candidate);
                if (cost < best)
                {
                    best = cost;
                    dest[0] = (byte)f;
                    candidate.CopyTo(dest[1..]);
                }
            }
        }

        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; ihdr[9] = colorType; // compression, filter method, interlace stay 0
        WriteChunk(ms, "IHDR", ihdr);

        using (var zbuf = new MemoryStream())
        {
            using (var z = new ZLibStream(zbuf, level, leaveOpen: true)) z.Write(filtered);
            WriteChunk(ms, "IDAT", zbuf.ToArray());
        }
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    static long Filter(int f, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        long cost = 0;
        bool hasPrev = !prev.IsEmpty;
        for (int i = 0; i < cur.Length; i++)
        {
            int a = i >= bpp ? cur[i - bpp] : 0;
            int b = hasPrev ? prev[i] : 0;
            int c = hasPrev && i >= bpp ? prev[i - bpp] : 0;
            int predictor = f switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, _ => Paeth(a, b, c) };
            byte v = (byte)(cur[i] - predictor);
            dst[i] = v;
            int signed = (sbyte)v;
            cost += signed < 0 ? -signed : signed; // Math.Abs would throw on -128
        }
        return cost;
    }

    /// <summary>PNG's Paeth predictor: of left, above and upper-left, the one nearest to left + above - upper-left.</summary>
    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(data);
        uint crc = Crc32.Update(Crc32.Compute(head[4..]), data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }
}
