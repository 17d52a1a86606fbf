using GanForge.Gan.Losses;
using GanForge.Gan.Zoo;

namespace GanForge.Gan.Training;

/// <summary>One optimizer and the networks it owns: while a phase of this group runs, every other network is frozen.</summary>
public sealed record OptimizerGroup(string Name, IReadOnlyList<string> Networks, OptimizerSettings Settings);

/// <summary>
/// What a variant declares to be trained: its networks (in <see cref="Model"/>), its optimizers, the
/// phases of one training step in order, the adversarial loss, and the networks that keep an EMA.
/// The generic <see cref="Training.Trainer"/> runs any game.
/// </summary>
public sealed class Game
{
    public required GanModel Model { get; init; }
    public required GanLoss Loss { get; init; }
    public LabelOptions Labels { get; init; } = LabelOptions.Default;
    /// <summary>The loss on the discriminator's head beside its adversarial output (AC-GAN, InfoGAN); null when D has none.</summary>
    public HeadLoss? Head { get; init; }
    /// <summary>
    /// Differentiable augmentation of every image D sees, real and generated, in D's and G's updates (DiffAugment,
    /// `--set diffaugment=...`); null for none. Its parameters come from <see cref="StepContext.LabelNoise"/>.
    /// </summary>
    public Augment.DiffAugment? Augment { get; init; }
    public required IReadOnlyList<OptimizerGroup> Optimizers { get; init; }
    public required IReadOnlyList<Phase> Phases { get; init; }
    /// <summary>Networks averaged after every step when the run asks for an EMA (the generator for the classic games).</summary>
    public IReadOnlyList<string> EmaNetworks { get; init; } = [GanModel.GeneratorName];
    /// <summary>Real images consumed per generator step (for images/s): batch size times the critic steps.</summary>
    public int RealBatchesPerStep { get; init; } = 1;
    /// <summary>
    /// How sample grids are drawn for a game whose generator maps images to images (pix2pix, SRGAN, CycleGAN): from a
    /// fixed batch of the data rather than fixed noise; null for the noise-to-image games.
    /// </summary>
    public ImagePreview? Preview { get; init; }
    /// <summary>State of the game beside its networks and optimizers (CycleGAN's pools of past fakes), saved in checkpoints by name.</summary>
    public IReadOnlyList<ICheckpointPart> Parts { get; init; } = [];
    /// <summary>
    /// The factor every optimizer group's learning rate is multiplied by before step <c>s</c> of <c>total</c>, the steps of
    /// the configured epochs (CycleGAN's linear decay over the second half); null keeps the rates constant. A function of
    /// the step alone, so a resume is exact (a resume that changes the epochs reshapes the rest of the schedule).
    /// </summary>
    public Func<long, long, double>? LrFactor { get; init; }
    /// <summary>
    /// The generator loss above which the run warns that it may be diverging (<see cref="Monitors.DivergedLoss"/>): an
    /// adversarial loss that high means D wins outright. Image-to-image games, whose G loss is mostly a weighted
    /// reconstruction term (pix2pix's 100·L1), set +∞.
    /// </summary>
    public double DivergedGeneratorLoss { get; init; } = 15;

    /// <summary>The group called <paramref name="name"/>.</summary>
    public OptimizerGroup Group(string name) => Optimizers.FirstOrDefault(g => g.Name == name)
        ?? throw new ArgumentException($"game of '{Model.Name}': no optimizer group '{name}' (it has {string.Join(", ", Optimizers.Select(g => g.Name))})");

    /// <summary>Checks that phases name existing groups and groups name existing networks.</summary>
    public void Validate()
    {
        foreach (var g in Optimizers)
            foreach (var n in g.Networks) _ = Model[n];
        foreach (var p in Phases)
        {
            _ = Group(p.Optimizer);
            if (p.Repeats < 1 || p.Every < 1)
                throw new ArgumentException($"phase {p.Name}: repeats ({p.Repeats}) and every ({p.Every}) must be at least 1");
        }
        foreach (var n in EmaNetworks) _ = Model[n];
        var names = Parts.Select(p => p.Name).ToList();
        if (names.Distinct().Count() != names.Count) throw new ArgumentException($"game of '{Model.Name}': two checkpoint parts share a name ({string.Join(", ", names)})");
    }
}

/// <summary>
/// State a game keeps beside its networks (a pool of past fakes): its tensors are saved in the checkpoint under
/// "NAME." and given back on a resume, so the run continues exactly.
/// </summary>
public interface ICheckpointPart
{
    /// <summary>The prefix of this part's tensors in the checkpoint.</summary>
    string Name { get; }

    /// <summary>The tensors that hold the state (none when it is empty).</summary>
    IEnumerable<KeyValuePair<string, Tensor>> StateDict();

    /// <summary>Restores the state from the tensors <see cref="StateDict"/> gave (an empty dictionary: the empty state).</summary>
    void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors);
}

