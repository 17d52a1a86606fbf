using System.Buffers.Binary;
using System.IO.Compression;
using StbImageSharp;

namespace GanForge.Data.Formats;

/// <summary>The image file formats <see cref="ImageFile"/> reads.</summary>
public enum ImageFormat { Png, Jpeg, Bmp, Gif }

/// <summary>What a file's header says, checked against the rest of the file (<see cref="ImageFile.ReadHeader"/>).</summary>
/// <param name="Format">The format, from the file's first bytes (not its name).</param>
/// <param name="Width">Width in pixels (a GIF's logical screen).</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct ImageHeader(ImageFormat Format, int Width, int Height);

/// <summary>
/// Reads JPEG (baseline and progressive), PNG (every colour type and depth, interlaced too), BMP and GIF (its
/// first frame) into 8-bit images, decoded by StbImageSharp (a C# port of stb_image). Every failure is an
/// <see cref="InvalidDataException"/> whose one-line message starts with the file's name.
/// </summary>
/// <remarks>
/// stb_image is lenient: it decodes a truncated JPEG, BMP or GIF by padding with zeros, skips PNG checksums, and
/// allocates what a header claims. So before decoding, <see cref="ReadHeader"/> checks what is cheap to check: the
/// format from the first bytes (not the extension), the size against <see cref="MaxSide"/> and
/// <see cref="MaxPixels"/>, and that the file is whole (PNG: every chunk's CRC, IEND, and the inflated data no larger
/// than the header allows; JPEG: an end-of-image marker after the last scan; GIF: the first frame's blocks; BMP:
/// the pixel array the header describes).
/// </remarks>
public static class ImageFile
{
    /// <summary>File extensions read as images (lower case; names are matched case-insensitively).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];

    /// <summary>Largest width or height accepted.</summary>
    public const int MaxSide = 16384;

    /// <summary>Largest width × height accepted (64 megapixels: 256 MB as RGBA).</summary>
    public const long MaxPixels = 1L << 26;

