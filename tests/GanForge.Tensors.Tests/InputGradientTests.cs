using System.Numerics.Tensors;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

// Gemm.InputGradient: a Linear layer's dx = g·W over a few rows, made in the two halves of W's rows (forty-seventh pass).
[Collection("ConvBackend")]
public class InputGradientTests
{
    static (float[] G, float[] W) Operands(int rows, int inF, int outF)
    {
        var rng = new Generator(11);
        return (Tensor.Randn([rows * outF], rng).ToArray(), Tensor.Randn([outF * inF], rng).ToArray());
    }

    static float[] Run(int rows, int inF, int outF, int threads, bool halves = true)
    {
        var (g, w) = Operands(rows, inF, outF);
        var dx = new float[rows * inF];
        int previousThreads = Threading.Threads;
        bool previous = Gemm.InputGradientInHalves;
        try
        {
            Threading.Threads = threads;
            Gemm.InputGradientInHalves = halves;
            Gemm.InputGradient(rows, inF, outF, g, w, dx);
        }
        finally { Threading.Threads = previousThreads; Gemm.InputGradientInHalves = previous; }
        return dx;
    }

    // The same sums written out: each half of W's rows through the single-threaded product, the second added to the first.
    static float[] Halves(int rows, int inF, int outF)
    {
        var (g, w) = Operands(rows, inF, outF);
        int split = outF / 2 / 16 * 16;
        var first = new float[rows * inF];
        var second = new float[rows * inF];
        Gemm.SgemmSerial(false, false, rows, inF, split, 1f, g, outF, w, inF, 0f, first, inF);
        Gemm.SgemmSerial(false, false, rows, inF, outF - split, 1f, g.AsSpan(split), outF, w.AsSpan(split * inF), inF, 0f, second, inF);
        TensorPrimitives.Add(first, second, first);
        return first;
    }

    [Theory]
    [InlineData(64, 1024, 784)]   // mlpgan's G, 1,024 -> 784
    [InlineData(128, 512, 256)]   // its D over real and fake together, 512 -> 256
    [InlineData(64, 300, 270)]    // sides off the kernels' strips
    public void LayersOfAFewRows_TakeTheTwoHalvesOfTheWeightsRows(int rows, int inF, int outF) =>
        Assert.Equal(Halves(rows, inF, outF), Run(rows, inF, outF, threads: 2));

    [Theory]
    [InlineData(64, 1024, 784)]
    [InlineData(100, 512, 300)]
    public void TheHalves_MatchTheProduct(int rows, int inF, int outF)
    {
        var (g, w) = Operands(rows, inF, outF);
        var expected = new float[rows * inF];
        Gemm.SgemmSerial(false, false, rows, inF, outF, 1f, g, outF, w, inF, 0f, expected, inF);
        Fixtures.AssertClose(Tensor.FromArray(expected), Tensor.FromArray(Run(rows, inF, outF, threads: 2)), 1e-5, 1e-4, "input gradient in halves");
    }

    [Theory]
    [InlineData(64, 1024, 784)]   // halves deeper than one block of the kernel: in turn on one thread, each into its own buffer
    [InlineData(128, 512, 256)]   // halves of one block each: on one thread the second is added into dx as it is stored
    [InlineData(64, 784, 512)]
    public void TheSums_AreTheSameOnAnyNumberOfThreads(int rows, int inF, int outF)
    {
        var two = Run(rows, inF, outF, threads: 2);
        foreach (int threads in new[] { 1, 3, 4 }) Assert.Equal(two, Run(rows, inF, outF, threads));
    }

    [Theory]
    [InlineData(64, 1024, 784)]
    [InlineData(128, 512, 256)]
    public void InsideAnotherLoop_TheSumsAreTheSame(int rows, int inF, int outF)
    {
        // Items of an outer loop run the halves one after the other, on the item's thread.
        var (g, w) = Operands(rows, inF, outF);
        var inside = new float[2][];
        int previousThreads = Threading.Threads;
        try
        {
            Threading.Threads = 2;
            Threading.For(2, item =>
            {
                var dx = new float[rows * inF];
                Gemm.InputGradient(rows, inF, outF, g, w, dx);
                inside[item] = dx;
            });
        }
        finally { Threading.Threads = previousThreads; }
        var two = Run(rows, inF, outF, threads: 2);
        Assert.Equal(two, inside[0]);
        Assert.Equal(two, inside[1]);
    }

    [Theory]
    [InlineData(129, 1024, 784)]  // more rows than a batch's few
    [InlineData(64, 1024, 255)]   // a weight of fewer outputs
    [InlineData(64, 255, 784)]    // or of fewer inputs
    public void OtherShapes_AreOneProduct(int rows, int inF, int outF)
    {
        var (g, w) = Operands(rows, inF, outF);
        var expected = new float[rows * inF];
        Gemm.Sgemm(false, false, rows, inF, outF, 1f, g, outF, w, inF, 0f, expected, inF);
        Assert.Equal(expected, Run(rows, inF, outF, threads: 2));
    }

    [Fact]
    public void TheSwitchOff_IsOneProduct()
    {
        var (g, w) = Operands(64, 1024, 784);
        var expected = new float[64 * 1024];
        Gemm.Sgemm(false, false, 64, 1024, 784, 1f, g, 784, w, 1024, 0f, expected, 1024);
        Assert.Equal(expected, Run(64, 1024, 784, threads: 2, halves: false));
    }
}
