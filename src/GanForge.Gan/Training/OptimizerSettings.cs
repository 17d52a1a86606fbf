using GanForge.Optim;
using GanForge.Serialization;

namespace GanForge.Gan.Training;

/// <summary>
/// The settings of one optimizer (one network group): the `optimizers:` section of the config, where a
/// blank field takes the variant's default. Resolved, only the fields its type uses are set.
/// </summary>
public sealed class OptimizerSettings
{
    /// <summary>adam, sgd or rmsprop.</summary>
    public string? Type { get; set; }
    public float? Lr { get; set; }
    /// <summary>Adam's β1.</summary>
    public float? Beta1 { get; set; }
    /// <summary>Adam's β2.</summary>
    public float? Beta2 { get; set; }
    /// <summary>SGD's momentum.</summary>
    public float? Momentum { get; set; }
    /// <summary>RMSprop's smoothing constant α.</summary>
    public float? Alpha { get; set; }

    public static readonly string[] Types = ["adam", "sgd", "rmsprop"];

    public static OptimizerSettings Adam(float lr, float beta1, float beta2) => new() { Type = "adam", Lr = lr, Beta1 = beta1, Beta2 = beta2 };
    public static OptimizerSettings Sgd(float lr, float momentum) => new() { Type = "sgd", Lr = lr, Momentum = momentum };
    public static OptimizerSettings RmsProp(float lr, float alpha = 0.99f) => new() { Type = "rmsprop", Lr = lr, Alpha = alpha };

    /// <summary>
    /// This group's settings over <paramref name="fallback"/>: a field set here wins; a change of type
    /// takes that type's usual defaults (Adam 2e-4, (0.5, 0.999); SGD 0.01, momentum 0.5; RMSprop 5e-5).
    /// </summary>
    public OptimizerSettings Over(OptimizerSettings fallback)
    {
        var type = (Type ?? fallback.Type ?? "adam").ToLowerInvariant();
        var baseline = type == (fallback.Type ?? "").ToLowerInvariant() ? fallback : type switch
        {
            "sgd" => Sgd(0.01f, 0.5f),
            "rmsprop" => RmsProp(5e-5f),
            _ => Adam(2e-4f, 0.5f, 0.999f),
        };
        return new OptimizerSettings
        {
            Type = type,
            Lr = Lr ?? baseline.Lr,
            Beta1 = type == "adam" ? Beta1 ?? baseline.Beta1 ?? 0.9f : null,
            Beta2 = type == "adam" ? Beta2 ?? baseline.Beta2 ?? 0.999f : null,
            Momentum = type == "sgd" ? Momentum ?? baseline.Momentum ?? 0f : null,
            Alpha = type == "rmsprop" ? Alpha ?? baseline.Alpha ?? 0.99f : null,
        };
    }

    /// <summary>Checks a resolved group; the message names the group and the field.</summary>
    public void Validate(string group)
    {
        if (!Types.Contains(Type)) throw new ArgumentException($"optimizers.{MessageText.Quote(group)}.type: unknown optimizer '{MessageText.Quote(Type)}'. Known: {string.Join(", ", Types)}");
        if (Lr is not > 0 || !float.IsFinite(Lr.Value)) throw new ArgumentException($"optimizers.{MessageText.Quote(group)}.lr must be a positive number, got {Lr}");
        if (Beta1 is < 0 or >= 1) throw new ArgumentException($"optimizers.{MessageText.Quote(group)}.beta1 must be in [0, 1), got {Beta1}");
        if (Beta2 is < 0 or >= 1) throw new ArgumentException($"optimizers.{MessageText.Quote(group)}.beta2 must be in [0, 1), got {Beta2}");
        if (Momentum is < 0 or >= 1) throw new ArgumentException($"optimizers.{MessageText.Quote(group)}.momentum must be in [0, 1), got {Momentum}");
        if (Alpha is < 0 or >= 1) throw new ArgumentException($"optimizers.{MessageText.Quote(group)}.alpha must be in [0, 1), got {Alpha}");
    }

    /// <summary>
    /// Builds the optimizer. <paramref name="lazyRatio"/> is stylegan2-ada's lazy-regularisation correction
    /// c = k/(k+1) for a group whose regulariser runs every k steps: lr·c and β^c.
    /// </summary>
    public Optimizer Create(IEnumerable<Tensor> parameters, double lazyRatio = 1) => Type switch
    {
        "sgd" => new Sgd(parameters, Lr!.Value * lazyRatio, momentum: Math.Pow(Momentum!.Value, lazyRatio)),
        "rmsprop" => new RmsProp(parameters, Lr!.Value * lazyRatio, alpha: Math.Pow(Alpha!.Value, lazyRatio)),
        _ => new Adam(parameters, Lr!.Value * lazyRatio, beta1: Math.Pow(Beta1!.Value, lazyRatio), beta2: Math.Pow(Beta2!.Value, lazyRatio)),
    };

    public OptimizerSettings Copy() => (OptimizerSettings)MemberwiseClone();

    public override string ToString() => Type switch
    {
        "sgd" => $"SGD lr {Lr:G3} momentum {Momentum:G3}",
        "rmsprop" => $"RMSprop lr {Lr:G3} alpha {Alpha:G3}",
        _ => $"Adam lr {Lr:G3} betas ({Beta1:G3}, {Beta2:G3})",
    };
}
