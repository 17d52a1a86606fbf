using GanForge.Tests;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// Tests that set <see cref="Precision.Current"/>, which every GEMM and convolution of the process reads: they run
/// alone, after the parallel tests, so that no other test's product is computed in bf16 by accident.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWidePrecision
{
    public const string Name = "process-wide precision";
}

/// <summary>
/// The bf16 products (issue 17): rounding of float32 to bf16, and GEMMs and the three convolution kernels with bf16
/// inputs against (a) the float32 result, within a bf16 tolerance, and (b) the double-precision product of the inputs
/// rounded to bf16, within a float32 tolerance — which shows that the inputs, and only they, were rounded.
/// The GEMMs are tested with <see cref="Gemm.Bf16Products"/> on (the bench's per-shape bf16 figures use them; training
/// leaves them fp32), and <see cref="Sgemm_Bf16WithoutBf16Products_StaysFp32WhileConvolutionsDoNot"/> checks the default.
/// Each test restores the precision and that setting as it found them (<see cref="Dispose"/>).
/// </summary>
[Collection(ProcessWidePrecision.Name)]
public sealed class Bf16Tests : IDisposable
{
    readonly ComputePrecision _saved = Precision.Current;
    readonly bool _savedProducts = Gemm.Bf16Products, _savedEverywhere = Conv.Bf16Everywhere;

    public Bf16Tests() => Gemm.Bf16Products = true;

    public void Dispose() => (Precision.Current, Gemm.Bf16Products, Conv.Bf16Everywhere) = (_saved, _savedProducts, _savedEverywhere);

