using GanForge.NN;
using GanForge.Optim;

namespace GanForge.Metrics.Probes;

/// <summary>
/// A linear probe: multinomial logistic regression on fixed features (how well a representation separates the
/// classes linearly). Features are standardised with the training set's mean and standard deviation; the weights
/// minimise mean cross-entropy + λ‖W‖², full batch, with Adam (lr 0.01) for a fixed number of steps.
/// </summary>
public sealed class LinearProbe
{
    readonly Tensor _mean, _std, _weight, _bias;

    LinearProbe(Tensor mean, Tensor std, Tensor weight, Tensor bias) { _mean = mean; _std = std; _weight = weight; _bias = bias; }

    /// <summary>Fits the probe to <paramref name="features"/> (N, F) and their <paramref name="labels"/> in [0, classes).</summary>
    public static LinearProbe Fit(Tensor features, int[] labels, int classes, float l2 = 1e-3f, int steps = 300, ulong seed = 0)
    {
        if (features.Rank != 2 || features.Size(0) != labels.Length)
            throw new ArgumentException($"LinearProbe: features {Shapes.Format(features.ShapeSpan)} do not match {labels.Length} labels");
        int f = features.Size(1);
        using var grad = GradMode.EnableGrad();
        var mean = features.Mean(0, keepDim: true);
        var centred = features - mean;
        var std = ((centred * centred).Mean(0, keepDim: true) + 1e-6f).Sqrt();
        var x = centred / std;
        var target = Tensor.FromArray(labels.Select(l => (float)l).ToArray(), [labels.Length]);
        var weight = Init.Normal(new Tensor(f, classes), 0f, 0.01f, new Generator(seed)).RequiresGrad_();
        var bias = new Tensor(classes).RequiresGrad_();
        var adam = new Adam([weight, bias], lr: 0.01);
        for (int step = 0; step < steps; step++)
        {
            adam.ZeroGrad();
            var loss = F.CrossEntropy(x.MatMul(weight) + bias, target) + (weight * weight).Sum() * l2;
            loss.Backward();
            adam.Step();
        }
        return new LinearProbe(mean, std, weight.Detach(), bias.Detach());
    }

    /// <summary>The predicted class of each row of <paramref name="features"/>.</summary>
    public int[] Predict(Tensor features)
    {
        using var _ = GradMode.NoGrad();
        var logits = ((features - _mean) / _std).MatMul(_weight) + _bias;
        return [.. logits.ArgMax(1).ToArray().Select(c => (int)c)];
    }

    /// <summary>Share of rows predicted as their label.</summary>
    public double Accuracy(Tensor features, int[] labels) => Probes.Accuracy(Predict(features), labels);
}

/// <summary>Helpers of the probes.</summary>
public static class Probes
{
    /// <summary>Share of positions where <paramref name="predicted"/> equals <paramref name="truth"/>.</summary>
    public static double Accuracy(int[] predicted, int[] truth)
    {
        if (predicted.Length != truth.Length)
            throw new ArgumentException($"accuracy: {predicted.Length} predictions but {truth.Length} labels");
        int ok = 0;
        for (int i = 0; i < truth.Length; i++) if (predicted[i] == truth[i]) ok++;
        return truth.Length == 0 ? 0 : (double)ok / truth.Length;
    }
}
