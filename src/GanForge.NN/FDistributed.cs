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
    /// <see cref="SyncBatchNormFunction"/>: the single-process kernel's arithmetic with its per-channel sums added over
    /// the ranks, two allreduces of C values forward and one of 2C backward. The weight and bias gradients are each
    /// rank's share; averaging every gradient over the ranks (<see cref="GradientAllReduce"/>) completes them.
    /// </remarks>
    public static Tensor SyncBatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        float momentum, float eps, IProcessGroup group)
    {
        var (y, mean, variance, count) = SyncBatchNormFunction.Apply(input, weight, bias, eps, group);
        if (runningMean != null && runningVar != null)
        {
            UpdateRunning(runningMean.Data, mean, momentum, 1.0);
            UpdateRunning(runningVar.Data, variance, momentum, count / (count - 1));
        }
        return y;
    }
}
