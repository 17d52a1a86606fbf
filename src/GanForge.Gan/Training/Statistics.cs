namespace GanForge.Gan.Training;

/// <summary>A statistic logged while training: its metrics.jsonl name, how people read it, how it is shown.</summary>
/// <param name="Name">Field name in metrics.jsonl.</param>
/// <param name="Label">Short label for the console and chart legends.</param>
/// <param name="Description">What it measures.</param>
/// <param name="Percent">Shown as a percentage.</param>
public sealed record StatDefinition(string Name, string Label, string Description, bool Percent = false);

/// <summary>A chart of the report and the dashboard: the statistics drawn together.</summary>
public sealed record ChartDefinition(string Title, string YLabel, IReadOnlyList<StatDefinition> Lines,
    bool Percent = false, (double Lo, double Hi)? Range = null, (double Value, string Label)? Reference = null);

/// <summary>
/// The statistics of training, defined once: phases record them by these names, and the console,
/// metrics.jsonl, the monitors and the report read them from here.
/// </summary>
public static class Stats
{
    public static readonly StatDefinition LossD = new("loss_d", "D loss", "discriminator (critic) loss, penalties included");
    public static readonly StatDefinition LossG = new("loss_g", "G loss", "generator loss");
    public static readonly StatDefinition DReal = new("d_real", "D(x)", "mean discriminator output on real images (a probability for logit losses, the raw score for critics)");
    public static readonly StatDefinition DFake = new("d_fake", "D(G(z))", "mean discriminator output on generated images");
    public static readonly StatDefinition AccReal = new("acc_real", "acc real", "share of real images the discriminator calls real", Percent: true);
    public static readonly StatDefinition AccFake = new("acc_fake", "acc fake", "share of generated images the discriminator calls generated", Percent: true);
    public static readonly StatDefinition Acc = new("acc", "acc", "mean of the two accuracies (50% when D cannot tell)", Percent: true);
    public static readonly StatDefinition Wasserstein = new("wasserstein", "W estimate", "critic's Wasserstein estimate: mean D(x) - mean D(G(z))");
    public static readonly StatDefinition GradientPenalty = new("gp", "GP", "gradient penalty term (λ·E[(‖∇D(x̂)‖ - 1)²])");
    public static readonly StatDefinition GradientNorm = new("grad_norm", "‖∇D‖", "mean norm of the critic's gradient at the interpolates");
    public static readonly StatDefinition R1 = new("r1", "R1", "R1 penalty term (γ/2·E[‖∇D(x)‖²]), before the lazy-regularisation factor");
    public static readonly StatDefinition LossClass = new("loss_class", "class loss", "AC-GAN: cross-entropy of D's class head on real and generated images");
    public static readonly StatDefinition AccClass = new("acc_class", "class acc", "AC-GAN, SGAN: share of real images D's class head labels right", Percent: true);
    public static readonly StatDefinition LossInfo = new("loss_info", "info loss", "InfoGAN: -L_I, the codes' negative log-likelihood under Q");
    public static readonly StatDefinition LossSupervised = new("loss_sup", "sup loss", "SGAN: cross-entropy of D on the labelled images");
    public static readonly StatDefinition L1 = new("l1", "L1", "pix2pix: mean |G(A) - B|, the generator's L1 to the target (before its weight)");
    public static readonly StatDefinition Content = new("content", "content", "SRGAN, SRResNet: the content loss, MSE on the feature network's activations or on pixels (before its weight)");
    public static readonly StatDefinition Cycle = new("cycle", "cycle L1", "CycleGAN: mean |F(G(a)) - a| + |G(F(b)) - b|, the cycle-consistency L1 (before its weight)");
    public static readonly StatDefinition Identity = new("identity", "identity L1", "CycleGAN: mean |G(b) - b| + |F(a) - a| (before its weight)");
    public static readonly StatDefinition Diversity = new("diversity", "diversity", "mean pairwise distance of generated images over that of real images");
    public static readonly StatDefinition ImagesPerSecond = new("images_per_s", "img/s", "real images consumed per second");
    public static readonly StatDefinition AllReduceMs = new("allreduce_ms", "allreduce ms", "milliseconds per step spent averaging gradients over the MPI ranks (data-parallel runs only)");
    public static readonly StatDefinition Fid = new("fid", "FID", "Fréchet distance to the real data in the evaluator's features");
    public static readonly StatDefinition ClassesCovered = new("classes_covered", "classes", "classes the evaluator finds among the samples");
    public static readonly StatDefinition ClassKl = new("class_kl", "class KL", "KL(p_data || p_fake) of the evaluator's class histogram");
    public static readonly StatDefinition Resolution = new("resolution", "res", "ProGAN: the resolution the growing networks run at, in pixels (mean over the window)");
    public static readonly StatDefinition FadeAlpha = new("fade_alpha", "fade α", "ProGAN: fade-in α of the newest level (1 once it is faded in)");

