using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using GanForge.Serialization;

namespace GanForge.Data.Formats;

/// <summary>
/// NumPy .npy files of float32 ('&lt;f4', C order): written as format version 1.0; versions 1.0, 2.0
/// and 3.0 are read. Used for latents and raw generator outputs.
/// </summary>
public static partial class Npy
{
    static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes <paramref name="tensor"/> atomically.</summary>
    public static void Save(string path, Tensor tensor) => AtomicFile.WriteAllBytes(path, Encode(tensor));

    /// <summary>The .npy bytes of <paramref name="tensor"/>.</summary>
    public static byte[] Encode(Tensor tensor)
    {
        var s = tensor.ShapeSpan;
        string shape = s.Length switch
        {
            0 => "()",
            1 => $"({s[0]},)",
            _ => "(" + string.Join(", ", s.ToArray()) + ")",
        };
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        // Magic (6) + version (2) + length (2) + header, padded with spaces and ending in '\n' to a multiple of 64.
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        if (padded - 10 > ushort.MaxValue) throw new ArgumentException($"Npy: shape {Shapes.Format(s)} makes a header too long for version 1.0");
        var header = dict + new string(' ', padded - total) + "\n";

        var bytes = new byte[padded + tensor.Numel * 4];
        Magic.CopyTo(bytes);
        bytes[6] = 1; bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        var body = bytes.AsSpan(padded);
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(tensor.Data).CopyTo(body);
        else for (int i = 0; i < tensor.Numel; i++) BinaryPrimitives.WriteSingleLittleEndian(body[(4 * i)..], tensor.Data[i]);
        return bytes;
    }

    /// <summary>Reads a float32 .npy file.</summary>
    public static Tensor Load(string path) => Decode(File.ReadAllBytes(path), Path.GetFileName(path));

    /// <summary>Reads .npy bytes; <paramref name="name"/> appears in error messages.</summary>
    public static Tensor Decode(ReadOnlySpan<byte> npy, string name = "npy")
    {
        if (npy.Length < 10 || !npy[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy file (bad magic)");
        int major = npy[6];
        int headerLen, start;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(npy[8..]); start = 10; }
        else if (major is 2 or 3)
        {
            if (npy.Length < 12) throw new InvalidDataException($"{name}: truncated header");
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(npy[8..]);
            if (len > int.MaxValue) throw new InvalidDataException($"{name}: header length {len} is impossible");
            headerLen = (int)len; start = 12;
        }
        else throw new InvalidDataException($"{name}: .npy format version {major}.{npy[7]} is not supported");
        if (npy.Length < start + headerLen) throw new InvalidDataException($"{name}: header of {headerLen} bytes runs past the end of the file");
        string header = Encoding.UTF8.GetString(npy.Slice(start, headerLen));

        var descr = DescrPattern().Match(header);
        if (!descr.Success) throw new InvalidDataException($"{name}: header has no 'descr': {MessageText.Quote(header.Trim())}");
        string dtype = descr.Groups[1].Value;
        if (dtype != "<f4")
            throw new InvalidDataException($"{name}: dtype '{MessageText.Quote(dtype, 16)}' is not supported (only float32 '<f4'); convert with arr.astype('<f4')");
        var fortran = FortranPattern().Match(header);
        if (!fortran.Success) throw new InvalidDataException($"{name}: header has no 'fortran_order': {MessageText.Quote(header.Trim())}");
        if (fortran.Groups[1].Value == "True")
            throw new InvalidDataException($"{name}: Fortran-order arrays are not supported; save with np.ascontiguousarray");
        var shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success) throw new InvalidDataException($"{name}: header has no 'shape': {MessageText.Quote(header.Trim())}");
        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
                : throw new InvalidDataException($"{name}: bad shape entry '{MessageText.Quote(p, 24)}'"))
            .ToArray();

        long numel = 1;
        foreach (int d in shape)
            numel = d == 0 ? 0 : numel > Array.MaxLength / d ? (long)Array.MaxLength + 1 : numel * d;   // saturates: too many is refused below
        if (numel > Array.MaxLength / 4)
            throw new InvalidDataException($"{name}: shape {MessageText.Quote(Shapes.Format(shape), 80)} has too many elements for one tensor");
        long available = npy.Length - start - headerLen;
        if (available != numel * 4)
            throw new InvalidDataException($"{name}: shape {MessageText.Quote(Shapes.Format(shape), 80)} needs {numel * 4} bytes of float32 data but the file holds {available}");
        var t = new Tensor(shape);
        var body = npy[(start + headerLen)..];
        if (BitConverter.IsLittleEndian) body.CopyTo(MemoryMarshal.AsBytes(t.Data));
        else for (int i = 0; i < t.Numel; i++) t.Data[i] = BinaryPrimitives.ReadSingleLittleEndian(body[(4 * i)..]);
        return t;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
