using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The kernels of Linear layers of at most sixteen inputs and sixty-four outputs over many rows (<see cref="ThinLinear"/>), with
/// AVX-512: the forward and the one-pass backward against sums in double on outputs poisoned with NaN, each gradient
/// alone, the same sums on one thread and two, the rule's reach and the refusals. Changes the thread count: runs in the
/// threading collection.
/// </summary>
[Collection("Threading")]
public class ThinLinearTests
{
    // (rows, in, out): whole and partial blocks of eight rows and runs of 64, a last chunk of a few rows, one lane, whole
    // vectors, odd row counts for the sums' pairs of rows.
    public static TheoryData<int, int, int> Layers => new()
    {
        { 2 * ThinLinear.RowsPerChunk + 7, 4, 12 },   // transgan32's 4 -> 12, a last chunk of seven rows (no whole block)
        { 2048, 16, 4 },                               // 16 -> 4, whole chunks
        { 1030, 4, 16 },                               // a whole vector of outputs, a second chunk of six rows
        { 777, 16, 16 },                               // whole vectors both ways, one partial chunk
        { 1029, 4, 1 },                                // one output
        { 5, 1, 1 },                                   // one input, one output, five rows
        { 2051, 13, 3 },                               // odd widths
        { 1029, 16, 48 },                              // three vectors of outputs
        { 2053, 5, 64 },                               // four, and a group of inputs past the last (5 = 4 + 1)
        { 9, 3, 33 },                                  // a partial third vector
    };

    static float[] Random(int n, Generator gen) => Tensor.Randn([n], gen).ToArray();

    static float[] Poisoned(int n) => Enumerable.Repeat(float.NaN, n).ToArray();

