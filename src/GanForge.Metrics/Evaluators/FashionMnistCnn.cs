using GanForge.NN;

namespace GanForge.Metrics.Evaluators;

/// <summary>
/// The built-in Fashion-MNIST evaluator: a small VGG-style CNN whose 128-D penultimate layer plays
/// the role Inception's pool3 plays for ImageNet-sized images.
/// </summary>
/// <remarks>
/// Input (N,1,28,28) in [-1, 1]. PyTorch equivalent, line by line:
/// <code>
/// features = Sequential(Conv2d(1,c1,3,padding=1), BatchNorm2d(c1), ReLU(), MaxPool2d(2),
///                       Conv2d(c1,c2,3,padding=1), BatchNorm2d(c2), ReLU(), MaxPool2d(2),
///                       Flatten(), Linear(c2*7*7,128), ReLU())
/// head = Sequential(Dropout(0.3), Linear(128,10))
/// </code>
/// </remarks>
public sealed class FashionMnistCnn : Module, IEvaluatorNetwork, IPureLayer
{
    /// <summary>The registry name of this architecture.</summary>
    public const string ArchitectureName = "fashion-mnist-cnn";

    readonly Sequential _features, _head;

    /// <param name="channels1">Channels of the first conv block.</param>
    /// <param name="channels2">Channels of the second conv block.</param>
    /// <param name="featureDim">Width of the penultimate layer.</param>
    /// <param name="generator">Initialisation randomness.</param>
    public FashionMnistCnn(int channels1 = 32, int channels2 = 64, int featureDim = 128, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        FeatureDim = featureDim;
        _features = RegisterModule("features", new Sequential(
            new Conv2d(1, channels1, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(channels1), new ReLU(),
            new MaxPool2d(2),                                                   // state: c1 x 14 x 14
            new Conv2d(channels1, channels2, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(channels2), new ReLU(),
            new MaxPool2d(2),                                                   // state: c2 x 7 x 7
            new Flatten(),
            new Linear(channels2 * 7 * 7, featureDim, generator: g), new ReLU())); // state: 128
        _head = RegisterModule("head", new Sequential(new Dropout(0.3f, g), new Linear(featureDim, 10, generator: g)));
    }

    public Module Module => this;
    public int InputChannels => 1;
    public int InputSize => 28;
    public int FeatureDim { get; }
    public int Classes => 10;
    public string FeatureLayer => "features.10";

    public Tensor Features(Tensor x) => _features.Forward(x);

    /// <summary>The layers of the feature extractor, in order (conv, norm, ReLU, pool, ..., linear, ReLU).</summary>
    internal Sequential FeatureLayers => _features;

    public Tensor Classify(Tensor features) => _head.Forward(features);

    /// <summary>Logits (N,10).</summary>
    public override Tensor Forward(Tensor input) => Classify(Features(input));
}