/// <summary>
/// The sample grid of an image-to-image game: rows drawn from a fixed batch of the data (input | output | target, or
/// A -> B -> A), the same every epoch.
/// </summary>
public abstract class ImagePreview
{
    /// <summary>Images per row of the grid.</summary>
    public abstract int Columns { get; }

    /// <summary>The grid's images (N,C,H,W) in [-1,1], row by row, from <paramref name="batch"/> (the networks in eval mode, no graph).</summary>
    public abstract Tensor Render(GanModel model, GanBatch batch);
}

/// <summary>
/// One part of a training step (stylegan2-ada's phases: D main, D regulariser every k, G main). A phase
/// computes a loss; the trainer freezes the networks its optimizer does not own, runs backward and
/// steps the optimizer, <see cref="Repeats"/> times, on the steps that <see cref="Every"/> selects.
/// </summary>
/// <remarks>
/// Gradient buffers are recycled: before each backward the trainer hands the optimizer's gradients of
/// the previous update back to the engine's pool. A phase that keeps a parameter gradient beyond its own
/// step (for statistics, say) sets <see cref="KeepsGradients"/>: after its step the trainer lets go of
/// those gradients without recycling them, so what the phase holds is never overwritten. Tensors a phase
/// keeps otherwise (its batches, its samples, its losses) are never recycled.
/// </remarks>
public abstract class Phase
{
    public abstract string Name { get; }
    /// <summary>The optimizer group this phase updates.</summary>
    public abstract string Optimizer { get; }
    /// <summary>Updates per training step (the critic's n_critic).</summary>
    public virtual int Repeats => 1;
    /// <summary>Runs on steps divisible by this (lazy regularisation); its loss is then multiplied by it.</summary>
    public virtual int Every => 1;
    /// <summary>Opts out of gradient recycling (see remarks of <see cref="Phase"/>).</summary>
    public virtual bool KeepsGradients => false;

    /// <summary>The scalar loss of one update; records its statistics in <see cref="StepContext.Stats"/>.</summary>
    public abstract Tensor Loss(StepContext ctx);

    /// <summary>Runs after each optimizer step of this phase (weight clipping, for instance).</summary>
    public virtual void AfterStep(StepContext ctx) { }
}

/// <summary>Everything a phase reads and updates during a run: the game, the data, the noise streams, the statistics.</summary>
public sealed class StepContext
{
    public required Game Game { get; init; }
    public required IBatchSource Data { get; init; }
    /// <summary>Latent noise for training steps.</summary>
    public required Generator Noise { get; init; }
    /// <summary>Other randomness of the losses (label flips, interpolation weights).</summary>
    public required Generator LabelNoise { get; init; }
    /// <summary>
    /// This process's rows of every global batch in data-parallel training (whole otherwise). Batches hold only
    /// these rows; per-sample noise is drawn for the global batch and cut to them (<see cref="Latents"/>,
    /// <see cref="Uniform"/>), so N processes draw exactly what one would.
    /// </summary>
    public Shard Shard { get; init; }
    public TrainingStatistics Stats { get; } = new();
    /// <summary>Generator steps taken so far.</summary>
    public long Step { get; set; }
    /// <summary>Last real batch taken (also reused by regulariser phases, so they draw no data of their own).</summary>
    public GanBatch? LastReal { get; private set; }
    /// <summary>Last generated batch (for diversity measurements).</summary>
    public Tensor? LastFake
    {
        get { _lastFakeRead = true; return _lastFake; }
        set { (_lastFake, _lastFakeRead) = (value, false); }
    }

    Tensor? _lastFake;
    bool _lastFakeRead;

    /// <summary>The last generated batch if no one has read <see cref="LastFake"/> since it was set (its buffer is then free to reuse), else null.</summary>
    internal Tensor? UnreadLastFake => _lastFakeRead ? null : _lastFake;

    public GanModel Model => Game.Model;

    /// <summary>The next real batch.</summary>
    public GanBatch NextBatch() => LastReal = Data.Next();

    /// <summary>
    /// What G is fed for n samples (z, and classes or codes where the model has them), from the training noise stream:
    /// this shard's n of the global batch's, drawn as one process draws them.
    /// </summary>
    public Latents Latents(int n)
    {
        var all = Model.SampleLatents(n * Shard.Count, Noise);
        return Shard.IsWhole ? all : all.Slice(Shard.Start(n * Shard.Count), n);
    }

    /// <summary>n draws of U[0,1) from <see cref="LabelNoise"/>, one per sample (this shard's n of the global batch's).</summary>
    public Tensor Uniform(int n) => Shard.Take(Tensor.Rand([n * Shard.Count], LabelNoise));

    /// <summary>
    /// T(images), the game's differentiable augmentation, drawn from <see cref="LabelNoise"/> for this shard's rows of
    /// the global batch; the images themselves when the game has none.
    /// </summary>
    public Tensor Augmented(Tensor images) => Game.Augment is { } augment ? augment.Apply(images, LabelNoise, Shard) : images;

    /// <summary>The batch size in use: the last real batch's, or <paramref name="fallback"/> before any.</summary>
    public int BatchSize(int fallback = 64) => LastReal?.Size ?? fallback;
}
