namespace GanForge.Functions;

/// <summary>
/// Training-mode batch normalisation fused into one Function: x (N,C,*) normalised per channel
/// with the batch mean and biased variance, then scaled and shifted.
/// </summary>
/// <remarks>
/// y = xhat * w + b, xhat = (x - mean) * invstd, invstd = 1 / sqrt(var + eps);
/// dx = invstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w; dw = sum(g * xhat); db = sum(g).
/// The forward is one pass over the data; the backward is written with tensor ops and recomputes
/// the statistics differentiably when a graph is being built, so double backward works.
/// With an activation slope the output is LeakyReLU of that slope (0: ReLU) of y, made in the same pass, and the
/// backward takes the gradient at that output through the activation's derivative as it reads it: the pair's values
/// and gradients without the normalised map ever written (a training step's batch norm and the ReLU after it).
/// </remarks>
internal sealed class BatchNormFunction : Function
{
    readonly float _eps;
    readonly bool _hasWeight, _hasBias;
    readonly float? _slope;
    Tensor? _mean, _invstd; // (1,C,1,..) constants for the no-graph backward
    float[]? _meanRaw, _invstdRaw;
    Tensor? _activated;     // the output, with an activation: positive exactly where y is (the backward with a graph reads it)

    readonly int[] _shape;

    BatchNormFunction(float eps, bool hasWeight, bool hasBias, float? slope, int[] shape) =>
        (_eps, _hasWeight, _hasBias, _slope, _shape) = (eps, hasWeight, hasBias, slope, shape);

    /// <summary>"BatchNormFunction 16x64x8x8" ("+LeakyRelu" with the activation in its pass): the profile's name by shape.</summary>
    protected internal override string ProfileName =>
        $"BatchNormFunction{(_slope != null ? "+LeakyRelu" : "")} {string.Join("x", _shape)}";

    /// <summary>
    /// Normalises <paramref name="x"/>, then applies LeakyReLU(<paramref name="slope"/>) (0: ReLU; at least 0) when
    /// given; also returns the batch mean and biased variance per channel (C).
    /// </summary>
    public static (Tensor Y, float[] Mean, float[] Var) Apply(Tensor x, Tensor? weight, Tensor? bias, float eps, float? slope = null)
    {
        if (slope < 0f)
            throw new ArgumentException($"BatchNorm: an activation in the same pass needs a slope of at least 0, got {slope}");
        if (x.Rank < 2)
            throw new ArgumentException($"BatchNorm: expected input (N,C,*), got {Shapes.Format(x.ShapeSpan)}");
        int n = x.Size(0), c = x.Size(1), inner = x.Numel / Math.Max(n * c, 1);
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias") })
            if (p != null && (p.Rank != 1 || p.Size(0) != c))
                throw new ArgumentException($"BatchNorm: {name} {Shapes.Format(p.ShapeSpan)} does not match {c} channels of input {Shapes.Format(x.ShapeSpan)}");
        int count = n * inner;
        if (count <= 1)
            throw new ArgumentException($"BatchNorm: expected more than 1 value per channel when training, got input {Shapes.Format(x.ShapeSpan)}");

        // From the pool: instance norm's rows are channels here (65,536 of them for 256 images of 256 channels).
        var mean = StoragePool.Rent(c); var variance = StoragePool.Rent(c); var invstd = StoragePool.Rent(c);
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.BatchNorm.Forward(x.Storage, y.Storage, n, c, inner, weight?.Storage, bias?.Storage, eps, mean, variance, invstd, slope);

        var inputs = new List<Tensor> { x };
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        var fn = new BatchNormFunction(eps, weight != null, bias != null, slope, x.Shape);
        if (WillRecord([.. inputs]))
        {
            var channelShape = ChannelShape(x);
            fn._mean = Tensor.Wrap(mean, channelShape);
            fn._invstd = Tensor.Wrap(invstd, channelShape);
            (fn._meanRaw, fn._invstdRaw) = (mean, invstd);
            if (slope != null) fn._activated = y;
        }
        else StoragePool.Return(invstd);
        Record(fn, y, [.. inputs]);
        return (y, mean, variance);
    }

