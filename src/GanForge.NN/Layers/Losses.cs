namespace GanForge.NN;

/// <summary>A loss module: Forward(input, target) with a PyTorch reduction ("mean", "sum" or "none").</summary>
public abstract class Loss(string reduction) : Module
{
    public string Reduction { get; } = reduction is "mean" or "sum" or "none" ? reduction
        : throw new ArgumentException($"Loss: reduction must be \"mean\", \"sum\" or \"none\", got \"{reduction}\"");

    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <summary>Same as <see cref="Forward(Tensor, Tensor)"/>.</summary>
    public Tensor Call(Tensor input, Tensor target) => Forward(input, target);

    protected override string ExtraRepr() => $"reduction='{Reduction}'";
}

/// <summary>Binary cross-entropy on probabilities (log clamped at -100).</summary>
public sealed class BCELoss : Loss
{
    readonly Tensor? _weight;
    public BCELoss(Tensor? weight = null, string reduction = "mean") : base(reduction)
    {
        if (weight != null) _weight = RegisterBuffer("weight", weight);
    }
    public override Tensor Forward(Tensor input, Tensor target) => F.BinaryCrossEntropy(input, target, _weight, Reduction);
}

/// <summary>Binary cross-entropy on logits, numerically stable, with optional pos_weight.</summary>
public sealed class BCEWithLogitsLoss : Loss
{
    readonly Tensor? _weight, _posWeight;
    public BCEWithLogitsLoss(Tensor? weight = null, string reduction = "mean", Tensor? posWeight = null) : base(reduction)
    {
        if (weight != null) _weight = RegisterBuffer("weight", weight);
        if (posWeight != null) _posWeight = RegisterBuffer("pos_weight", posWeight);
    }
    public override Tensor Forward(Tensor input, Tensor target) => F.BinaryCrossEntropyWithLogits(input, target, _weight, Reduction, _posWeight);
}

/// <summary>Cross-entropy of logits against class indices (as floats) or class probabilities.</summary>
public sealed class CrossEntropyLoss : Loss
{
    readonly Tensor? _weight;
    public int IgnoreIndex { get; }
    public float LabelSmoothing { get; }
    public CrossEntropyLoss(Tensor? weight = null, int ignoreIndex = -100, string reduction = "mean", float labelSmoothing = 0f) : base(reduction)
    {
        if (weight != null) _weight = RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex; LabelSmoothing = labelSmoothing;
    }
    public override Tensor Forward(Tensor input, Tensor target) => F.CrossEntropy(input, target, _weight, IgnoreIndex, Reduction, LabelSmoothing);
}

/// <summary>Negative log-likelihood of log-probabilities at class indices.</summary>
public sealed class NLLLoss : Loss
{
    readonly Tensor? _weight;
    public int IgnoreIndex { get; }
    public NLLLoss(Tensor? weight = null, int ignoreIndex = -100, string reduction = "mean") : base(reduction)
    {
        if (weight != null) _weight = RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
    }
    public override Tensor Forward(Tensor input, Tensor target) => F.NllLoss(input, target, _weight, IgnoreIndex, Reduction);
}

public sealed class MSELoss(string reduction = "mean") : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => F.MseLoss(input, target, Reduction);
}

public sealed class L1Loss(string reduction = "mean") : Loss(reduction)
{
    public override Tensor Forward(Tensor input, Tensor target) => F.L1Loss(input, target, Reduction);
}

public sealed class SmoothL1Loss(string reduction = "mean", float beta = 1f) : Loss(reduction)
{
    public float Beta { get; } = beta;
    public override Tensor Forward(Tensor input, Tensor target) => F.SmoothL1Loss(input, target, Reduction, Beta);
}

public sealed class HuberLoss(string reduction = "mean", float delta = 1f) : Loss(reduction)
{
    public float Delta { get; } = delta;
    public override Tensor Forward(Tensor input, Tensor target) => F.HuberLoss(input, target, Reduction, Delta);
}
