using GanForge.Distributed;
using GanForge.Functions;

namespace GanForge.NN;

public static partial class F
{
    /// <summary>
    /// The element-wise sum of <paramref name="input"/> over every rank of <paramref name="group"/>, differentiable: the
    /// gradient is the sum over the ranks of the output's gradient. Every rank must call it, in the same order.
    /// </summary>
    public static Tensor AllReduce(Tensor input, IProcessGroup group) => AllReduceFunction.Apply(input, group);

    /// <summary>
    /// Training-mode batch normalisation with the statistics of the global batch: x (N,C,*) on each rank, normalised
    /// per channel by the mean and biased variance over every rank's rows (torch.nn.SyncBatchNorm). The running
    /// statistics, when given, are updated with the global ones, so they agree on every rank.
    /// </summary>
    /// <remarks>
    /// Two allreduces of C values (and their two in backward): μ = Σx / n, then σ² = Σ(x-μ)² / n over all ranks, n the
    /// global count per channel; the two passes keep the variance as accurate as the single-process kernel's. Written
    /// with differentiable ops, so the backward (an allreduce of Σg and Σg·x̂ in effect) and double backward follow.
    /// </remarks>
    public static Tensor SyncBatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        float momentum, float eps, IProcessGroup group)
    {
        if (input.Rank < 2)
            throw new ArgumentException($"SyncBatchNorm: expected input (N,C,*), got {Shapes.Format(input.ShapeSpan)}");
        int c = input.Size(1);
        int[] dims = [0, .. Enumerable.Range(2, input.Rank - 2)];
        var channelShape = Enumerable.Repeat(1, input.Rank).ToArray();
        channelShape[1] = c;

        // The count travels with the sums, so ranks with different shard sizes would still be normalised correctly.
        var local = Tensor.Cat([input.Sum(dims), Tensor.FromArray([input.Numel / (float)c], 1)], 0);
        var sums = AllReduce(local, group);
        double count = sums.Data[c];
        if (count <= 1)
            throw new ArgumentException($"SyncBatchNorm: expected more than 1 value per channel over all ranks, got input {Shapes.Format(input.ShapeSpan)} on {group.Size} ranks");
        var mean = sums.Narrow(0, 0, c) * (float)(1 / count);                          // (C)
        var centred = input - mean.Reshape(channelShape);
        var variance = AllReduce(centred.Square().Sum(dims), group) * (float)(1 / count);   // biased, (C)
        var y = centred * (variance + eps).Pow(-0.5f).Reshape(channelShape);
        if (weight != null) y = y * weight.Reshape(channelShape);
        if (bias != null) y = y + bias.Reshape(channelShape);

        if (runningMean != null && runningVar != null)
        {
            UpdateRunning(runningMean.Data, mean.Data, momentum, 1.0);
            UpdateRunning(runningVar.Data, variance.Data, momentum, count / (count - 1));
        }
        return y;
    }
}
