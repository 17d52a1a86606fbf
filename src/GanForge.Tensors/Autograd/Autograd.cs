namespace GanForge;

/// <summary>
/// The backward engine: reverse-mode differentiation over the recorded graph, with optional
/// recording of the backward pass itself (gradients of gradients, as WGAN-GP and R1 need).
/// </summary>
public static class Autograd
{
    /// <summary>
    /// Gradients of <paramref name="outputs"/> w.r.t. <paramref name="inputs"/> (torch.autograd.grad).
    /// Leaves' <see cref="Tensor.Grad"/> are not touched.
    /// </summary>
    /// <param name="gradOutputs">Gradient w.r.t. each output; may be omitted for scalar outputs.</param>
    /// <param name="createGraph">Record the backward pass, so the result can itself be backpropagated.</param>
    /// <param name="retainGraph">Keep the graph for another backward; defaults to <paramref name="createGraph"/>.</param>
    /// <param name="allowUnused">Return null for an input the outputs do not depend on instead of throwing.</param>
    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null,
        bool createGraph = false, bool? retainGraph = null, bool allowUnused = false)
    {
        foreach (var x in inputs)
            if (!x.RequiresGrad)
                throw new ArgumentException($"Autograd.Grad: an input of shape {Shapes.Format(x.ShapeSpan)} does not require grad");
        var targets = new Dictionary<Tensor, Tensor?>(ReferenceEqualityComparer.Instance);
        foreach (var x in inputs) targets[x] = null;
        Run(outputs, gradOutputs, retainGraph ?? createGraph, createGraph, targets, accumulateLeaves: false);
        var result = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            result[i] = targets[inputs[i]];
            if (result[i] == null && !allowUnused)
                throw new InvalidOperationException($"Autograd.Grad: input {i} of shape {Shapes.Format(inputs[i].ShapeSpan)} was not used to compute the outputs (pass allowUnused: true)");
        }
        return result;
    }

    /// <summary>Single-output, single-input convenience form of <see cref="Grad(Tensor[], Tensor[], Tensor?[], bool, bool?, bool)"/>.</summary>
    public static Tensor Grad(Tensor output, Tensor input, Tensor? gradOutput = null, bool createGraph = false, bool? retainGraph = null)
        => Grad([output], [input], gradOutput == null ? null : [gradOutput], createGraph, retainGraph)[0]!;

    internal static void Backward(Tensor root, Tensor? gradient, bool retainGraph, bool createGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward: tensor of shape {Shapes.Format(root.ShapeSpan)} does not require grad and has no grad_fn");
        Run([root], [gradient], retainGraph, createGraph, targets: null, accumulateLeaves: true);
    }

    /// <summary>
    /// <paramref name="root"/>.Backward() where nodes may apply the <see cref="FusedStep"/>s armed on leaves they alone use,
    /// instead of making those leaves' gradients (which then stay null).
    /// </summary>
    internal static void BackwardFusingSteps(Tensor root)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward: tensor of shape {Shapes.Format(root.ShapeSpan)} does not require grad and has no grad_fn");
        Run([root], null, retainGraph: false, createGraph: false, targets: null, accumulateLeaves: true, fuseSteps: true);
    }

    static void Run(Tensor[] outputs, Tensor?[]? gradOutputs, bool retainGraph, bool createGraph,
        Dictionary<Tensor, Tensor?>? targets, bool accumulateLeaves, bool fuseSteps = false)
    {
        if (gradOutputs != null && gradOutputs.Length != outputs.Length)
            throw new ArgumentException($"Backward: {gradOutputs.Length} gradients given for {outputs.Length} outputs");

        if (Profiler.Enabled) Profiler.EnterEngine();
        try { RunGraph(outputs, gradOutputs, retainGraph, createGraph, targets, accumulateLeaves, fuseSteps); }
        finally { if (Profiler.Enabled) Profiler.ExitEngine(); }
    }

    /// <summary>
    /// A gradient on its way through the graph. Owned means no other tensor shares its storage (a
    /// fresh kernel result, not the user's gradient, not a pass-through of another gradient), so the
    /// engine may add into it in place or hand it to a leaf as its .Grad without a copy, as PyTorch's
    /// AccumulateGrad steals a gradient nobody else references. Never owned while a graph is built.
    /// </summary>
    record struct Flowing(Tensor Grad, bool Owned);

    static void RunGraph(Tensor[] outputs, Tensor?[]? gradOutputs, bool retainGraph, bool createGraph,
        Dictionary<Tensor, Tensor?>? targets, bool accumulateLeaves, bool fuseSteps)
    {
        // Gradients flowing into each tensor, keyed by identity.
        var grads = new Dictionary<Tensor, Flowing>(ReferenceEqualityComparer.Instance);
        using var mode = GradMode.Set(createGraph);

        for (int i = 0; i < outputs.Length; i++)
        {
            var y = outputs[i];
            if (!y.RequiresGrad)
                throw new InvalidOperationException($"Backward: output {i} of shape {Shapes.Format(y.ShapeSpan)} does not require grad");
            var g = gradOutputs?[i];
            if (g == null)
            {
                if (y.Numel != 1)
                    throw new InvalidOperationException($"Backward: output of shape {Shapes.Format(y.ShapeSpan)} is not a scalar; pass a gradient of the same shape");
                g = Tensor.OnesLike(y);
            }
            else if (!g.ShapeSpan.SequenceEqual(y.ShapeSpan))
                throw new ArgumentException($"Backward: gradient of shape {Shapes.Format(g.ShapeSpan)} does not match output of shape {Shapes.Format(y.ShapeSpan)}");
            Accumulate(grads, y, g, owned: false, createGraph);
        }

        var stepUses = fuseSteps ? new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance) : null;
        var order = TopologicalOrder(outputs, stepUses);
        // For Grad, only the tensors on a path to its inputs: nodes elsewhere are not run, and the
        // functions skip the gradients of their other inputs (Function.NeedsGrad).
        var needed = targets == null ? null : OnPathTo(order, targets);
        var (outer, outerUses) = (Function.Needed, Function.StepUses);
        (Function.Needed, Function.StepUses) = (needed, stepUses);
        try { Propagate(order, grads, needed, retainGraph, createGraph, targets, accumulateLeaves); }
        finally { (Function.Needed, Function.StepUses) = (outer, outerUses); }
    }

    static void Propagate(List<Tensor> order, Dictionary<Tensor, Flowing> grads, HashSet<Tensor>? needed, bool retainGraph,
        bool createGraph, Dictionary<Tensor, Tensor?>? targets, bool accumulateLeaves)
    {
        foreach (var t in order)
        {
            if (!grads.Remove(t, out var flowing)) continue;
            if (needed != null && !needed.Contains(t)) continue;
            var g = flowing.Grad;
            if (targets != null && targets.ContainsKey(t))
            {
                targets[t] = targets[t] is { } prev ? prev + g : g;
                flowing = flowing with { Owned = false }; // handed to the caller
                if (t.IsLeaf) continue;
            }
            var fn = t.GradFn;
            if (fn == null)
            {
                if (accumulateLeaves && t.RequiresGrad) AccumulateLeaf(t, flowing, createGraph);
                continue;
            }
            if (fn.Released)
                throw new InvalidOperationException(
                    $"Backward: trying to backward through {fn.Name} a second time, but its graph was already freed; pass retainGraph: true to the first Backward");
            if (Profiler.Enabled) Profiler.BeginBackward();
            var inputGrads = fn.Backward(g);
            if (Profiler.Enabled) Profiler.EndBackward(fn);
            var inputs = fn.InputArray;
            for (int i = 0; i < inputs.Length; i++)
            {
                var gi = inputGrads[i];
                if (gi == null || !inputs[i].RequiresGrad || (needed != null && !needed.Contains(inputs[i]))) continue;
                if (!gi.ShapeSpan.SequenceEqual(inputs[i].ShapeSpan))
                    throw new InvalidOperationException(
                        $"{fn.Name}: gradient for input {i} has shape {Shapes.Format(gi.ShapeSpan)}, expected {Shapes.Format(inputs[i].ShapeSpan)}");
                Accumulate(grads, inputs[i], gi, !createGraph && IsExclusive(gi, flowing, inputGrads, i), createGraph);
            }
            // The node has consumed its gradient; unless it passed it on (a view or the tensor itself), it is dead.
            if (flowing.Owned && !SharesStorage(g, inputGrads)) StoragePool.Return(g.Storage);
            if (!retainGraph)
            {
                fn.Released = true;
                fn.ReleaseSaved();
                // Every consumer of t ran before t (topological order) and t's own node just ran.
                if (t.RecycleAfterBackward && !createGraph && !SharesStorage(t, fn.InputArray)) StoragePool.Return(t.Storage);
            }
            if (AnomalyMode.Enabled) AnomalyMode.CheckGradients(fn, inputGrads);
        }
    }

    /// <summary>
    /// True when nothing but <paramref name="gi"/> will hold its buffer: it shares storage with no other input
    /// gradient of the node, and with the node's incoming gradient only when that one was owned (a pass-through
    /// or a view, such as Reshape's backward, inherits ownership: the incoming gradient is dead after the node).
    /// </summary>
    static bool IsExclusive(Tensor gi, Flowing incoming, Tensor?[] inputGrads, int i)
    {
        if (ReferenceEquals(gi.Storage, incoming.Grad.Storage) && !incoming.Owned) return false;
        for (int j = 0; j < inputGrads.Length; j++)
            if (j != i && inputGrads[j] is { } other && ReferenceEquals(other.Storage, gi.Storage)) return false;
        return true;
    }

    static bool SharesStorage(Tensor g, Tensor?[] others)
    {
        foreach (var o in others)
            if (o != null && ReferenceEquals(o.Storage, g.Storage)) return true;
        return false;
    }

    static void Accumulate(Dictionary<Tensor, Flowing> grads, Tensor t, Tensor g, bool owned, bool createGraph)
    {
        if (!grads.TryGetValue(t, out var prev)) { grads[t] = new Flowing(g, owned); return; }
        if (prev.Owned) System.Numerics.Tensors.TensorPrimitives.Add(prev.Grad.Data, g.Data, prev.Grad.Data);
        else grads[t] = new Flowing(prev.Grad + g, Owned: !createGraph);
        if (owned) StoragePool.Return(g.Storage);
    }

    /// <summary>
    /// Adds a leaf's gradient into its .Grad: in place when .Grad exists and no graph is built (as PyTorch
    /// does), otherwise by taking the gradient over (owned) or a copy of it.
    /// </summary>
    static void AccumulateLeaf(Tensor t, Flowing flowing, bool createGraph)
    {
        var g = flowing.Grad;
        if (createGraph) { t.Grad = t.Grad == null ? g : t.Grad + g; return; }
        if (t.Grad == null) { t.Grad = flowing.Owned && g.GradFn == null ? g : g.Detach().Clone(); return; }
        if (t.Grad.GradFn == null && t.Grad.ShapeSpan.SequenceEqual(g.ShapeSpan))
        {
            System.Numerics.Tensors.TensorPrimitives.Add(t.Grad.Data, g.Data, t.Grad.Data);
            if (flowing.Owned && !ReferenceEquals(t.Grad.Storage, g.Storage)) StoragePool.Return(g.Storage);
        }
        else
            t.Grad = t.Grad + g.Detach();
    }

    /// <summary>The tensors of <paramref name="order"/> that are targets or lead to one (inputs before outputs, in reverse order).</summary>
    static HashSet<Tensor> OnPathTo(List<Tensor> order, Dictionary<Tensor, Tensor?> targets)
    {
        var needed = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int k = order.Count - 1; k >= 0; k--)
        {
            var t = order[k];
            if (targets.ContainsKey(t)) { needed.Add(t); continue; }
            if (t.GradFn is { } fn)
                foreach (var x in fn.InputArray)
                    if (needed.Contains(x)) { needed.Add(t); break; }
        }
        return needed;
    }

    /// <summary>Tensors reachable from the outputs, each after every tensor that depends on it.</summary>
    // stepUses, when given, counts the uses (node inputs) of each leaf with a step armed.
    static List<Tensor> TopologicalOrder(Tensor[] outputs, Dictionary<Tensor, int>? stepUses)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        // Iterative DFS (graphs of deep models overflow a recursive one).
        var stack = new Stack<(Tensor node, int next)>();
        foreach (var root in outputs)
        {
            if (!visited.Add(root)) continue;
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                var inputs = node.GradFn?.InputArray ?? [];
                if (next < inputs.Length)
                {
                    stack.Push((node, next + 1));
                    var child = inputs[next];
                    if (stepUses != null && child.PendingStep != null) stepUses[child] = stepUses.GetValueOrDefault(child) + 1;
                    if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
                }
                else order.Add(node);
            }
        }
        order.Reverse();
        return order;
    }
}
