namespace GanForge.Functions;

// out = gain·LeakyReLU(y·scale[n,c] + strength[c]·noise + bias[c]) (StyleGAN2's demodulation, noise, bias and activation);
// noise is a constant (N,1,H,W) or (1,1,H,W). Backward: one kernel pass without a graph; with one (a gradient of a
// gradient), the same derivatives written with differentiable ops.
internal sealed class StyleEpilogue(Tensor noise, float slope, float gain) : Function
{
    public static Tensor Apply(Tensor y, Tensor scale, Tensor strength, Tensor noise, Tensor bias, float slope, float gain, bool overwriteY = false)
    {
        var (n, c, p) = Check(y, scale, strength, noise, bias);
        // Each output reads only its own y, so without a graph (which would keep y) it can take y's place.
        var output = overwriteY && !WillRecord(y, scale, strength, bias) ? y : Tensor.Uninitialized(y.ShapeSpan);
        Kernels.StyleEpilogue.Forward(y.Storage, scale.Storage, strength.Storage, noise.Storage,
            NoisePerSample(noise, n), bias.Storage, output.Storage, n, c, p, slope, gain);
        return Record(new StyleEpilogue(noise, slope, gain), output, y, scale, strength, bias);
    }

    // Whether the noise has a map per sample (N,1,H,W) rather than one for the batch (1,1,H,W).
    static bool NoisePerSample(Tensor noise, int n) => noise.Size(0) == n && n > 1;

    static (int N, int C, int P) Check(Tensor y, Tensor scale, Tensor strength, Tensor noise, Tensor bias)
    {
        if (y.Rank != 4)
            throw new ArgumentException($"StyleEpilogue: y must be (N,C,H,W), got {Shapes.Format(y.ShapeSpan)}");
        int n = y.Size(0), c = y.Size(1), h = y.Size(2), w = y.Size(3);
        if (scale.Rank != 2 || scale.Size(0) != n || scale.Size(1) != c || strength.Rank != 1 || strength.Size(0) != c || bias.Rank != 1 || bias.Size(0) != c
            || noise.Rank != 4 || (noise.Size(0) != n && noise.Size(0) != 1) || noise.Size(1) != 1 || noise.Size(2) != h || noise.Size(3) != w)
            throw new ArgumentException($"StyleEpilogue: y {Shapes.Format(y.ShapeSpan)} needs scale ({n},{c}), strength ({c}), noise ({n} or 1,1,{h},{w}) " +
                $"and bias ({c}), got {Shapes.Format(scale.ShapeSpan)}, {Shapes.Format(strength.ShapeSpan)}, {Shapes.Format(noise.ShapeSpan)}, {Shapes.Format(bias.ShapeSpan)}");
        return (n, c, h * w);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (y, scale, strength, bias) = (Inputs[0], Inputs[1], Inputs[2], Inputs[3]);
        int n = y.Size(0), c = y.Size(1), p = y.Size(2) * y.Size(3);
        if (!GradMode.IsEnabled)
        {
            var dy = Tensor.Uninitialized(y.ShapeSpan);
            var (dScale, noiseSums, sums) = (new Tensor(n, c), new float[n * c], new float[n * c]);
            Kernels.StyleEpilogue.Backward(g.Storage, y.Storage, scale.Storage, strength.Storage,
                noise.Storage, NoisePerSample(noise, n), bias.Storage, dy.Storage, dScale.Storage, noiseSums, sums, n, c, p, slope, gain);
            var (dStrength, dBias) = (new Tensor(c), new Tensor(c));
            for (int i = 0; i < n * c; i++) { dStrength.Data[i % c] += noiseSums[i]; dBias.Data[i % c] += sums[i]; }
            return [NeedsGrad(0) ? dy : null, NeedsGrad(1) ? dScale : null, NeedsGrad(2) ? dStrength : null, NeedsGrad(3) ? dBias : null];
        }
        var z = y * scale.Reshape(n, c, 1, 1) + strength.Reshape(1, c, 1, 1) * noise + bias.Reshape(1, c, 1, 1);
        var gz = g * LeakyRelu.Mask(z, slope, gain);
        return [NeedsGrad(0) ? gz * scale.Reshape(n, c, 1, 1) : null,
                NeedsGrad(1) ? (gz * y).Sum([2, 3]) : null,
                NeedsGrad(2) ? (gz * noise).Sum([0, 2, 3]) : null,
                NeedsGrad(3) ? gz.Sum([0, 2, 3]) : null];
    }
}
