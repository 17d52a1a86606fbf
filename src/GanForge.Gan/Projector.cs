using GanForge.Gan.Zoo;
using GanForge.Optim;

namespace GanForge.Gan;

/// <summary>Settings of a projection: Adam steps and learning rate on w, and the weight of the feature distance.</summary>
/// <param name="Steps">Optimisation steps (500 as a rule; stylegan2-ada's projector takes 1000).</param>
/// <param name="Lr">Adam's peak learning rate on w (0.1, as stylegan2-ada's projector).</param>
/// <param name="FeatureWeight">Weight of the evaluator-feature distance beside the pixel MSE.</param>
public sealed record ProjectionOptions(int Steps = 500, float Lr = 0.1f, float FeatureWeight = 1f)
{
    /// <summary>Checks the settings; a clear error names the option.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"project: --steps must be at least 1, got {Steps}");
        if (!(Lr > 0) || !float.IsFinite(Lr)) throw new ArgumentException($"project: --lr must be positive, got {Lr}");
        if (!(FeatureWeight >= 0) || !float.IsFinite(FeatureWeight)) throw new ArgumentException($"project: --feature-weight must be non-negative, got {FeatureWeight}");
    }
}

/// <summary>Where a projection ended: the styles found, the image they make, and its distances to the target.</summary>
/// <param name="Ws">The styles (1, NumWs, w_dim): one w repeated for every layer.</param>
/// <param name="Image">G's image for them (1,C,H,W).</param>
/// <param name="PixelMse">Mean squared pixel difference to the target, on [-1, 1].</param>
/// <param name="FeatureDistance">Mean squared difference of the evaluator's features (0 without an evaluator).</param>
/// <param name="Losses">The loss at every step.</param>
public sealed record ProjectionResult(Tensor Ws, Tensor Image, double PixelMse, double FeatureDistance, IReadOnlyList<double> Losses);

/// <summary>
/// GAN inversion of a style-based generator (as stylegan2-ada's projector, Karras et al. 2020, section 5): find the w
/// whose image reproduces a target, by Adam on one w fed to every layer, starting at w_avg, with the fixed noise maps.
/// The loss is the pixel MSE plus the mean squared distance of the evaluator's features (a perceptual term: the paper
/// uses LPIPS, which has no counterpart here; the built-in Fashion-MNIST evaluator plays its part).
/// </summary>
public static class Projector
{
    /// <summary>
    /// Projects <paramref name="target"/> (1,C,H,W) in [-1, 1] into the w space of <paramref name="g"/>.
    /// <paramref name="features"/> maps images to features, differentiably (null = pixels only).
    /// The learning rate ramps up over the first 5% of the steps and down (cosine) over the last 25%, as the paper's.
    /// </summary>
    public static ProjectionResult Project(StyleGenerator g, Tensor target, Func<Tensor, Tensor>? features, ProjectionOptions options,
        Action<int, double>? progress = null)
    {
        options.Validate();
        int c = g.Synthesis.Channels, s = g.Synthesis.Resolution;
        if (target.Rank != 4 || target.Size(0) != 1 || target.Size(1) != c || target.Size(2) != s || target.Size(3) != s)
            throw new ArgumentException($"project: the target {Shapes.Format(target.ShapeSpan)} should be (1,{c},{s},{s}), the generator's image shape");
        bool wasTraining = g.Training;
        g.Eval();
        try
        {
            Tensor? targetFeatures = null;
            if (features != null && options.FeatureWeight > 0)
                using (GradMode.NoGrad()) targetFeatures = features(target).Detach();
            var w = g.Mapping.WAvg.Detach().Clone().Unsqueeze(0).RequiresGrad_();                 // (1, w_dim)
            var adam = new Adam([w], options.Lr, 0.9, 0.999);
            var losses = new List<double>(options.Steps);
            for (int step = 0; step < options.Steps; step++)
            {
                adam.ParamGroups[0].Lr = options.Lr * Ramp(step, options.Steps);
                var (loss, _, _) = Loss(g, w, target, features, targetFeatures, options.FeatureWeight);
                // Only w is differentiated: the generator's and the evaluator's weights stay as they are.
                w.Grad = Autograd.Grad(loss, w);
                adam.Step();
                losses.Add(loss.Item());
                progress?.Invoke(step + 1, losses[^1]);
            }
            using var _ = GradMode.NoGrad();
            var (_, mse, feature) = Loss(g, w, target, features, targetFeatures, options.FeatureWeight);
            var ws = g.Broadcast(w.Detach()).Clone();
            return new ProjectionResult(ws, g.Synthesis.Forward(ws, null), mse, feature, losses);
        }
        finally { g.Train(wasTraining); }
    }

    /// <summary>Pixel MSE and feature distance of G's image for <paramref name="ws"/> (n, NumWs, w_dim) against the target (1,C,H,W).</summary>
    public static (double PixelMse, double FeatureDistance) Distances(StyleGenerator g, Tensor ws, Tensor target, Func<Tensor, Tensor>? features)
    {
        using var _ = GradMode.NoGrad();
        var image = g.Synthesis.Forward(ws, null);
        double mse = (image - target).Square().Mean().Item();
        double feature = features == null ? 0 : (features(image) - features(target)).Square().Mean().Item();
        return (mse, feature);
    }

    /// <summary>mean((G(w) - x)²) + λ·mean((f(G(w)) - f(x))²), with its two terms.</summary>
    static (Tensor Loss, double Mse, double Feature) Loss(StyleGenerator g, Tensor w, Tensor target, Func<Tensor, Tensor>? features,
        Tensor? targetFeatures, float weight)
    {
        var image = g.Synthesis.Forward(g.Broadcast(w), null);
        var mse = (image - target).Square().Mean();
        if (targetFeatures == null) return (mse, mse.Item(), 0);
        var distance = (features!(image) - targetFeatures).Square().Mean();
        return (mse + distance * weight, mse.Item(), distance.Item());
    }

    /// <summary>The learning-rate factor at <paramref name="step"/>: up over the first 5%, cosine down over the last 25%.</summary>
    static double Ramp(int step, int steps)
    {
        double t = (double)step / steps;
        double down = 0.5 - 0.5 * Math.Cos(Math.Min(1.0, (1 - t) / 0.25) * Math.PI);
        return down * Math.Min(1.0, t / 0.05 + 1.0 / steps);
    }
}
