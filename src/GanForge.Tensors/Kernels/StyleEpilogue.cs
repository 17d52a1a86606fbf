using System.Numerics;

namespace GanForge.Kernels;

/// <summary>
/// StyleGAN2's layer epilogue in one pass per (sample, channel) plane: z = y·scale[n,c] + strength[c]·noise[n,p] + bias[c],
/// out = gain·LeakyReLU(z), and its backward in one pass. y, out, g, dy: (N,C,P) for P = H·W; noise: (N,P) or (1,P).
/// </summary>
public static class StyleEpilogue
{
    public static void Forward(float[] y, float[] scale, float[] strength, float[] noise, bool noisePerSample, float[] bias,
        float[] output, int n, int c, int p, float slope, float gain)
    {
        Threading.ForRanges(n * c, (_, from, to) =>
        {
            for (int plane = from; plane < to; plane++)
            {
                int ni = plane / c, ci = plane % c;
                var yp = y.AsSpan(plane * p, p);
                var op = output.AsSpan(plane * p, p);
                var np = noise.AsSpan((noisePerSample ? ni : 0) * p, p);
                float s = scale[plane], st = strength[ci], b = bias[ci], neg = slope * gain;
                int i = 0, w = Vector<float>.Count;
                Vector<float> vs = new(s), vst = new(st), vb = new(b), vpos = new(gain), vneg = new(neg);
                for (; i <= p - w; i += w)
                {
                    var z = new Vector<float>(yp[i..]) * vs + vst * new Vector<float>(np[i..]) + vb;
                    (z * Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<float>.Zero), vpos, vneg)).CopyTo(op[i..]);
                }
                for (; i < p; i++)
                {
                    float z = yp[i] * s + st * np[i] + b;
                    op[i] = z * (z > 0f ? gain : neg);
                }
            }
        });
    }

    /// <summary>
    /// dy = gz·scale[n,c] with gz = g·(z > 0 ? gain : gain·slope) (z recomputed from the inputs), and per plane the sums
    /// Σ gz·y (dscale), Σ gz·noise and Σ gz, which the caller reduces over samples for strength and bias.
    /// </summary>
    public static void Backward(float[] g, float[] y, float[] scale, float[] strength, float[] noise, bool noisePerSample, float[] bias,
        float[] dy, float[] dScale, float[] planeNoiseSum, float[] planeSum, int n, int c, int p, float slope, float gain)
    {
        Threading.ForRanges(n * c, (_, from, to) =>
        {
            for (int plane = from; plane < to; plane++)
            {
                int ni = plane / c, ci = plane % c;
                var yp = y.AsSpan(plane * p, p);
                var gp = g.AsSpan(plane * p, p);
                var dp = dy.AsSpan(plane * p, p);
                var np = noise.AsSpan((noisePerSample ? ni : 0) * p, p);
                float s = scale[plane], st = strength[ci], b = bias[ci], neg = slope * gain;
                int i = 0, w = Vector<float>.Count;
                Vector<float> vs = new(s), vst = new(st), vb = new(b), vpos = new(gain), vneg = new(neg);
                Vector<float> sumY = Vector<float>.Zero, sumNoise = Vector<float>.Zero, sum = Vector<float>.Zero;
                for (; i <= p - w; i += w)
                {
                    var yv = new Vector<float>(yp[i..]); var nv = new Vector<float>(np[i..]);
                    var z = yv * vs + vst * nv + vb;
                    var gz = new Vector<float>(gp[i..]) * Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<float>.Zero), vpos, vneg);
                    (gz * vs).CopyTo(dp[i..]);
                    sumY += gz * yv; sumNoise += gz * nv; sum += gz;
                }
                float sy = Vector.Sum(sumY), sn = Vector.Sum(sumNoise), sg = Vector.Sum(sum);
                for (; i < p; i++)
                {
                    float z = yp[i] * s + st * np[i] + b;
                    float gz = gp[i] * (z > 0f ? gain : neg);
                    dp[i] = gz * s;
                    sy += gz * yp[i]; sn += gz * np[i]; sg += gz;
                }
                dScale[plane] = sy; planeNoiseSum[plane] = sn; planeSum[plane] = sg;
            }
        });
    }
}
