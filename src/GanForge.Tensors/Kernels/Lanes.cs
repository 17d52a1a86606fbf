using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// A vector of float lanes, so that a kernel is written once and runs on the widest registers the processor has:
/// <see cref="Lanes512"/> (sixteen lanes) where AVX-512 is accelerated, <see cref="Lanes256"/> (eight) elsewhere.
/// <see cref="Vector512{T}"/> itself runs on an AVX2 processor, but in software, as calls the JIT must inline: in the
/// parallel loop's lambda its inlining budget ran out and the GELU written on it took 8x as long on two threads (6x on
/// one) as on eight-lane registers. The JIT compiles a kernel generic over <c>V</c> once per width, with every member
/// inlined where the lane loop is a method of its own, so the generic form costs nothing against the kernel written on
/// the vector type. Comparisons return masks as lanes (all bits set where true), as the vector types' own do.
/// </summary>
internal interface IFloatLanes<V> where V : struct, IFloatLanes<V>
{
    static abstract int Count { get; }
    static abstract V Zero { get; }
    /// <summary>0, 1, 2, ... in the lanes.</summary>
    static abstract V Indices { get; }
    static abstract V Of(float value);
    static abstract V Load(ref float at, nuint offset);
    void Store(ref float at, nuint offset);
    static abstract V operator +(V a, V b);
    static abstract V operator -(V a, V b);
    static abstract V operator *(V a, V b);
    static abstract V operator /(V a, V b);
    static abstract V operator -(V a);
    static abstract V operator &(V a, V b);
    static abstract V operator |(V a, V b);
    /// <summary>a·b + c, rounded once.</summary>
    static abstract V Fma(V a, V b, V c);
    static abstract V Abs(V x);
    /// <summary>The smaller lane, the processor's own instruction (which of the two on NaN is unspecified).</summary>
    static abstract V Min(V a, V b);
    /// <summary>The larger lane, the processor's own instruction (which of the two on NaN is unspecified).</summary>
    static abstract V Max(V a, V b);
    /// <summary>To the nearest integer, ties to even.</summary>
    static abstract V Round(V x);
    /// <summary>p·2ⁿ for n integral in [-150, 128] (n up to 254 for p below 1): exact, or rounded once into the denormals.</summary>
    static abstract V ScaleByPowerOf2(V p, V n);
    static abstract V LessThan(V a, V b);
    static abstract V GreaterThan(V a, V b);
    static abstract V Equals(V a, V b);
    /// <summary>Lanes of <paramref name="a"/> where <paramref name="mask"/> (a comparison's: all bits of a lane or none) is set, else of <paramref name="b"/>.</summary>
    static abstract V Select(V mask, V a, V b);
    /// <summary>Lanes of <paramref name="a"/> where x ≥ 0, else of <paramref name="b"/>.</summary>
    static abstract V WhereNonNegative(V x, V a, V b);
    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(V x);
    /// <summary>The largest lane, by the processor's own max (as <see cref="Max"/>: which lane wins against NaN is unspecified).</summary>
    static abstract float Largest(V x);
}