    // y = x Wᵀ + b, dx = g W, dW = gᵀ x, db = Σ_rows g, in double.
    static (double[] Y, double[] Dx, double[] Dw, double[] Db) Reference(float[] x, float[] w, float[]? b, float[] g, int rows, int inF, int outF)
    {
        var (y, dx, dw, db) = (new double[rows * outF], new double[rows * inF], new double[outF * inF], new double[outF]);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = b?[o] ?? 0, go = g[r * outF + o];
                db[o] += go;
                for (int i = 0; i < inF; i++)
                {
                    s += (double)x[r * inF + i] * w[o * inF + i];
                    dx[r * inF + i] += go * w[o * inF + i];
                    dw[o * inF + i] += go * x[r * inF + i];
                }
                y[r * outF + o] = s;
            }
        return (y, dx, dw, db);
    }

    // Within atol plus 1e-5 of each value.
    static void AssertClose(double[] expected, float[] actual, int length, double atol, string what)
    {
        for (int i = 0; i < length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= atol + 1e-5 * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i}: {actual[i]:G9}, expected {expected[i]:G9}");
    }

    [Theory, MemberData(nameof(Layers))]
    public void ForwardAndBackward_MatchDoubleSums(int rows, int inF, int outF)
    {
        if (!Avx512F.IsSupported) return;
        var gen = new Generator(45);
        var (x, w, b, g) = (Random(rows * inF, gen), Random(outF * inF, gen), Random(outF, gen), Random(rows * outF, gen));
        var r = Reference(x, w, b, g, rows, inF, outF);
        // The rows' sums add up to `rows` products of unit normals: their float error grows with the rows' count.
        double rowSums = 1e-6 * rows;

        var y = Poisoned(rows * outF);
        ThinLinear.Forward(x, w, b, y, rows, inF, outF);
        AssertClose(r.Y, y, y.Length, 1e-5, "y");
        var noBias = Poisoned(rows * outF);
        ThinLinear.Forward(x, w, null, noBias, rows, inF, outF);
        AssertClose(r.Y.Select((v, k) => v - b[k % outF]).ToArray(), noBias, noBias.Length, 1e-5, "y without a bias");

        var (dx, dw, db) = (Poisoned(rows * inF), Poisoned(outF * inF), Poisoned(outF));
        ThinLinear.Backward(g, x, w, dx, dw, db, rows, inF, outF);
        AssertClose(r.Dx, dx, dx.Length, 1e-5, "dx");
        AssertClose(r.Dw, dw, dw.Length, rowSums, "dW");
        AssertClose(r.Db, db, db.Length, rowSums, "db");

        // Each gradient alone (the others null) is the same.
        var dxAlone = Poisoned(rows * inF);
        ThinLinear.Backward(g, x, w, dxAlone, null, null, rows, inF, outF);
        Assert.Equal(dx, dxAlone);
        var dwAlone = Poisoned(outF * inF);
        ThinLinear.Backward(g, x, w, null, dwAlone, null, rows, inF, outF);
        Assert.Equal(dw, dwAlone);
        var dbAlone = Poisoned(outF);
        ThinLinear.Backward(g, x, w, null, null, dbAlone, rows, inF, outF);
        Assert.Equal(db, dbAlone);
    }

    [Fact]
    public void Backward_SumsInChunkOrder_SameOnOneThreadAndTwo()
    {
        if (!Avx512F.IsSupported) return;
        const int rows = 5 * ThinLinear.RowsPerChunk + 3, inF = 4, outF = 12;
        var gen = new Generator(46);
        var (x, w, g) = (Random(rows * inF, gen), Random(outF * inF, gen), Random(rows * outF, gen));
        int previous = Threading.Threads;
        try
        {
            (float[] Dw, float[] Db) Sums(int threads)
            {
                Threading.Threads = threads;
                var (dw, db) = (new float[outF * inF], new float[outF]);
                ThinLinear.Backward(g, x, w, null, dw, db, rows, inF, outF);
                return (dw, db);
            }
            var (one, two) = (Sums(1), Sums(2));
            // The chunks are fixed by the row count, and their partial sums added in order, on any number of threads.
            Assert.Equal(one.Dw, two.Dw);
            Assert.Equal(one.Db, two.Db);
        }
        finally { Threading.Threads = previous; }
    }

    [Fact]
    public void Rules_TakeThinLayersOverManyRowsOnly()
    {
        if (!Avx512F.IsSupported || !Gemm.RunsAvx512) return;
        Assert.True(ThinLinear.SuitsForward(32768, 4, 12));
        Assert.True(ThinLinear.SuitsForward(ThinLinear.MinRows, 16, 16));
        Assert.False(ThinLinear.SuitsForward(32768, 16, 48));            // the GEMM's full tiles are as fast
        Assert.True(ThinLinear.SuitsBackward(8192, 16, 48));
        Assert.False(ThinLinear.SuitsBackward(8192, 16, 64));            // the GEMM ties there
        Assert.False(ThinLinear.SuitsBackward(ThinLinear.MinRows - 1, 4, 12));   // too few rows to matter
        Assert.False(ThinLinear.SuitsBackward(32768, 17, 4));            // a row of x past one vector
    }

    [Theory]
    [InlineData(8, 17, 4, "17 -> 4")]
    [InlineData(8, 4, 0, "4 -> 0")]
    [InlineData(8, 4, 65, "4 -> 65")]
    public void Kernels_RefuseWideLayers_NamingTheShape(int rows, int inF, int outF, string shape)
    {
        if (!Avx512F.IsSupported) return;
        var e = Assert.Throws<ArgumentException>(() => ThinLinear.Forward(new float[rows * inF], new float[inF * Math.Max(outF, 1)], null, new float[rows * 80], rows, inF, outF));
        Assert.Contains("ThinLinear.Forward", e.Message);
        Assert.Contains(shape, e.Message);
    }

    [Fact]
    public void Kernels_RefuseShortBuffers_NamingTheBufferAndItsNeed()
    {
        if (!Avx512F.IsSupported) return;
        const int rows = 10, inF = 4, outF = 12;
        var e = Assert.Throws<ArgumentException>(() => ThinLinear.Forward(new float[rows * inF], new float[outF * inF], null, new float[rows * outF - 1], rows, inF, outF));
        Assert.Contains("ThinLinear.Forward: y holds 119 floats", e.Message);
        Assert.Contains("need 120", e.Message);
        e = Assert.Throws<ArgumentException>(() => ThinLinear.Backward(new float[rows * outF], new float[rows * inF], new float[outF * inF], new float[rows * inF], new float[outF * inF - 1], null, rows, inF, outF));
        Assert.Contains("ThinLinear.Backward: dW holds 47 floats", e.Message);
        e = Assert.Throws<ArgumentException>(() => ThinLinear.Backward(new float[rows * outF - 2], new float[rows * inF], new float[outF * inF], null, null, new float[outF], rows, inF, outF));
        Assert.Contains("g holds 118 floats", e.Message);
    }
}
