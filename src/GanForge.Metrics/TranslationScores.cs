using GanForge.Metrics.Evaluators;

namespace GanForge.Metrics;

/// <summary>
/// Scores of image-to-image outputs (N,C,H,W) in [-1,1]: against their targets (mean L1 in [-1,1], PSNR and SSIM on
/// [0,1]), and the built-in evaluator's labels of the outputs against given classes (pix2pix's class preservation,
/// CycleGAN's rate of the target class).
/// </summary>
public static class TranslationScores
{
    /// <summary>Mean |x - y| over every value, in [-1,1] units (pix2pix's L1).</summary>
    public static double L1(Tensor x, Tensor y)
    {
        CheckShapes(x, y, "L1");
        double sum = 0;
        Span<float> a = x.Data, b = y.Data;
        for (int i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return sum / Math.Max(a.Length, 1);
    }

    /// <summary>
    /// PSNR in dB on the images mapped to [0,1]: the mean over images of 10·log10(1 / MSE) (each image's own, as
    /// super-resolution papers average it); an exact image counts as 100 dB.
    /// </summary>
    public static double Psnr(Tensor x, Tensor y)
    {
        CheckShapes(x, y, "PSNR");
        int n = x.Size(0), per = x.Numel / Math.Max(n, 1);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double mse = 0;
            Span<float> a = x.Data.Slice(i * per, per), b = y.Data.Slice(i * per, per);
            for (int j = 0; j < per; j++) { double d = (a[j] - b[j]) / 2.0; mse += d * d; }
            mse /= per;
            total += mse > 1e-10 ? 10 * Math.Log10(1 / mse) : 100;
        }
        return total / Math.Max(n, 1);
    }

    /// <summary>
    /// SSIM (Wang et al. 2004) on the images mapped to [0,1]: an 11x11 Gaussian window of σ 1.5, K1 = 0.01, K2 = 0.03,
    /// data range 1, at the positions where the window fits ("valid"), averaged over positions, channels and images.
    /// </summary>
    public static double Ssim(Tensor x, Tensor y)
    {
        CheckShapes(x, y, "SSIM");
        const int size = 11;
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3);
        if (h < size || w < size) throw new ArgumentException($"SSIM: images of {h}x{w} are smaller than its {size}x{size} window");
        var g = new double[size];
        for (int i = 0; i < size; i++) g[i] = Math.Exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
        double gs = g.Sum();
        for (int i = 0; i < size; i++) g[i] /= gs;
        int oh = h - size + 1, ow = w - size + 1;
        double total = 0;
        var planes = new double[5][];   // x, y, x², y², xy, each filtered
        var row = new double[5 * h * ow];
        for (int k = 0; k < 5; k++) planes[k] = new double[oh * ow];
        for (int img = 0; img < n * c; img++)
        {
            Span<float> a = x.Data.Slice(img * h * w, h * w), b = y.Data.Slice(img * h * w, h * w);
            // The separable window: along each row first, then down each column.
            Array.Clear(row);
            for (int r = 0; r < h; r++)
                for (int col = 0; col < ow; col++)
                    for (int t = 0; t < size; t++)
                    {
                        double p = (a[r * w + col + t] + 1) / 2, q = (b[r * w + col + t] + 1) / 2, wt = g[t];
                        int o = r * ow + col, plane = h * ow;
                        row[o] += wt * p; row[plane + o] += wt * q; row[2 * plane + o] += wt * p * p;
                        row[3 * plane + o] += wt * q * q; row[4 * plane + o] += wt * p * q;
                    }
            double sum = 0;
            var m = new double[5];
            for (int r = 0; r < oh; r++)
                for (int col = 0; col < ow; col++)
                {
                    Array.Clear(m);
                    for (int k = 0; k < 5; k++)
                        for (int t = 0; t < size; t++) m[k] += g[t] * row[k * h * ow + (r + t) * ow + col];
                    double mx = m[0], my = m[1], vx = m[2] - mx * mx, vy = m[3] - my * my, cov = m[4] - mx * my;
                    sum += (2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                }
            total += sum / (oh * ow);
        }
        return total / Math.Max(n * c, 1);
    }

    /// <summary>The built-in evaluator's label of each image (1x28x28 Fashion-MNIST images; colour is averaged to gray).</summary>
    public static int[] EvaluatorLabels(Tensor images)
    {
        var (_, probabilities) = EvaluatorRegistry.Load().Extract(images);
        int n = images.Size(0), k = probabilities!.GetLength(1);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
            for (int j = 1; j < k; j++) if (probabilities[i, j] > probabilities[i, labels[i]]) labels[i] = j;
        return labels;
    }

    /// <summary>The share of <paramref name="predicted"/> equal to <paramref name="expected"/>, label by label.</summary>
    public static double Agreement(IReadOnlyList<int> predicted, IReadOnlyList<int> expected)
    {
        if (predicted.Count != expected.Count)
            throw new ArgumentException($"class agreement: {predicted.Count} outputs but {expected.Count} labels");
        return (double)predicted.Where((p, i) => p == expected[i]).Count() / Math.Max(predicted.Count, 1);
    }

    static void CheckShapes(Tensor x, Tensor y, string who)
    {
        if (x.Rank != 4 || !x.ShapeSpan.SequenceEqual(y.ShapeSpan))
            throw new ArgumentException($"{who}: outputs {Shapes.Format(x.ShapeSpan)} and targets {Shapes.Format(y.ShapeSpan)} differ (both must be (N,C,H,W))");
    }
}
