using GanForge.Gan.Zoo;
using GanForge.NN;
using Xunit.Abstractions;
using static GanForge.Onnx.Tests.OnnxRuntimeHarness;

namespace GanForge.Onnx.Tests;

/// <summary>Every generator of the zoo, exported and run in ONNX Runtime, gives GanForge's images.</summary>
public class ZooExportTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-4;

    public static TheoryData<string, int, int> Generators()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in ModelZoo.Names) data.Add(name, 1, 28);
        data.Add("dcgan", 3, 32);   // the pytorch/examples pyramid: ConvTranspose from (nz,1,1)
        data.Add("gan", 3, 32);
        return data;
    }

    /// <summary>The generator of <paramref name="name"/> in eval mode, its BatchNorm statistics moved off (0, 1) by training-mode passes.</summary>
    static (Module Generator, GanModel Model) Trained(string name, int channels, int size)
    {
        var model = ModelZoo.Create(name, new ModelSpec(channels, size));
        var g = model.Generator;
        var rng = new Generator(7);
        using (GradMode.NoGrad())
            for (int i = 0; i < 5; i++) g.Forward(model.SampleLatent(32, rng) * 1.5f + 0.3f);
        g.Eval();
        return (g, model);
    }

    [Theory]
    [MemberData(nameof(Generators))]
    public void ExportOnnx_ZooGenerator_MatchesGanForgeAtBatch1And17(string name, int channels, int size)
    {
        var (g, model) = Trained(name, channels, size);
        var runningMeans = g.NamedBuffers().Where(b => b.Key.EndsWith("running_mean")).ToList();
        Assert.All(runningMeans, b => Assert.Contains(b.Value.ToArray(), v => MathF.Abs(v) > 1e-3f));
        var bytes = g.ToOnnx(model.SampleLatent(2, new Generator(1)));   // batch 2 here: the file's batch is dynamic

        foreach (int batch in new[] { 1, 17 })
        {
            var z = model.SampleLatent(batch, new Generator((ulong)batch));
            var expected = Forward(g, z);
            var actual = Run(bytes, z);
            Assert.Equal<int>([batch, channels, size, size], actual.Shape);
            double diff = MaxAbsDifference(expected, actual);
            output.WriteLine($"| {name} | {channels}x{size}x{size} | {Shapes.Format(z.ShapeSpan)} | {batch} | {diff:E2} |");
            Assert.True(diff <= Tolerance, $"{name} {channels}x{size}x{size} batch {batch}: max |ONNX Runtime - GanForge| = {diff:E3}");
        }
    }

    [Fact]
    public void ExportOnnx_DcGanGenerator_DeclaresZAndImageWithADynamicBatch()
    {
        var (g, model) = Trained("dcgan", 3, 32);
        var bytes = g.ToOnnx(model.SampleLatent(1, new Generator(1)));

        var proto = Proto.ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(8, proto.IrVersion);
        Assert.Equal(17, Assert.Single(proto.OpsetImport).Version);
        var input = Assert.Single(proto.Graph.Input);
        var image = Assert.Single(proto.Graph.Output);
        Assert.Equal("z", input.Name);
        Assert.Equal("image", image.Name);
        Assert.Equal(["batch", "100", "1", "1"], input.Type.TensorType.Shape.Dim.Select(Describe));
        Assert.Equal(["batch", "3", "32", "32"], image.Type.TensorType.Shape.Dim.Select(Describe));
        Assert.Equal(["ConvTranspose", "BatchNormalization", "Relu"], proto.Graph.Node.Take(3).Select(n => n.OpType));
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "1.running_var");
    }

    static string Describe(Proto.TensorShapeProto.Types.Dimension d) =>
        d.ValueCase == Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : d.DimValue.ToString();
}
