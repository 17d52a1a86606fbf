using System.Buffers.Binary;
using System.IO.Compression;
using GanForge.Serialization;

namespace GanForge.Data.Formats;

/// <summary>An unsigned-byte IDX array (the MNIST file format): its dimensions and its bytes, row-major.</summary>
public sealed record IdxArray(int[] Dims, byte[] Data)
{
    /// <summary>Size of the first dimension (the number of items).</summary>
    public int Count => Dims.Length == 0 ? 1 : Dims[0];
}

/// <summary>
/// Reads and writes IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed; gzip is detected from
/// the magic bytes 1F 8B, not the file name.
/// </summary>
/// <remarks>
/// Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type supported), the number of
/// dimensions, each dimension as a big-endian int32, then the data row-major.
/// </remarks>
public static class Idx
{
    const byte UByte = 0x08;

    /// <summary>Reads an IDX file of unsigned bytes with any number of dimensions.</summary>
    public static IdxArray Read(string path)
    {
        using var fs = OpenRead(path);
        return Read(fs, Path.GetFileName(path));
    }

    /// <summary>Reads an IDX stream; <paramref name="name"/> appears in error messages.</summary>
    public static IdxArray Read(Stream stream, string name)
    {
        var bytes = ReadAllMaybeGzip(stream, name);
        if (bytes.Length < 4)
            throw new InvalidDataException($"{name}: file holds {bytes.Length} bytes, too short for an IDX header");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{name}: bad IDX magic {bytes[0]:X2} {bytes[1]:X2} {bytes[2]:X2} {bytes[3]:X2} (expected 00 00 <type> <ndim>)");
        if (bytes[2] != UByte)
            throw new InvalidDataException($"{name}: IDX data type 0x{bytes[2]:X2} is not supported (only 0x08 unsigned byte)");
        int ndim = bytes[3];
        if (ndim == 0 || ndim > 8)
            throw new InvalidDataException($"{name}: IDX header claims {ndim} dimensions");
        int header = 4 + 4 * ndim;
        if (bytes.Length < header)
            throw new InvalidDataException($"{name}: file holds {bytes.Length} bytes, too short for an IDX header of {ndim} dimensions");
        var dims = new int[ndim];
        long expected = 1;
        for (int d = 0; d < ndim; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (size > int.MaxValue)
                throw new InvalidDataException($"{name}: IDX dimension {d} has impossible size {size}");
            dims[d] = (int)size;
            expected *= size;
        }
        long actual = bytes.Length - header;
        if (actual != expected)
            throw new InvalidDataException($"{name}: header says {Describe(dims)} but file holds {actual} bytes of {(ndim == 1 ? "label" : "pixel")} data (expected {expected})");
        return new IdxArray(dims, bytes.AsSpan(header).ToArray());
    }

    /// <summary>Reads an image file: three dimensions (N, rows, cols).</summary>
    public static IdxArray ReadImages(string path)
    {
        using var fs = OpenRead(path);
        return ReadImages(fs, Path.GetFileName(path));
    }

    /// <summary>Reads an image stream: three dimensions (N, rows, cols).</summary>
    public static IdxArray ReadImages(Stream stream, string name)
    {
        var a = Read(stream, name);
        if (a.Dims.Length != 3)
            throw new InvalidDataException($"{name}: expected an IDX image file with 3 dimensions (N,rows,cols), found {a.Dims.Length} dimensions {Shapes.Format(a.Dims)}");
        return a;
    }

    /// <summary>Reads a label file: one dimension (N).</summary>
    public static IdxArray ReadLabels(string path)
    {
        using var fs = OpenRead(path);
        return ReadLabels(fs, Path.GetFileName(path));
    }

    /// <summary>Reads a label stream: one dimension (N).</summary>
    public static IdxArray ReadLabels(Stream stream, string name)
    {
        var a = Read(stream, name);
        if (a.Dims.Length != 1)
            throw new InvalidDataException($"{name}: expected an IDX label file with 1 dimension (N), found {a.Dims.Length} dimensions {Shapes.Format(a.Dims)}");
        return a;
    }

    /// <summary>Checks that an image file and a label file describe the same number of items.</summary>
    public static void CheckPair(IdxArray images, string imagesName, IdxArray labels, string labelsName)
    {
        if (images.Count != labels.Count)
            throw new InvalidDataException($"{imagesName} holds {images.Count} images but {labelsName} holds {labels.Count} labels");
    }

    /// <summary>Writes an unsigned-byte IDX file atomically; gzip-compressed when <paramref name="gzip"/> is set.</summary>
    public static void Write(string path, ReadOnlySpan<int> dims, ReadOnlySpan<byte> data, bool gzip = false)
    {
        long n = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Idx.Write: negative dimension in {Shapes.Format(dims)}");
            n *= d;
        }
        if (dims.Length is 0 or > 255)
            throw new ArgumentException($"Idx.Write: {dims.Length} dimensions is not writable as IDX");
        if (n != data.Length)
            throw new ArgumentException($"Idx.Write: {data.Length} bytes do not fill dimensions {Shapes.Format(dims)} ({n} bytes)");
        var header = new byte[4 + 4 * dims.Length];
        header[2] = UByte;
        header[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * d), dims[d]);
        var body = data.ToArray();
        AtomicFile.Write(path, s =>
        {
            if (gzip)
            {
                using var gz = new GZipStream(s, CompressionLevel.Optimal, leaveOpen: true);
                gz.Write(header); gz.Write(body);
            }
            else { s.Write(header); s.Write(body); }
        });
    }

    /// <summary>Writes images (N, rows, cols) as an IDX3 file.</summary>
    public static void WriteImages(string path, ReadOnlySpan<byte> pixels, int count, int rows, int cols, bool gzip = false) =>
        Write(path, [count, rows, cols], pixels, gzip);

    /// <summary>Writes labels (N) as an IDX1 file.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels, bool gzip = false) =>
        Write(path, [labels.Length], labels, gzip);

    /// <summary>
    /// Writes a batch tensor (N,1,H,W) or (N,H,W) as IDX3 ubyte images, mapping [lo, hi] to 0..255 with
    /// clamping (lo = -1 for generator outputs in [-1,1]).
    /// </summary>
    public static void WriteImages(string path, Tensor images, float lo = -1f, float hi = 1f, bool gzip = false)
    {
        var s = images.ShapeSpan;
        if (!(s.Length == 3 || (s.Length == 4 && s[1] == 1)))
            throw new ArgumentException($"Idx.WriteImages: expected (N,1,H,W) or (N,H,W) grayscale images, got {Shapes.Format(s)}");
        int n = s[0], h = s[^2], w = s[^1];
        var bytes = new byte[images.Numel];
        PixelConvert.ToBytes(images.Data, bytes, lo, hi);
        WriteImages(path, bytes, n, h, w, gzip);
    }

    static string Describe(int[] dims) => dims.Length switch
    {
        1 => $"{dims[0]} labels",
        3 => $"{dims[0]} images of {dims[1]}x{dims[2]}",
        _ => $"dimensions {Shapes.Format(dims)}",
    };

    static FileStream OpenRead(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    internal static byte[] ReadAllMaybeGzip(Stream stream, string name)
    {
        using var raw = new MemoryStream();
        stream.CopyTo(raw);
        var bytes = raw.ToArray();
        if (bytes.Length < 2 || bytes[0] != 0x1F || bytes[1] != 0x8B) return bytes;
        try
        {
            using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var unpacked = new MemoryStream();
            gz.CopyTo(unpacked);
            return unpacked.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{name}: corrupt gzip data ({e.Message})", e);
        }
    }
}