    /// <summary>Largest file accepted, in bytes.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>True when <paramref name="path"/> has one of <see cref="Extensions"/>.</summary>
    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Reads and decodes the image file at <paramref name="path"/>; errors name the path.</summary>
    /// <exception cref="InvalidDataException">The file is missing, unreadable, too large, truncated or corrupt.</exception>
    public static ByteImage Load(string path)
    {
        byte[] bytes;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
                throw new InvalidDataException($"{path}: {length} bytes is larger than the {MaxFileBytes >> 20} MiB an image file may have");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes an image held in memory; <paramref name="name"/> starts every error message.</summary>
    /// <returns>The pixels with the file's own channels: 1 gray, 2 gray+alpha, 3 RGB or 4 RGBA (GIF: RGBA).</returns>
    /// <exception cref="InvalidDataException">The bytes are not a whole, readable JPEG, PNG, BMP or GIF of a size accepted.</exception>
    public static ByteImage Decode(byte[] bytes, string name = "image")
    {
        var header = ReadHeader(bytes, name);
        ImageResult result;
        try { result = ImageResult.FromMemory(bytes, ColorComponents.Default); }
        catch (Exception e)
        {
            // stb_image reports failures as exceptions of its own (or, on input it did not foresee, of the runtime); its
            // reason can hold bytes of the file (found by fuzzing), so it is escaped and cut.
            string reason = string.IsNullOrWhiteSpace(e.Message) ? e.GetType().Name : GanForge.Serialization.MessageText.Quote(e.Message.Trim());
            throw new InvalidDataException($"{name}: corrupt {header.Format} image ({reason})", e);
        }
        int channels = (int)result.Comp;
        if (result.Width != header.Width || result.Height != header.Height || channels is < 1 or > 4
            || result.Data is null || result.Data.Length != (long)result.Width * result.Height * channels)
            throw new InvalidDataException($"{name}: corrupt {header.Format} image (decoded {result.Width}x{result.Height}x{channels}, header says {header.Width}x{header.Height})");
        return new ByteImage(result.Width, result.Height, channels, result.Data);
    }

    /// <summary>
    /// The format and size of an image in memory, after checking that the file is whole and of an accepted size
    /// (see the class remarks); decodes no pixels.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a JPEG, PNG, BMP or GIF; truncated; corrupt; or too large.</exception>
    public static ImageHeader ReadHeader(ReadOnlySpan<byte> bytes, string name = "image")
    {
        if (bytes.Length > MaxFileBytes)
            throw new InvalidDataException($"{name}: {bytes.Length} bytes is larger than the {MaxFileBytes >> 20} MiB an image file may have");
        var header = Sniff(bytes) switch
        {
            ImageFormat.Png => CheckPng(bytes, name),
            ImageFormat.Jpeg => CheckJpeg(bytes, name),
            ImageFormat.Bmp => CheckBmp(bytes, name),
            ImageFormat.Gif => CheckGif(bytes, name),
            _ => throw new InvalidDataException($"{name}: not a JPEG, PNG, BMP or GIF image (it starts with {Hex(bytes[..Math.Min(8, bytes.Length)])})"),
        };
        return header;
    }

    static ImageFormat? Sniff(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith(PngSignature)) return ImageFormat.Png;
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat.Jpeg;
        if (b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8)) return ImageFormat.Gif;
        if (b.StartsWith("BM"u8)) return ImageFormat.Bmp;
        return null;
    }

    static string Hex(ReadOnlySpan<byte> b) => b.IsEmpty ? "nothing: the file is empty" : Convert.ToHexString(b);

    static ImageHeader Sized(ImageFormat format, long width, long height, string name)
    {
        if (width <= 0 || height <= 0)
            throw new InvalidDataException($"{name}: {format} header gives a size of {width}x{height}");
        if (width > MaxSide || height > MaxSide || width * height > MaxPixels)
            throw new InvalidDataException($"{name}: {format} image of {width}x{height} is larger than accepted " +
                                           $"(at most {MaxSide} pixels a side and {MaxPixels >> 20} megapixels)");
        return new ImageHeader(format, (int)width, (int)height);
    }

    // --- PNG: chunks with CRCs, IHDR first, IEND last; the inflated IDAT no larger than the header allows ---

    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    static ImageHeader CheckPng(ReadOnlySpan<byte> png, string name)
    {
        ImageHeader? header = null;
        long expected = 0;
        using var idat = new MemoryStream();
        for (int pos = 8; ;)
        {
            if (pos + 12 > png.Length)
                throw new InvalidDataException($"{name}: truncated PNG (it ends at byte {png.Length} without an IEND chunk)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (pos + 12L + length > png.Length)
                throw new InvalidDataException($"{name}: truncated PNG (chunk at byte {pos} claims {length} bytes; the file ends at byte {png.Length})");
            var typeAndData = png.Slice(pos + 4, 4 + (int)length);
            var type = GanForge.Serialization.MessageText.Quote(System.Text.Encoding.ASCII.GetString(typeAndData[..4]));   // file bytes: escaped for the message
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (stored != Crc32.Compute(typeAndData))
                throw new InvalidDataException($"{name}: corrupt PNG (CRC mismatch in the {type} chunk at byte {pos})");
            var data = typeAndData[4..];
            if (header == null)
            {
                if (type != "IHDR" || length != 13)
                    throw new InvalidDataException($"{name}: corrupt PNG (first chunk is {type} of {length} bytes, not a 13-byte IHDR)");
                header = Sized(ImageFormat.Png, BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]), name);
                expected = PngRawBytes(header.Value, data[8], data[9], data[12], name);
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + (int)length;
        }
        CheckInflatedSize(idat, expected, name);
        return header.Value;
    }

    /// <summary>Bytes of filtered scanlines a PNG of this header inflates to.</summary>
    static long PngRawBytes(ImageHeader h, byte depth, byte colourType, byte interlace, string name)
    {
        int samples = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        bool depthOk = colourType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => depth is 8 or 16,
        };
        if (samples == 0 || !depthOk || interlace > 1)
            throw new InvalidDataException($"{name}: corrupt PNG (IHDR: colour type {colourType}, bit depth {depth}, interlace {interlace})");
        long Rows(long w, long rows) => w > 0 && rows > 0 ? rows * ((w * samples * depth + 7) / 8 + 1) : 0;
        if (interlace == 0) return Rows(h.Width, h.Height);
        long total = 0;
        // Adam7 passes: (x0, y0, dx, dy)
        foreach (var (x0, y0, dx, dy) in new[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) })
            total += Rows((h.Width - x0 + dx - 1) / dx, (h.Height - y0 + dy - 1) / dy);
        return total;
    }

    /// <summary>
    /// Inflates the image data without keeping it: a corrupt stream is an error here, and so is one that inflates
    /// to more than twice what the header needs (stb_image would grow its buffer to hold it all).
    /// </summary>
    static void CheckInflatedSize(MemoryStream idat, long expected, string name)
    {
        long limit = 2 * expected + 65536, total = 0;
        idat.Position = 0;
        var buffer = new byte[65536];
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress, leaveOpen: true);
            for (int n; total <= limit && (n = z.Read(buffer)) > 0;) total += n;
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{name}: corrupt PNG (image data: {e.Message})", e);
        }
        if (total > limit)
            throw new InvalidDataException($"{name}: corrupt PNG (its image data inflates past {limit} bytes; the header needs {expected})");
        if (total < expected)
            throw new InvalidDataException($"{name}: truncated PNG (its image data inflates to {total} bytes; the header needs {expected})");
    }

    // --- JPEG: segments up to the frame header; an end-of-image marker after the last scan ---

    static ImageHeader CheckJpeg(ReadOnlySpan<byte> jpg, string name)
    {
        ImageHeader? header = null;
        int pos = 2;
        while (header == null)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            while (pos < jpg.Length && jpg[pos] == 0xFF && pos + 1 < jpg.Length && jpg[pos + 1] == 0xFF) pos++;
            if (pos + 4 > jpg.Length)
                throw new InvalidDataException($"{name}: truncated JPEG (it ends at byte {jpg.Length} before its frame header)");
            if (jpg[pos] != 0xFF)
                throw new InvalidDataException($"{name}: corrupt JPEG (byte {pos} is 0x{jpg[pos]:X2} where a marker should start)");
            byte marker = jpg[pos + 1];
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) { pos += 2; continue; }  // markers without a length
            if (marker is 0xD9 or 0xDA)
                throw new InvalidDataException($"{name}: corrupt JPEG (marker 0xFF{marker:X2} at byte {pos} comes before any frame header)");
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpg[(pos + 2)..]);
            if (length < 2 || pos + 2 + length > jpg.Length)
                throw new InvalidDataException($"{name}: truncated JPEG (segment 0xFF{marker:X2} at byte {pos} claims {length} bytes; the file ends at byte {jpg.Length})");
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (length < 8) throw new InvalidDataException($"{name}: corrupt JPEG (frame header of {length} bytes at byte {pos})");
                var sof = jpg.Slice(pos + 4, length - 2);
                header = Sized(ImageFormat.Jpeg, BinaryPrimitives.ReadUInt16BigEndian(sof[3..]), BinaryPrimitives.ReadUInt16BigEndian(sof[1..]), name);
            }
            pos += 2 + length;
        }
        // Entropy-coded data never holds FF D9 or FF DA (a data 0xFF is followed by 0x00 or a restart marker), so
        // a whole file has its end-of-image marker after the start of its last scan.
        int lastScan = jpg.LastIndexOf([(byte)0xFF, (byte)0xDA]), end = jpg.LastIndexOf([(byte)0xFF, (byte)0xD9]);
        if (lastScan < pos)
            throw new InvalidDataException($"{name}: truncated JPEG (no scan after the frame header)");
        if (end < lastScan)
            throw new InvalidDataException($"{name}: truncated JPEG (no end-of-image marker after the last scan at byte {lastScan})");
        return header.Value;
    }

    // --- BMP: the pixel array the header describes lies within the file ---

    static ImageHeader CheckBmp(ReadOnlySpan<byte> bmp, string name)
    {
        if (bmp.Length < 26) throw new InvalidDataException($"{name}: truncated BMP ({bmp.Length} bytes, shorter than its headers)");
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(bmp[10..]);
        uint infoSize = BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]);
        long width, height;
        int bpp, compression = 0;
        if (infoSize == 12)  // OS/2 BITMAPCOREHEADER
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(bmp[18..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(bmp[20..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(bmp[24..]);
        }
        else if (infoSize >= 40 && bmp.Length >= 34)
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(bmp[18..]);
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bmp[22..]));  // negative: rows top-down
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(bmp[28..]);
            compression = (int)BinaryPrimitives.ReadUInt32LittleEndian(bmp[30..]);
        }
        else throw new InvalidDataException($"{name}: corrupt BMP (info header of {infoSize} bytes)");
        var header = Sized(ImageFormat.Bmp, width, height, name);
        if (bpp is not (1 or 4 or 8 or 16 or 24 or 32))
            throw new InvalidDataException($"{name}: corrupt BMP ({bpp} bits per pixel)");
        // Uncompressed (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS): rows padded to 4 bytes. RLE sizes are not known ahead.
        if (compression is 0 or 3 or 6)
        {
            long need = offset + (width * bpp + 31) / 32 * 4 * height;
            if (need > bmp.Length)
                throw new InvalidDataException($"{name}: truncated BMP (its {width}x{height} pixels at {bpp} bits end at byte {need}; the file ends at byte {bmp.Length})");
        }
        return header;
    }

    // --- GIF: the blocks up to the end of the first frame ---

    static ImageHeader CheckGif(ReadOnlySpan<byte> gif, string name)
    {
        if (gif.Length < 13) throw new InvalidDataException($"{name}: truncated GIF ({gif.Length} bytes, shorter than its header)");
        var header = Sized(ImageFormat.Gif, BinaryPrimitives.ReadUInt16LittleEndian(gif[6..]), BinaryPrimitives.ReadUInt16LittleEndian(gif[8..]), name);
        int pos = 13;
        if ((gif[10] & 0x80) != 0) pos += 3 << ((gif[10] & 7) + 1);   // global colour table
        while (true)
        {
            if (pos >= gif.Length) throw new InvalidDataException($"{name}: truncated GIF (it ends at byte {gif.Length} before its first frame is complete)");
            switch (gif[pos])
            {
                case 0x21:  // extension: label, then sub-blocks
                    pos = SkipSubBlocks(gif, pos + 2, name);
                    break;
                case 0x2C:  // image descriptor (10 bytes), local colour table, LZW code size, sub-blocks
                    if (pos + 10 > gif.Length) throw new InvalidDataException($"{name}: truncated GIF (image descriptor at byte {pos})");
                    byte flags = gif[pos + 9];
                    pos += 10;
                    if ((flags & 0x80) != 0) pos += 3 << ((flags & 7) + 1);
                    SkipSubBlocks(gif, pos + 1, name);
                    return header;
                case 0x3B:
                    throw new InvalidDataException($"{name}: corrupt GIF (it ends at byte {pos} without an image)");
                default:
                    throw new InvalidDataException($"{name}: corrupt GIF (byte {pos} is 0x{gif[pos]:X2}, not an extension or image descriptor)");
            }
        }
    }

    /// <summary>Position after the sub-blocks starting at <paramref name="pos"/> (each a length byte and data; 0 ends them).</summary>
    static int SkipSubBlocks(ReadOnlySpan<byte> gif, int pos, string name)
    {
        while (true)
        {
            if (pos >= gif.Length) throw new InvalidDataException($"{name}: truncated GIF (it ends at byte {gif.Length} inside a block)");
            int n = gif[pos];
            pos += 1 + n;
            if (n == 0) return pos;
        }
    }
}
