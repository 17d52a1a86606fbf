using GanForge.Gan.Zoo;
using GanForge.Optim;

namespace GanForge.Gan.Training;

/// <summary>
/// Optional pre-training of the generator as the decoder of an autoencoder: an encoder E maps real
/// images to latents and G reconstructs them, minimising mean squared error ||G(E(x)) - x||², so
/// the generator starts adversarial training already producing data-like images.
/// </summary>
public sealed class AutoencoderPretrainer(GanModel model, IBatchSource data, TrainConfig config, Action<string>? info)
{
    /// <summary>Mean reconstruction error of each pre-training epoch.</summary>
    public List<double> EpochLosses { get; } = [];

    /// <summary>Pre-trains for the configured epochs; a cancelled run stops after the batch under way.</summary>
    public void Run(CancellationToken cancel = default)
    {
        var encoder = model.CreateEncoder?.Invoke()
            ?? throw new InvalidOperationException($"--pretrain-ae: model '{model.Name}' has no encoder for autoencoder pre-training");
        var parameters = encoder.Parameters().Concat(model.Generator.Parameters()).ToList();
        var optimizer = new Adam(parameters, 1e-3f);
        var (epoch0, batch0) = data.Position;
        for (int e = 0; e < config.PretrainAe && !cancel.IsCancellationRequested; e++)
        {
            double sum = 0;
            for (int b = 0; b < data.BatchesPerEpoch && !cancel.IsCancellationRequested; b++)
            {
                var x = data.Next().Images;
                var reconstruction = model.Generator.Forward(encoder.Forward(x));
                var loss = (reconstruction - x).Square().Mean();                  // ||G(E(x)) - x||²
                Monitors.CheckFinite("autoencoder loss", loss.Item(), b);
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
                sum += loss.Item();
            }
            if (cancel.IsCancellationRequested) break;
            EpochLosses.Add(sum / data.BatchesPerEpoch);
            info?.Invoke($"autoencoder pre-training epoch {e + 1}/{config.PretrainAe}: reconstruction MSE {EpochLosses[^1]:F4}");
        }
        // Adversarial training starts from the same data position as without pre-training.
        data.Seek(epoch0, batch0);
    }
}
