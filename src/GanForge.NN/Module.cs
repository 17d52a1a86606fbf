using GanForge.Serialization;

namespace GanForge.NN;

/// <summary>
/// Base of every layer and model (as torch.nn.Module): explicitly registered parameters,
/// buffers and children; train/eval mode; state dicts with PyTorch's dotted names.
/// </summary>
public abstract class Module
{
    readonly List<KeyValuePair<string, Tensor?>> _parameters = [];
    readonly List<KeyValuePair<string, Tensor?>> _buffers = [];
    readonly HashSet<string> _nonPersistent = [];
    readonly List<KeyValuePair<string, Module>> _children = [];

    /// <summary>True in training mode (the default); affects BatchNorm, Dropout and the like.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>The module's type name, used in error messages and printing.</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>Applies the module to one input. Modules with other signatures overload it.</summary>
    public virtual Tensor Forward(Tensor input) =>
        throw new NotSupportedException($"{TypeName}: Forward(Tensor) is not defined for this module");

    /// <summary>Same as <see cref="Forward"/>, so a module reads like a function: <c>d.Call(x)</c>.</summary>
    public Tensor Call(Tensor input) => Forward(input);

    /// <summary>Registers a trainable tensor under <paramref name="name"/>; it is marked RequiresGrad.</summary>
    protected internal Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.RequiresGrad = true;
        _parameters.Add(new(name, tensor));
        return tensor;
    }

    /// <summary>Registers an absent optional parameter (such as bias=False), so names stay aligned with PyTorch.</summary>
    protected void RegisterNullParameter(string name)
    {
        CheckName(name);
        _parameters.Add(new(name, null));
    }

    /// <summary>Registers a non-trainable tensor that is part of the state (e.g. running statistics).</summary>
    protected internal Tensor RegisterBuffer(string name, Tensor tensor, bool persistent = true)
    {
        CheckName(name);
        _buffers.Add(new(name, tensor));
        if (!persistent) _nonPersistent.Add(name);
        return tensor;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add(new(name, module));
        return module;
    }

    /// <summary>Replaces a registered parameter's tensor (used by wrappers such as spectral norm).</summary>
    protected void SetParameter(string name, Tensor? tensor)
    {
        int i = _parameters.FindIndex(p => p.Key == name);
        if (i < 0) throw new ArgumentException($"{TypeName}: no parameter named '{name}'");
        if (tensor != null) tensor.RequiresGrad = true;
        _parameters[i] = new(name, tensor);
    }

    /// <summary>Replaces a registered buffer's tensor.</summary>
    protected void SetBuffer(string name, Tensor tensor)
    {
        int i = _buffers.FindIndex(p => p.Key == name);
        if (i < 0) throw new ArgumentException($"{TypeName}: no buffer named '{name}'");
        _buffers[i] = new(name, tensor);
    }

    /// <summary>Removes a registered parameter (used by wrappers that reparameterise a weight).</summary>
    protected internal void RemoveParameter(string name) => _parameters.RemoveAll(p => p.Key == name);

    readonly Dictionary<string, Func<Tensor>> _reparameterized = [];

    /// <summary>
    /// The tensor Forward should use for parameter <paramref name="name"/>: the value computed by an
    /// installed reparameterisation (such as spectral norm), else the registered parameter (null if absent).
    /// Layers read their weights through this so wrappers can substitute them.
    /// </summary>
    protected Tensor? ForwardParameter(string name)
    {
        if (_reparameterized.TryGetValue(name, out var compute)) return compute();
        foreach (var (key, p) in _parameters) if (key == name) return p;
        return null;
    }

    /// <summary>
    /// Returns <paramref name="reader"/>, the result of the op that read <paramref name="value"/>, the value
    /// <see cref="ForwardParameter"/> gave for <paramref name="name"/>. Where a reparameterisation computed it (spectral
    /// norm's W / σ, a new tensor each call that this op alone reads), its buffer goes back to the pool once the op is
    /// done with it (<see cref="Intermediates.Release(Tensor, Tensor)"/>): sngan28's D left three such weights a step to
    /// the GC, 1.5 MB of fresh memory. A registered parameter is left as it is.
    /// </summary>
    private protected Tensor ReadOnce(string name, Tensor value, Tensor reader)
    {
        if (_reparameterized.ContainsKey(name)) Intermediates.Release(value, reader);
        return reader;
    }

    /// <summary>Says that <paramref name="t"/>, an intermediate this module made, has had its last reader (<see cref="Intermediates.Release(Tensor)"/>).</summary>
    private protected static void Release(Tensor t) => Intermediates.Release(t);

    /// <summary>Says that <paramref name="t"/>, an intermediate this module made, has one reader, the op that made <paramref name="reader"/> (<see cref="Intermediates.Release(Tensor, Tensor)"/>).</summary>
    private protected static void Release(Tensor t, Tensor reader) => Intermediates.Release(t, reader);

    /// <summary>
    /// <see cref="Release(Tensor)"/>s <paramref name="input"/>, whose last reader made <paramref name="output"/>, and returns
    /// <paramref name="output"/>: a chain of steps reads x = Then(x, Step(x)).
    /// </summary>
    private protected static Tensor Then(Tensor input, Tensor output)
    {
        Release(input);
        return output;
    }

    /// <summary>
    /// The tensor this module's Forward uses for parameter <paramref name="name"/> (null if absent): the
    /// reparameterised value where one is installed (spectral norm's weight_orig / sigma), else the parameter.
    /// For exporters and inspection; in training mode a reparameterisation may advance its state, as Forward does.
    /// </summary>
    public Tensor? EffectiveParameter(string name) => ForwardParameter(name);

    /// <summary>
    /// True when this module and every descendant are built-in layers that treat each sample of a batch on its
    /// own and keep no state that a forward advances (no BatchNorm, minibatch statistics, dropout, spectral
    /// norm or running statistics): then one Forward over two batches concatenated along dim 0 gives the
    /// rows of two Forwards, and may replace them (the discriminator update runs D once over real and fake).
    /// </summary>
    public bool IsSampleWise()
    {
        foreach (var (_, m) in NamedModules())
        {
            if (m._reparameterized.Count > 0) return false;
            bool perSample = m switch
            {
                Sequential or Identity or Flatten or Unflatten or Linear or ConvNd
                    or ReLU or LeakyReLU or PReLU or Tanh or Sigmoid or GELU or SiLU or Softplus
                    or LayerNorm or GroupNorm or MaxPool2d or AvgPool2d or AdaptiveAvgPool2d
                    or Upsample or PixelShuffle or ReflectionPad2d or ZeroPad2d => true,
                InstanceNorm2d norm => !norm.TrackRunningStats,
                _ => m.ForwardIsSampleWise,
            };
            if (!perSample) return false;
        }
        return true;
    }

    /// <summary>
    /// True when this module and every descendant are <see cref="Sequential"/> chains or pure layers (<see cref="IPureLayer"/>):
    /// its output is then its input, a view of it, or a tensor that nothing outside the graph holds, so a caller done
    /// with the output may give its buffer back (the discriminator update does with G's batch).
    /// </summary>
    internal bool KeepsNoOutputs()
    {
        foreach (var (_, m) in NamedModules())
            if (m is not (Sequential or IPureLayer)) return false;
        return true;
    }

    /// <summary>
    /// True where this module's own Forward (beyond its submodules, which <see cref="IsSampleWise"/> checks apart)
    /// treats each sample on its own and keeps no state, as a residual block's x + f(x) does; false by default, for
    /// a Forward the library cannot see into. A module that says true must also keep nothing outside the graph.
    /// </summary>
    protected virtual bool ForwardIsSampleWise => false;

    /// <summary>Installs (or with null removes) a computation that replaces parameter <paramref name="name"/> in Forward.</summary>
    internal void SetReparameterization(string name, Func<Tensor>? compute)
    {
        if (compute == null) _reparameterized.Remove(name);
        else _reparameterized[name] = compute;
    }

    /// <summary>This module's own parameter <paramref name="name"/> (not a descendant's), or null.</summary>
    internal Tensor? OwnParameter(string name)
    {
        foreach (var (key, p) in _parameters) if (key == name) return p;
        return null;
    }

    void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{TypeName}: invalid name '{name}' (non-empty, no dots)");
        if (_parameters.Any(p => p.Key == name) || _buffers.Any(p => p.Key == name) || _children.Any(p => p.Key == name))
            throw new ArgumentException($"{TypeName}: '{name}' is already registered");
    }

    /// <summary>Direct children with their names.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => _children;

    public IEnumerable<Module> Children() => _children.Select(c => c.Value);

    /// <summary>This module and all descendants, depth first, with dotted names ("" for this one).</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules(string prefix = "")
    {
        yield return new(prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(prefix.Length == 0 ? name : prefix + "." + name))
                yield return m;
    }

    /// <summary>All parameters with dotted names, in registration order (as PyTorch's named_parameters).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, p) in m._parameters)
                if (p != null && seen.Add(p))
                    yield return new(prefix.Length == 0 ? name : prefix + "." + name, p);
    }

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>All buffers with dotted names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers(bool persistentOnly = false)
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var (name, b) in m._buffers)
                if (b != null && (!persistentOnly || !m._nonPersistent.Contains(name)))
                    yield return new(prefix.Length == 0 ? name : prefix + "." + name, b);
    }

    /// <summary>Parameters and persistent buffers by PyTorch state_dict name, in PyTorch's order.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModules())
        {
            string P(string n) => prefix.Length == 0 ? n : prefix + "." + n;
            foreach (var (name, p) in m._parameters) if (p != null) dict[P(name)] = p;
            foreach (var (name, b) in m._buffers) if (b != null && !m._nonPersistent.Contains(name)) dict[P(name)] = b;
        }
        return dict;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's tensors. With
    /// <paramref name="strict"/>, missing or unexpected names are an error; shapes must always match.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new ArgumentException($"LoadStateDict ({TypeName}): missing keys [{Names(missing)}], unexpected keys [{Names(unexpected)}]");
        }
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var source)) continue;
            if (!target.ShapeSpan.SequenceEqual(source.ShapeSpan))
                throw new ArgumentException($"LoadStateDict ({TypeName}): '{MessageText.Quote(name)}' has shape {Shapes.Format(source.ShapeSpan)} in the state, {Shapes.Format(target.ShapeSpan)} in the model");
            source.Data.CopyTo(target.Data);
        }
    }

    /// <summary>The first few of <paramref name="names"/> for a message, escaped (a state may come from a damaged file).</summary>
    static string Names(List<string> names) =>
        string.Join(", ", names.Take(6).Select(n => MessageText.Quote(n))) + (names.Count > 6 ? $", ... ({names.Count} in all)" : "");

    /// <summary>Sets training mode on this module and its descendants.</summary>
    public Module Train(bool mode = true)
    {
        foreach (var (_, m) in NamedModules()) m.Training = mode;
        return this;
    }

    /// <summary>Sets evaluation mode (same as Train(false)).</summary>
    public Module Eval() => Train(false);

    /// <summary>Turns gradients of all parameters on or off (freezing a network, as requires_grad_).</summary>
    public Module RequiresGrad(bool requiresGrad = true)
    {
        foreach (var p in Parameters()) p.RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Clears the gradients of all parameters (set to null, as PyTorch's default).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    /// <summary>Applies <paramref name="fn"/> to every module (children first, as torch's apply).</summary>
    public Module Apply(Action<Module> fn)
    {
        foreach (var c in Children()) c.Apply(fn);
        fn(this);
        return this;
    }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    /// <summary>Extra text shown in <see cref="ToString"/>, e.g. "in_features=784, out_features=512".</summary>
    protected virtual string ExtraRepr() => "";

    public override string ToString()
    {
        if (_children.Count == 0) return $"{TypeName}({ExtraRepr()})";
        var lines = new List<string> { $"{TypeName}(" };
        foreach (var (name, child) in _children)
            lines.Add("  (" + name + "): " + child.ToString().Replace("\n", "\n  "));
        lines.Add(")");
        return string.Join("\n", lines);
    }
}
