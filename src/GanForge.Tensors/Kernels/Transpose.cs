using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>Blocks of floats transposed in AVX-512 registers (callers check <see cref="Avx512F.IsSupported"/>).</summary>
internal static class Transpose
{
    /// <summary>dst[c·ldd + r] = src[r·lds + c] for r, c in 0..16: sixteen rows of sixteen floats transposed in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sixteen(ref float src, nint lds, ref float dst, nint ldd)
    {
        // Stage 1: 32-bit interleave of row pairs within 128-bit lanes.
        var t0 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src), Vector512.LoadUnsafe(ref src, (nuint)lds));
        var t1 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src), Vector512.LoadUnsafe(ref src, (nuint)lds));
        var t2 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(2 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(3 * lds)));
        var t3 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(2 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(3 * lds)));
        var t4 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(4 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(5 * lds)));
        var t5 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(4 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(5 * lds)));
        var t6 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(6 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(7 * lds)));
        var t7 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(6 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(7 * lds)));
        var t8 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(8 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(9 * lds)));
        var t9 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(8 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(9 * lds)));
        var t10 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(10 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(11 * lds)));
        var t11 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(10 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(11 * lds)));
        var t12 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(12 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(13 * lds)));
        var t13 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(12 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(13 * lds)));
        var t14 = Avx512F.UnpackLow(Vector512.LoadUnsafe(ref src, (nuint)(14 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(15 * lds)));
        var t15 = Avx512F.UnpackHigh(Vector512.LoadUnsafe(ref src, (nuint)(14 * lds)), Vector512.LoadUnsafe(ref src, (nuint)(15 * lds)));
        // Stage 2: 64-bit interleave; u{4g + e} holds, in lane l, element 4l+e of rows 4g..4g+3.
        Lo64Hi64(t0, t2, out var u0, out var u1); Lo64Hi64(t1, t3, out var u2, out var u3);
        Lo64Hi64(t4, t6, out var u4, out var u5); Lo64Hi64(t5, t7, out var u6, out var u7);
        Lo64Hi64(t8, t10, out var u8, out var u9); Lo64Hi64(t9, t11, out var u10, out var u11);
        Lo64Hi64(t12, t14, out var u12, out var u13); Lo64Hi64(t13, t15, out var u14, out var u15);
        // Stages 3-4: gather lane l of the four row groups into output row 4l+e.
        Rows(u0, u4, u8, u12, ref dst, ldd);
        Rows(u1, u5, u9, u13, ref Unsafe.Add(ref dst, ldd), ldd);
        Rows(u2, u6, u10, u14, ref Unsafe.Add(ref dst, 2 * ldd), ldd);
        Rows(u3, u7, u11, u15, ref Unsafe.Add(ref dst, 3 * ldd), ldd);
    }

    /// <summary>
    /// The sums of sixteen rows of sixteen floats (row r at rows[16·r]) as one vector, lane r the sum of row r: four
    /// rounds of shuffles, each adding pairs of vectors' halves, then one permute: 47 instructions where sixteen
    /// <see cref="Lanes512.Sum"/> take 128.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RowSums(ref float rows)
    {
        // Round 2: quarter q of e_u holds row 4u + q's four partial sums.
        var e0 = Quarters(Halves(ref rows, 0), Halves(ref rows, 1));
        var e1 = Quarters(Halves(ref rows, 2), Halves(ref rows, 3));
        var e2 = Quarters(Halves(ref rows, 4), Halves(ref rows, 5));
        var e3 = Quarters(Halves(ref rows, 6), Halves(ref rows, 7));
        // Rounds 3 and 4 within each quarter q: two partial sums of rows q and 4 + q (of 8 + q and 12 + q), then each
        // row's total: lane 4q + s ends with row 4s + q, put in order by one permute.
        var (g0, g1) = (Pairs(e0, e1), Pairs(e2, e3));
        var h = Avx512F.Shuffle(g0, g1, 0b10_00_10_00) + Avx512F.Shuffle(g0, g1, 0b11_01_11_01);
        return Avx512F.PermuteVar16x32(h, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    }

    // Round 1 of RowSums: quarters 0-1 hold row 2t's two halves added, quarters 2-3 row 2t + 1's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Halves(ref float rows, int t)
    {
        var (a, b) = (Vector512.LoadUnsafe(ref rows, (nuint)(32 * t)), Vector512.LoadUnsafe(ref rows, (nuint)(32 * t + 16)));
        return Avx512F.Shuffle4x128(a, b, 0b01_00_01_00) + Avx512F.Shuffle4x128(a, b, 0b11_10_11_10);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Quarters(Vector512<float> c, Vector512<float> d) =>
        Avx512F.Shuffle4x128(c, d, 0b10_00_10_00) + Avx512F.Shuffle4x128(c, d, 0b11_01_11_01);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Pairs(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle(x, y, 0b01_00_01_00) + Avx512F.Shuffle(x, y, 0b11_10_11_10);

    // Rows e, 4 + e, 8 + e and 12 + e of the transpose, from the four row groups' element e.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Rows(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, ref float dst, nint ldd)
    {
        var v = Avx512F.Shuffle4x128(g0, g1, 0x88); var w = Avx512F.Shuffle4x128(g0, g1, 0xDD);
        var v2 = Avx512F.Shuffle4x128(g2, g3, 0x88); var w2 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        Avx512F.Shuffle4x128(v, v2, 0x88).StoreUnsafe(ref dst);
        Avx512F.Shuffle4x128(w, w2, 0x88).StoreUnsafe(ref dst, (nuint)(4 * ldd));
        Avx512F.Shuffle4x128(v, v2, 0xDD).StoreUnsafe(ref dst, (nuint)(8 * ldd));
        Avx512F.Shuffle4x128(w, w2, 0xDD).StoreUnsafe(ref dst, (nuint)(12 * ldd));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Lo64Hi64(Vector512<float> x, Vector512<float> y, out Vector512<float> lo, out Vector512<float> hi)
    {
        lo = Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle();
        hi = Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();
    }
}