    /// <summary>Every statistic, in console order.</summary>
    public static IReadOnlyList<StatDefinition> All { get; } =
        [LossD, LossG, DReal, DFake, AccReal, AccFake, Acc, Wasserstein, GradientPenalty, GradientNorm, R1, LossClass, AccClass, LossInfo, LossSupervised, L1, Content, Cycle, Identity, Diversity, Resolution, FadeAlpha, AllReduceMs, ImagesPerSecond, Fid, ClassesCovered, ClassKl];

    /// <summary>The charts of the report, each drawn when one of its statistics was logged.</summary>
    public static IReadOnlyList<ChartDefinition> Charts { get; } =
    [
        new("Losses", "loss", [LossD, LossG]),
        new("Discriminator outputs", "mean D output", [DReal, DFake]),
        new("Discriminator accuracy", "accuracy", [AccReal, AccFake, Acc], Percent: true, Range: (0, 1), Reference: (0.5, "50%: D cannot tell")),
        new("Critic's Wasserstein estimate", "mean D(x) - mean D(G(z))", [Wasserstein]),
        new("Regularisers", "penalty", [GradientPenalty, R1]),
        new("Class and code losses", "loss", [LossClass, LossInfo, LossSupervised]),
        new("Reconstruction terms (image to image)", "loss", [L1, Content, Cycle, Identity]),
        new("Class accuracy of D on real images", "accuracy", [AccClass], Percent: true, Range: (0, 1)),
        new("Critic gradient norm at interpolates (1 is the target)", "‖∇D(x̂)‖", [GradientNorm], Reference: (1, "1-Lipschitz")),
        new("FID (lower is better)", "FID", [Fid]),
        new("Classes covered", "classes", [ClassesCovered]),
        new("Class histogram KL(p_data || p_fake) (lower is better)", "KL", [ClassKl]),
        new("Sample diversity", "diversity", [Diversity]),
        new("Growth (ProGAN)", "pixels", [Resolution]),
        new("Fade-in α (ProGAN)", "α", [FadeAlpha], Range: (0, 1)),
        new("Throughput", "images / s", [ImagesPerSecond]),
        new("Gradient allreduce per step (data-parallel)", "ms", [AllReduceMs]),
    ];

    /// <summary>The definition of <paramref name="name"/>, or null for a statistic of no known kind.</summary>
    public static StatDefinition? Find(string name) => All.FirstOrDefault(s => s.Name == name);
}

/// <summary>Named statistics of training, averaged over a logging window.</summary>
public sealed class TrainingStatistics
{
    readonly Dictionary<string, (double Sum, int Count)> _window = new();

    public void Add(StatDefinition stat, double value)
    {
        _window.TryGetValue(stat.Name, out var s);
        _window[stat.Name] = (s.Sum + value, s.Count + 1);
    }

    /// <summary>Window means by name, then clears the window.</summary>
    public Dictionary<string, double> Flush()
    {
        var means = _window.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);
        _window.Clear();
        return means;
    }

    /// <summary>Fraction of outputs on the correct side of <paramref name="threshold"/> (real: above, fake: below).</summary>
    public static double Accuracy(Tensor outputs, bool real, float threshold = 0f)
    {
        int ok = 0;
        foreach (float l in outputs.Data) if (real ? l > threshold : l < threshold) ok++;
        return (double)ok / outputs.Numel;
    }
}
