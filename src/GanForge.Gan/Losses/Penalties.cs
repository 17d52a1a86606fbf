using GanForge.NN;

namespace GanForge.Gan.Losses;

/// <summary>
/// WGAN-GP's gradient penalty (Gulrajani et al. 2017): a soft 1-Lipschitz constraint on the critic,
/// enforced on random points between real and generated samples.
/// </summary>
/// <remarks>
/// x̂ = ε·x + (1-ε)·G(z) with ε ~ U[0,1] drawn per sample, and
/// penalty = λ·mean over samples of (‖∇_x̂ D(x̂)‖₂ - 1)².
/// The gradient is taken with a recorded backward pass, so backpropagating the penalty differentiates
/// through it (double backward) and reaches the critic's weights. Real and fake samples are detached:
/// the penalty trains the critic only. Each sample's score must depend on that sample alone (no batch
/// normalisation in training mode; the paper suggests layer normalisation).
/// Under <see cref="GradMode.NoGrad"/> the value is computed with a plain backward and carries no graph.
/// </remarks>
public sealed class GradientPenalty(float lambda = 10f)
{
    /// <summary>Weight λ of the penalty (10 in the paper).</summary>
    public float Lambda { get; } = PenaltyChecks.NonNegative(lambda, "GradientPenalty", "lambda");

    /// <summary>Mean over samples of ‖∇_x̂ D(x̂)‖₂ in the last <see cref="Compute(Module, Tensor, Tensor, Tensor)"/>; NaN before any.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>The penalty with one ε per sample drawn from <paramref name="rng"/>.</summary>
    /// <param name="critic">The critic D; it is run once more, on x̂.</param>
    /// <param name="real">Real samples (N, ...).</param>
    /// <param name="fake">Generated samples of the same shape.</param>
    /// <param name="rng">Source of ε: N draws of U[0,1).</param>
    public Tensor Compute(Module critic, Tensor real, Tensor fake, Generator rng)
    {
        PenaltyChecks.SamePair(real, fake);
        ArgumentNullException.ThrowIfNull(rng);
        return Compute(critic, real, fake, Tensor.Rand([real.Size(0)], rng));
    }

    /// <summary>The penalty with given mixing weights (for fixtures and reproductions).</summary>
    /// <param name="critic">The critic D; it is run once more, on x̂.</param>
    /// <param name="real">Real samples (N, ...).</param>
    /// <param name="fake">Generated samples of the same shape.</param>
    /// <param name="epsilon">ε of shape (N), or broadcastable against the samples with N rows, e.g. (N,1,1,1).</param>
    public Tensor Compute(Module critic, Tensor real, Tensor fake, Tensor epsilon)
    {
        ArgumentNullException.ThrowIfNull(critic);
        PenaltyChecks.SamePair(real, fake);
        var eps = EpsilonFor(epsilon, real);
        Tensor xHat;
        using (GradMode.NoGrad())
        {
            Tensor mixedReal = eps * real.Detach(), mixedFake = (1f - eps) * fake.Detach();
            xHat = mixedReal + mixedFake;
            // made here and read by nothing else: their buffers serve the next tensors of their size
            mixedReal.ReturnToPool();
            mixedFake.ReturnToPool();
        }
        xHat.RequiresGrad_();

        var (gradient, pass) = PenaltyChecks.InputGradient(critic, xHat, "GradientPenalty");
        var norm = gradient.Flatten(1).Norm(2f, [1]);                                                     // (N)
        LastGradientNorm = PenaltyChecks.MeanOf(norm);
        // λ·mean((‖∇_x̂ D(x̂)‖₂ - 1)²)
        var penalty = Lambda * (norm - 1f).Square().Mean();
        _buffers.Keep(pass, penalty, xHat, xHat, gradient);
        return penalty;
    }

    readonly PenaltyBuffers _buffers = new();

    /// <summary>
    /// Gives the buffers of the last <see cref="Compute(Module, Tensor, Tensor, Tensor)"/> back to the engine's pool:
    /// its pass of the critic, whose layer outputs the gradient's graph reads, the interpolates and the gradient. Call
    /// it once the penalty's backward has run (the trainer does, after each critic step); no backward frees these, so
    /// without it the GC reclaims them, and a backward through that penalty afterwards throws.
    /// </summary>
    public void ReleasePass() => _buffers.Release();

