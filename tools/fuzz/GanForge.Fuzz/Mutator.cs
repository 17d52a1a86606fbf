using System.Buffers.Binary;
using System.Text;

namespace GanForge.Fuzz;

/// <summary>
/// Format-blind mutations of a byte string, as AFL's havoc stage: bit flips, bytes and 2/4/8-byte fields overwritten
/// with boundary values (either byte order), bytes inserted, deleted and duplicated, truncation, splicing with another
/// input, and in text the numbers swapped for boundary numbers. <see cref="Havoc"/> stacks 1 to 4 of them.
/// </summary>
public sealed class Mutator(Random rng)
{
    public Random Rng { get; } = rng;

    static readonly long[] Boundaries =
        [0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 32767, 32768, 65535, 65536,
         0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 100_000_000, 100_000_001, long.MaxValue, long.MinValue, -2, -128, -32768];

    static readonly string[] Numbers =
        ["0", "-1", "1", "2", "-0", "3", "4", "8", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483648",
         "4294967295", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616",
         "99999999999999999999999", "1e309", "-1e309", "NaN", "1.5", "0.0", "1e-45", "0x10", "", " "];

    /// <summary>A boundary value for a field of up to 8 bytes.</summary>
    public long Boundary() => Boundaries[Rng.Next(Boundaries.Length)] + (Rng.Next(4) == 0 ? Rng.Next(-2, 3) : 0);

    /// <summary>A boundary number as text.</summary>
    public string Number() => Numbers[Rng.Next(Numbers.Length)];

    /// <summary>1 to 4 stacked mutations of <paramref name="input"/>; <paramref name="other"/> is spliced in now and then.</summary>
    public byte[] Havoc(byte[] input, byte[]? other = null)
    {
        var b = input;
        int n = 1 << Rng.Next(3);
        for (int i = 0; i < n; i++) b = Once(b, other);
        return b;
    }

    byte[] Once(byte[] b, byte[]? other)
    {
        if (b.Length == 0) return [(byte)Rng.Next(256)];
        switch (Rng.Next(other != null ? 12 : 11))
        {
            case 0: { var c = (byte[])b.Clone(); int bit = Rng.Next(b.Length * 8); c[bit / 8] ^= (byte)(1 << (bit % 8)); return c; }
            case 1: { var c = (byte[])b.Clone(); c[Rng.Next(c.Length)] = (byte)Rng.Next(256); return c; }
            case 2: { var c = (byte[])b.Clone(); c[Rng.Next(c.Length)] = (byte)Boundary(); return c; }
            case 3: case 4: return Field(b);
            case 5: return Insert(b);
            case 6: return Delete(b);
            case 7: return Duplicate(b);
            case 8: return b[..Rng.Next(b.Length)];
            case 9: return Text(b);
            case 10: { var c = (byte[])b.Clone(); int at = Rng.Next(c.Length), len = Math.Min(c.Length - at, 1 + Rng.Next(32)); Rng.NextBytes(c.AsSpan(at, len)); return c; }
            default: return Splice(b, other!);
        }
    }

    /// <summary>A 2, 4 or 8-byte field at a random place overwritten with a boundary value, little- or big-endian.</summary>
    public byte[] Field(byte[] b)
    {
        int size = 2 << Rng.Next(3);
        if (b.Length < size) return b;
        var c = (byte[])b.Clone();
        int at = Rng.Next(b.Length - size + 1);
        // Fields of the formats here sit at multiples of their size more often than not.
        if (Rng.Next(2) == 0) at -= at % size;
        WriteField(c.AsSpan(at, size), Boundary(), bigEndian: Rng.Next(2) == 0);
        return c;
    }

    /// <summary>Writes <paramref name="value"/> into a field of 2, 4 or 8 bytes.</summary>
    public static void WriteField(Span<byte> field, long value, bool bigEndian)
    {
        switch (field.Length, bigEndian)
        {
            case (2, false): BinaryPrimitives.WriteInt16LittleEndian(field, (short)value); break;
            case (2, true): BinaryPrimitives.WriteInt16BigEndian(field, (short)value); break;
            case (4, false): BinaryPrimitives.WriteInt32LittleEndian(field, (int)value); break;
            case (4, true): BinaryPrimitives.WriteInt32BigEndian(field, (int)value); break;
            case (8, false): BinaryPrimitives.WriteInt64LittleEndian(field, value); break;
            default: BinaryPrimitives.WriteInt64BigEndian(field, value); break;
        }
    }

    byte[] Insert(byte[] b)
    {
        int at = Rng.Next(b.Length + 1), len = 1 + Rng.Next(Rng.Next(8) == 0 ? 256 : 8);
        var ins = new byte[len];
        if (Rng.Next(2) == 0) Rng.NextBytes(ins); else ins.AsSpan().Fill(b[Rng.Next(b.Length)]);
        return [.. b.AsSpan(0, at), .. ins, .. b.AsSpan(at)];
    }

    byte[] Delete(byte[] b)
    {
        int at = Rng.Next(b.Length), len = 1 + Rng.Next(Math.Min(b.Length - at, Rng.Next(8) == 0 ? 512 : 16));
        return [.. b.AsSpan(0, at), .. b.AsSpan(at + len)];
    }

    byte[] Duplicate(byte[] b)
    {
        int from = Rng.Next(b.Length), len = 1 + Rng.Next(Math.Min(b.Length - from, 64)), to = Rng.Next(b.Length + 1);
        return [.. b.AsSpan(0, to), .. b.AsSpan(from, len), .. b.AsSpan(to)];
    }

    byte[] Splice(byte[] b, byte[] other)
    {
        if (other.Length == 0) return b;
        int cut = Rng.Next(b.Length + 1), from = Rng.Next(other.Length);
        return [.. b.AsSpan(0, cut), .. other.AsSpan(from)];
    }

    /// <summary>A run of digits (or a token after ':' or '=') swapped for a boundary number; the input as Latin-1 text.</summary>
    byte[] Text(byte[] b)
    {
        var runs = new List<(int Start, int Length)>();
        for (int i = 0; i < b.Length; i++)
        {
            if (!IsDigit(b[i])) continue;
            int j = i;
            while (j < b.Length && (IsDigit(b[j]) || b[j] is (byte)'.' or (byte)'-' or (byte)'e')) j++;
            runs.Add((i, j - i));
            i = j;
        }
        if (runs.Count == 0) return Field(b);
        var (start, length) = runs[Rng.Next(runs.Count)];
        return [.. b.AsSpan(0, start), .. Encoding.ASCII.GetBytes(Number()), .. b.AsSpan(start + length)];
    }

    static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';
}
