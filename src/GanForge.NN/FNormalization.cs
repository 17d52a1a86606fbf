using GanForge.Functions;

namespace GanForge.NN;

public static partial class F
{
    /// <summary>
    /// Batch normalisation of x (N,C,*) per channel (as torch's batch_norm). In training the batch
    /// statistics are used and, when given, the running statistics are updated in place:
    /// running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
    /// Otherwise the running statistics normalise.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (!training)
        {
            if (runningMean == null || runningVar == null)
                throw new ArgumentException("BatchNorm: running_mean and running_var are required when not training");
            return NormalizeWithStatistics(input, runningMean, runningVar, weight, bias, eps);
        }
        return TrainingBatchNorm(input, runningMean, runningVar, weight, bias, momentum, eps, slope: null);
    }

    /// <summary>
    /// Training-mode batch normalisation by the batch's statistics followed by LeakyReLU(<paramref name="slope"/>) (0:
    /// ReLU; at least 0) as one function: the values and gradients of <see cref="BatchNorm"/> with training set, then
    /// <see cref="LeakyRelu"/>, bit for bit, without the normalised map written or kept for the backward. The running
    /// statistics are updated as <see cref="BatchNorm"/> updates them.
    /// </summary>
    internal static Tensor BatchNormLeakyReluTraining(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        float momentum, float eps, float slope) =>
        TrainingBatchNorm(input, runningMean, runningVar, weight, bias, momentum, eps, slope);

    static Tensor TrainingBatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        float momentum, float eps, float? slope)
    {
        var (y, mean, variance) = BatchNormFunction.Apply(input, weight, bias, eps, slope);
        if (runningMean != null && runningVar != null)
        {
            int count = input.Numel / input.Size(1);
            UpdateRunning(runningMean.Data, mean, momentum, 1.0);
            UpdateRunning(runningVar.Data, variance, momentum, count / Math.Max(count - 1.0, 1.0));
        }
        BatchNormFunction.ReturnStatistics(y, mean, variance);
        return y;
    }

    static void UpdateRunning(Span<float> running, ReadOnlySpan<float> batch, float momentum, double correction)
    {
        for (int i = 0; i < running.Length; i++)
            running[i] = (float)((1.0 - momentum) * running[i] + momentum * batch[i] * correction);
    }

    // y = (x - mean) / sqrt(var + eps) * w + b with fixed per-channel statistics (eval mode)
    static Tensor NormalizeWithStatistics(Tensor input, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float eps)
    {
        CheckStatistics(input, mean, variance);
        if (!GradMode.Records(input, weight, bias))
            return NormalizeRaw(input, mean, variance, weight, bias, eps);
        // Frozen parameters (a fixed feature network, SRGAN's content loss): one pass as without a graph, and its gradient
        // one pass, where the composition below writes and keeps (x - mean) and its product besides.
        if (!GradMode.Records(weight, bias))
        {
            var (channelScale, channelShift) = ScaleAndShift(input.Size(1), mean, variance, weight, bias, eps);
            return ChannelAffine.Apply(input, channelScale, channelShift);
        }
        var channelShape = BatchNormFunction.ChannelShape(input);
        var scale = (variance.Detach() + eps).Pow(-0.5f).Reshape(channelShape);
        if (weight != null) scale = scale * weight.Reshape(channelShape);
        var y = (input - mean.Detach().Reshape(channelShape)) * scale;
        return bias == null ? y : y + bias.Reshape(channelShape);
    }

    static void CheckStatistics(Tensor input, Tensor mean, Tensor variance)
    {
        if (input.Rank < 2 || mean.Numel != input.Size(1) || variance.Numel != input.Size(1))
            throw new ArgumentException($"BatchNorm: input {Shapes.Format(input.ShapeSpan)} does not match running statistics {Shapes.Format(mean.ShapeSpan)}");
    }

    // The same without a graph: one kernel pass, with LeakyReLU(slope) in it when a slope is given, into the input's own
    // buffer when inPlace.
    static Tensor NormalizeRaw(Tensor input, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float eps,
        float? slope = null, bool inPlace = false)
    {
        int n = input.Size(0), c = input.Size(1), inner = input.Numel / Math.Max(n * c, 1);
        var (scale, shift) = ScaleAndShift(c, mean, variance, weight, bias, eps);
        var y = inPlace ? input : Tensor.Uninitialized(input.ShapeSpan);
        Kernels.BatchNorm.Affine(input.Storage, y.Storage, n, c, inner, scale, shift, slope);
        return y;
    }

    // Eval-mode batch norm as y = x·scale + shift a channel: scale = weight / sqrt(variance + eps), shift = bias - mean·scale.
    static (float[] Scale, float[] Shift) ScaleAndShift(int c, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float eps)
    {
        var scale = new float[c]; var shift = new float[c];
        Span<float> m = mean.Data, v = variance.Data;
        for (int ch = 0; ch < c; ch++)
        {
            scale[ch] = (float)(1.0 / Math.Sqrt(v[ch] + (double)eps)) * (weight?.Data[ch] ?? 1f);
            shift[ch] = (bias?.Data[ch] ?? 0f) - m[ch] * scale[ch];
        }
        return (scale, shift);
    }

    /// <summary>
    /// Eval-mode batch normalisation by fixed statistics followed by LeakyReLU(<paramref name="slope"/>) (0: ReLU), as
    /// one kernel pass without a graph: the values of <see cref="BatchNorm"/> then <see cref="LeakyRelu"/>, bit for
    /// bit. With <paramref name="inPlace"/> the result overwrites the input's buffer (the caller owns it).
    /// </summary>
    internal static Tensor BatchNormLeakyRelu(Tensor input, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float eps,
        float slope, bool inPlace)
    {
        CheckStatistics(input, mean, variance);
        return NormalizeRaw(input, mean, variance, weight, bias, eps, slope, inPlace);
    }

    /// <summary>
    /// Instance normalisation of x (N,C,*) without affine parameters or running statistics, followed by
    /// LeakyReLU(<paramref name="slope"/>) (0: ReLU), as one kernel pass after the statistics, without a graph: the values
    /// of <see cref="InstanceNorm"/> then <see cref="LeakyRelu"/>, bit for bit. With <paramref name="inPlace"/> the
    /// result overwrites the input's buffer (the caller owns it).
    /// </summary>
    internal static Tensor InstanceNormLeakyRelu(Tensor input, float eps, float slope, bool inPlace)
    {
        var (rows, inner) = InstanceRows(input);
        var y = inPlace ? input : Tensor.Uninitialized(input.ShapeSpan);
        // The rows' statistics, read by nothing after: from the pool and back (256 images of 256 channels have 65,536
        // rows, and three fresh arrays of them cost 192 page faults a call).
        var (mean, variance, invstd) = (StoragePool.Rent(rows), StoragePool.Rent(rows), StoragePool.Rent(rows));
        Kernels.BatchNorm.Forward(input.Storage, y.Storage, 1, rows, inner, null, null, eps, mean, variance, invstd, slope);
        foreach (var statistic in new[] { mean, variance, invstd }) StoragePool.Return(statistic);
        return y;
    }

    /// <summary>
    /// The same pair where a graph is recorded (a training step's instance norm and the ReLU after it): one
    /// <see cref="BatchNormFunction"/> over the (sample, channel) rows with the activation in its pass, as
    /// <see cref="InstanceNorm"/> runs the norm alone. The values and gradients of the two layers one after the other,
    /// without the normalised map written or kept; <paramref name="slope"/> at least 0.
    /// </summary>
    internal static Tensor InstanceNormLeakyReluTraining(Tensor input, float eps, float slope) =>
        NormalizeRows(input, InstanceRows(input).Inner, eps, slope);

    // The (sample, channel) rows of an instance norm's input (N,C,*) and their length, checked to be more than one position.
    static (int Rows, int Inner) InstanceRows(Tensor input)
    {
        int rows = input.Size(0) * input.Size(1), inner = input.Numel / Math.Max(rows, 1);
        if (input.Rank < 3 || inner < 2)
            throw new ArgumentException($"InstanceNorm: expected input (N,C,*) with maps of more than one position, got {Shapes.Format(input.ShapeSpan)}");
        return (rows, inner);
    }

    /// <summary>Normalises over the trailing dims given by <paramref name="normalizedShape"/> (as torch's layer_norm).</summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        int k = normalizedShape.Length;
        if (k == 0 || k > input.Rank || !input.ShapeSpan[^k..].SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: input {Shapes.Format(input.ShapeSpan)} does not end with normalized_shape {Shapes.Format(normalizedShape)}");
        int len = Shapes.Numel(normalizedShape);
        if (len > 1) return LayerNormFunction.Apply(input, weight, bias, len, eps);
        var y = Standardize(input, [input.Rank - 1], eps);   // rows of one value: all zeros, gradient zero
        if (weight != null) y = y * weight;
        return bias == null ? y : y + bias;
    }

    /// <summary>
    /// (x - mean) / sqrt(biased var + eps) over <paramref name="dims"/>, which are x's trailing dims, all differentiable.
    /// Each row of the trailing dims is a channel of a one-sample batch norm, so the fused batch-norm function does it in
    /// one pass each way (and double backward through its recomputed statistics) instead of seven ops and their graph.
    /// </summary>
    static Tensor Standardize(Tensor x, int[] dims, float eps)
    {
        int rowLength = 1;
        foreach (int d in dims) rowLength *= x.Size(d);
        if (rowLength > 1) return NormalizeRows(x, rowLength, eps);
        var xc = x - x.Mean(dims, keepDim: true);
        return xc * (xc.Square().Mean(dims, keepDim: true) + eps).Pow(-0.5f);
    }

    // x standardised over each run of its last rowLength (> 1) values, as the channels of a one-sample batch norm, then
    // LeakyReLU(slope) in the same pass when given.
    static Tensor NormalizeRows(Tensor x, int rowLength, float eps, float? slope = null) =>
        BatchNormFunction.Output(x.Reshape(1, x.Numel / rowLength, rowLength), eps, slope).Reshape(x.ShapeSpan);

    /// <summary>Normalises x (N,C,*) over each of <paramref name="numGroups"/> channel groups (as torch's group_norm).</summary>
    public static Tensor GroupNorm(Tensor input, int numGroups, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        if (input.Rank < 2 || numGroups <= 0 || input.Size(1) % numGroups != 0)
            throw new ArgumentException($"GroupNorm: {input.Size(1)} channels of input {Shapes.Format(input.ShapeSpan)} cannot be split into {numGroups} groups");
        var y = Standardize(input.Reshape(input.Size(0), numGroups, -1), [2], eps).Reshape(input.ShapeSpan);
        var channelShape = BatchNormFunction.ChannelShape(input);
        if (weight != null) y = y * weight.Reshape(channelShape);
        return bias == null ? y : y + bias.Reshape(channelShape);
    }

    /// <summary>
    /// Normalises each (sample, channel) of x (N,C,*) over its spatial dims (as torch's instance_norm).
    /// With <paramref name="useInputStats"/> false the running statistics are used instead; with it true
    /// and running statistics given they are updated with the batch average of the instance statistics.
    /// </summary>
    public static Tensor InstanceNorm(Tensor input, Tensor? runningMean = null, Tensor? runningVar = null, Tensor? weight = null,
        Tensor? bias = null, bool useInputStats = true, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (input.Rank < 3)
            throw new ArgumentException($"InstanceNorm: expected input (N,C,*) with spatial dims, got {Shapes.Format(input.ShapeSpan)}");
        var channelShape = BatchNormFunction.ChannelShape(input);
        Tensor y;
        if (!useInputStats)
        {
            if (runningMean == null || runningVar == null)
                throw new ArgumentException("InstanceNorm: running statistics are required when not using input statistics");
            y = (input - runningMean.Detach().Reshape(channelShape)) * (runningVar.Detach() + eps).Pow(-0.5f).Reshape(channelShape);
        }
        else
        {
            var dims = Enumerable.Range(2, input.Rank - 2).ToArray();
            y = Standardize(input, dims, eps);
            if (runningMean != null && runningVar != null) UpdateInstanceRunning(input, runningMean, runningVar, momentum);
        }
        if (weight != null) y = y * weight.Reshape(channelShape);
        return bias == null ? y : y + bias.Reshape(channelShape);
    }

    static void UpdateInstanceRunning(Tensor input, Tensor runningMean, Tensor runningVar, float momentum)
    {
        int n = input.Size(0), c = input.Size(1), inner = input.Numel / (n * c);
        var x = input.Data;
        var mean = new float[c]; var variance = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double ms = 0, vs = 0;
            for (int b = 0; b < n; b++)
            {
                var row = x.Slice((b * c + ch) * inner, inner);
                double m = 0;
                foreach (float v in row) m += v;
                m /= inner;
                double ss = 0;
                foreach (float v in row) ss += (v - m) * (v - m);
                ms += m;
                vs += ss / Math.Max(inner - 1, 1);
            }
            mean[ch] = (float)(ms / n);
            variance[ch] = (float)(vs / n);
        }
        UpdateRunning(runningMean.Data, mean, momentum, 1.0);
        UpdateRunning(runningVar.Data, variance, momentum, 1.0);
    }
}
