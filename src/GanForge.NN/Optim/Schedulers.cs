namespace GanForge.Optim;

/// <summary>Multiplies the lr by <c>gamma</c> every <c>stepSize</c> epochs (as StepLR).</summary>
public sealed class StepLR : LrScheduler
{
    readonly int _stepSize;
    readonly double _gamma;

    /// <summary>Decays every <paramref name="stepSize"/> epochs by <paramref name="gamma"/>; applies epoch 0 at once.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize <= 0) throw new ArgumentException($"StepLR: step_size must be positive, got {stepSize}");
        (_stepSize, _gamma) = (stepSize, gamma);
        InitialStep();
    }

    protected override double[] ComputeLr() =>
        LastEpoch == 0 || LastEpoch % _stepSize != 0 ? GroupLrs() : GroupLrs().Select(lr => lr * _gamma).ToArray();
}

/// <summary>Multiplies the lr by <c>gamma</c> every epoch (as ExponentialLR).</summary>
public sealed class ExponentialLR : LrScheduler
{
    readonly double _gamma;

    /// <summary>Decays every epoch by <paramref name="gamma"/>; applies epoch 0 at once.</summary>
    public ExponentialLR(Optimizer optimizer, double gamma) : base(optimizer)
    {
        _gamma = gamma;
        InitialStep();
    }

    protected override double[] ComputeLr() =>
        LastEpoch == 0 ? GroupLrs() : GroupLrs().Select(lr => lr * _gamma).ToArray();
}

/// <summary>
/// Scales the lr linearly from <c>startFactor</c> to <c>endFactor</c> over <c>totalIters</c> epochs,
/// then holds it (as LinearLR, typically a warm-up).
/// </summary>
/// <remarks>Recursive form: lr_t = lr_{t-1} · (1 + (e - s) / (T·s + (t-1)·(e - s))) for 0 &lt; t ≤ T.</remarks>
public sealed class LinearLR : LrScheduler
{
    readonly double _start, _end;
    readonly int _totalIters;

    /// <summary>Ramps the factor from <paramref name="startFactor"/> to <paramref name="endFactor"/> over <paramref name="totalIters"/> epochs; epoch 0 sets lr·startFactor at once.</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5) : base(optimizer)
    {
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentException($"LinearLR: start_factor must be in (0, 1], got {startFactor}");
        if (!(endFactor >= 0 && endFactor <= 1))
            throw new ArgumentException($"LinearLR: end_factor must be in [0, 1], got {endFactor}");
        if (totalIters < 0) throw new ArgumentException($"LinearLR: total_iters must be >= 0, got {totalIters}");
        (_start, _end, _totalIters) = (startFactor, endFactor, totalIters);
        InitialStep();
    }

    protected override double[] ComputeLr()
    {
        if (LastEpoch == 0) return GroupLrs().Select(lr => lr * _start).ToArray();
        if (LastEpoch > _totalIters) return GroupLrs();
        double factor = 1.0 + (_end - _start) / (_totalIters * _start + (LastEpoch - 1) * (_end - _start));
        return GroupLrs().Select(lr => lr * factor).ToArray();
    }
}

/// <summary>Cosine annealing from the base lr to <c>etaMin</c> over <c>tMax</c> epochs (as CosineAnnealingLR, SGDR without restarts).</summary>
/// <remarks>
/// Closed form: η_t = η_min + (η_base - η_min)(1 + cos(πt/T))/2. PyTorch steps it recursively,
/// η_t = (1 + cos(πt/T)) / (1 + cos(π(t-1)/T)) · (η_{t-1} - η_min) + η_min, and past T it follows the
/// cosine back up rather than holding; both are reproduced here.
/// </remarks>
public sealed class CosineAnnealingLR : LrScheduler
{
    readonly int _tMax;
    readonly double _etaMin;

    /// <summary>Anneals to <paramref name="etaMin"/> over <paramref name="tMax"/> epochs (PyTorch's T_max and eta_min).</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax <= 0) throw new ArgumentException($"CosineAnnealingLR: T_max must be positive, got {tMax}");
        (_tMax, _etaMin) = (tMax, etaMin);
        InitialStep();
    }

    protected override double[] ComputeLr()
    {
        var lrs = GroupLrs();
        if (LastEpoch == 0) return lrs;
        if (StepCount == 1 && LastEpoch > 0)
            return BaseLrs.Select(b => _etaMin + (b - _etaMin) * (1 + Math.Cos(LastEpoch * Math.PI / _tMax)) / 2).ToArray();
        if ((LastEpoch - 1 - _tMax) % (2 * _tMax) == 0)
            return lrs.Select((lr, i) => lr + (BaseLrs[i] - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2).ToArray();
        return lrs.Select(lr => (1 + Math.Cos(Math.PI * LastEpoch / _tMax)) / (1 + Math.Cos(Math.PI * (LastEpoch - 1) / _tMax))
            * (lr - _etaMin) + _etaMin).ToArray();
    }
}

/// <summary>Sets each group's lr to its base lr times a function of the epoch (as LambdaLR).</summary>
public sealed class LambdaLR : LrScheduler
{
    readonly Func<int, double>[] _lambdas;

    /// <summary>One function for all groups.</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> lrLambda) : this(optimizer, [lrLambda]) { }

    /// <summary>One function per group, or a single one shared by all.</summary>
    public LambdaLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lrLambdas) : base(optimizer)
    {
        int groups = optimizer.ParamGroups.Count;
        if (lrLambdas.Count != 1 && lrLambdas.Count != groups)
            throw new ArgumentException($"LambdaLR: expected 1 or {groups} lr lambdas, got {lrLambdas.Count}");
        _lambdas = lrLambdas.Count == 1 ? Enumerable.Repeat(lrLambdas[0], groups).ToArray() : lrLambdas.ToArray();
        InitialStep();
    }

    protected override double[] ComputeLr() => BaseLrs.Select((b, i) => b * _lambdas[i](LastEpoch)).ToArray();
}
