using GanForge.NN;

namespace GanForge.NN.Tests;

public class SpectralNormConvTests
{
    /// <summary>Largest singular value of a (rows, cols) matrix, by power iteration in double.</summary>
    static double SpectralNormOf(float[] m, int rows, int cols)
    {
        var v = Enumerable.Repeat(1.0, cols).ToArray();
        double sigma = 0;
        for (int it = 0; it < 500; it++)
        {
            var u = new double[rows];
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) u[i] += m[i * cols + j] * v[j];
            var w = new double[cols];
            for (int j = 0; j < cols; j++) for (int i = 0; i < rows; i++) w[j] += m[i * cols + j] * u[i];
            double n = Math.Sqrt(w.Sum(x => x * x));
            sigma = Math.Sqrt(n);
            v = w.Select(x => x / n).ToArray();
        }
        return sigma;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SpectralNorm_OnConvLayers_NormalisesTheEffectiveWeight(bool transpose)
    {
        // A 1x1 convolution applied to the identity batch reveals its effective weight matrix.
        Module conv = transpose
            ? new ConvTranspose2d(4, 3, 1, bias: false, generator: new Generator(1))
            : new Conv2d(4, 3, 1, bias: false, generator: new Generator(1));
        SpectralNorm.Apply(conv);
        var eye = new Tensor(4, 4, 1, 1);
        for (int i = 0; i < 4; i++) eye.Data[i * 4 + i] = 1f;
        for (int i = 0; i < 100; i++) using (GradMode.NoGrad()) conv.Forward(eye); // power iterations
        Tensor effective;
        using (GradMode.NoGrad()) effective = conv.Eval().Forward(eye);          // (4 inputs, 3 outputs)
        Assert.Equal(1.0, SpectralNormOf(effective.ToArray(), 4, 3), 1e-3);
    }
}
