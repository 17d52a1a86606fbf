using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Training;

/// <summary>
/// Scores the generator while it trains (FID, class coverage, ...). The trainer calls it every
/// <see cref="TrainConfig.EvalEvery"/> steps and at the end of each epoch, and logs what it returns
/// into metrics.jsonl beside the step. Implemented above this layer (GanForge.Metrics), so the GAN
/// layer needs no evaluator network of its own.
/// </summary>
public interface IEvaluationHook
{
    /// <summary>
    /// Named scores of <paramref name="generator"/> (the sampling generator: the EMA when enabled, in eval
    /// mode, gradients off) of <paramref name="model"/> at <paramref name="step"/>.
    /// </summary>
    IReadOnlyDictionary<string, double> Evaluate(GanModel model, Module generator, long step);
}
