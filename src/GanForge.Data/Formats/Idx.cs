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
    /// <remarks>
    /// The header is read first and the data after it in steps, up to what the header claims and one byte more, so
    /// memory follows what the file holds: a header claiming more than the data, or a gzip stream that inflates far
    /// beyond its header's claim, is refused without taking more than the data's size.
    /// </remarks>
    public static IdxArray Read(Stream stream, string name)
    {
        using var source = OpenMaybeGzip(stream, name);
        Span<byte> magic = stackalloc byte[4];
        int got = ReadFully(source, magic, name);
        if (got < 4)
            throw new InvalidDataException($"{name}: file holds {got} bytes, too short for an IDX header");
        if (magic[0] != 0 || magic[1] != 0)
            throw new InvalidDataException($"{name}: bad IDX magic {magic[0]:X2} {magic[1]:X2} {magic[2]:X2} {magic[3]:X2} (expected 00 00 <type> <ndim>)");
        if (magic[2] != UByte)
            throw new InvalidDataException($"{name}: IDX data type 0x{magic[2]:X2} is not supported (only 0x08 unsigned byte)");
        int ndim = magic[3];
        if (ndim == 0 || ndim > 8)
            throw new InvalidDataException($"{name}: IDX header claims {ndim} dimensions");
        int header = 4 + 4 * ndim;
        var sizes = new byte[4 * ndim];
        got = ReadFully(source, sizes, name);
        if (got < sizes.Length)
            throw new InvalidDataException($"{name}: file holds {4 + got} bytes, too short for an IDX header of {ndim} dimensions");
        var dims = new int[ndim];
        long expected = 1;
        for (int d = 0; d < ndim; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(4 * d));
            if (size > int.MaxValue)
                throw new InvalidDataException($"{name}: IDX dimension {d} has impossible size {size}");
            dims[d] = (int)size;
            // Saturate rather than overflow: any product past Array.MaxLength is refused below anyway.
            expected = size == 0 ? 0 : expected > (long)Array.MaxLength / size ? (long)Array.MaxLength + 1 : expected * size;
        }
        var (data, actual, exact) = ReadData(source, expected, name);
        if (actual != expected)
            throw new InvalidDataException($"{name}: header says {Describe(dims)} but file holds {(exact ? actual : $"more than {expected}")} bytes of {(ndim == 1 ? "label" : "pixel")} data (expected {(expected > Array.MaxLength ? $"over {Array.MaxLength}" : expected)})");
        return new IdxArray(dims, data);
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

    /// <summary>The stream, or a gzip decompressor over it when it starts with the gzip magic 1F 8B.</summary>
    static Stream OpenMaybeGzip(Stream stream, string name)
    {
        var buffered = stream.CanSeek ? stream : new BufferedStream(stream);
        Span<byte> two = stackalloc byte[2];
        long start = buffered.CanSeek ? buffered.Position : 0;
        int n = buffered.ReadAtLeast(two, 2, throwOnEndOfStream: false);
        if (!buffered.CanSeek)
        {
            // A stream that cannot seek: read it whole (the files read here are seekable; this is for callers' streams).
            var all = new MemoryStream();
            all.Write(two[..n]);
            buffered.CopyTo(all);
            all.Position = 0;
            buffered = all;
        }
        else buffered.Position = start;
        bool gzip = n == 2 && two[0] == 0x1F && two[1] == 0x8B;
        return gzip ? new GZipStream(buffered, CompressionMode.Decompress, leaveOpen: true) : new NonClosing(buffered);
    }

    /// <summary>Fills <paramref name="buffer"/> as far as the stream goes; corrupt gzip data says so with the file's name.</summary>
    static int ReadFully(Stream s, Span<byte> buffer, string name)
    {
        try { return s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false); }
        // Besides InvalidDataException, zlib's own errors come as an IOException (ZLibException).
        catch (Exception e) when (e is InvalidDataException || (e is IOException && s is GZipStream))
        { throw new InvalidDataException($"{name}: corrupt gzip data ({MessageText.Quote(e.Message, 100)})", e); }
    }

    /// <summary>
    /// The data after the header: <paramref name="expected"/> bytes when the stream holds exactly that many; else the
    /// count it holds, exact unless it runs past expected (a stream is not read further). Memory grows with what is read.
    /// </summary>
    static (byte[] Data, long Count, bool Exact) ReadData(Stream s, long expected, string name)
    {
        // A raw file says how many bytes are left: a wrong count is known before anything is read, and the data is read
        // straight into its array.
        if (s.CanSeek)
        {
            long left = s.Length - s.Position;
            if (left != expected) return ([], left, true);
            var whole = GC.AllocateUninitializedArray<byte>((int)expected);
            int got = ReadFully(s, whole, name);
            return got == expected ? (whole, expected, true) : ([], got, true);
        }
        // A stream (gzip) says nothing of its length, and a header may lie: read in chunks that grow with what comes (to
        // 4 MB), then copy them into one array of the size found. Fresh memory twice the data, where a growing array
        // took up to three times (each doubling a new one, then a copy of the right size).
        var chunks = new List<byte[]>();
        long count = 0;
        int size = 1 << 16;
        while (count <= expected)
        {
            var chunk = GC.AllocateUninitializedArray<byte>((int)Math.Min(size, expected + 1 - count));
            int n = ReadFully(s, chunk, name);
            if (n == 0) break;
            chunks.Add(n == chunk.Length ? chunk : chunk[..n]);
            count += n;
            if (n < chunk.Length) break;
            size = Math.Min(size * 2, 1 << 22);
        }
        if (count != expected) return ([], count, count < expected);
        var data = GC.AllocateUninitializedArray<byte>((int)expected);
        int at = 0;
        foreach (var chunk in chunks) { chunk.CopyTo(data, at); at += chunk.Length; }
        return (data, expected, true);
    }

    /// <summary>Leaves the caller's stream open when the reader is disposed.</summary>
    sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
