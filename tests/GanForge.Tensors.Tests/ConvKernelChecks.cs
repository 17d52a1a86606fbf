using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>A convolution kernel's forward and weight gradient against the naive kernels, on outputs poisoned with NaN.</summary>
static class ConvKernelChecks
{
    /// <summary>(input, weight or output gradient, output, n, geometry), as <see cref="Conv.Forward(float[], float[], float[], int, ConvGeometry)"/> and <see cref="Conv.WeightGrad"/>.</summary>
    public delegate void Kernel(float[] a, float[] b, float[] output, int n, ConvGeometry g);

    public static void ForwardAndWeightGradientMatchNaive(Tensor x, Tensor w, Tensor gy, int n, ConvGeometry g,
        Kernel forward, Kernel weightGradient, string layer)
    {
        var y = Tensor.Full(gy.Shape, float.NaN);
        forward(x.Storage, w.Storage, y.Storage, n, g);
        var yRef = new Tensor(gy.Shape);
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        // An output sums K = Ci·KH·KW products in float, in each kernel's own order, against the naive kernel's double
        // sums: the rounding grows with √K (dcgan64's 128 -> 256 layer, 2,048 terms, came within 0.66 of a flat 1e-4 and
        // once past it), an indexing error gives O(1).
        double atol = 1e-4 * Math.Max(1, Math.Sqrt(g.K / 256.0));
        Fixtures.AssertClose(yRef, y, 1e-4, atol, $"{layer} forward");

        var dw = Tensor.Full(w.Shape, float.NaN);
        weightGradient(x.Storage, gy.Storage, dw.Storage, n, g);
        var dwRef = new Tensor(w.Shape);
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-3, $"{layer} weight gradient");
    }
}
