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
        // The image-to-image generators take images, not latents: `translate` runs them, export does not take them.
        // stylegan and progan take a power of two from 8 pixels.
        // transgan's transformer generator has no converter (ExportOnnx_TransGan_IsAClearError).
        foreach (var v in ModelZoo.All.Where(v => v.Data == TrainingData.Images && v.Name is not ("stylegan" or "progan" or "transgan"))) data.Add(v.Name, 1, 28);
        data.Add("stylegan", 1, 32);  // mapping, modulated convs with demodulation, fixed noise, bilinear up, toRGB skips
        data.Add("stylegan", 3, 16);
        data.Add("progan", 1, 16);    // at level 0: 4 x 4, upsampled to 16 (ExportOnnx_ProGanMidFade_MatchesGanForge for the others)
        data.Add("dcgan", 3, 32);   // the pytorch/examples pyramid: ConvTranspose from (nz,1,1)
        data.Add("gan", 3, 32);
        data.Add("cgan", 3, 32);    // z and the class joined, then reshaped to (nz + C, 1, 1)
        data.Add("infogan", 1, 32); // z and the codes joined
        return data;
    }

    /// <summary>The generator of <paramref name="name"/> in eval mode, its BatchNorm statistics moved off (0, 1) by training-mode passes.</summary>
    static (Module Generator, GanModel Model) Trained(string name, int channels, int size)
    {
        var model = ModelZoo.Create(name, new ModelSpec(channels, size));
        var g = model.Generator;
        var rng = new Generator(7);
        using (GradMode.NoGrad())
            for (int i = 0; i < 5; i++)
            {
                var l = model.SampleLatents(32, rng);
                model.Generate(l with { Z = l.Z * 1.5f + 0.3f }, g);
            }
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
        var bytes = model.GeneratorToOnnx(g);
        bool flat = model.Classes > 0 || model.Codes != null;   // z joined to other inputs is taken flat, (batch, nz)

        foreach (int batch in new[] { 1, 17 })
        {
            var latents = model.SampleLatents(batch, new Generator((ulong)batch));
            Tensor expected;
            using (GradMode.NoGrad()) expected = model.Generate(latents, g);
            var actual = Run(bytes, latents, flat);
            Assert.Equal<int>([batch, channels, size, size], actual.Shape);
            double diff = MaxAbsDifference(expected, actual);
            string inputs = "z" + (latents.Codes != null ? ", code" : "") + (latents.Classes != null ? ", class" : "");
            output.WriteLine($"| {name} | {channels}x{size}x{size} | {inputs} | {batch} | {diff:E2} |");
            Assert.True(diff <= Tolerance, $"{name} {channels}x{size}x{size} batch {batch}: max |ONNX Runtime - GanForge| = {diff:E3}");
        }
    }

    [Theory]
    [InlineData("cgan", "z:batch,100 class:batch", 1)]          // class: int64 indices
    [InlineData("acgan", "z:batch,100 class:batch", 1)]
    [InlineData("infogan", "z:batch,100 code:batch,12", 0)]
    public void ExportOnnx_LabelledGenerator_DeclaresItsInputsByName(string name, string expected, int int64Inputs)
    {
        var model = ModelZoo.Create(name, new ModelSpec(1, 28));
        var proto = Proto.ModelProto.Parser.ParseFrom(model.GeneratorToOnnx());
        Assert.Equal(expected, string.Join(" ", proto.Graph.Input.Select(i => i.Name + ":" + string.Join(",", i.Type.TensorType.Shape.Dim.Select(Describe)))));
        Assert.Equal(int64Inputs, proto.Graph.Input.Count(i => i.Type.TensorType.ElemType == (int)Proto.TensorProto.Types.DataType.Int64));
        Assert.Equal("image", Assert.Single(proto.Graph.Output).Name);
    }

    [Fact]
    public void ExportOnnx_TransGan_IsAClearError()
    {
        var model = ModelZoo.Create("transgan", new ModelSpec(1, 16));
        var e = Assert.Throws<NotSupportedException>(() => model.GeneratorToOnnx());
        Assert.Equal("ExportOnnx: the module (TransGenerator) cannot be exported to ONNX", e.Message);
    }

    [Fact]
    public void ExportOnnx_StyleGanWithTruncation_MatchesGanForge()
    {
        var (g, model) = Trained("stylegan", 1, 16);
        ((StyleGenerator)g).Truncation = 0.6f;
        var bytes = model.GeneratorToOnnx(g);
        var latents = model.SampleLatents(9, new Generator(4));
        Tensor expected;
        using (GradMode.NoGrad()) expected = model.Generate(latents, g);
        double diff = MaxAbsDifference(expected, Run(bytes, latents, false));
        output.WriteLine($"stylegan ψ 0.6: max |ONNX Runtime - GanForge| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"stylegan ψ 0.6: {diff:E3}");
        Assert.Contains(((StyleGenerator)g).Mapping.WAvg.ToArray(), v => v != 0f);   // the truncation had a centre to pull to
    }

    [Theory]
    [InlineData(1, 0.4f)]   // fading 8 pixels in: both toRGBs, the old one upsampled
    [InlineData(2, 0.7f)]
    [InlineData(2, 1f)]     // the top level, stable
    public void ExportOnnx_ProGanAtALevel_MatchesGanForge(int level, float alpha)
    {
        var model = ModelZoo.Create("progan", new ModelSpec(1, 16));
        var g = (ProGenerator)model.Generator;
        g.SetProgress(level, alpha);
        g.Eval();
        var bytes = model.GeneratorToOnnx(g);
        foreach (int batch in new[] { 1, 9 })
        {
            var latents = model.SampleLatents(batch, new Generator((ulong)batch));
            Tensor expected;
            using (GradMode.NoGrad()) expected = model.Generate(latents, g);
            double diff = MaxAbsDifference(expected, Run(bytes, latents, false));
            output.WriteLine($"progan level {level}, α {alpha}, batch {batch}: {diff:E2}");
            Assert.True(diff <= Tolerance, $"progan level {level} α {alpha}: {diff:E3}");
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
