namespace GanForge;

/// <summary>
/// One differentiable op: a node of the graph that produced a tensor.
/// Subclasses compute their forward value with kernels, call <see cref="Record"/>, and
/// implement <see cref="Backward"/> with differentiable tensor ops so that, when the engine
/// runs with createGraph, gradients of gradients work.
/// </summary>
public abstract class Function
{
    Tensor[] _inputs = [];

    /// <summary>The op's name as shown in grad_fn and error messages.</summary>
    public virtual string Name => GetType().Name + "Backward";

    /// <summary>The op's name in the profile: its type, and its geometry where <see cref="Profiler.ByShape"/> asks and it has one.</summary>
    protected internal virtual string ProfileName => GetType().Name;

    /// <summary>The inputs this node was applied to.</summary>
    public IReadOnlyList<Tensor> Inputs => _inputs;

    internal Tensor[] InputArray => _inputs;

    /// <summary>Set once the graph has been freed by a Backward without retainGraph.</summary>
    internal bool Released { get; set; }

    // Buffers of inputs without a node of their own that this node alone reads (a frozen layer's scaled weight).
    List<float[]>? _held;

    /// <summary>
    /// Takes over the buffer of <paramref name="input"/>, one of this node's inputs that has no node of its own and that
    /// nothing but this node reads: it goes back to the pool once the node's backward has run (<see cref="ReturnHeld"/>).
    /// </summary>
    internal void HoldUntilReleased(Tensor input) => (_held ??= []).Add(input.Storage);

    /// <summary>Gives back the buffers held by <see cref="HoldUntilReleased"/>.</summary>
    internal void ReturnHeld()
    {
        if (_held is not { } held) return;
        _held = null;
        foreach (var buffer in held) StoragePool.Return(buffer);
    }

    /// <summary>
    /// The node of <paramref name="output"/>'s graph, within <paramref name="depth"/> nodes of it, that has a tensor
    /// sharing <paramref name="input"/>'s buffer among its inputs; null if none.
    /// </summary>
    internal static Function? ReaderOf(Tensor input, Tensor output, int depth = 3)
    {
        var fn = output.GradFn;
        for (int level = 0; fn != null && level < depth; level++)
        {
            Function? next = null;
            foreach (var x in fn._inputs)
            {
                if (ReferenceEquals(x.Storage, input.Storage)) return fn;
                next ??= x.GradFn;
            }
            fn = next;
        }
        return null;
    }

    /// <summary>
    /// The tensors whose gradient the running <see cref="Autograd.Grad(Tensor[], Tensor[], Tensor?[], bool, bool?, bool)"/>
    /// needs (those on a path to its inputs); null during a plain Backward, where every input that
    /// requires grad needs one.
    /// </summary>
    [ThreadStatic] internal static HashSet<Tensor>? Needed;

    /// <summary>
    /// Whether input <paramref name="i"/> needs a gradient: it requires one, and when the engine computes
    /// gradients for given inputs only (a gradient penalty's ∇ₓD), it lies on a path to them, so a
    /// layer's weight gradients are skipped there.
    /// </summary>
    protected bool NeedsGrad(int i) => _inputs[i].RequiresGrad && (Needed == null || Needed.Contains(_inputs[i]));

    /// <summary>
    /// Uses in the running backward's graph of each leaf with a <see cref="FusedStep"/> armed, when that backward takes
    /// fused steps (<see cref="Autograd.BackwardFusingSteps"/>); null otherwise.
    /// </summary>
    [ThreadStatic] internal static Dictionary<Tensor, int>? StepUses;

    /// <summary>
    /// The step armed on leaf input <paramref name="i"/>, when this node may apply it in place of making its gradient: the
    /// backward takes fused steps, the input needs a gradient, has none yet and has no other use in the graph (so nothing
    /// else reads it while the step changes it, and its gradient is this node's alone). This node must have made every
    /// gradient that reads the input's values first.
    /// </summary>
    protected FusedStep? FusedStepOf(int i)
    {
        var t = _inputs[i];
        return StepUses != null && t.PendingStep is { } step && t.Grad == null && NeedsGrad(i)
            && StepUses.TryGetValue(t, out int uses) && uses == 1 ? step : null;
    }

    /// <summary>
    /// Gradients w.r.t. each input given <paramref name="grad"/>, the gradient w.r.t. the output;
    /// null where an input needs none. Runs with grad mode on exactly when the engine creates a graph.
    /// </summary>
    protected internal abstract Tensor?[] Backward(Tensor grad);

    /// <summary>Frees what the node saved for backward (called after a Backward without retainGraph).</summary>
    protected internal virtual void ReleaseSaved() { }

    /// <summary>
    /// Attaches <paramref name="fn"/> as the producer of <paramref name="output"/> when grad mode is on
    /// and some input requires grad; returns <paramref name="output"/>.
    /// </summary>
    protected static Tensor Record(Function fn, Tensor output, params Tensor[] inputs)
    {
        if (Profiler.Enabled) Profiler.ForwardOp(fn);
        if (!GradMode.IsEnabled) return output;
        bool any = false;
        foreach (var t in inputs) any |= t.RequiresGrad;
        if (!any) return output;
        fn._inputs = inputs;
        output.GradFn = fn;
        output.MarkRequiresGrad();
        if (AnomalyMode.Enabled) AnomalyMode.CheckForward(fn.Name, output);
        return output;
    }

    /// <summary>True when the op's result would be recorded (so forward can skip saving state otherwise).</summary>
    protected static bool WillRecord(params Tensor[] inputs) => GradMode.Records(inputs);
}
