namespace GanForge.Gan.Training;

/// <summary>A warning raised while training (shown in the console, logged, and kept for the report).</summary>
public sealed record TrainingWarning(long Step, string Kind, string Message);

/// <summary>What <see cref="Monitors"/> has counted: kept in checkpoints, so a resumed run warns as an uninterrupted one would.</summary>
/// <param name="Pinned">Consecutive logging windows with D accuracy ≥ 99%.</param>
/// <param name="Collapsed">Consecutive low-diversity windows.</param>
/// <param name="Active">Warnings raised and still in force (each is raised once until its condition clears).</param>
public sealed record MonitorState(int Pinned, int Collapsed, string[] Active);

/// <summary>Thrown when a loss becomes NaN or infinite; the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Watches training for the classic failures: mode collapse (a batch of samples nearly identical
/// compared with a batch of real images), a discriminator that wins outright (accuracy pinned near
/// 100%, so G gets no signal), a diverging loss, and NaN/Inf. For a critic (Wasserstein, hinge) there
/// is no accuracy and the losses have no fixed scale: divergence is an exploding Wasserstein estimate.
/// </summary>
public sealed class Monitors(Losses.GanLoss? loss = null)
{
    readonly bool _critic = loss?.IsCritic ?? false;

    /// <summary>Diversity of fakes relative to reals below which collapse is reported.</summary>
    public double CollapseRatio { get; init; } = 0.2;
    /// <summary>Consecutive logging windows with D accuracy ≥ 99% before non-convergence is reported.</summary>
    public int PinnedWindows { get; init; } = 4;
    /// <summary>Generator loss above which (over a window) divergence is reported.</summary>
    public double DivergedLoss { get; init; } = 15;
    /// <summary>For a critic: |Wasserstein estimate| above which divergence is reported.</summary>
    public double DivergedEstimate { get; init; } = 1000;

    /// <summary>Generator steps before collapse is judged: an untrained generator's samples all look alike.</summary>
    public long CollapseWarmupSteps { get; init; } = 200;
    /// <summary>Consecutive low-diversity windows before collapse is reported.</summary>
    public int CollapseWindows { get; init; } = 3;

    int _pinned, _collapsed;
    readonly HashSet<string> _active = [];

    /// <summary>Stops training with a message naming the step and the loss if it is not finite.</summary>
    public static void CheckFinite(string name, float value, long step)
    {
        if (!float.IsFinite(value))
            throw new TrainingDivergedException($"{name} became {value} at step {step}; training stopped, the last good checkpoint is kept");
    }

    /// <summary>Checks a window of statistics; returns the warnings that newly apply.</summary>
    public IEnumerable<TrainingWarning> Check(long step, IReadOnlyDictionary<string, double> stats)
    {
        if (stats.TryGetValue(Stats.AccReal.Name, out var ar) && stats.TryGetValue(Stats.AccFake.Name, out var af))
        {
            _pinned = ar >= 0.99 && af >= 0.99 ? _pinned + 1 : 0;
            if (_pinned >= PinnedWindows && Raise("not-converging"))
                yield return new(step, "not-converging",
                    $"discriminator accuracy has been ≥99% for {_pinned} logging windows: it wins outright and the generator gets little signal (try --loss non-saturating, label smoothing, or a lower D learning rate)");
            else if (_pinned == 0) _active.Remove("not-converging");
        }
        if (!_critic && stats.TryGetValue(Stats.LossG.Name, out var lg) && lg > DivergedLoss && Raise("diverging"))
            yield return new(step, "diverging", $"generator loss {lg:F2} is above {DivergedLoss}: training may be diverging");
        if (_critic && stats.TryGetValue(Stats.Wasserstein.Name, out var w) && Math.Abs(w) > DivergedEstimate && Raise("diverging"))
            yield return new(step, "diverging", $"the critic's Wasserstein estimate {w:G4} is beyond ±{DivergedEstimate}: the critic is not kept Lipschitz (raise the penalty or lower the learning rate)");
        if (stats.TryGetValue(Stats.Diversity.Name, out var div) && step > CollapseWarmupSteps)
        {
            _collapsed = div < CollapseRatio ? _collapsed + 1 : 0;
            if (_collapsed >= CollapseWindows && Raise("collapse"))
                yield return new(step, "collapse",
                    $"mode collapse suspected: generated samples of a batch are nearly identical (pairwise distance {div:P0} of the real data's)");
            else if (div >= CollapseRatio) _active.Remove("collapse");
        }
    }

    bool Raise(string kind) => _active.Add(kind);

    /// <summary>The counts so far, for a checkpoint.</summary>
    public MonitorState GetState() => new(_pinned, _collapsed, [.. _active.Order(StringComparer.Ordinal)]);

    /// <summary>Continues from counts a checkpoint kept.</summary>
    public void SetState(MonitorState state)
    {
        (_pinned, _collapsed) = (state.Pinned, state.Collapsed);
        _active.Clear();
        _active.UnionWith(state.Active);
    }

    /// <summary>Mean pairwise L2 distance between the first <paramref name="n"/> images of a batch.</summary>
    public static double MeanPairwiseDistance(Tensor images, int n = 32)
    {
        n = Math.Min(n, images.Size(0));
        int d = images.Numel / images.Size(0);
        var x = images.Data;
        double total = 0; int pairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) { double diff = x[i * d + k] - x[j * d + k]; s += diff * diff; }
                total += Math.Sqrt(s); pairs++;
            }
        return pairs == 0 ? 0 : total / pairs;
    }
}
