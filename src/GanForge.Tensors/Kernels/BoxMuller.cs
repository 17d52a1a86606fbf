using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace GanForge.Kernels;

/// <summary>
/// Box–Muller on lanes: pairs of uniforms (u1, u2) to pairs of standard normals r·cos θ and r·sin θ, with
/// r = √(-2 ln u1) and θ = 2π·u2, in double as <see cref="Generator.NextNormal"/> computes them one at a time.
/// u1, u2, cos, sin: (n).
/// </summary>
/// <remarks>
/// sin and cos of 2π·u2 reduce u2 exactly: with t = 4·u2 and q the nearest integer, θ = (q + f)·π/2 for f = t - q in
/// [-1/2, 1/2], so x = f·π/2 lies in [-π/4, π/4], where fdlibm's kernel polynomials (__kernel_sin, __kernel_cos) hold
/// to within an ulp, and the quadrant q picks ±sin x or ±cos x. Rounded to float, the normals are those of the scalar
/// path but for about one in three million (an ulp apart, where the scalar path's rounding of 2π·u2 tips a value
/// across a float's rounding boundary).
/// </remarks>
public static class BoxMuller
{
    const double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03, S3 = -1.98412698298579493134e-04,
        S4 = 2.75573137070700676789e-06, S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
    const double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03, C3 = 2.48015872894767294178e-05,
        C4 = -2.75573143513906633035e-07, C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;

    /// <summary>cos[i] = r·cos θ and sin[i] = r·sin θ of the pair (u1[i], u2[i]); u1 in (0, 1], u2 in [0, 1).</summary>
    // Optimized from the first call: unoptimized, its vector code runs as calls, and a short run's first steps paid for it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normals(ReadOnlySpan<double> u1, ReadOnlySpan<double> u2, Span<double> cos, Span<double> sin)
    {
        int n = u1.Length;
        if (u2.Length != n || cos.Length < n || sin.Length < n)
            throw new ArgumentException($"BoxMuller.Normals: {n} and {u2.Length} uniforms into {cos.Length} and {sin.Length} normals");
        TensorPrimitives.Log(u1, cos);                      // ln u1, then r, in the cos output
        int w = Vector<double>.Count, i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - w; i += w)
            {
                var r = Vector.SquareRoot(new Vector<double>(-2.0) * new Vector<double>(cos[i..]));
                var (s, c) = SinCos2Pi(new Vector<double>(u2[i..]));
                (r * c).CopyTo(cos[i..]);
                (r * s).CopyTo(sin[i..]);
            }
        for (; i < n; i++)
        {
            double r = Math.Sqrt(-2.0 * cos[i]);
            (cos[i], sin[i]) = (r * Math.Cos(2 * Math.PI * u2[i]), r * Math.Sin(2 * Math.PI * u2[i]));
        }
    }

    /// <summary>The scalar form (<see cref="Generator.NextNormal"/>'s arithmetic), the reference for tests.</summary>
    public static void NormalsReference(ReadOnlySpan<double> u1, ReadOnlySpan<double> u2, Span<double> cos, Span<double> sin)
    {
        for (int i = 0; i < u1.Length; i++)
        {
            double r = Math.Sqrt(-2.0 * Math.Log(u1[i]));
            (cos[i], sin[i]) = (r * Math.Cos(2 * Math.PI * u2[i]), r * Math.Sin(2 * Math.PI * u2[i]));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector<double> Sin, Vector<double> Cos) SinCos2Pi(Vector<double> u)
    {
        Vector<double> one = Vector<double>.One, half = new(0.5), two = new(2.0);
        var t = u * new Vector<double>(4.0);
        var q = Vector.Floor(t + half);                      // the quadrant, 0 to 4
        var x = (t - q) * new Vector<double>(Math.PI / 2);   // t - q is exact
        var z = x * x;
        var rs = new Vector<double>(S2) + z * (new Vector<double>(S3) + z * (new Vector<double>(S4) + z * (new Vector<double>(S5) + z * new Vector<double>(S6))));
        var s = x + z * x * (new Vector<double>(S1) + z * rs);
        var rc = z * (new Vector<double>(C1) + z * (new Vector<double>(C2) + z * (new Vector<double>(C3) + z * (new Vector<double>(C4)
            + z * (new Vector<double>(C5) + z * new Vector<double>(C6))))));
        // cos x = 1 - z/2 + z·rc, with 1 - z/2's rounding error carried (fdlibm's form for |x| up to π/4)
        var hz = half * z;
        var wv = one - hz;
        var c = wv + (((one - wv) - hz) + z * rc);
        // quadrant q: sin θ = s, c, -s, -c and cos θ = c, -s, -c, s for q = 0, 1, 2, 3 (4 is 0 again)
        var qHalf = q * half;
        var odd = Vector.Equals(qHalf - Vector.Floor(qHalf), half);
        var sinNegative = Vector.BitwiseOr(Vector.Equals(q, two), Vector.Equals(q, new Vector<double>(3.0)));
        var cosNegative = Vector.BitwiseOr(Vector.Equals(q, one), Vector.Equals(q, two));
        var (sv, cv) = (Vector.ConditionalSelect(odd, c, s), Vector.ConditionalSelect(odd, s, c));
        return (Vector.ConditionalSelect(sinNegative, -sv, sv), Vector.ConditionalSelect(cosNegative, -cv, cv));
    }
}