/// <summary>Which lanes a kernel runs on.</summary>
internal static class FloatLanes
{
    /// <summary>A mask of the first <paramref name="count"/> of sixteen float lanes (all bits or none), for masked loads and stores.</summary>
    public static Vector512<float> FirstLanes(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>LeakyReLU's derivative at v, lane by lane: 1 where v &gt; 0, <paramref name="slope"/> elsewhere (NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LeakyDerivative(Vector512<float> v, Vector512<float> slope) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), Vector512<float>.One, slope);

    /// <summary>The widest accelerated lanes: sixteen (<see cref="Lanes512"/>) where AVX-512 is, else eight (<see cref="Lanes256"/>).</summary>
    public static int Widest => Vector512.IsHardwareAccelerated ? Lanes512.Count : Lanes256.Count;

    /// <summary>
    /// The lanes for a kernel bound by one vector's chain of dependent operations (e^x, tanh, the GELU): two vectors
    /// interleaved, of sixteen where AVX-512 is (<see cref="Lanes512x2"/>), else of eight (<see cref="Lanes256x2"/>).
    /// </summary>
    public static LaneKind ForChains => Vector512.IsHardwareAccelerated
        ? Paired ? LaneKind.SixteenTwice : LaneKind.Sixteen
        : Paired ? LaneKind.EightTwice : LaneKind.Eight;

    /// <summary>Chain-bound kernels on two interleaved vectors (the default) or on one (the bench's switch paired-lanes).</summary>
    internal static bool Paired { get; set; } = true;
}

/// <summary>The lanes a kernel generic over <see cref="IFloatLanes{V}"/> is run on; tests run every kind on any processor.</summary>
internal enum LaneKind
{
    /// <summary><see cref="Lanes256"/>.</summary>
    Eight,
    /// <summary><see cref="Lanes256x2"/>.</summary>
    EightTwice,
    /// <summary><see cref="Lanes512"/> (in software without AVX-512).</summary>
    Sixteen,
    /// <summary><see cref="Lanes512x2"/> (in software without AVX-512).</summary>
    SixteenTwice,
}

/// <summary>Sixteen lanes (AVX-512).</summary>
internal readonly struct Lanes512(Vector512<float> v) : IFloatLanes<Lanes512>
{
    readonly Vector512<float> _v = v;

    /// <summary>The lanes as the vector type, for kernels written on it.</summary>
    public Vector512<float> Vector => _v;

    public static int Count => Vector512<float>.Count;
    public static Lanes512 Zero => new(Vector512<float>.Zero);
    public static Lanes512 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector512<float>.Indices); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Of(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load(ref float at, nuint offset) => new(Vector512.LoadUnsafe(ref at, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref float at, nuint offset) => _v.StoreUnsafe(ref at, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator +(Lanes512 a, Lanes512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator -(Lanes512 a, Lanes512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator *(Lanes512 a, Lanes512 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator /(Lanes512 a, Lanes512 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator -(Lanes512 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator &(Lanes512 a, Lanes512 b) => new(a._v & b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator |(Lanes512 a, Lanes512 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Fma(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Abs(Lanes512 x) => new(Vector512.Abs(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Min(Lanes512 a, Lanes512 b) => new(Vector512.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Max(Lanes512 a, Lanes512 b) => new(Vector512.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Round(Lanes512 x) => new(Vector512.Round(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 ScaleByPowerOf2(Lanes512 p, Lanes512 n) => Avx512F.IsSupported
        ? new(Avx512F.Scale(p._v, n._v))   // vscalefps: one instruction, rounded once into the denormals
        : new(TwoHalves(p._v, Vector512.ConvertToInt32Native(n._v)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 LessThan(Lanes512 a, Lanes512 b) => new(Vector512.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 GreaterThan(Lanes512 a, Lanes512 b) => new(Vector512.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Equals(Lanes512 a, Lanes512 b) => new(Vector512.Equals(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Select(Lanes512 mask, Lanes512 a, Lanes512 b) => new(Vector512.ConditionalSelect(mask._v, a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 WhereNonNegative(Lanes512 x, Lanes512 a, Lanes512 b) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x._v, Vector512<float>.Zero), a._v, b._v));
    // Halves added down to four lanes, then two shuffles: eight instructions where Vector512.Sum's expansion took 25.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes512 x)
    {
        var half = x._v.GetLower() + x._v.GetUpper();
        return Lanes256.SumOfFour(half.GetLower() + half.GetUpper());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Largest(Lanes512 x)
    {
        var half = Vector256.MaxNative(x._v.GetLower(), x._v.GetUpper());
        return Lanes256.LargestOfFour(Vector128.MaxNative(half.GetLower(), half.GetUpper()));
    }

    // p·2^k as p·2^⌊k/2⌋·2^(k−⌊k/2⌋), each factor a normal float built in the exponent bits, so k from -150 to 128 stays exact.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> TwoHalves(Vector512<float> p, Vector512<int> k)
    {
        var half = Vector512.ShiftRightArithmetic(k, 1);
        return p * Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle() * Vector512.ShiftLeft(k - half + Vector512.Create(127), 23).AsSingle();
    }
}

/// <summary>Eight lanes (AVX2).</summary>
internal readonly struct Lanes256(Vector256<float> v) : IFloatLanes<Lanes256>
{
    readonly Vector256<float> _v = v;

    /// <summary>The lanes as the vector type.</summary>
    public Vector256<float> Vector => _v;

    public static int Count => Vector256<float>.Count;
    public static Lanes256 Zero => new(Vector256<float>.Zero);
    public static Lanes256 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector256<float>.Indices); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Of(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Load(ref float at, nuint offset) => new(Vector256.LoadUnsafe(ref at, offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref float at, nuint offset) => _v.StoreUnsafe(ref at, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator +(Lanes256 a, Lanes256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator -(Lanes256 a, Lanes256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator *(Lanes256 a, Lanes256 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator /(Lanes256 a, Lanes256 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator -(Lanes256 a) => new(-a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator &(Lanes256 a, Lanes256 b) => new(a._v & b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator |(Lanes256 a, Lanes256 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Fma(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Abs(Lanes256 x) => new(Vector256.Abs(x._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Min(Lanes256 a, Lanes256 b) => new(Vector256.MinNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Max(Lanes256 a, Lanes256 b) => new(Vector256.MaxNative(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Round(Lanes256 x) => new(Vector256.Round(x._v));
    // p·2^⌊k/2⌋·2^(k−⌊k/2⌋), each factor a normal float built in the exponent bits, so k from -150 to 128 stays exact.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 ScaleByPowerOf2(Lanes256 p, Lanes256 n)
    {
        var k = Vector256.ConvertToInt32Native(n._v);
        var half = Vector256.ShiftRightArithmetic(k, 1);
        return new(p._v * Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle() * Vector256.ShiftLeft(k - half + Vector256.Create(127), 23).AsSingle());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 LessThan(Lanes256 a, Lanes256 b) => new(Vector256.LessThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 GreaterThan(Lanes256 a, Lanes256 b) => new(Vector256.GreaterThan(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Equals(Lanes256 a, Lanes256 b) => new(Vector256.Equals(a._v, b._v));
    // Masks come from comparisons (all bits or none), so one blend on the sign bit does what and, andnot and or did.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Select(Lanes256 mask, Lanes256 a, Lanes256 b) =>
        new(Avx.IsSupported ? Avx.BlendVariable(b._v, a._v, mask._v) : Vector256.ConditionalSelect(mask._v, a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 WhereNonNegative(Lanes256 x, Lanes256 a, Lanes256 b) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x._v, Vector256<float>.Zero), a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes256 x) => SumOfFour(x._v.GetLower() + x._v.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Largest(Lanes256 x) => LargestOfFour(Vector128.MaxNative(x._v.GetLower(), x._v.GetUpper()));

    /// <summary>The sum of four lanes: the 64-bit halves swapped and added, then neighbours.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float SumOfFour(Vector128<float> q)
    {
        q += Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1));
        return (q + Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    /// <summary>The largest of four lanes, by the same swaps as <see cref="SumOfFour"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float LargestOfFour(Vector128<float> q)
    {
        q = Vector128.MaxNative(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MaxNative(q, Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }
}

/// <summary>
/// Sixteen lanes as two eight-lane vectors (AVX2), every operation on both halves one after the other: a kernel bound
/// by one vector's chain of dependent operations (e^x, the GELU) gets two independent chains in its instruction stream.
/// </summary>
internal readonly struct Lanes256x2(Vector256<float> lo, Vector256<float> hi) : IFloatLanes<Lanes256x2>
{
    readonly Vector256<float> _lo = lo, _hi = hi;

    static Lanes256 Eight(Vector256<float> v) => new(v);

    public static int Count => 2 * Vector256<float>.Count;
    public static Lanes256x2 Zero => new(Vector256<float>.Zero, Vector256<float>.Zero);
    public static Lanes256x2 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector256<float>.Indices, Vector256<float>.Indices + Vector256.Create(8f)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Of(float value) { var v = Vector256.Create(value); return new(v, v); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Load(ref float at, nuint offset) =>
        new(Vector256.LoadUnsafe(ref at, offset), Vector256.LoadUnsafe(ref at, offset + 8));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref float at, nuint offset) { _lo.StoreUnsafe(ref at, offset); _hi.StoreUnsafe(ref at, offset + 8); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator +(Lanes256x2 a, Lanes256x2 b) => new(a._lo + b._lo, a._hi + b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator -(Lanes256x2 a, Lanes256x2 b) => new(a._lo - b._lo, a._hi - b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator *(Lanes256x2 a, Lanes256x2 b) => new(a._lo * b._lo, a._hi * b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator /(Lanes256x2 a, Lanes256x2 b) => new(a._lo / b._lo, a._hi / b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator -(Lanes256x2 a) => new(-a._lo, -a._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator &(Lanes256x2 a, Lanes256x2 b) => new(a._lo & b._lo, a._hi & b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 operator |(Lanes256x2 a, Lanes256x2 b) => new(a._lo | b._lo, a._hi | b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Fma(Lanes256x2 a, Lanes256x2 b, Lanes256x2 c) =>
        new(Vector256.FusedMultiplyAdd(a._lo, b._lo, c._lo), Vector256.FusedMultiplyAdd(a._hi, b._hi, c._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Abs(Lanes256x2 x) => new(Vector256.Abs(x._lo), Vector256.Abs(x._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Min(Lanes256x2 a, Lanes256x2 b) => new(Vector256.MinNative(a._lo, b._lo), Vector256.MinNative(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Max(Lanes256x2 a, Lanes256x2 b) => new(Vector256.MaxNative(a._lo, b._lo), Vector256.MaxNative(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Round(Lanes256x2 x) => new(Vector256.Round(x._lo), Vector256.Round(x._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256x2 ScaleByPowerOf2(Lanes256x2 p, Lanes256x2 n)
    {
        Lanes256 lo = Lanes256.ScaleByPowerOf2(Eight(p._lo), Eight(n._lo)), hi = Lanes256.ScaleByPowerOf2(Eight(p._hi), Eight(n._hi));
        return new(lo.Vector, hi.Vector);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 LessThan(Lanes256x2 a, Lanes256x2 b) => new(Vector256.LessThan(a._lo, b._lo), Vector256.LessThan(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 GreaterThan(Lanes256x2 a, Lanes256x2 b) => new(Vector256.GreaterThan(a._lo, b._lo), Vector256.GreaterThan(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2 Equals(Lanes256x2 a, Lanes256x2 b) => new(Vector256.Equals(a._lo, b._lo), Vector256.Equals(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256x2 Select(Lanes256x2 mask, Lanes256x2 a, Lanes256x2 b) =>
        new(Lanes256.Select(Eight(mask._lo), Eight(a._lo), Eight(b._lo)).Vector, Lanes256.Select(Eight(mask._hi), Eight(a._hi), Eight(b._hi)).Vector);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256x2 WhereNonNegative(Lanes256x2 x, Lanes256x2 a, Lanes256x2 b) =>
        new(Lanes256.WhereNonNegative(Eight(x._lo), Eight(a._lo), Eight(b._lo)).Vector, Lanes256.WhereNonNegative(Eight(x._hi), Eight(a._hi), Eight(b._hi)).Vector);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes256x2 x) => Lanes256.Sum(Eight(x._lo + x._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Largest(Lanes256x2 x) => Lanes256.Largest(Eight(Vector256.MaxNative(x._lo, x._hi)));
}

/// <summary>
/// Thirty-two lanes as two sixteen-lane vectors (AVX-512), every operation on both one after the other: a kernel bound
/// by one vector's chain of dependent operations (e^x, the GELU) has two independent chains in flight.
/// </summary>
/// <remarks>
/// Written out as <see cref="Lanes256x2"/> is, on the vector type, not as one pair generic over its half's
/// <see cref="IFloatLanes{V}"/>: such a Paired&lt;V&gt; (every member forwarding to V's) left e^x and tanh as fast, but
/// the GELU, one inlining level deeper, overran the JIT's budget and ran 10-16x slower on both widths (thirty-seventh
/// pass).
/// </remarks>
internal readonly struct Lanes512x2(Vector512<float> lo, Vector512<float> hi) : IFloatLanes<Lanes512x2>
{
    readonly Vector512<float> _lo = lo, _hi = hi;

    /// <summary>The first sixteen lanes.</summary>
    public Vector512<float> Lower => _lo;
    /// <summary>The last sixteen lanes.</summary>
    public Vector512<float> Upper => _hi;

    static Lanes512 Sixteen(Vector512<float> v) => new(v);

    public static int Count => 2 * Vector512<float>.Count;
    public static Lanes512x2 Zero => new(Vector512<float>.Zero, Vector512<float>.Zero);
    public static Lanes512x2 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector512<float>.Indices, Vector512<float>.Indices + Vector512.Create(16f)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Of(float value) { var v = Vector512.Create(value); return new(v, v); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Load(ref float at, nuint offset) =>
        new(Vector512.LoadUnsafe(ref at, offset), Vector512.LoadUnsafe(ref at, offset + 16));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(ref float at, nuint offset) { _lo.StoreUnsafe(ref at, offset); _hi.StoreUnsafe(ref at, offset + 16); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator +(Lanes512x2 a, Lanes512x2 b) => new(a._lo + b._lo, a._hi + b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator -(Lanes512x2 a, Lanes512x2 b) => new(a._lo - b._lo, a._hi - b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator *(Lanes512x2 a, Lanes512x2 b) => new(a._lo * b._lo, a._hi * b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator /(Lanes512x2 a, Lanes512x2 b) => new(a._lo / b._lo, a._hi / b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator -(Lanes512x2 a) => new(-a._lo, -a._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator &(Lanes512x2 a, Lanes512x2 b) => new(a._lo & b._lo, a._hi & b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 operator |(Lanes512x2 a, Lanes512x2 b) => new(a._lo | b._lo, a._hi | b._hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Fma(Lanes512x2 a, Lanes512x2 b, Lanes512x2 c) =>
        new(Vector512.FusedMultiplyAdd(a._lo, b._lo, c._lo), Vector512.FusedMultiplyAdd(a._hi, b._hi, c._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Abs(Lanes512x2 x) => new(Vector512.Abs(x._lo), Vector512.Abs(x._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Min(Lanes512x2 a, Lanes512x2 b) => new(Vector512.MinNative(a._lo, b._lo), Vector512.MinNative(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Max(Lanes512x2 a, Lanes512x2 b) => new(Vector512.MaxNative(a._lo, b._lo), Vector512.MaxNative(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Round(Lanes512x2 x) => new(Vector512.Round(x._lo), Vector512.Round(x._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512x2 ScaleByPowerOf2(Lanes512x2 p, Lanes512x2 n)
    {
        Lanes512 lo = Lanes512.ScaleByPowerOf2(Sixteen(p._lo), Sixteen(n._lo)), hi = Lanes512.ScaleByPowerOf2(Sixteen(p._hi), Sixteen(n._hi));
        return new(lo.Vector, hi.Vector);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 LessThan(Lanes512x2 a, Lanes512x2 b) => new(Vector512.LessThan(a._lo, b._lo), Vector512.LessThan(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 GreaterThan(Lanes512x2 a, Lanes512x2 b) => new(Vector512.GreaterThan(a._lo, b._lo), Vector512.GreaterThan(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512x2 Equals(Lanes512x2 a, Lanes512x2 b) => new(Vector512.Equals(a._lo, b._lo), Vector512.Equals(a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512x2 Select(Lanes512x2 mask, Lanes512x2 a, Lanes512x2 b) =>
        new(Vector512.ConditionalSelect(mask._lo, a._lo, b._lo), Vector512.ConditionalSelect(mask._hi, a._hi, b._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512x2 WhereNonNegative(Lanes512x2 x, Lanes512x2 a, Lanes512x2 b) =>
        new(Lanes512.WhereNonNegative(Sixteen(x._lo), Sixteen(a._lo), Sixteen(b._lo)).Vector, Lanes512.WhereNonNegative(Sixteen(x._hi), Sixteen(a._hi), Sixteen(b._hi)).Vector);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes512x2 x) => Lanes512.Sum(Sixteen(x._lo + x._hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Largest(Lanes512x2 x) => Lanes512.Largest(Sixteen(Vector512.MaxNative(x._lo, x._hi)));
}
