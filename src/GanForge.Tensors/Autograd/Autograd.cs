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
    /// <param name="outputs">The tensors differentiated.</param>
    /// <param name="inputs">The tensors they are differentiated with respect to.</param>
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
    /// Shared: the engine's buffer passed on to several inputs at once (a sum's backward hands its
    /// gradient to both terms); read-only, and back to the pool when the last of them is done with it.
    /// </summary>
    record struct Flowing(Tensor Grad, bool Owned, Share? Shared = null);

    /// <summary>How many flowing gradients still read a shared buffer; pinned once the caller holds one of them.</summary>
    sealed class Share(int holders)
    {
        public int Holders = holders;
        public bool Pinned;
    }

    /// <summary>A flowing gradient is done with: its buffer goes back to the pool if it was the engine's alone, or its last reader.</summary>
    static void End(Flowing f)
    {
        if (f.Owned) StoragePool.Return(f.Grad.Storage);
        else if (f.Shared is { Pinned: false } share && --share.Holders == 0) StoragePool.Return(f.Grad.Storage);
    }

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
            Accumulate(grads, y, new Flowing(g, false), createGraph);
        }

        var stepUses = fuseSteps ? new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance) : null;
        var order = TopologicalOrder(outputs, stepUses);
        // For Grad, only the tensors on a path to its inputs: nodes elsewhere are not run, and the
        // functions skip the gradients of their other inputs (Function.NeedsGrad).
        var needed = targets == null ? null : OnPathTo(order, targets);
        var (outer, outerUses) = (Function.Needed, Function.StepUses);
        (Function.Needed, Function.StepUses) = (needed, stepUses);
        var made = createGraph ? new List<Tensor>() : null;
        try { Propagate(order, grads, needed, retainGraph, createGraph, targets, accumulateLeaves, made); }
        finally { (Function.Needed, Function.StepUses) = (outer, outerUses); }
        if (made != null) MarkGradientIntermediates(made, targets, order);
    }

    /// <summary>
    /// After a backward with a graph: the gradients its nodes made (<paramref name="made"/>) are intermediates of the new
    /// graph that only its nodes read, unless handed to the caller (a result of <see cref="Grad(Tensor[], Tensor[], Tensor?[], bool, bool?, bool)"/>
    /// or a leaf's .Grad, or a view of one). The others go back to the pool once a later backward has run the node that
    /// made them, as a layer's intermediates do (<see cref="Tensor.RecycleAfterBackward"/>): a gradient penalty's
    /// gradient graph then allocates nothing new from one step to the next.
    /// </summary>
    static void MarkGradientIntermediates(List<Tensor> made, Dictionary<Tensor, Tensor?>? targets, List<Tensor> order)
    {
        var handedOut = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        if (targets != null)
            foreach (var result in targets.Values)
                if (result != null) handedOut.Add(result.Storage);
        foreach (var t in order)
            if (t.IsLeaf && t.Grad != null) handedOut.Add(t.Grad.Storage);
        foreach (var g in made)
            if (!handedOut.Contains(g.Storage)) Owner(g).RecycleAfterBackward = true;
    }

    /// <summary>The tensor whose node made <paramref name="t"/>'s buffer: t itself, or for a view the tensor it views.</summary>
    static Tensor Owner(Tensor t)
    {
        while (t.GradFn is { } fn && Viewed(t, fn) is { } viewed) t = viewed;
        return t;
    }

    /// <summary>The input of <paramref name="t"/>'s node <paramref name="fn"/> whose buffer t shares (t is a view of it), or null.</summary>
    static Tensor? Viewed(Tensor t, Function fn) => Array.Find(fn.InputArray, x => ReferenceEquals(x.Storage, t.Storage));

    /// <summary>
    /// Ends the graph that made <paramref name="output"/>: its nodes are freed (a backward through them later throws) and
    /// the buffers of the intermediates built-in layers made in it go back to the pool. For a caller done with a pass whose
    /// intermediates no backward frees, such as a gradient penalty's pass of D, whose layer outputs the gradient's graph
    /// reads: call it once the penalty's backward has run. Leaves, <paramref name="output"/> itself and tensors a user's
    /// code made are left alone.
    /// </summary>
    public static void ReleaseGraph(Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var returned = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<Tensor>();
        pending.Push(output);
        while (pending.Count > 0)
        {
            var t = pending.Pop();
            if (t.GradFn is not { } fn || !seen.Add(t)) continue;
            // Inputs are walked after their outputs, so a view marks its base before the base is reached.
            if (t.RecycleAfterBackward && (Viewed(t, fn) != null || returned.Add(t.Storage))) Recycle(t, fn);
            if (!fn.Released)
            {
                fn.Released = true;
                fn.ReleaseSaved();
            }
            fn.ReturnHeld();
            foreach (var x in fn.InputArray) pending.Push(x);
        }
    }

    static void Propagate(List<Tensor> order, Dictionary<Tensor, Flowing> grads, HashSet<Tensor>? needed, bool retainGraph,
        bool createGraph, Dictionary<Tensor, Tensor?>? targets, bool accumulateLeaves, List<Tensor>? made)
    {
        foreach (var t in order)
        {
            if (!grads.Remove(t, out var flowing)) continue;
            if (needed != null && !needed.Contains(t)) continue;
            var g = flowing.Grad;
            if (targets != null && targets.ContainsKey(t))
            {
                targets[t] = targets[t] is { } prev ? prev + g : g;
                if (flowing.Shared is { } share) share.Pinned = true;
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
            if (createGraph)
            {
                // The nodes just recorded may keep any of this node's tensors without an edge (see ReadByGradientGraph).
                t.ReadByGradientGraph = true;
                foreach (var x in inputs) x.ReadByGradientGraph = true;
            }
            // The gradients that flow on: to inputs that take one.
            var onward = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                var gi = inputGrads[i];
                if (!Flows(gi, inputs[i], needed)) continue;
                onward[i] = gi;
                if (!gi!.ShapeSpan.SequenceEqual(inputs[i].ShapeSpan))
                    throw new InvalidOperationException(
                        $"{fn.Name}: gradient for input {i} has shape {Shapes.Format(gi.ShapeSpan)}, expected {Shapes.Format(inputs[i].ShapeSpan)}");
                // A new tensor of the gradient graph, neither the incoming gradient nor one of the node's own tensors.
                if (made != null && gi.GradFn != null && !ReferenceEquals(gi.Storage, g.Storage) && !SharesStorage(gi, inputs) && !ReferenceEquals(gi.Storage, t.Storage))
                    made.Add(gi);
            }
            var shares = createGraph ? null : new Dictionary<float[], Share>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < inputs.Length; i++)
                if (onward[i] is { } gi)
                    Accumulate(grads, inputs[i], createGraph ? new Flowing(gi, false) : Ownership(gi, flowing, onward, shares!), createGraph, made);
            // The node has consumed its gradient; unless it passed it on (a view or the tensor itself), it is done with it.
            if (!SharesStorage(g, onward)) End(flowing);
            if (!retainGraph)
            {
                fn.Released = true;
                fn.ReleaseSaved();
                // Every consumer of t ran before t (topological order) and t's own node just ran.
                if (t.RecycleAfterBackward && !t.ReadByGradientGraph && !createGraph) Recycle(t, fn);
                // The node's held inputs, unless a gradient graph's nodes may read them too (then ReleaseGraph gives them back).
                if (!t.ReadByGradientGraph && !createGraph) fn.ReturnHeld();
            }
            if (AnomalyMode.Enabled) AnomalyMode.CheckGradients(fn, inputGrads);
        }
    }

    /// <summary>
    /// Gives back the buffer of <paramref name="t"/>, marked for recycling, whose node <paramref name="fn"/> has run. A view's
    /// buffer is the tensor's it views (InstanceNorm's output is a reshape of its kernel's): that one is marked in its
    /// place, to go back after its own node, which runs later.
    /// </summary>
    static void Recycle(Tensor t, Function fn)
    {
        t.RecycleAfterBackward = false;
        if (Viewed(t, fn) is { } viewed)
        {
            if (viewed.GradFn != null) viewed.RecycleAfterBackward = true;
        }
        else StoragePool.Return(t.Storage);
    }

    static bool Flows(Tensor? gi, Tensor input, HashSet<Tensor>? needed) =>
        gi != null && input.RequiresGrad && (needed == null || needed.Contains(input));

    /// <summary>
    /// Who holds the buffer of <paramref name="gi"/>, one of the gradients a node passes on (<paramref name="onward"/>).
    /// A buffer no other of them shares is owned, unless it is the incoming gradient's and that one was not the engine's
    /// (a pass-through or a view, such as Reshape's backward, inherits what the incoming gradient had: it is done with
    /// after the node). A buffer k of them share is shared by k holders: a new share, or the incoming gradient's share
    /// with k - 1 more.
    /// </summary>
    static Flowing Ownership(Tensor gi, Flowing incoming, Tensor?[] onward, Dictionary<float[], Share> shares)
    {
        bool passedOn = ReferenceEquals(gi.Storage, incoming.Grad.Storage);
        if (passedOn && !incoming.Owned && incoming.Shared == null) return new Flowing(gi, false);
        int k = 0;
        foreach (var other in onward)
            if (other != null && ReferenceEquals(other.Storage, gi.Storage)) k++;
        if (passedOn && incoming.Shared is { } inherited)
        {
            if (shares.TryAdd(gi.Storage, inherited)) inherited.Holders += k - 1;
            return new Flowing(gi, false, inherited);
        }
        if (k == 1) return new Flowing(gi, true);
        if (!shares.TryGetValue(gi.Storage, out var share)) shares[gi.Storage] = share = new Share(k);
        return new Flowing(gi, false, share);
    }

    static bool SharesStorage(Tensor g, Tensor?[] others)
    {
        foreach (var o in others)
            if (o != null && ReferenceEquals(o.Storage, g.Storage)) return true;
        return false;
    }

    static void Accumulate(Dictionary<Tensor, Flowing> grads, Tensor t, Flowing next, bool createGraph, List<Tensor>? made = null)
    {
        if (!grads.TryGetValue(t, out var prev)) { grads[t] = next; return; }
        var g = next.Grad;
        if (prev.Owned) Kernels.Elementwise.Add(prev.Grad.Data, g.Data, prev.Grad.Data);
        else if (next.Owned)
        {
            // The sum goes into the new gradient's buffer, as it would into the first's (a + b is b + a, bit for bit).
            Kernels.Elementwise.Add(g.Data, prev.Grad.Data, g.Data);
            grads[t] = next;
            End(prev);
            return;
        }
        else
        {
            var sum = prev.Grad + g;
            grads[t] = new Flowing(sum, Owned: !createGraph);
            // With a graph the sum is one more intermediate of the gradient's graph (see MarkGradientIntermediates).
            if (createGraph && sum.GradFn != null) made?.Add(sum);
            End(prev);
        }
        End(next);
    }

    /// <summary>
    /// Adds a leaf's gradient into its .Grad: in place when .Grad exists and no graph is built (as PyTorch
    /// does), otherwise by taking the gradient over (owned) or a copy of it.
    /// </summary>
    static void AccumulateLeaf(Tensor t, Flowing flowing, bool createGraph)
    {
        var g = flowing.Grad;
        if (createGraph) { t.Grad = t.Grad == null ? g : t.Grad + g; return; }
        if (t.Grad == null)
        {
            if (flowing.Owned && g.GradFn == null) { t.Grad = g; return; }
            t.Grad = g.Detach().Clone();
        }
        else if (t.Grad.GradFn == null && t.Grad.ShapeSpan.SequenceEqual(g.ShapeSpan))
        {
            Kernels.Elementwise.Add(t.Grad.Data, g.Data, t.Grad.Data);
            if (ReferenceEquals(t.Grad.Storage, g.Storage)) return;   // the gradient is the leaf's .Grad itself
        }
        else
            t.Grad = t.Grad + g.Detach();
        End(flowing);
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
