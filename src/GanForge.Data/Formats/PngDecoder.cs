using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using GanForge.Serialization;

namespace GanForge.Data.Formats;

/// <summary>
/// Decodes PNG files: gray, gray+alpha, RGB, RGBA (8-bit; 16-bit keeps the high byte) and palette or gray at
/// 1/2/4/8 bits; filters 0-4; non-interlaced and Adam7; every chunk's CRC is checked.
/// </summary>
/// <remarks>Palette images come out as RGB, or RGBA when a tRNS chunk gives transparency.</remarks>
public static class PngDecoder
{
    static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Largest image data accepted (scanlines, or decoded pixels).</summary>
    const long MaxBytes = 1L << 30;

    /// <summary>
    /// The first <paramref name="limit"/> bytes the stream inflates to (fewer if it ends first), read in steps so the
    /// memory taken follows what the data really holds, not what the header claims; anything after is not inflated.
    /// </summary>
    static byte[] ReadUpTo(Stream s, long limit)
    {
        using var outBuf = new MemoryStream();
        var buffer = new byte[1 << 16];
        while (outBuf.Length < limit)
        {
            int n = s.Read(buffer, 0, (int)Math.Min(buffer.Length, limit - outBuf.Length));
            if (n == 0) break;
            outBuf.Write(buffer, 0, n);
        }
        return outBuf.ToArray();
    }

    /// <summary>Decodes the PNG file at <paramref name="path"/>.</summary>
    public static ByteImage Decode(string path) => Decode(File.ReadAllBytes(path), Path.GetFileName(path));

