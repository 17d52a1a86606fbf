namespace GanForge.Optim;

/// <summary>
/// Base of the optimizers (as torch.optim.Optimizer): parameter groups, per-parameter state,
/// <see cref="ZeroGrad"/>, <see cref="Step"/> and a state dict that resumes training bit for bit.
/// </summary>
/// <remarks>
/// Updates follow PyTorch 1.13's single-tensor (foreach=False) code path operation by operation in
/// float32, with hyperparameter arithmetic in double and cast to float where PyTorch passes a Python
/// scalar to a float32 kernel. Parameters whose <see cref="Tensor.Grad"/> is null are skipped, and
/// their state (including Adam's step count) is left unchanged.
/// </remarks>
public abstract class Optimizer
{
    readonly List<ParamGroup> _groups = [];
    readonly Dictionary<Tensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);
    readonly float[][] _scratch = [[], [], []];

    /// <summary>Creates the optimizer with one group holding <paramref name="parameters"/>.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, double lr, OptimizerOptions defaults)
    {
        Defaults = defaults;
        DefaultLr = lr;
        AddParamGroup(parameters);
    }

    /// <summary>Name used in error messages and in the state dict ("Adam", "SGD", ...).</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>Learning rate given to groups added without one.</summary>
    public double DefaultLr { get; }

    /// <summary>Hyperparameters given to groups added without their own.</summary>
    public OptimizerOptions Defaults { get; }

    /// <summary>The parameter groups, in order.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>
    /// Adds a group (as add_param_group). <paramref name="lr"/> and <paramref name="options"/> default
    /// to the optimizer's; options must be this optimizer's record type (e.g. <see cref="AdamOptions"/>).
    /// </summary>
    public ParamGroup AddParamGroup(IEnumerable<Tensor> parameters, double? lr = null, OptimizerOptions? options = null)
    {
        var list = parameters.ToList();
        if (list.Count == 0)
            throw new ArgumentException($"{TypeName}: got an empty parameter list");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in list)
        {
            if (!p.IsLeaf)
                throw new ArgumentException($"{TypeName}: cannot optimize a non-leaf tensor {p.Name ?? ""}{Shapes.Format(p.ShapeSpan)} (produced by {p.GradFn!.Name})");
            if (!seen.Add(p))
                throw new ArgumentException($"{TypeName}: tensor {p.Name ?? ""}{Shapes.Format(p.ShapeSpan)} appears twice in one parameter group");
            if (_groups.Any(g => g.Params.Any(q => ReferenceEquals(q, p))))
                throw new ArgumentException($"{TypeName}: tensor {p.Name ?? ""}{Shapes.Format(p.ShapeSpan)} appears in more than one parameter group");
        }
        var group = new ParamGroup(this, list, lr ?? DefaultLr, options ?? Defaults);
        _groups.Add(group);
        return group;
    }

    internal OptimizerOptions CheckOptions(double lr, OptimizerOptions options)
    {
        if (options.GetType() != Defaults.GetType())
            throw new ArgumentException($"{TypeName}: options of type {options.GetType().Name}, expected {Defaults.GetType().Name}");
        if (!(lr >= 0))
            throw new ArgumentException($"{TypeName}: invalid learning rate {lr} (expected >= 0)");
        Validate(options);
        return options;
    }

    /// <summary>Throws ArgumentException for out-of-range hyperparameters.</summary>
    protected abstract void Validate(OptimizerOptions options);

    /// <summary>
    /// Clears the gradients of every parameter: sets them to null (the default, as PyTorch 2's
    /// zero_grad) or fills them with zeros.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var g in _groups)
            foreach (var p in g.Params)
            {
                if (p.Grad == null) continue;
                if (setToNone) p.Grad = null;
                else if (p.Grad.GradFn != null) p.Grad = Tensor.ZerosLike(p.Grad); // a graph-carrying grad must not be zeroed in place
                else p.Grad.Data.Clear();
            }
    }

    /// <summary>
    /// Sets every gradient to null and gives its buffer back to the engine's pool, so the next backward
    /// writes the new gradients into recycled memory: no zeroing pass and no accumulation pass, and no
    /// allocation. Only for a training loop that owns its gradients: a reference to an old .Grad kept
    /// anywhere else would see its values overwritten. The trainer's phases call this; user code should
    /// call <see cref="ZeroGrad"/>.
    /// </summary>
    public void ZeroGradAndRecycle()
    {
        foreach (var g in _groups)
            foreach (var p in g.Params)
            {
                if (p.Grad == null) continue;
                if (p.Grad.GradFn == null && !p.Grad.RequiresGrad) StoragePool.Return(p.Grad.Storage);
                p.Grad = null;
            }
    }

    /// <summary>Performs one update of every parameter that has a gradient.</summary>
    public void Step()
    {
        if (Profiler.Enabled) Profiler.Mark("(before optimizer step)");
        // Index loops: enumerating IReadOnlyList through the interface would allocate on every step.
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var group = _groups[gi];
            for (int pi = 0; pi < group.Params.Count; pi++)
            {
                var p = group.Params[pi];
                if (p.Grad is not { } grad) continue;
                if (!grad.ShapeSpan.SequenceEqual(p.ShapeSpan))
                    throw new InvalidOperationException($"{TypeName}: gradient of shape {Shapes.Format(grad.ShapeSpan)} for parameter {p.Name ?? ""}{Shapes.Format(p.ShapeSpan)}");
                Update(group, p, grad.Data, StateOf(p));
            }
        }
        if (Profiler.Enabled) Profiler.Mark("optimizer step (" + TypeName + ")");
    }

    /// <summary>
    /// <paramref name="loss"/>.Backward() and then <see cref="Step"/>, with the step of each parameter that allows it applied
    /// inside the backward where its gradient is made (<see cref="FusedStep"/>): Adam's step on a Linear layer's weight
    /// runs in the product that makes the weight's gradient, 8 rows at a time, so the gradient never goes to memory as
    /// a whole. The same result as Backward then Step, bit for bit; the parameters stepped inside have no
    /// <see cref="Tensor.Grad"/> afterwards. For callers that do nothing between the two (no clipping, no all-reduce, no
    /// reading of gradients), with no gradients left from before (<see cref="ZeroGrad"/>).
    /// </summary>
    public void BackwardAndStep(Tensor loss)
    {
        if (!FusesSteps) { loss.Backward(); Step(); return; }
        foreach (var group in _groups)
            foreach (var p in group.Params)
                if (p.Grad == null) p.PendingStep = FusedStepFor(group, p);
        try { Autograd.BackwardFusingSteps(loss); }
        finally
        {
            foreach (var group in _groups)
                foreach (var p in group.Params) p.PendingStep = null;
        }
        Step();
    }

    /// <summary>Whether <see cref="BackwardAndStep"/> fuses steps into the backward (GANFORGE_FUSED_STEPS=off: never, for comparisons).</summary>
    public static bool FusesSteps { get; set; } = Environment.GetEnvironmentVariable("GANFORGE_FUSED_STEPS")?.Trim().ToLowerInvariant() != "off";

    /// <summary>The step of <paramref name="param"/> that a backward may apply where it makes the gradient, or null (the default: none).</summary>
    protected virtual FusedStep? FusedStepFor(ParamGroup group, Tensor param) => null;

    /// <summary>The state of <paramref name="param"/>, created empty before its first update.</summary>
    protected ParamState StateOf(Tensor param)
    {
        if (!_state.TryGetValue(param, out var state)) _state[param] = state = new ParamState();
        return state;
    }

    /// <summary>Applies one update to a parameter; <paramref name="grad"/> must not be modified.</summary>
    protected abstract void Update(ParamGroup group, Tensor param, ReadOnlySpan<float> grad, ParamState state);

    /// <summary>
    /// A temporary buffer of <paramref name="length"/> floats (slots 0..2), reused across steps so that
    /// steps after the first allocate nothing.
    /// </summary>
    protected Span<float> Scratch(int slot, int length)
    {
        if (_scratch[slot].Length < length) _scratch[slot] = new float[length];
        return _scratch[slot].AsSpan(0, length);
    }

    /// <summary>All parameters with their index across groups, as in PyTorch's state dict.</summary>
    IEnumerable<(int Index, ParamGroup Group, Tensor Param)> IndexedParams()
    {
        int i = 0;
        foreach (var g in _groups)
            foreach (var p in g.Params)
                yield return (i++, g, p);
    }

    /// <summary>The state of <paramref name="param"/>, or null before its first update.</summary>
    public ParamState? State(Tensor param) => _state.GetValueOrDefault(param);

    /// <summary>
    /// A copy of the optimizer's state: per-parameter buffers as tensors named
    /// <c>state.{paramIndex}.{buffer}</c> and the groups' hyperparameters and step counts as JSON.
    /// </summary>
    public OptimizerStateDict StateDict()
    {
        var tensors = new Dictionary<string, Tensor>();
        var steps = new SortedDictionary<int, long>();
        foreach (var (i, _, p) in IndexedParams())
        {
            if (!_state.TryGetValue(p, out var s)) continue;
            steps[i] = s.Step;
            foreach (var (name, buffer) in s.Buffers) tensors[$"state.{i}.{name}"] = buffer.Clone();
        }
        return new OptimizerStateDict(tensors, OptimizerStateJson.Write(TypeName, _groups, steps));
    }

    /// <summary>
    /// Restores state saved by <see cref="StateDict"/> of an optimizer of the same type over parameters
    /// of the same shapes, grouped the same way. Hyperparameters and learning rates come from the state.
    /// </summary>
    public void LoadStateDict(OptimizerStateDict state)
    {
        var (type, groups, steps) = OptimizerStateJson.Read(state.Json, Defaults.GetType());
        if (type != TypeName)
            throw new ArgumentException($"{TypeName}.LoadStateDict: the state was saved by {type}");
        if (groups.Count != _groups.Count)
            throw new ArgumentException($"{TypeName}.LoadStateDict: the state has {groups.Count} parameter groups, the optimizer {_groups.Count}");
        for (int g = 0; g < groups.Count; g++)
            if (groups[g].ParamCount != _groups[g].Params.Count)
                throw new ArgumentException($"{TypeName}.LoadStateDict: group {g} has {groups[g].ParamCount} parameters in the state, {_groups[g].Params.Count} in the optimizer");

        var loaded = new Dictionary<Tensor, ParamState>(ReferenceEqualityComparer.Instance);
        foreach (var (i, _, p) in IndexedParams())
        {
            if (!steps.TryGetValue(i, out long step)) continue;
            var s = new ParamState { Step = step };
            string prefix = $"state.{i}.";
            foreach (var (name, t) in state.Tensors)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (!t.ShapeSpan.SequenceEqual(p.ShapeSpan))
                    throw new ArgumentException($"{TypeName}.LoadStateDict: '{name}' has shape {Shapes.Format(t.ShapeSpan)}, parameter {i} has {Shapes.Format(p.ShapeSpan)}");
                s.Buffers[name[prefix.Length..]] = t.Clone();
            }
            loaded[p] = s;
        }
        var stray = state.Tensors.Keys.FirstOrDefault(k => !TryParseIndex(k, out int i) || !steps.ContainsKey(i));
        if (stray != null)
            throw new ArgumentException($"{TypeName}.LoadStateDict: unexpected tensor '{stray}' (no parameter state with that index)");

        for (int g = 0; g < groups.Count; g++)
        {
            CheckOptions(groups[g].Lr, groups[g].Options);
            _groups[g].Lr = groups[g].Lr;
            _groups[g].InitialLr = groups[g].InitialLr;
            _groups[g].Options = groups[g].Options;
        }
        _state.Clear();
        foreach (var (p, s) in loaded) _state[p] = s;
    }

    static bool TryParseIndex(string name, out int index)
    {
        index = -1;
        var parts = name.Split('.');
        return parts.Length == 3 && parts[0] == "state" && int.TryParse(parts[1], out index);
    }
}

/// <summary>Per-parameter optimizer state: the number of updates and named buffers (exp_avg, momentum_buffer, ...).</summary>
public sealed class ParamState
{
    /// <summary>Updates applied to this parameter so far.</summary>
    public long Step { get; set; }

    /// <summary>Buffers by PyTorch's state names; created lazily by the optimizer.</summary>
    public Dictionary<string, Tensor> Buffers { get; } = [];

    /// <summary>The buffer <paramref name="name"/>, created zero-filled in the shape of <paramref name="like"/> if absent.</summary>
    internal Span<float> Buffer(string name, Tensor like)
    {
        if (!Buffers.TryGetValue(name, out var t)) Buffers[name] = t = Tensor.ZerosLike(like);
        return t.Data;
    }
}
