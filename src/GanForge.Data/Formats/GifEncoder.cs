using GanForge.Serialization;

namespace GanForge.Data.Formats;

/// <summary>
/// Writes animated GIF89a files that loop forever, for latent-space interpolations. Gray frames use a
/// 256-level gray palette (exact); colour frames are quantised to a fixed 6x7x6 RGB cube (252 colours).
/// </summary>
public static class GifEncoder
{
    /// <summary>Writes frames (all the same size) with <paramref name="delayMs"/> between them.</summary>
    public static void Save(string path, IReadOnlyList<ByteImage> frames, int delayMs = 100) =>
        AtomicFile.WriteAllBytes(path, Encode(frames, delayMs));

    /// <summary>Writes tensor frames (C,H,W) whose values span [lo, hi] (default the generator's [-1,1]).</summary>
    public static void Save(string path, IReadOnlyList<Tensor> frames, int delayMs = 100, float lo = -1f, float hi = 1f) =>
        Save(path, frames.Select(f => ByteImage.FromTensor(f, lo, hi)).ToList(), delayMs);

    /// <summary>The GIF file bytes.</summary>
    public static byte[] Encode(IReadOnlyList<ByteImage> frames, int delayMs = 100)
    {
        if (frames.Count == 0) throw new ArgumentException("GifEncoder: no frames");
        int w = frames[0].Width, h = frames[0].Height;
        if (w > ushort.MaxValue || h > ushort.MaxValue) throw new ArgumentException($"GifEncoder: {w}x{h} exceeds GIF's 65535 limit");
        for (int i = 1; i < frames.Count; i++)
            if (frames[i].Width != w || frames[i].Height != h)
                throw new ArgumentException($"GifEncoder: frame {i} is {frames[i].Width}x{frames[i].Height}, frame 0 is {w}x{h}");
        bool gray = frames.All(f => f.Channels <= 2);
        int delayCs = Math.Clamp((delayMs + 5) / 10, 0, ushort.MaxValue);

        using var ms = new MemoryStream();
        ms.Write("GIF89a"u8);
        void WriteU16(int v) { ms.WriteByte((byte)v); ms.WriteByte((byte)(v >> 8)); } // little-endian

        WriteU16(w); WriteU16(h);
        ms.WriteByte(0xF7); // global colour table of 2^(7+1) entries, 8 bits per primary
        ms.WriteByte(0); ms.WriteByte(0);
        ms.Write(gray ? GrayPalette() : CubePalette());

        // NETSCAPE2.0 application extension: loop count 0 = forever.
        ms.Write([0x21, 0xFF, 0x0B]); ms.Write("NETSCAPE2.0"u8); ms.Write([0x03, 0x01, 0x00, 0x00, 0x00]);

        foreach (var frame in frames)
        {
            ms.Write([0x21, 0xF9, 0x04, 0x04]); // graphic control: disposal 1 (keep), no transparency
            WriteU16(delayCs);
            ms.Write([0x00, 0x00]);
            ms.WriteByte(0x2C);
            WriteU16(0); WriteU16(0); WriteU16(w); WriteU16(h);
            ms.WriteByte(0); // no local colour table, not interlaced
            ms.WriteByte(8); // LZW minimum code size
            WriteSubBlocks(ms, Lzw.Encode(gray ? GrayIndices(frame) : CubeIndices(frame), 8));
        }
        ms.WriteByte(0x3B);
        return ms.ToArray();
    }

    static byte[] GrayPalette()
    {
        var p = new byte[768];
        for (int i = 0; i < 256; i++) p[3 * i] = p[3 * i + 1] = p[3 * i + 2] = (byte)i;
        return p;
    }

    static byte[] CubePalette()
    {
        var p = new byte[768];
        for (int r = 0; r < 6; r++)
            for (int g = 0; g < 7; g++)
                for (int b = 0; b < 6; b++)
                {
                    int i = (r * 7 + g) * 6 + b;
                    p[3 * i] = (byte)(r * 255 / 5); p[3 * i + 1] = (byte)(g * 255 / 6); p[3 * i + 2] = (byte)(b * 255 / 5);
                }
        return p;
    }

    static byte[] GrayIndices(ByteImage f)
    {
        int n = f.Width * f.Height;
        var idx = new byte[n];
        for (int i = 0; i < n; i++) idx[i] = f.Pixels[i * f.Channels];
        return idx;
    }

    static byte[] CubeIndices(ByteImage f)
    {
        var rgb = f.ToChannels(3).Pixels;
        var idx = new byte[f.Width * f.Height];
        for (int i = 0; i < idx.Length; i++)
        {
            int r = (rgb[3 * i] * 5 + 127) / 255, g = (rgb[3 * i + 1] * 6 + 127) / 255, b = (rgb[3 * i + 2] * 5 + 127) / 255;
            idx[i] = (byte)((r * 7 + g) * 6 + b);
        }
        return idx;
    }

    static void WriteSubBlocks(Stream s, byte[] data)
    {
        for (int pos = 0; pos < data.Length; pos += 255)
        {
            int n = Math.Min(255, data.Length - pos);
            s.WriteByte((byte)n);
            s.Write(data, pos, n);
        }
        s.WriteByte(0);
    }
}

/// <summary>GIF's variable-width LZW (codes of minCodeSize+1 up to 12 bits, packed least significant bit first).</summary>
internal static class Lzw
{
    const int MaxCodes = 4096;

    public static byte[] Encode(ReadOnlySpan<byte> indices, int minCodeSize)
    {
        int clear = 1 << minCodeSize, end = clear + 1;
        var output = new List<byte>(indices.Length);
        int bitBuf = 0, bitCount = 0;
        int codeSize = minCodeSize + 1, next = end + 1;
        var table = new Dictionary<int, int>();

        void Emit(int code)
        {
            bitBuf |= code << bitCount;
            bitCount += codeSize;
            while (bitCount >= 8) { output.Add((byte)bitBuf); bitBuf >>= 8; bitCount -= 8; }
        }

        Emit(clear);
        if (indices.Length > 0)
        {
            int prefix = indices[0];
            for (int i = 1; i < indices.Length; i++)
            {
                int k = indices[i], key = (prefix << 8) | k;
                if (table.TryGetValue(key, out int code)) { prefix = code; continue; }
                Emit(prefix);
                table[key] = next++;
                // The decoder learns each code one step later than we do, so widen one code after crossing 2^codeSize.
                if (next > (1 << codeSize) && codeSize < 12) codeSize++;
                if (next == MaxCodes)
                {
                    Emit(clear);
                    table.Clear();
                    codeSize = minCodeSize + 1; next = end + 1;
                }
                prefix = k;
            }
            Emit(prefix);
        }
        Emit(end);
        if (bitCount > 0) output.Add((byte)bitBuf);
        return output.ToArray();
    }
}
