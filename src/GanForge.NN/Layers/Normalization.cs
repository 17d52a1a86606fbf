namespace GanForge.NN;

/// <summary>
/// Per-sample, per-channel normalisation of (N,C,H,W) or (C,H,W) inputs over H,W (as torch.nn.InstanceNorm2d;
/// by default no affine parameters and no running statistics).
/// </summary>
public sealed class InstanceNorm2d : Module, IPureLayer, INormThenActivation
{
    public int NumFeatures { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public bool Affine { get; }
    public bool TrackRunningStats { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }

    public InstanceNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = false, bool trackRunningStats = false)
    {
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum; Affine = affine; TrackRunningStats = trackRunningStats;
        if (affine)
        {
            RegisterParameter("weight", Tensor.Ones(numFeatures));
            RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
        else { RegisterNullParameter("weight"); RegisterNullParameter("bias"); }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            RegisterBuffer("num_batches_tracked", Tensor.Scalar(0f));
        }
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank == 3) return Forward(input.Unsqueeze(0)).Squeeze(0);
        if (input.Rank != 4 || input.Size(1) != NumFeatures)
            throw new ArgumentException($"InstanceNorm2d: expected input (N,{NumFeatures},H,W), got {Shapes.Format(input.ShapeSpan)}");
        return F.InstanceNorm(input, RunningMean, RunningVar, ForwardParameter("weight"), ForwardParameter("bias"),
            useInputStats: Training || !TrackRunningStats, Momentum, Eps);
    }

    /// <summary>
    /// This layer and LeakyReLU(<paramref name="slope"/>) after it (0: ReLU) as one pass after the statistics: the
    /// pair's values (and gradients) bit for bit. Without a graph, into the input's own buffer when
    /// <paramref name="inPlace"/>; with one, as one function that neither writes nor keeps the normalised map. Null,
    /// with nothing done, for affine parameters, running statistics, maps of one position, or a negative slope with a
    /// graph to record.
    /// </summary>
    Tensor? INormThenActivation.TryForwardActivated(Tensor input, float slope, bool inPlace)
    {
        if (Affine || TrackRunningStats || input.Rank != 4 || input.Size(1) != NumFeatures || input.Size(2) * input.Size(3) < 2) return null;
        if (GradMode.IsEnabled && input.RequiresGrad) return slope < 0f ? null : F.InstanceNormLeakyReluTraining(input, Eps, slope);
        return F.InstanceNormLeakyRelu(input, Eps, slope, inPlace);
    }

    protected override string ExtraRepr() => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={Affine}, track_running_stats={TrackRunningStats}";
}

/// <summary>
/// A normalisation layer that can run the ReLU or LeakyReLU after it in its own pass where no graph is recorded
/// (<see cref="Sequential"/> asks it).
/// </summary>
internal interface INormThenActivation
{
    /// <summary>The layer, then LeakyReLU(<paramref name="slope"/>) (0: ReLU), in one pass; null where they must run apart.</summary>
    Tensor? TryForwardActivated(Tensor input, float slope, bool inPlace);
}

/// <summary>Normalises over the trailing <see cref="NormalizedShape"/> dims, with elementwise weight (1) and bias (0).</summary>
public sealed class LayerNorm : Module, IPureLayer
{
    public int[] NormalizedShape { get; }
    public float Eps { get; }

    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        NormalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine)
        {
            RegisterParameter("weight", Tensor.Ones(NormalizedShape));
            RegisterParameter("bias", Tensor.Zeros(NormalizedShape));
        }
        else { RegisterNullParameter("weight"); RegisterNullParameter("bias"); }
    }

    public LayerNorm(int normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true) : this([normalizedShape], eps, elementwiseAffine) { }

    public override Tensor Forward(Tensor input) => F.LayerNorm(input, NormalizedShape, ForwardParameter("weight"), ForwardParameter("bias"), Eps);

    protected override string ExtraRepr() => $"{Shapes.Format(NormalizedShape)}, eps={Eps}";
}

/// <summary>Normalises (N,C,*) over groups of channels, with per-channel weight (1) and bias (0).</summary>
public sealed class GroupNorm : Module, IPureLayer
{
    public int NumGroups { get; }
    public int NumChannels { get; }
    public float Eps { get; }

    public GroupNorm(int numGroups, int numChannels, float eps = 1e-5f, bool affine = true)
    {
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: {numChannels} channels cannot be split into {numGroups} groups");
        NumGroups = numGroups; NumChannels = numChannels; Eps = eps;
        if (affine)
        {
            RegisterParameter("weight", Tensor.Ones(numChannels));
            RegisterParameter("bias", Tensor.Zeros(numChannels));
        }
        else { RegisterNullParameter("weight"); RegisterNullParameter("bias"); }
    }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 2 || input.Size(1) != NumChannels)
            throw new ArgumentException($"GroupNorm: input {Shapes.Format(input.ShapeSpan)} does not have {NumChannels} channels");
        return F.GroupNorm(input, NumGroups, ForwardParameter("weight"), ForwardParameter("bias"), Eps);
    }

    protected override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={Eps}";
}