    /// <summary>
    /// What `--precision bf16` trains with: the matrix products stay fp32 (the same result, to the last bits the thread
    /// split may move) while a convolution turns bf16 (more than 1e-4 of its scale away from fp32).
    /// </summary>
    [Bf16Theory, InlineData(false), InlineData(true)]
    public void Sgemm_Bf16WithoutBf16Products_StaysFp32WhileConvolutionsDoNot(bool transB)
    {
        Gemm.Bf16Products = false;
        var g = new Generator(5);
        int m = 64, n = 96, k = 80;
        var a = Tensor.Randn([m * k], g).ToArray(); var b = Tensor.Randn([k * n], g).ToArray();
        float[] Product(ComputePrecision p)
        {
            Precision.Current = p;
            var c = new float[m * n];
            Gemm.Sgemm(false, transB, m, n, k, 1f, a, k, b, transB ? k : n, 0f, c, n);
            return c;
        }
        Assert.InRange(ScaledError(Product(ComputePrecision.Fp32), Product(ComputePrecision.Bf16)), 0, 1e-6);

        var geometry = new ConvGeometry(4, 16, 16, 8, 8, 8, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var x = Tensor.Randn([4 * 4 * 16 * 16], g).ToArray(); var w = Tensor.Randn([8 * 4 * 4 * 4], g).ToArray();
        float[] Convolved(ComputePrecision p)
        {
            Precision.Current = p;
            var y = new float[4 * 8 * 8 * 8];
            Conv.Forward(x, w, y, 4, geometry);
            return y;
        }
        Assert.True(ScaledError(Convolved(ComputePrecision.Fp32), Convolved(ComputePrecision.Bf16)) > 1e-4, "the convolution stayed fp32 under bf16");
    }

    [Fact]
    public void EnsureSupported_Bf16_ThrowsNamingWhatIsMissingExactlyWhereUnsupported()
    {
        Precision.EnsureSupported(ComputePrecision.Fp32);
        if (Precision.Bf16Supported)
        {
            Precision.EnsureSupported(ComputePrecision.Bf16);
            return;
        }
        var e = Assert.Throws<InvalidOperationException>(() => Precision.EnsureSupported(ComputePrecision.Bf16));
        Assert.Contains(Gemm.DnnlAvailable ? "AVX512-BF16" : "libdnnl", e.Message);
    }

    // float32 bits -> the bf16 bits round-to-nearest-even gives.
    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)]   // 1.0 exactly
    [InlineData(0x3F808000u, (ushort)0x3F80)]   // 1 + 2^-8: half-way, kept bit even -> down
    [InlineData(0x3F818000u, (ushort)0x3F82)]   // half-way, kept bit odd -> up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)]   // just past half-way -> up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)]   // just below half-way -> down
    [InlineData(0xBF818000u, (ushort)0xBF82)]   // negative half-way, odd -> away from zero (to even)
    [InlineData(0x00000000u, (ushort)0x0000)]   // +0
    [InlineData(0x80000000u, (ushort)0x8000)]   // -0
    [InlineData(0x7F800000u, (ushort)0x7F80)]   // +Inf
    [InlineData(0xFF800000u, (ushort)0xFF80)]   // -Inf
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)]   // float.MaxValue rounds past the largest bf16 -> +Inf
    [InlineData(0x7F7F7FFFu, (ushort)0x7F7F)]   // the largest bf16 stays finite
    [InlineData(0x00008000u, (ushort)0x0000)]   // a denormal half-way to the smallest bf16 denormal, even -> 0
    [InlineData(0x00018000u, (ushort)0x0002)]   // denormal half-way, odd -> up
    public void FromFloat_KnownValues_RoundToNearestEven(uint bits, ushort expected)
    {
        var x = BitConverter.UInt32BitsToSingle(bits);
        Assert.Equal(expected, BFloat16.FromFloat(x));
        // The vectorised path must agree: put the value in every lane of a 32-wide block and the tail.
        var src = Enumerable.Repeat(x, 37).ToArray();
        var dst = new ushort[37];
        BFloat16.FromFloat(src, dst);
        Assert.All(dst, d => Assert.Equal(expected, d));
    }

    [Theory]
    [InlineData(0x7FC00000u)]   // quiet NaN
    [InlineData(0x7F800001u)]   // signalling NaN whose payload is in the low half only (truncation would give +Inf)
    [InlineData(0xFF800001u)]   // negative NaN, low payload
    [InlineData(0x7FFFFFFFu)]   // NaN with every mantissa bit (rounding up would carry into the sign)
    public void FromFloat_NaN_StaysNaN(uint bits)
    {
        var x = BitConverter.UInt32BitsToSingle(bits);
        Assert.True(float.IsNaN(BFloat16.ToFloat(BFloat16.FromFloat(x))), $"scalar {bits:X8}");
        var dst = new ushort[33];
        BFloat16.FromFloat(Enumerable.Repeat(x, 33).ToArray(), dst);
        Assert.All(dst, d => Assert.True(float.IsNaN(BFloat16.ToFloat(d)), $"vector {bits:X8} -> {d:X4}"));
        Assert.All(dst, d => Assert.Equal(bits >> 31, (uint)d >> 15));   // the sign survives
    }

    [Fact]
    public void FromFloat_RandomValues_VectorMatchesScalarAndErrorWithinHalfUlp()
    {
        var rng = new Random(3);
        var src = new float[1000 + 7];
        for (int i = 0; i < src.Length; i++) src[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 30)));
        var dst = new ushort[src.Length];
        BFloat16.FromFloat(src, dst);
        for (int i = 0; i < src.Length; i++)
        {
            Assert.Equal(BFloat16.FromFloat(src[i]), dst[i]);
            // bf16 keeps 8 significant bits: for x in [2^e, 2^(e+1)) the spacing is 2^(e-7), and rounding to nearest
            // is off by at most half of it.
            double err = Math.Abs(BFloat16.ToFloat(dst[i]) - (double)src[i]);
            Assert.True(err <= Math.Pow(2, Math.ILogB(src[i]) - 8), $"{src[i]:R} -> {BFloat16.ToFloat(dst[i]):R}");
        }
    }

    [Fact]
    public void Parse_KnownAndUnknownNames_ParsesOrThrows()
    {
        Assert.Equal(ComputePrecision.Bf16, Precision.Parse("BF16"));
        Assert.Equal(ComputePrecision.Fp32, Precision.Parse("fp32"));
        var e = Assert.Throws<ArgumentException>(() => Precision.Parse("fp16"));
        Assert.Contains("fp16", e.Message);
        Assert.Equal("bf16", Precision.Name(ComputePrecision.Bf16));
    }

    [Fact]
    public void Precision_SetInATest_IsRestoredByDispose()
    {
        var test = new Bf16Tests();
        Precision.Current = ComputePrecision.Bf16;
        test.Dispose();
        Assert.Equal(_saved, Precision.Current);
    }

    static float[] Rounded(float[] x) => x.Select(BFloat16.Round).ToArray();

    // max |expected - actual| over max |expected|: the error relative to the output's scale.
    static double ScaledError(float[] expected, float[] actual)
    {
        double scale = 0, err = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            scale = Math.Max(scale, Math.Abs(expected[i]));
            err = Math.Max(err, Math.Abs(expected[i] - (double)actual[i]));
        }
        return err / scale;
    }

    // Tolerances: bf16 inputs carry a relative error of up to 2^-9 each, so a sum of k products of random signs
    // is off by about 2^-8·sqrt(k)·|typical term| — below 1e-2 of the output's scale for these sizes (seen: 2-6e-3).
    // With the inputs rounded beforehand the product is a float32 one: 1e-5 of the scale.
    const double Bf16Tolerance = 1e-2, Fp32Tolerance = 1e-5;

    public static TheoryData<bool, bool, int, int, int> GemmCases()
    {
        var d = new TheoryData<bool, bool, int, int, int>();
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
            {
                d.Add(ta, tb, 33, 65, 100);    // odd sizes
                d.Add(ta, tb, 128, 300, 49);   // wider than the 2-thread split's threshold
            }
        return d;
    }

    [Bf16Theory, MemberData(nameof(GemmCases))]
    public void Sgemm_Bf16_MatchesFp32WithinBf16ToleranceAndRoundedInputsExactly(bool ta, bool tb, int m, int n, int k)
    {
        var g = new Generator(11);
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;   // leading dimensions past the width
        var a = Tensor.Randn([(ta ? k : m) * lda], g).ToArray();
        var b = Tensor.Randn([(tb ? n : k) * ldb], g).ToArray();
        var c0 = Tensor.Randn([m * ldc], g).ToArray();
        float[] Run(float[] aa, float[] bb, ComputePrecision p)
        {
            Precision.Current = p;
            var c = (float[])c0.Clone();
            Gemm.Sgemm(ta, tb, m, n, k, 0.75f, aa, lda, bb, ldb, 0.5f, c, ldc);
            return c;
        }
        var fp32 = Run(a, b, ComputePrecision.Fp32);
        var bf16 = Run(a, b, ComputePrecision.Bf16);
        var fromRounded = Run(Rounded(a), Rounded(b), ComputePrecision.Fp32);
        Assert.InRange(ScaledError(fp32, bf16), 0, Bf16Tolerance);
        Assert.InRange(ScaledError(fromRounded, bf16), 0, Fp32Tolerance);
        // The bf16 path really ran: its result is not the float32 one (bf16 rounding moves it by ~1e-3 of the scale).
        Assert.True(ScaledError(fp32, bf16) > 1e-4, $"bf16 product equals the float32 one ({ScaledError(fp32, bf16):E1})");
    }

    // A square layer's geometry and random input, weight and output-gradient buffers.
    static (ConvGeometry Geometry, float[] X, float[] W, float[] Gy) Layer(int ci, int co, int k, int s, int p, int size, int n, ulong seed)
    {
        int o = (size + 2 * p - k) / s + 1;
        var gen = new Generator(seed);
        return (new ConvGeometry(ci, size, size, co, o, o, k, k, s, s, p, p, 1, 1, 1), Tensor.Randn([n * ci * size * size], gen).ToArray(),
            Tensor.Randn([co * ci * k * k], gen).ToArray(), Tensor.Randn([n * co * o * o], gen).ToArray());
    }

    // (stride, padding, Ci, Co, size, batch): DCGAN's stride-2 4x4 layers, a padded stride-1 3x3, and a dense
    // 1x1-output layer (which runs as a GEMM).
    public static TheoryData<int, int, int, int, int, int, int> ConvCases() => new()
    {
        { 2, 1, 4, 8, 16, 16, 4 },
        { 1, 1, 3, 5, 7, 9, 3 },
        { 1, 0, 4, 16, 8, 4, 4 },
    };

    [Bf16Theory, MemberData(nameof(ConvCases))]
    public void ConvKernels_Bf16_MatchFp32WithinBf16ToleranceAndRoundedInputsExactly(int s, int p, int k, int ci, int co, int size, int n)
    {
        var (geom, x, w, gy) = Layer(ci, co, k, s, p, size, n, seed: 5);
        // Each kernel: its two inputs, its output length, the engine's kernel and the naive one.
        var kernels = new (string Name, float[] A, float[] B, int Len, Action<float[], float[], float[]> Run, Action<float[], float[], float[]> Naive)[]
        {
            ("forward", x, w, gy.Length, (a, b, c) => Conv.Forward(a, b, c, n, geom), (a, b, c) => Conv.ForwardNaive(a, b, c, n, geom)),
            ("backward data", gy, w, x.Length, (a, b, c) => Conv.Transpose(a, b, c, n, geom), (a, b, c) => Conv.TransposeNaive(a, b, c, n, geom)),
            ("backward weights", x, gy, w.Length, (a, b, c) => Conv.WeightGrad(a, b, c, n, geom), (a, b, c) => Conv.WeightGradNaive(a, b, c, n, geom)),
        };
        Conv.Bf16Everywhere = true;   // the kernels training keeps fp32 (RunsBf16) are tested in bf16 too
        foreach (var kernel in kernels)
        {
            var (fp32, fromRounded, bf16) = (new float[kernel.Len], new float[kernel.Len], new float[kernel.Len]);
            kernel.Naive(kernel.A, kernel.B, fp32);
            kernel.Naive(Rounded(kernel.A), Rounded(kernel.B), fromRounded);
            Precision.Current = ComputePrecision.Bf16;
            kernel.Run(kernel.A, kernel.B, bf16);
            Precision.Current = ComputePrecision.Fp32;
            Assert.True(ScaledError(fp32, bf16) <= Bf16Tolerance, $"{kernel.Name}: {ScaledError(fp32, bf16):E1} of the scale from float32");
            Assert.True(ScaledError(fromRounded, bf16) <= Fp32Tolerance, $"{kernel.Name}: {ScaledError(fromRounded, bf16):E1} of the scale from the rounded inputs' product");
            Assert.True(ScaledError(fp32, bf16) > 1e-4, $"{kernel.Name}: the bf16 result equals the float32 one");
        }
    }

    // (Ci, Co, kernel, stride, padding, size, batch) and the kernels `--precision bf16` keeps fp32 there (Conv.Fp32Faster):
    // an image-side layer's weight gradient (a 16-long reduction), a 3 x 3 layer's over 256 positions, and a 3 x 3 layer's
    // forward over 12,288 positions; and kernels of the same layers that turn bf16.
    public static TheoryData<int, int, int, int, int, int, int, string, string> RuleCases() => new()
    {
        { 1, 16, 4, 2, 1, 16, 4, "backward weights", "forward" },
        { 16, 16, 3, 1, 1, 8, 4, "backward weights", "backward data" },
        { 8, 8, 3, 1, 1, 64, 3, "forward", "backward weights" },
    };

    /// <summary>
    /// Under bf16 the rule's kernels give the fp32 result (the same path: within 1e-6 of the scale, where bf16 moves a
    /// result by 2-4e-3) while another kernel of the same layer does turn bf16.
    /// </summary>
    [Bf16Theory, MemberData(nameof(RuleCases))]
    public void ConvKernels_Bf16_KeepTheKernelsFp32RunsFasterInFp32(int ci, int co, int k, int s, int p, int size, int n, string keptFp32, string turnsBf16)
    {
        var (geom, x, w, gy) = Layer(ci, co, k, s, p, size, n, seed: 7);
        float[] Run(string kernel, ComputePrecision precision)
        {
            Precision.Current = precision;
            switch (kernel)
            {
                case "forward": { var y = new float[gy.Length]; Conv.Forward(x, w, y, n, geom); return y; }
                case "backward data": { var dx = new float[x.Length]; Conv.Transpose(gy, w, dx, n, geom); return dx; }
                default: { var dw = new float[w.Length]; Conv.WeightGrad(x, gy, dw, n, geom); return dw; }
            }
        }
        double kept = ScaledError(Run(keptFp32, ComputePrecision.Fp32), Run(keptFp32, ComputePrecision.Bf16));
        double turned = ScaledError(Run(turnsBf16, ComputePrecision.Fp32), Run(turnsBf16, ComputePrecision.Bf16));
        Assert.True(kept <= 1e-6, $"{keptFp32} ran in bf16 under bf16 ({kept:E1} of the scale from fp32)");
        Assert.True(turned > 1e-4, $"{turnsBf16} stayed fp32 under bf16 ({turned:E1} of the scale from fp32)");
    }
}
