using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanForge.Kernels;

/// <summary>
/// A vector of float lanes, so that a kernel is written once and runs on the widest registers the processor has:
/// <see cref="Lanes512"/> (sixteen lanes) where AVX-512 is accelerated, <see cref="Lanes256"/> (eight) elsewhere.
/// <see cref="Vector512{T}"/> itself runs on an AVX2 processor, but in software, as calls the JIT must inline: in the
/// parallel loop's lambda its inlining budget ran out and the GELU written on it took 8x as long on two threads (6x on
/// one) as on eight-lane registers. The JIT compiles a kernel generic over <c>V</c> once per width, with every member
/// inlined where the lane loop is a method of its own, so the generic form costs nothing against the kernel written on
/// the vector type.
/// </summary>
internal interface IFloatLanes<V> where V : struct, IFloatLanes<V>
{
    static abstract int Count { get; }
    static abstract V Zero { get; }
    static abstract V Of(float value);
    static abstract V Load(ref float at, nuint offset);
    void Store(ref float at, nuint offset);
    static abstract V operator +(V a, V b);
    static abstract V operator -(V a, V b);
    static abstract V operator *(V a, V b);
    static abstract V operator /(V a, V b);
    static abstract V operator -(V a);
    /// <summary>a·b + c, rounded once.</summary>
    static abstract V Fma(V a, V b, V c);
    static abstract V Abs(V x);
    /// <summary>Lanes of <paramref name="a"/> where x ≥ 0, else of <paramref name="b"/>.</summary>
    static abstract V WhereNonNegative(V x, V a, V b);
    /// <summary>e^x in every lane (<see cref="Transcendental.ExpVector(Vector512{float})"/>).</summary>
    static abstract V Exp(V x);
}

/// <summary>Sixteen lanes (AVX-512).</summary>
internal readonly struct Lanes512(Vector512<float> v) : IFloatLanes<Lanes512>
{
    readonly Vector512<float> _v = v;

    public static int Count => Vector512<float>.Count;
    public static Lanes512 Zero => new(Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Of(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load(ref float at, nuint offset) => new(Vector512.LoadUnsafe(ref at, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref float at, nuint offset) => _v.StoreUnsafe(ref at, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator +(Lanes512 a, Lanes512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator -(Lanes512 a, Lanes512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator *(Lanes512 a, Lanes512 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator /(Lanes512 a, Lanes512 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator -(Lanes512 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Fma(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Abs(Lanes512 x) => new(Vector512.Abs(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 WhereNonNegative(Lanes512 x, Lanes512 a, Lanes512 b) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x._v, Vector512<float>.Zero), a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Exp(Lanes512 x) => new(Transcendental.ExpVector(x._v));
}

/// <summary>Eight lanes (AVX2).</summary>
internal readonly struct Lanes256(Vector256<float> v) : IFloatLanes<Lanes256>
{
    readonly Vector256<float> _v = v;

    public static int Count => Vector256<float>.Count;
    public static Lanes256 Zero => new(Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Of(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Load(ref float at, nuint offset) => new(Vector256.LoadUnsafe(ref at, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref float at, nuint offset) => _v.StoreUnsafe(ref at, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator +(Lanes256 a, Lanes256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator -(Lanes256 a, Lanes256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator *(Lanes256 a, Lanes256 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator /(Lanes256 a, Lanes256 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator -(Lanes256 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Fma(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Abs(Lanes256 x) => new(Vector256.Abs(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 WhereNonNegative(Lanes256 x, Lanes256 a, Lanes256 b) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x._v, Vector256<float>.Zero), a._v, b._v));
    // Through the Vector<float> form, which is these eight lanes on AVX2 (element by element where it is not).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Exp(Lanes256 x) => System.Numerics.Vector<float>.Count == Vector256<float>.Count
        ? new(Transcendental.ExpVector(x._v.AsVector()).AsVector256())
        : new(Vector256.Create(MathF.Exp(x._v[0]), MathF.Exp(x._v[1]), MathF.Exp(x._v[2]), MathF.Exp(x._v[3]),
            MathF.Exp(x._v[4]), MathF.Exp(x._v[5]), MathF.Exp(x._v[6]), MathF.Exp(x._v[7])));
}