    /// <summary>
    /// <see cref="Apply"/> without weight or bias, for callers that do not read the batch statistics (instance norm over
    /// rows): the statistics go back to the buffer pool, the mean too where no graph keeps it. Over 256 images of 256
    /// channels they are 65,536 floats each, and fresh arrays cost 192 page faults a call (cyclegan32's generation).
    /// </summary>
    public static Tensor Output(Tensor x, float eps, float? slope = null)
    {
        var (y, mean, variance) = Apply(x, null, null, eps, slope);
        ReturnStatistics(y, mean, variance);
        return y;
    }

    /// <summary>
    /// Gives back the statistics <see cref="Apply"/> returned once the caller has read them: the variance, and the mean
    /// unless the function that made <paramref name="y"/> keeps it for its backward.
    /// </summary>
    public static void ReturnStatistics(Tensor y, float[] mean, float[] variance)
    {
        StoragePool.Return(variance);
        if (y.GradFn is not BatchNormFunction) StoragePool.Return(mean);
    }

    /// <summary>(1,C,1,...,1) for an input (N,C,*).</summary>
    internal static int[] ChannelShape(Tensor x)
    {
        var s = new int[x.Rank];
        Array.Fill(s, 1);
        s[1] = x.Size(1);
        return s;
    }

    internal static int[] ReducedDims(Tensor x) => [0, .. Enumerable.Range(2, x.Rank - 2)];

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        if (!GradMode.IsEnabled) return RawBackward(x, g);
        // The gradient at y: through the activation's derivative, a constant almost everywhere (LeakyReLU's own backward).
        if (_slope is float slope) g = LeakyReluGrad.Apply(_activated!, g, slope, 1f);
        var dims = ReducedDims(x);
        var channelShape = ChannelShape(x);
        Tensor invstd, xhat;
        if (GradMode.IsEnabled)
        {
            var xc = x - x.Mean(dims, keepDim: true);
            invstd = (xc.Square().Mean(dims, keepDim: true) + _eps).Pow(-0.5f);
            xhat = xc * invstd;
        }
        else
        {
            invstd = _invstd!;
            xhat = (x - _mean!) * invstd;
        }
        var w = _hasWeight ? Inputs[1] : null;
        var gw = w == null ? g : g * w.Reshape(channelShape);
        Tensor? dx = null, dw = null, db = null;
        if (NeedsGrad(0))
            dx = invstd * (gw - gw.Mean(dims, keepDim: true) - xhat * (gw * xhat).Mean(dims, keepDim: true));
        if (_hasWeight && NeedsGrad(1)) dw = (g * xhat).Sum(dims);
        int bi = _hasWeight ? 2 : 1;
        if (_hasBias && NeedsGrad(bi)) db = g.Sum(dims);
        return (_hasWeight, _hasBias) switch
        {
            (true, true) => [dx, dw, db],
            (true, false) => [dx, dw],
            (false, true) => [dx, db],
            _ => [dx],
        };
    }

    // One kernel pass for the gradients of all inputs (no graph is being built).
    Tensor?[] RawBackward(Tensor x, Tensor g)
    {
        int n = x.Size(0), c = x.Size(1), inner = x.Numel / Math.Max(n * c, 1);
        var w = _hasWeight ? Inputs[1] : null;
        int bi = _hasWeight ? 2 : 1;
        var dx = NeedsGrad(0) ? Tensor.Uninitialized(x.ShapeSpan) : null;
        var dw = _hasWeight && NeedsGrad(1) ? new Tensor(c) : null;
        var db = _hasBias && NeedsGrad(bi) ? new Tensor(c) : null;
        var activation = _slope is float slope ? (slope, _hasBias ? Inputs[bi].Storage : null) : ((float, float[]?)?)null;
        Kernels.BatchNorm.Backward(x.Storage, g.Storage, n, c, inner, _meanRaw!, _invstdRaw!, w?.Storage,
            dx?.Storage, dw?.Storage, db?.Storage, activation);
        return (_hasWeight, _hasBias) switch
        {
            (true, true) => [dx, dw, db],
            (true, false) => [dx, dw],
            (false, true) => [dx, db],
            _ => [dx],
        };
    }

    // The statistics came from the pool (Apply) and nothing else reads them now: instance norm's over 4 images of 256
    // channels are 4 KB each, two a layer a step otherwise left to the GC.
    protected internal override void ReleaseSaved()
    {
        foreach (var statistic in (float[]?[])[_meanRaw, _invstdRaw]) if (statistic != null) StoragePool.Return(statistic);
        _mean = null; _invstd = null; _meanRaw = null; _invstdRaw = null; _activated = null;
    }
}