    /// <summary>ε as (N,1,...,1), or as given when it already broadcasts with N rows.</summary>
    static Tensor EpsilonFor(Tensor epsilon, Tensor real)
    {
        ArgumentNullException.ThrowIfNull(epsilon);
        var r = real.ShapeSpan;
        var e = epsilon.ShapeSpan;
        if (e.Length == 1 && e[0] == r[0])
        {
            var shape = new int[r.Length];
            Array.Fill(shape, 1);
            shape[0] = r[0];
            return epsilon.Detach().Reshape(shape);
        }
        bool broadcasts = e.Length == r.Length && e[0] == r[0];
        for (int d = 1; broadcasts && d < e.Length; d++) broadcasts = e[d] == 1 || e[d] == r[d];
        if (!broadcasts)
            throw new ArgumentException(
                $"GradientPenalty: epsilon {Shapes.Format(e)} must be ({r[0]}) or broadcast against the samples {Shapes.Format(r)} with {r[0]} rows, e.g. ({r[0]}{string.Concat(Enumerable.Repeat(",1", r.Length - 1))})");
        return epsilon.Detach();
    }
}

/// <summary>
/// R1 regularisation (Mescheder et al. 2018), as in StyleGAN2-ADA: penalises the gradient of D on
/// real data only, pulling D towards zero slope around the data so the game converges locally.
/// </summary>
/// <remarks>
/// penalty = γ/2 · mean over samples of ‖∇_x D(x)‖², with the gradient of D(x).sum() w.r.t. a
/// detached copy of the real batch, recorded so backpropagation reaches D's weights. Often applied
/// lazily, every k steps with γ scaled by k (Karras et al. 2020). Under <see cref="GradMode.NoGrad"/>
/// the value carries no graph.
/// </remarks>
public sealed class R1Penalty(float gamma)
{
    /// <summary>Weight γ of the penalty.</summary>
    public float Gamma { get; } = PenaltyChecks.NonNegative(gamma, "R1Penalty", "gamma");

    /// <summary>Mean over samples of ‖∇_x D(x)‖₂ in the last <see cref="Compute"/>; NaN before any.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>The penalty on a batch of real samples (N, ...).</summary>
    public Tensor Compute(Module discriminator, Tensor real)
    {
        ArgumentNullException.ThrowIfNull(discriminator);
        PenaltyChecks.Batch(real, "R1Penalty", "real");
        var x = real.Detach().RequiresGrad_();
        var (gradient, pass) = PenaltyChecks.InputGradient(discriminator, x, "R1Penalty");
        var squared = gradient.Flatten(1).Square().Sum(1);                                                // (N)
        using (GradMode.NoGrad()) LastGradientNorm = PenaltyChecks.MeanOf(squared.Sqrt());
        // γ/2 · mean(‖∇_x D(x)‖²)
        var penalty = 0.5f * Gamma * squared.Mean();
        _buffers.Keep(pass, penalty, x, gradient);   // x shares the caller's batch: not ours to give back
        return penalty;
    }

    readonly PenaltyBuffers _buffers = new();

    /// <summary>
    /// Gives the buffers of the last <see cref="Compute"/> back to the engine's pool: its pass of D, whose layer outputs
    /// the gradient's graph reads, and the gradient. Call it once the penalty's backward has run (the trainer does, after
    /// each step that adds R1); no backward frees these, so without it the GC reclaims them, and a backward through that
    /// penalty afterwards throws.
    /// </summary>
    public void ReleasePass() => _buffers.Release();
}

/// <summary>
/// The original WGAN's Lipschitz constraint (Arjovsky et al. 2017): after each critic step every
/// weight is clamped into [-c, c].
/// </summary>
public sealed class WeightClipping(float clip = 0.01f)
{
    /// <summary>The bound c (0.01 in the paper).</summary>
    public float Clip { get; } = clip > 0 && float.IsFinite(clip) ? clip
        : throw new ArgumentException($"WeightClipping: clip must be positive and finite, got {clip}", nameof(clip));

    /// <summary>Clamps every parameter of <paramref name="critic"/> into [-c, c] in place, outside the graph.</summary>
    public void Apply(Module critic)
    {
        ArgumentNullException.ThrowIfNull(critic);
        float c = Clip;
        foreach (var p in critic.Parameters())
        {
            var d = p.Data;
            for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i], -c, c);
        }
    }
}

/// <summary>
/// ProGAN's drift penalty (Karras et al. 2018, appendix A.1): a small pull of the critic's scores on
/// real data towards zero, so they do not drift away under the WGAN-GP loss (which is invariant to
/// an offset).
/// </summary>
public sealed class DriftPenalty(float epsilon = 1e-3f)
{
    /// <summary>Weight ε of the penalty (0.001 in the paper).</summary>
    public float Epsilon { get; } = PenaltyChecks.NonNegative(epsilon, "DriftPenalty", "epsilon");

