using System.Text.Json;
using GanForge.Gan.Zoo;

namespace GanForge.Gan.Tests;

public class ZooTests
{
    [Fact]
    public void Dcgan28Generator_StateDict_HasPyTorchNamesAndShapes()
    {
        // tools/fixtures/gan.py writes what PyTorch's nn.Sequential of the dcgan28 workload holds.
        var path = Path.Combine(Fixtures.Root, "gan", "dcgan28_generator_state.json");
        var expected = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()
            .Select(e => (e.GetProperty("name").GetString()!, string.Join(",", e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()))))
            .ToList();
        var ours = ModelZoo.Create("dcgan", new ModelSpec(1, 28)).Generator.StateDict()
            .Select(kv => (kv.Key, string.Join(",", kv.Value.Shape))).ToList();
        Assert.Equal(expected, ours);
    }

    [Theory]
    [InlineData("gan", 1, 28)]
    [InlineData("dcgan", 1, 28)]
    [InlineData("dcgan", 3, 32)]
    [InlineData("dcgan", 1, 64)]
    public void Models_MapLatentsToImagesAndImagesToOneLogit(string name, int channels, int size)
    {
        var model = ModelZoo.Create(name, new ModelSpec(channels, size, Width: 8));
        using var _ = GradMode.NoGrad();
        var images = model.Generator.Forward(model.SampleLatent(3, new Generator(1)));
        Assert.Equal([3, channels, size, size], images.Shape);
        Assert.All(images.ToArray(), v => Assert.InRange(v, -1f, 1f));
        Assert.Equal([3, 1], model.Discriminator.Forward(images).Shape);
        Assert.Equal([3, .. model.LatentShape], model.CreateEncoder().Forward(images).Shape);
    }

    [Fact]
    public void Dcgan_Initialisation_IsNormalWithStd002()
    {
        var g = ModelZoo.Create("dcgan", new ModelSpec(1, 28)).Generator;
        var w = g.StateDict()["0.weight"].ToArray();
        double mean = w.Average(), std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(std, 0.0195, 0.0205);
    }

    [Fact]
    public void Create_UnsupportedSize_SaysWhichSizesWork()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("dcgan", new ModelSpec(1, 48)));
        Assert.Contains("28, 32 or 64", e.Message);
    }

    [Fact]
    public void InterpolateLatents_StartsAndEndsAtThePoints_AndSlerpKeepsTheNorm()
    {
        var points = Tensor.Randn([2, 100], new Generator(2));
        var path = Sampler.InterpolateLatents(points, 8);
        Assert.Equal([9, 100], path.Shape);
        Assert.Equal(points.ToArray()[..100], path.ToArray()[..100]);
        Assert.Equal(points.ToArray()[100..], path.ToArray()[800..]);
        double Norm(int row) => Math.Sqrt(path.ToArray()[(row * 100)..((row + 1) * 100)].Sum(v => (double)v * v));
        double n0 = Norm(0), n8 = Norm(8), mid = Norm(4);
        Assert.InRange(mid, Math.Min(n0, n8) * 0.95, Math.Max(n0, n8) * 1.05);   // a straight line would shrink to ~0.7
    }
}
