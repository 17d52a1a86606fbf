namespace GanForge.Optim;

/// <summary>
/// A set of parameters sharing a learning rate and hyperparameters (one dict of PyTorch's
/// <c>optimizer.param_groups</c>).
/// </summary>
public sealed class ParamGroup
{
    readonly Optimizer _owner;
    OptimizerOptions _options;

    internal ParamGroup(Optimizer owner, IReadOnlyList<Tensor> parameters, double lr, OptimizerOptions options)
    {
        _owner = owner;
        Params = parameters;
        Lr = lr;
        _options = owner.CheckOptions(lr, options);
    }

    /// <summary>The parameters, in the order given; their index in the optimizer runs across groups.</summary>
    public IReadOnlyList<Tensor> Params { get; }

    /// <summary>The learning rate used by the next <see cref="Optimizer.Step"/>; schedulers write it.</summary>
    public double Lr { get; set; }

    /// <summary>The learning rate a scheduler started from (PyTorch's <c>initial_lr</c>); null until a scheduler is attached.</summary>
    public double? InitialLr { get; set; }

    /// <summary>The other hyperparameters; replace the record (with <c>with</c>) to change them.</summary>
    public OptimizerOptions Options
    {
        get => _options;
        set => _options = _owner.CheckOptions(Lr, value);
    }
}