    /// <summary>The penalty on the critic's outputs for a real batch.</summary>
    public Tensor Compute(Tensor realOutputs)
    {
        ArgumentNullException.ThrowIfNull(realOutputs);
        if (realOutputs.Numel == 0)
            throw new ArgumentException($"DriftPenalty: real outputs {Shapes.Format(realOutputs.ShapeSpan)} are empty");
        // ε·mean(D(x)²)
        return Epsilon * realOutputs.Square().Mean();
    }
}

/// <summary>Argument checks and the input gradient shared by the penalties.</summary>
static class PenaltyChecks
{
    public static float NonNegative(float value, string who, string name) =>
        value >= 0 && float.IsFinite(value) ? value
            : throw new ArgumentException($"{who}: {name} must be finite and non-negative, got {value}", name);

    public static void Batch(Tensor x, string who, string what)
    {
        ArgumentNullException.ThrowIfNull(x, what);
        if (x.Rank < 2 || x.Size(0) == 0 || x.Numel == 0)
            throw new ArgumentException($"{who}: {what} {Shapes.Format(x.ShapeSpan)} must be a non-empty batch (N, ...) of rank 2 or more");
    }

    public static void SamePair(Tensor real, Tensor fake)
    {
        Batch(real, "GradientPenalty", "real");
        Batch(fake, "GradientPenalty", "fake");
        if (!real.ShapeSpan.SequenceEqual(fake.ShapeSpan))
            throw new ArgumentException(
                $"GradientPenalty: real {Shapes.Format(real.ShapeSpan)} and fake {Shapes.Format(fake.ShapeSpan)} must have the same shape");
    }

    /// <summary>
    /// ∇_x D(x) as the gradient of D(x).sum(): per sample, since each sample's score depends on that
    /// sample alone. Recorded (createGraph) when gradients are enabled, so the penalty can be backpropagated.
    /// Returns the gradient and the pass of D that made it (D(x).sum()).
    /// </summary>
    public static (Tensor Gradient, Tensor Pass) InputGradient(Module d, Tensor x, string who)
    {
        bool record = GradMode.IsEnabled;
        Tensor total;
        using (GradMode.EnableGrad())
        {
            var output = d.Forward(x);
            if (output.Rank == 0 || output.Size(0) != x.Size(0))
                throw new ArgumentException(
                    $"{who}: {d.TypeName} maps the samples {Shapes.Format(x.ShapeSpan)} to {Shapes.Format(output.ShapeSpan)}, not to one row per sample");
            total = output.Sum();
        }
        return (Autograd.Grad(total, x, createGraph: record), total);
    }

    /// <summary>The mean of a tensor's values, in double, outside the graph.</summary>
    public static double MeanOf(Tensor t)
    {
        double s = 0;
        foreach (float v in t.Data) s += v;
        return s / t.Numel;
    }
}

/// <summary>
/// What one evaluation of a gradient penalty leaves that no backward frees: the pass of D that its gradient's graph
/// reads, and tensors the penalty made itself (interpolates, the gradient) that nothing outside it holds.
/// </summary>
sealed class PenaltyBuffers
{
    Tensor? _pass, _penalty, _input;
    Tensor[] _made = [];

    /// <summary>
    /// Holds the pass, the penalty, the leaf D was differentiated at and the tensors it made (each its own buffer) until
    /// <see cref="Release"/>; an earlier evaluation's are left to the GC.
    /// </summary>
    public void Keep(Tensor pass, Tensor penalty, Tensor input, params Tensor[] made) =>
        (_pass, _penalty, _input, _made) = (pass, penalty, input, made);

    /// <summary>
    /// Frees the pass's graph (its layers' intermediates go back to the pool) and the penalty's (a backward through it
    /// from now on throws instead of reading buffers that serve other tensors), gives back the gradient the loss's
    /// backward left on the input leaf (nothing reads it), then the tensors it made.
    /// </summary>
    public void Release()
    {
        if (_pass is { } pass) Autograd.ReleaseGraph(pass);
        if (_penalty is { } penalty) Autograd.ReleaseGraph(penalty);
        if (_input is { IsLeaf: true, Grad: { GradFn: null } grad } input)
        {
            input.Grad = null;
            grad.ReturnToPool();
        }
        foreach (var t in _made) t.ReturnToPool();
        (_pass, _penalty, _input, _made) = (null, null, null, []);
    }
}