    /// <summary>Decodes PNG bytes; <paramref name="name"/> appears in error messages.</summary>
    public static ByteImage Decode(ReadOnlySpan<byte> png, string name = "PNG")
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature))
            throw new InvalidDataException($"{name}: not a PNG file (bad signature)");

        Header? ihdr = null;
        byte[]? palette = null, transparency = null;
        using var idat = new MemoryStream();
        int pos = 8;
        bool ended = false;
        while (!ended)
        {
            if (pos + 12 > png.Length)
                throw new InvalidDataException($"{name}: truncated at byte {pos} (missing IEND chunk)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > png.Length)
                throw new InvalidDataException($"{name}: chunk at byte {pos} claims {length} bytes but the file ends at {png.Length}");
            var typeAndData = png.Slice(pos + 4, 4 + (int)length);
            // A chunk type is four ASCII letters; anything else means the chunk boundaries are lost.
            foreach (byte c in typeAndData[..4])
                if (c is not ((>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z')))
                    throw new InvalidDataException($"{name}: chunk at byte {pos} has type bytes {Convert.ToHexString(typeAndData[..4])}, not four letters (damaged file)");
            string type = Encoding.ASCII.GetString(typeAndData[..4]);
            var data = typeAndData[4..];
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            uint actual = Crc32.Compute(typeAndData);
            if (stored != actual)
                throw new InvalidDataException($"{name}: CRC mismatch in {type} chunk at byte {pos} (stored {stored:X8}, computed {actual:X8})");
            pos += 12 + (int)length;

            switch (type)
            {
                case "IHDR":
                    if (ihdr != null) throw new InvalidDataException($"{name}: a second IHDR chunk at byte {pos - 12 - (int)length}");
                    ihdr = Header.Parse(data, name);
                    break;
                case "PLTE": palette = data.ToArray(); break;
                case "tRNS": transparency = data.ToArray(); break;
                case "IDAT":
                    if (ihdr == null) throw new InvalidDataException($"{name}: IDAT before IHDR");
                    idat.Write(data);
                    break;
                case "IEND": ended = true; break;
                default:
                    // Bit 5 of the first letter clear marks a critical chunk we must not skip.
                    if ((typeAndData[0] & 0x20) == 0)
                        throw new InvalidDataException($"{name}: unknown critical chunk {type}");
                    break;
            }
        }
        if (ihdr is not Header h) throw new InvalidDataException($"{name}: no IHDR chunk");
        if (h.ColorType == 3 && palette == null) throw new InvalidDataException($"{name}: palette image without PLTE chunk");
        if (palette != null && palette.Length % 3 != 0) throw new InvalidDataException($"{name}: PLTE length {palette.Length} is not a multiple of 3");

        // FDICT (bit 5 of the zlib header's second byte): a preset dictionary, which PNG does not allow.
        if (idat.Length >= 2 && (idat.GetBuffer()[1] & 0x20) != 0)
            throw new InvalidDataException($"{name}: the image data's zlib stream asks for a preset dictionary, which PNG does not allow");
        byte[] raw;
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            raw = ReadUpTo(z, h.RawLength);
        }
        // Besides InvalidDataException, zlib's own errors come as an IOException (ZLibException); the data is in
        // memory, so every IOException here is the data's.
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{name}: corrupt zlib data in IDAT ({MessageText.Quote(e.Message, 100)})", e);
        }

        // All the scanlines must be there before the image is allocated (a header may claim any size).
        if (raw.Length < h.RawLength)
            throw new InvalidDataException($"{name}: image data holds {raw.Length} bytes, expected {h.RawLength} for {h.Width}x{h.Height}{(h.Interlace == 0 ? "" : " interlaced")}");
        var samples = h.Interlace == 0
            ? Unfilter(raw, 0, h.Width, h.Height, h, name, out _)
            : DeinterlaceAdam7(raw, h, name);
        return ToImage(samples, h, palette, transparency, name);
    }

    readonly record struct Header(int Width, int Height, int BitDepth, int ColorType, int Interlace)
    {
        public int SamplesPerPixel => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        public int BitsPerPixel => SamplesPerPixel * BitDepth;
        public int BytesPerPixel => Math.Max(1, BitsPerPixel / 8); // filter distance
        public int RowBytes(int width) => (int)(((long)width * BitsPerPixel + 7) / 8);

        /// <summary>Bytes of filtered scanlines the image needs: every row (of every Adam7 pass) with its filter byte.</summary>
        public long RawLength
        {
            get
            {
                if (Interlace == 0) return (long)Height * (RowBytes(Width) + 1);
                long total = 0;
                foreach (var p in Passes)
                {
                    int pw = (Width - p.X0 + p.Dx - 1) / p.Dx, ph = (Height - p.Y0 + p.Dy - 1) / p.Dy;
                    if (pw > 0 && ph > 0) total += (long)ph * (RowBytes(pw) + 1);
                }
                return total;
            }
        }

        public static Header Parse(ReadOnlySpan<byte> d, string name)
        {
            if (d.Length != 13) throw new InvalidDataException($"{name}: IHDR has {d.Length} bytes, expected 13");
            int w = BinaryPrimitives.ReadInt32BigEndian(d), hgt = BinaryPrimitives.ReadInt32BigEndian(d[4..]);
            var h = new Header(w, hgt, d[8], d[9], d[12]);
            if (w <= 0 || hgt <= 0 || (long)w * hgt > 1 << 28) throw new InvalidDataException($"{name}: unsupported size {w}x{hgt}");
            bool ok = h.ColorType switch
            {
                0 => h.BitDepth is 1 or 2 or 4 or 8 or 16,
                3 => h.BitDepth is 1 or 2 or 4 or 8,
                2 or 4 or 6 => h.BitDepth is 8 or 16,
                _ => false,
            };
            if (!ok) throw new InvalidDataException($"{name}: colour type {h.ColorType} with bit depth {h.BitDepth} is not valid PNG");
            if (d[10] != 0 || d[11] != 0) throw new InvalidDataException($"{name}: unknown compression {d[10]} or filter method {d[11]}");
            if (h.Interlace > 1) throw new InvalidDataException($"{name}: unknown interlace method {h.Interlace}");
            // Scanlines and pixels must fit in arrays: at most 2^28 pixels of up to 8 bytes each.
            if ((long)w * h.BitsPerPixel / 8 >= MaxBytes || h.RawLength > MaxBytes || (long)w * hgt * 4 > MaxBytes)
                throw new InvalidDataException($"{name}: unsupported size {w}x{hgt} at {h.BitsPerPixel} bits per pixel (over {MaxBytes >> 20} MiB)");
            return h;
        }
    }

    // raw[offset..]: height rows of (1 filter byte + rowBytes) -> height*rowBytes unfiltered bytes
    static byte[] Unfilter(byte[] raw, int offset, int width, int height, Header h, string name, out int consumed)
    {
        int rowBytes = h.RowBytes(width), bpp = h.BytesPerPixel;
        consumed = height * (rowBytes + 1);
        if (raw.Length - offset < consumed)
            throw new InvalidDataException($"{name}: image data holds {raw.Length - offset} bytes, expected {consumed} for {width}x{height}");
        var result = new byte[height * rowBytes];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[offset + y * (rowBytes + 1)];
            var src = raw.AsSpan(offset + y * (rowBytes + 1) + 1, rowBytes);
            var cur = result.AsSpan(y * rowBytes, rowBytes);
            var prev = y > 0 ? result.AsSpan((y - 1) * rowBytes, rowBytes) : Span<byte>.Empty;
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0;
                int b = y > 0 ? prev[i] : 0;
                int c = i >= bpp && y > 0 ? prev[i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"{name}: unknown filter type {filter} on row {y}"),
                };
                cur[i] = (byte)(src[i] + predictor);
            }
        }
        return result;
    }

    internal static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    // Adam7 passes: (x0, y0, dx, dy)
    static readonly (int X0, int Y0, int Dx, int Dy)[] Passes =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    static byte[] DeinterlaceAdam7(byte[] raw, Header h, string name)
    {
        int rowBytes = h.RowBytes(h.Width);
        var full = new byte[h.Height * rowBytes];
        int offset = 0;
        foreach (var p in Passes)
        {
            int pw = (h.Width - p.X0 + p.Dx - 1) / p.Dx, ph = (h.Height - p.Y0 + p.Dy - 1) / p.Dy;
            if (pw <= 0 || ph <= 0) continue;
            var pass = Unfilter(raw, offset, pw, ph, h, name, out int used);
            offset += used;
            int passRow = h.RowBytes(pw);
            for (int y = 0; y < ph; y++)
                for (int x = 0; x < pw; x++)
                    CopyPixel(pass, y * passRow, x, full, (p.Y0 + y * p.Dy) * rowBytes, p.X0 + x * p.Dx, h.BitsPerPixel);
        }
        return full;
    }

    static void CopyPixel(byte[] src, int srcRow, int sx, byte[] dst, int dstRow, int dx, int bits)
    {
        if (bits >= 8)
        {
            int n = bits / 8;
            Array.Copy(src, srcRow + sx * n, dst, dstRow + dx * n, n);
            return;
        }
        int mask = (1 << bits) - 1;
        int sBit = sx * bits, dBit = dx * bits;
        int v = (src[srcRow + sBit / 8] >> (8 - bits - sBit % 8)) & mask;
        int shift = 8 - bits - dBit % 8;
        ref byte d = ref dst[dstRow + dBit / 8];
        d = (byte)((d & ~(mask << shift)) | (v << shift));
    }

    static ByteImage ToImage(byte[] s, Header h, byte[]? palette, byte[]? trns, string name)
    {
        int w = h.Width, hgt = h.Height, rowBytes = h.RowBytes(w);
        if (h.ColorType == 3)
        {
            int entries = palette!.Length / 3;
            bool alpha = trns is { Length: > 0 };
            int c = alpha ? 4 : 3;
            var px = new byte[w * hgt * c];
            for (int y = 0; y < hgt; y++)
                for (int x = 0; x < w; x++)
                {
                    int idx = Sample(s, y * rowBytes, x, h.BitDepth);
                    if (idx >= entries) throw new InvalidDataException($"{name}: pixel ({x},{y}) uses palette index {idx} but PLTE has {entries} entries");
                    int o = (y * w + x) * c;
                    px[o] = palette[3 * idx]; px[o + 1] = palette[3 * idx + 1]; px[o + 2] = palette[3 * idx + 2];
                    if (alpha) px[o + 3] = idx < trns!.Length ? trns[idx] : (byte)255;
                }
            return new ByteImage(w, hgt, c, px);
        }

        int channels = h.SamplesPerPixel;
        var pixels = new byte[w * hgt * channels];
        if (h.BitDepth == 8) return new ByteImage(w, hgt, channels, s);
        if (h.BitDepth == 16)
        {
            for (int i = 0; i < pixels.Length; i++) pixels[i] = s[2 * i]; // high byte: the nearest 8-bit value rounded down
            return new ByteImage(w, hgt, channels, pixels);
        }
        // Sub-byte gray: scale so the maximum sample maps to 255.
        int scale = 255 / ((1 << h.BitDepth) - 1);
        for (int y = 0; y < hgt; y++)
            for (int x = 0; x < w; x++)
                pixels[y * w + x] = (byte)(Sample(s, y * rowBytes, x, h.BitDepth) * scale);
        return new ByteImage(w, hgt, 1, pixels);
    }

    static int Sample(byte[] s, int row, int x, int bits)
    {
        if (bits == 8) return s[row + x];
        int bit = x * bits;
        return (s[row + bit / 8] >> (8 - bits - bit % 8)) & ((1 << bits) - 1);
    }
}
