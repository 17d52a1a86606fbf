using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanForge.Kernels;

/// <summary>
/// float32 -> bfloat16 (the upper 16 bits of a float32, rounded to nearest, ties to even) and back.
/// src: n floats -> dst: n bf16 bit patterns. NaN stays NaN (quietened), ±Inf stays ±Inf, a finite value
/// that rounds past the largest bf16 becomes ±Inf, as IEEE rounding does. .NET 10 exposes no
/// AVX512-BF16 conversion (vcvtne2ps2bf16), so the fast path is the same integer arithmetic on Vector512.
/// </summary>
public static class BFloat16
{
    /// <summary>One value: the bf16 bit pattern nearest to <paramref name="x"/> (ties to even).</summary>
    public static ushort FromFloat(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        // A NaN's payload may sit in the low half only; truncating it would make ±Inf, so set the quiet bit.
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u) return (ushort)((bits >> 16) | 0x40);
        // Adding 0x7FFF plus the lowest kept bit rounds half-way cases to the even neighbour.
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>The float32 a bf16 bit pattern stands for (exact).</summary>
    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>x rounded to the nearest bf16 and back: the value a bf16 product reads.</summary>
    public static float Round(float x) => ToFloat(FromFloat(x));

    /// <summary>Converts <paramref name="src"/> to bf16 bit patterns in <paramref name="dst"/> (same length or longer).</summary>
    public static void FromFloat(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException($"BFloat16.FromFloat: destination holds {dst.Length} values, source {src.Length}");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref float s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(src);
            ref ushort d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
            for (; i <= src.Length - 32; i += 32)
            {
                var lo = Round16(Vector512.LoadUnsafe(ref Unsafe.As<float, uint>(ref s), (nuint)i));
                var hi = Round16(Vector512.LoadUnsafe(ref Unsafe.As<float, uint>(ref s), (nuint)(i + 16)));
                Vector512.Narrow(lo, hi).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < src.Length; i++) dst[i] = FromFloat(src[i]);
    }

    // 16 floats' bits -> their bf16 patterns in the low halves (upper halves zero, so Narrow keeps them exactly).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<uint> Round16(Vector512<uint> bits)
    {
        var rounded = (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) >> 16;
        var quietNan = (bits >> 16) | Vector512.Create(0x40u);
        var isNan = Vector512.GreaterThan(bits & Vector512.Create(0x7FFF_FFFFu), Vector512.Create(0x7F80_0000u));
        return Vector512.ConditionalSelect(isNan, quietNan, rounded);
    }

    /// <summary>Converts bf16 bit patterns back to float32 (exact).</summary>
    public static void ToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException($"BFloat16.ToFloat: destination holds {dst.Length} values, source {src.Length}");
        for (int i = 0; i < src.Length; i++) dst[i] = ToFloat(src[i]);
    }
}
