using System.Text.Json;

namespace GanForge.Optim;

/// <summary>
/// Base of the learning-rate schedulers (as torch.optim.lr_scheduler._LRScheduler in PyTorch 1.13):
/// construction records each group's <c>initial_lr</c> and applies epoch 0; each <see cref="Step"/>
/// advances <see cref="LastEpoch"/> and writes new learning rates into the optimizer's groups.
/// </summary>
/// <remarks>
/// The schedules use PyTorch's recursive ("chainable") formulas, which update the current group lr,
/// so a scheduler composes with manual lr changes exactly as PyTorch's does. Call
/// <c>optimizer.Step()</c> before <c>scheduler.Step()</c> in each epoch or iteration.
/// </remarks>
public abstract class LrScheduler
{
    double[] _lastLr = [];

    /// <summary>Attaches to <paramref name="optimizer"/>; derived constructors finish with <see cref="InitialStep"/>.</summary>
    protected LrScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        foreach (var g in optimizer.ParamGroups) g.InitialLr ??= g.Lr;
        BaseLrs = optimizer.ParamGroups.Select(g => g.InitialLr!.Value).ToArray();
    }

    /// <summary>The optimizer whose learning rates this scheduler sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Each group's learning rate when the scheduler was attached.</summary>
    public IReadOnlyList<double> BaseLrs { get; private set; }

    /// <summary>Epochs (or iterations) stepped; 0 right after construction.</summary>
    public int LastEpoch { get; private set; } = -1;

    /// <summary>Times <see cref="Step"/> has run, counting the one made by the constructor.</summary>
    public int StepCount { get; private set; }

    /// <summary>The learning rates set by the last step, one per group (as get_last_lr()).</summary>
    public IReadOnlyList<double> LastLr => _lastLr;

    /// <summary>Applies epoch 0; called at the end of each derived constructor, once its fields are set.</summary>
    protected void InitialStep() => Step();

    /// <summary>Advances one epoch and writes the new learning rates into the optimizer.</summary>
    public void Step()
    {
        StepCount++;
        LastEpoch++;
        var lrs = ComputeLr();
        var groups = Optimizer.ParamGroups;
        if (lrs.Length != groups.Count)
            throw new InvalidOperationException($"{GetType().Name}: computed {lrs.Length} learning rates for {groups.Count} parameter groups (a group was added after the scheduler?)");
        for (int i = 0; i < lrs.Length; i++) groups[i].Lr = lrs[i];
        _lastLr = lrs;
    }

    /// <summary>The learning rates for <see cref="LastEpoch"/>, one per group (PyTorch's get_lr()).</summary>
    protected abstract double[] ComputeLr();

    /// <summary>The current learning rate of each group.</summary>
    protected double[] GroupLrs() => Optimizer.ParamGroups.Select(g => g.Lr).ToArray();

    /// <summary>The scheduler's position, for checkpoints (the optimizer's state dict holds the group lrs).</summary>
    public LrSchedulerState StateDict() => new(LastEpoch, StepCount, BaseLrs.ToArray(), _lastLr.ToArray());

    /// <summary>Restores a position saved by <see cref="StateDict"/>.</summary>
    public void LoadStateDict(LrSchedulerState state)
    {
        if (state.BaseLrs.Length != Optimizer.ParamGroups.Count)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: the state has {state.BaseLrs.Length} base lrs, the optimizer {Optimizer.ParamGroups.Count} groups");
        LastEpoch = state.LastEpoch;
        StepCount = state.StepCount;
        BaseLrs = state.BaseLrs.ToArray();
        _lastLr = state.LastLr.ToArray();
    }
}

/// <summary>A scheduler's saved position; <see cref="ToJson"/> fits in safetensors metadata.</summary>
public sealed record LrSchedulerState(int LastEpoch, int StepCount, double[] BaseLrs, double[] LastLr)
{
    static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>JSON with PyTorch's key names (last_epoch, step_count, base_lrs, last_lr).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Parses <see cref="ToJson"/>'s output.</summary>
    public static LrSchedulerState FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<LrSchedulerState>(json, Options) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new InvalidDataException($"LrSchedulerState: malformed JSON ({e.Message})", e); }
    }
}
