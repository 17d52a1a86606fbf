namespace GanForge;

/// <summary>
/// Whether ops record the graph, per thread (as torch.is_grad_enabled).
/// <code>using (GradMode.NoGrad()) { ... }</code>
/// </summary>
public static class GradMode
{
    [ThreadStatic] static bool _disabled;

    public static bool IsEnabled => !_disabled;

    /// <summary>
    /// Whether an op on these inputs would be recorded: grad mode on and one of them (nulls skipped: absent weights or
    /// biases) requiring a gradient. Ops that may skip their graph's state, or write over an input, ask it.
    /// </summary>
    public static bool Records(params ReadOnlySpan<Tensor?> inputs)
    {
        if (_disabled) return false;
        foreach (var t in inputs) if (t?.RequiresGrad == true) return true;
        return false;
    }

    /// <summary>Disables recording until the returned scope is disposed.</summary>
    public static Scope NoGrad() => new(false);

    /// <summary>Enables recording until the returned scope is disposed.</summary>
    public static Scope EnableGrad() => new(true);

    /// <summary>Sets recording on or off until the returned scope is disposed.</summary>
    public static Scope Set(bool enabled) => new(enabled);

    public readonly struct Scope : IDisposable
    {
        readonly bool _previousDisabled;
        internal Scope(bool enabled) { _previousDisabled = _disabled; _disabled = !enabled; }
        public void Dispose() => _disabled = _previousDisabled;
    }
}
