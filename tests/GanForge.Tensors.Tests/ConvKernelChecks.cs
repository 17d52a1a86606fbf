using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>A convolution kernel's forward and weight gradient against the naive kernels, on outputs poisoned with NaN.</summary>
static class ConvKernelChecks
{
    /// <summary>(input, weight or output gradient, output, n, geometry), as <see cref="Conv.Forward"/> and <see cref="Conv.WeightGrad"/>.</summary>
    public delegate void Kernel(float[] a, float[] b, float[] output, int n, ConvGeometry g);

    public static void ForwardAndWeightGradientMatchNaive(Tensor x, Tensor w, Tensor gy, int n, ConvGeometry g,
        Kernel forward, Kernel weightGradient, string layer)
    {
        var y = Tensor.Full(gy.Shape, float.NaN);
        forward(x.Storage, w.Storage, y.Storage, n, g);
        var yRef = new Tensor(gy.Shape);
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        Fixtures.AssertClose(yRef, y, 1e-4, 1e-4, $"{layer} forward");

        var dw = Tensor.Full(w.Shape, float.NaN);
        weightGradient(x.Storage, gy.Storage, dw.Storage, n, g);
        var dwRef = new Tensor(w.Shape);
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-3, $"{layer} weight gradient");
    }
}
