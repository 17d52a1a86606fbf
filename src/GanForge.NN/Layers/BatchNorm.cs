using GanForge.Distributed;

namespace GanForge.NN;

/// <summary>
/// Shared body of BatchNorm1d/2d (as torch's _BatchNorm): learnable per-channel weight (1) and bias (0),
/// running_mean (0), running_var (1) and num_batches_tracked buffers. With momentum null the running
/// statistics are a cumulative average.
/// </summary>
public abstract class BatchNormBase : Module, IPureLayer, INormThenActivation
{
    public int NumFeatures { get; }
    public float Eps { get; }
    public float? Momentum { get; }
    public bool Affine { get; }
    public bool TrackRunningStats { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }

    /// <summary>Training forwards seen so far (a float scalar; PyTorch stores int64).</summary>
    public Tensor? NumBatchesTracked { get; }

    protected BatchNormBase(int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum; Affine = affine; TrackRunningStats = trackRunningStats;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
        else { RegisterNullParameter("weight"); RegisterNullParameter("bias"); }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Scalar(0f));
        }
    }

    /// <summary>
    /// When set, training-mode statistics are those of the global batch over every rank of the group
    /// (torch.nn.SyncBatchNorm, <see cref="F.SyncBatchNorm"/>); null (the default) normalises each rank's rows by
    /// their own statistics, as DDP does. Eval mode never synchronises.
    /// </summary>
    public IProcessGroup? ProcessGroup { get; set; }

    /// <summary>
    /// Sets <see cref="ProcessGroup"/> on every batch-norm layer in <paramref name="module"/> (torch's
    /// SyncBatchNorm.convert_sync_batchnorm, in place); returns how many there were.
    /// </summary>
    public static int Synchronize(Module module, IProcessGroup? group)
    {
        int count = 0;
        foreach (var (_, m) in module.NamedModules())
            if (m is BatchNormBase bn) { bn.ProcessGroup = group; count++; }
        return count;
    }

    /// <summary>Throws unless the input has the rank this layer accepts.</summary>
    protected abstract void CheckInput(Tensor input);

    public override Tensor Forward(Tensor input)
    {
        CheckShape(input);
        float factor = RunningFactor();
        bool useBatchStats = Training || RunningMean == null;
        // Only training synchronises: eval mode may run on one rank alone (rank 0's sample grids), so it makes no collective call.
        if (Training && ProcessGroup is { Size: > 1 } group)
            return F.SyncBatchNorm(input, TrackRunningStats ? RunningMean : null, TrackRunningStats ? RunningVar : null,
                ForwardParameter("weight"), ForwardParameter("bias"), factor, Eps, group);
        // Running statistics are updated only while training with tracking on; eval without tracking uses the batch.
        return F.BatchNorm(input,
            !Training || TrackRunningStats ? RunningMean : null,
            !Training || TrackRunningStats ? RunningVar : null,
            ForwardParameter("weight"), ForwardParameter("bias"), useBatchStats, factor, Eps);
    }

    // Counts a training forward where the running statistics are tracked; the weight the batch's statistics get in them.
    float RunningFactor()
    {
        float factor = Momentum ?? 0f;
        if (Training && TrackRunningStats)
        {
            NumBatchesTracked!.Data[0] += 1f;
            if (Momentum == null) factor = 1f / NumBatchesTracked.Data[0];
        }
        return factor;
    }

    // The rank this layer accepts and its channel count.
    void CheckShape(Tensor input)
    {
        CheckInput(input);
        if (input.Size(1) != NumFeatures)
            throw new ArgumentException($"{TypeName}: input {Shapes.Format(input.ShapeSpan)} has {input.Size(1)} channels, expected {NumFeatures}");
    }

    /// <summary>
    /// This layer and LeakyReLU(<paramref name="slope"/>) after it (0: ReLU) as one function: the pair's values, and
    /// gradients, bit for bit. Training: the batch's statistics, the running ones updated, the normalised map neither
    /// written nor kept for the backward. Eval: one pass by the running statistics without a graph, into the input's own
    /// buffer when <paramref name="inPlace"/> (the caller owns it). Null, with nothing done, where the pair must run as
    /// two layers: statistics synchronised over ranks, a negative slope, or in eval mode no running statistics or a
    /// graph to record.
    /// </summary>
    Tensor? INormThenActivation.TryForwardActivated(Tensor input, float slope, bool inPlace)
    {
        if (Training)
        {
            if (ProcessGroup is { Size: > 1 } || slope < 0f) return null;
            CheckShape(input);
            float factor = RunningFactor();
            return F.BatchNormLeakyReluTraining(input, TrackRunningStats ? RunningMean : null, TrackRunningStats ? RunningVar : null,
                ForwardParameter("weight"), ForwardParameter("bias"), factor, Eps, slope);
        }
        if (RunningMean == null || RunningVar == null) return null;
        var (weight, bias) = (ForwardParameter("weight"), ForwardParameter("bias"));
        if (GradMode.Records(input, weight, bias)) return null;
        CheckShape(input);
        return F.BatchNormLeakyRelu(input, RunningMean, RunningVar, weight, bias, Eps, slope, inPlace);
    }

    protected override string ExtraRepr() =>
        $"{NumFeatures}, eps={Eps}, momentum={(Momentum?.ToString() ?? "None")}, affine={Affine}, track_running_stats={TrackRunningStats}";
}

/// <summary>Batch normalisation of (N,C) or (N,C,L) inputs.</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats)
{
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank != 2 && input.Rank != 3)
            throw new ArgumentException($"BatchNorm1d: expected 2D or 3D input, got {Shapes.Format(input.ShapeSpan)}");
    }
}

/// <summary>Batch normalisation of (N,C,H,W) inputs.</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNormBase(numFeatures, eps, momentum, affine, trackRunningStats)
{
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank != 4)
            throw new ArgumentException($"BatchNorm2d: expected 4D input, got {Shapes.Format(input.ShapeSpan)}");
    }
}
