using GanForge.NN;
using static GanForge.Onnx.Tests.OnnxRuntimeHarness;

namespace GanForge.Onnx.Tests;

/// <summary>What cannot be exported says which layer, where, and why; new layers are one registration away.</summary>
public class ExportErrorTests
{
    [Fact]
    public void ExportOnnx_UnsupportedLayer_NamesItsTypeAndIndex()
    {
        var module = new Sequential(new Linear(4, 4), new ReLU(), new Linear(4, 4), new MultiheadAttention(4, 2));
        var e = Assert.Throws<NotSupportedException>(() => module.ToOnnx(Tensor.Randn(1, 4)));
        Assert.Equal("ExportOnnx: layer 3 (MultiheadAttention) cannot be exported to ONNX", e.Message);
    }

    [Fact]
    public void ExportOnnx_UnsupportedLayerInANestedSequential_NamesItsDottedPath()
    {
        var module = new Sequential(new Linear(4, 4), new Sequential(new ReLU(), new GELU()));
        var e = Assert.Throws<NotSupportedException>(() => module.ToOnnx(Tensor.Randn(1, 4)));
        Assert.Equal("ExportOnnx: layer 1.1 (GELU) cannot be exported to ONNX", e.Message);
    }

    [Fact]
    public void ExportOnnx_CustomModuleWithoutConverter_NamesTheModule()
    {
        var e = Assert.Throws<NotSupportedException>(() => new Doubler().ToOnnx(Tensor.Randn(1, 4)));
        Assert.Equal("ExportOnnx: the module (Doubler) cannot be exported to ONNX", e.Message);
    }

    [Fact]
    public void ExportOnnx_BatchNormWithoutRunningStatistics_SaysWhy()
    {
        var module = new Sequential(new Linear(4, 4), new BatchNorm1d(4, trackRunningStats: false));
        var e = Assert.Throws<NotSupportedException>(() => module.ToOnnx(Tensor.Randn(2, 4)));
        Assert.StartsWith("ExportOnnx: layer 1 (BatchNorm1d) cannot be exported to ONNX: it keeps no running statistics", e.Message);
    }

    [Fact]
    public void ExportOnnx_FlattenOfTheBatchDim_SaysWhy()
    {
        var e = Assert.Throws<NotSupportedException>(() => new Sequential(new Flatten(0)).ToOnnx(Tensor.Randn(2, 3)));
        Assert.Contains("layer 0 (Flatten) cannot be exported to ONNX: start_dim=0 flattens the batch dimension", e.Message);
    }

    [Fact]
    public void ExportOnnx_ExampleOfTheWrongShape_IsTheLayersOwnError()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential(new Conv2d(3, 4, 3)).ToOnnx(Tensor.Randn(1, 1, 8, 8)));
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("(1,1,8,8)", e.Message);
    }

    [Fact]
    public void ExportOnnx_ExampleWithoutABatch_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => new Linear(4, 4).ToOnnx(Tensor.Scalar(1f)));
        Assert.Contains("ExportOnnx: example input () needs a batch dimension", e.Message);
    }

    [Fact]
    public void Register_ConverterForANewLayer_ExportsIt()
    {
        OnnxConverters.Register<Squarer>((layer, c) => c.Graph.Node("Mul", [c.Input, c.Input], c.Output));
        var module = new Sequential(new Linear(4, 3, generator: new(1)), new Squarer());
        var x = Tensor.Randn(2, 4);
        Assert.True(MaxAbsDifference(Forward(module, x), Run(module.ToOnnx(x), x)) <= 1e-5);
    }

    /// <summary>A layer of the user's own that no converter knows: 2x.</summary>
    sealed class Doubler : Module
    {
        public override Tensor Forward(Tensor input) => input * 2f;
    }

    /// <summary>A layer of the user's own that the registration test gives a converter (test-local, so no other test sees it): x².</summary>
    sealed class Squarer : Module
    {
        public override Tensor Forward(Tensor input) => input * input;
    }
}
