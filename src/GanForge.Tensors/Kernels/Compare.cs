namespace GanForge.Kernels;

/// <summary>
/// Comparison and extra binary ops for <see cref="Elementwise.Binary{TOp}"/>: comparisons give 1 or 0.
/// The span forms are plain loops; these ops are not on a hot path.
/// </summary>
internal static class ScalarBinary<TSelf> where TSelf : struct, IBinaryOp
{
    internal static void Loop(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = TSelf.Apply(a[i], b[i]);
    }

    internal static void Loop(ReadOnlySpan<float> a, float b, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = TSelf.Apply(a[i], b);
    }

    internal static void Loop(float a, ReadOnlySpan<float> b, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = TSelf.Apply(a, b[i]);
    }
}

public struct EqOp : IBinaryOp
{
    public static float Apply(float a, float b) => a == b ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<EqOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<EqOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<EqOp>.Loop(a, b, y);
}

public struct NeOp : IBinaryOp
{
    public static float Apply(float a, float b) => a != b ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<NeOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<NeOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<NeOp>.Loop(a, b, y);
}

public struct GtOp : IBinaryOp
{
    public static float Apply(float a, float b) => a > b ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<GtOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<GtOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<GtOp>.Loop(a, b, y);
}

public struct GeOp : IBinaryOp
{
    public static float Apply(float a, float b) => a >= b ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<GeOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<GeOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<GeOp>.Loop(a, b, y);
}

public struct LtOp : IBinaryOp
{
    public static float Apply(float a, float b) => a < b ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<LtOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<LtOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<LtOp>.Loop(a, b, y);
}

public struct LeOp : IBinaryOp
{
    public static float Apply(float a, float b) => a <= b ? 1f : 0f;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<LeOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<LeOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<LeOp>.Loop(a, b, y);
}

/// <summary>max(a, b), NaN propagating (as torch.maximum).</summary>
public struct MaxOp : IBinaryOp
{
    public static float Apply(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : a > b ? a : b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<MaxOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<MaxOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<MaxOp>.Loop(a, b, y);
}

/// <summary>min(a, b), NaN propagating (as torch.minimum).</summary>
public struct MinOp : IBinaryOp
{
    public static float Apply(float a, float b) => float.IsNaN(a) || float.IsNaN(b) ? float.NaN : a < b ? a : b;
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<MinOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<MinOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<MinOp>.Loop(a, b, y);
}

/// <summary>a ^ b elementwise.</summary>
public struct PowOp : IBinaryOp
{
    public static float Apply(float a, float b) => MathF.Pow(a, b);
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<PowOp>.Loop(a, b, y);
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> y) => ScalarBinary<PowOp>.Loop(a, b, y);
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> y) => ScalarBinary<PowOp>.Loop(a, b, y);
}
