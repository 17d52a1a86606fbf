using GanForge.Gan.Losses;
using GanForge.NN;

namespace GanForge.Metrics.Evaluators;

/// <summary>
/// The built-in evaluator's convolutional features as SRGAN's content network (in place of VGG19's φ5,4, which
/// GanForge does not have): the two conv-BN-ReLU blocks of <see cref="FashionMnistCnn"/> up to the second ReLU, before
/// its pooling, (N, 64, H/2, W/2). Colour images are averaged to gray first (the evaluator saw gray Fashion-MNIST);
/// the layers are convolutions, so any size works.
/// </summary>
public sealed class ContentFeatures : Module, IPureLayer
{
    /// <summary>Layers of the evaluator's feature stack used: conv, BN, ReLU, pool, conv, BN, ReLU.</summary>
    const int Layers = 7;

    readonly FashionMnistCnn _network;

    // The gray mean and the evaluator's first layers as one chain (not registered: the layers are the evaluator's), so
    // Sequential gives each intermediate's buffer back once read, and without a graph runs each batch norm and its ReLU
    // as one pass.
    readonly Sequential _chain;

    public ContentFeatures()
    {
        _network = (FashionMnistCnn)EvaluatorRegistry.Load().Network;
        RegisterModule("evaluator", _network);
        _chain = new Sequential([new GrayMean(), .. _network.FeatureLayers.Take(Layers)]);
    }

    /// <summary>(N, C, H, W) in [-1,1] -> (N, 64, H/2, W/2).</summary>
    public override Tensor Forward(Tensor input) => _chain.Forward(input);

    /// <summary>Colour images averaged to gray (N, 1, H, W); gray ones as they are.</summary>
    sealed class GrayMean : Module, IPureLayer
    {
        public override Tensor Forward(Tensor input) => input.Size(1) == 1 ? input : input.Mean([1], keepDim: true);
    }

    /// <summary>Registers the network as <see cref="FeatureNetworks.Evaluator"/> for the content losses of the model zoo.</summary>
    public static void Register() => FeatureNetworks.Register(FeatureNetworks.Evaluator, () => new ContentFeatures(),
        "the built-in Fashion-MNIST evaluator's second conv block (64 maps at half the size), gray");
}
