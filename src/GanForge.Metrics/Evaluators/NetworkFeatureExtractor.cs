namespace GanForge.Metrics.Evaluators;

/// <summary>
/// An <see cref="IFeatureExtractor"/> over an <see cref="IEvaluatorNetwork"/> in eval mode: batches the
/// images, resizes them to the network's input size and adapts the channel count (RGB to grey by the
/// mean, grey to RGB by repetition), then reads features and softmax probabilities from one forward pass.
/// </summary>
public sealed class NetworkFeatureExtractor : IFeatureExtractor
{
    readonly IEvaluatorNetwork _network;

    /// <param name="name">The evaluator's name for protocols.</param>
    /// <param name="network">The network; it is switched to eval mode.</param>
    public NetworkFeatureExtractor(string name, IEvaluatorNetwork network)
    {
        Name = name;
        _network = network;
        network.Module.Eval();
    }

    public string Name { get; }
    public string Layer => _network.FeatureLayer;
    public int FeatureDim => _network.FeatureDim;
    public int Classes => _network.Classes;

    /// <summary>The wrapped network.</summary>
    public IEvaluatorNetwork Network => _network;

    public (FeatureMatrix Features, double[,]? Probabilities) Extract(Tensor images, int batchSize = 256)
    {
        if (images.Rank != 4)
            throw new ArgumentException($"{Name}: images {Shapes.Format(images.ShapeSpan)} should be (N,C,H,W) in [-1, 1]");
        if (batchSize < 1) throw new ArgumentException($"{Name}: batch size {batchSize} must be positive");
        int n = images.Size(0), d = FeatureDim, k = Classes;
        var features = new double[n * d];
        var probs = new double[n, k];
        int per = images.Numel / Math.Max(n, 1);
        using (GradMode.NoGrad())
        {
            for (int start = 0; start < n; start += batchSize)
            {
                int b = Math.Min(batchSize, n - start);
                var batch = Tensor.FromArray(images.Data.Slice(start * per, b * per), b, images.Size(1), images.Size(2), images.Size(3));
                var f = _network.Features(Adapt(batch));
                var p = _network.Classify(f).Softmax(1);
                var fd = f.Data;
                for (int i = 0; i < b * d; i++) features[start * d + i] = fd[i];
                var pd = p.Data;
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < k; j++) probs[start + i, j] = pd[i * k + j];
            }
        }
        return (new FeatureMatrix(features, n, d), k > 0 ? probs : null);
    }

    /// <summary>
    /// Features (N, FeatureDim) of images (N,C,H,W) in [-1, 1], resized and channel-adapted as <see cref="Extract"/> does,
    /// differentiable with respect to the images (for a perceptual loss, as `project` uses). Gradients are not meant for
    /// the network's weights: take them with <c>Autograd.Grad</c> on the images, or freeze the network.
    /// </summary>
    public Tensor Embed(Tensor images)
    {
        if (images.Rank != 4)
            throw new ArgumentException($"{Name}: images {Shapes.Format(images.ShapeSpan)} should be (N,C,H,W) in [-1, 1]");
        return _network.Features(Adapt(images));
    }

    Tensor Adapt(Tensor x)
    {
        int c = x.Size(1), want = _network.InputChannels;
        if (c != want)
        {
            if (want == 1) x = x.Mean(1, keepDim: true);
            else if (c == 1) x = Tensor.Cat(Enumerable.Repeat(x, want).ToArray(), 1);
            else throw new ArgumentException($"{Name}: images {Shapes.Format(x.ShapeSpan)} have {c} channels, the evaluator expects {want}");
        }
        int s = _network.InputSize;
        if (x.Size(2) != s || x.Size(3) != s)
            x = Tensor.Interpolate(x, new Size2(s, s), mode: "bilinear", alignCorners: false);
        return x;
    }
}
