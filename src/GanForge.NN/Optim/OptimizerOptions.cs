namespace GanForge.Optim;

/// <summary>
/// Hyperparameters of one parameter group other than the learning rate (which schedulers change,
/// so it lives on <see cref="ParamGroup.Lr"/>). Each optimizer has its own record type.
/// </summary>
public abstract record OptimizerOptions;

/// <summary>Hyperparameters of <see cref="Sgd"/> (as torch.optim.SGD).</summary>
public sealed record SgdOptions(
    double Momentum = 0, double Dampening = 0, bool Nesterov = false, double WeightDecay = 0, bool Maximize = false)
    : OptimizerOptions;

/// <summary>Hyperparameters of <see cref="Adam"/> and <see cref="AdamW"/> (betas split into Beta1, Beta2).</summary>
public sealed record AdamOptions(
    double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0, bool Amsgrad = false, bool Maximize = false)
    : OptimizerOptions;

/// <summary>Hyperparameters of <see cref="RmsProp"/> (as torch.optim.RMSprop).</summary>
public sealed record RmsPropOptions(
    double Alpha = 0.99, double Eps = 1e-8, double WeightDecay = 0, double Momentum = 0, bool Centered = false, bool Maximize = false)
    : OptimizerOptions;
