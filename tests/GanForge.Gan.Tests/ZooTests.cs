using System.Text.Json;
using GanForge.Gan.Zoo;
using GanForge.NN;

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
        var options = name == "dcgan" ? ModelOptions.Resolve(name, ModelZoo.Get(name).Options, new Dictionary<string, string> { ["width"] = "8" }) : null;
        var model = ModelZoo.Create(name, new ModelSpec(channels, size, Options: options));
        using var _ = GradMode.NoGrad();
        var images = model.Generator.Forward(model.SampleLatent(3, new Generator(1)));
        Assert.Equal([3, channels, size, size], images.Shape);
        Assert.All(images.ToArray(), v => Assert.InRange(v, -1f, 1f));
        Assert.Equal([3, 1], model.Discriminator.Forward(images).Shape);
        Assert.Equal([3, .. model.LatentShape], model.CreateEncoder!().Forward(images).Shape);
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
        Assert.Contains("28, or a power of two from 16 to 256", e.Message);
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

    [Theory]
    [InlineData("gan", 28)]
    [InlineData("dcgan", 16)]
    [InlineData("dcgan", 32)]
    [InlineData("wgan", 28)]
    [InlineData("wgan-gp", 28)]
    [InlineData("wgan-gp", 32)]
    [InlineData("lsgan", 28)]
    [InlineData("sngan", 28)]
    [InlineData("sngan", 32)]
    [InlineData("cgan", 28)]
    [InlineData("cgan", 32)]
    [InlineData("acgan", 28)]
    [InlineData("acgan", 64)]
    [InlineData("sgan", 28)]
    [InlineData("infogan", 28)]
    [InlineData("infogan", 32)]
    public void EveryVariant_GeneratesImagesAndScoresThemOnePerImage(string name, int size)
    {
        var model = ModelZoo.Create(name, new ModelSpec(1, size, 16));
        using var _ = GradMode.NoGrad();
        var latents = model.SampleLatents(4, new Generator(1));
        var images = model.Generate(latents);
        Assert.Equal([4, 1, size, size], images.Shape);
        Assert.Equal([4, 1 + model.HeadOutputs], model.Discriminate(images, latents.Classes).Shape);
    }

    [Theory]
    [InlineData("cgan", "conditioning=concat", 10, 0, 0)]
    [InlineData("cgan", "conditioning=projection", 10, 0, 0)]
    [InlineData("acgan", "classes=5", 5, 0, 5)]
    [InlineData("sgan", "", 10, 0, 10)]
    [InlineData("infogan", "categories=4;continuous=3", 0, 7, 7)]
    public void LabelledVariant_DeclaresItsClassesCodesAndHead(string name, string options, int classes, int codeWidth, int head)
    {
        var values = options.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(o => o.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        var model = ModelZoo.Create(name, new ModelSpec(1, 28, 16, Options: ModelOptions.Resolve(name, ModelZoo.Get(name).Options, values)));
        Assert.Equal(name == "sgan" ? 0 : classes, model.Classes);   // sgan's G is unconditional; its D has the classes
        Assert.Equal(codeWidth, model.Codes?.Width ?? 0);
        Assert.Equal(head, model.HeadOutputs);
    }

    [Fact]
    public void GridLatents_ConditionalModel_OneRowPerClass()
    {
        var model = ModelZoo.Create("acgan", new ModelSpec(1, 28, 16));
        var grid = model.GridLatents(new Generator(1));
        Assert.Equal(80, grid.Count);
        Assert.Equal(Enumerable.Range(0, 80).Select(i => (float)(i / 8)), grid.Classes!.ToArray());
    }

    [Fact]
    public void SampleLatents_InfoGan_OneHotCategoryAndContinuousCodesInRange()
    {
        var model = ModelZoo.Create("infogan", new ModelSpec(1, 28, 16));
        var codes = model.SampleLatents(200, new Generator(4)).Codes!;
        for (int i = 0; i < 200; i++)
        {
            var row = codes.ToArray()[(i * 12)..((i + 1) * 12)];
            Assert.Equal(1f, row[..10].Sum());
            Assert.Equal(9, row[..10].Count(v => v == 0f));
            Assert.All(row[10..], v => Assert.InRange(v, -1f, 1f));
        }
        var categories = model.Codes!.CategoryOf(codes).ToArray();
        Assert.Equal(10, categories.Distinct().Count());   // 200 draws cover all ten values
    }

    static List<string> LayerTypes(Module m) => m.NamedModules().Select(kv => kv.Value.GetType().Name).ToList();

    [Theory]
    [InlineData("wgan-gp", "BatchNorm2d", false)]
    [InlineData("sngan", "BatchNorm2d", false)]
    [InlineData("dcgan", "BatchNorm2d", true)]
    [InlineData("wgan", "BatchNorm2d", true)]
    public void Critic_HasBatchNormOnlyWhereThePaperHasIt(string name, string layer, bool expected)
    {
        var d = ModelZoo.Create(name, new ModelSpec(1, 28, 16)).Discriminator;
        Assert.Equal(expected, LayerTypes(d).Contains(layer));
    }

    [Fact]
    public void SnGan_EveryDiscriminatorWeightIsSpectrallyNormalised()
    {
        var d = ModelZoo.Create("sngan", new ModelSpec(1, 32, 16)).Discriminator;
        var names = d.StateDict().Keys.ToList();
        Assert.DoesNotContain(names, n => n.EndsWith(".weight"));
        Assert.Equal(4, names.Count(n => n.EndsWith(".weight_orig")));   // 3 strided convs + the last 4x4 conv at 32 pixels
    }

    [Theory]
    [InlineData("gan", 28)]
    [InlineData("dcgan", 28)]
    [InlineData("dcgan", 32)]
    public void Options_MbstdAndMinibatchDiscrimination_AddTheirLayerBeforeTheLastOne(string name, int size)
    {
        ModelSpec Spec(string key, string value) =>
            new(1, size, 16, Options: ModelOptions.Resolve(name, ModelZoo.Get(name).Options, new Dictionary<string, string> { [key] = value }));
        var mbstd = ModelZoo.Create(name, Spec("mbstd", "4"));
        var mbd = ModelZoo.Create(name, Spec("minibatch-discrimination", "20"));
        Assert.Contains("MinibatchStdDev", LayerTypes(mbstd.Discriminator));
        Assert.Contains("MinibatchDiscrimination", LayerTypes(mbd.Discriminator));
        using var _ = GradMode.NoGrad();
        var x = Tensor.Uniform([8, 1, size, size], -1, 1, new Generator(2));
        Assert.Equal([8, 1], mbstd.Discriminator.Forward(x).Shape);
        Assert.Equal([8, 1], mbd.Discriminator.Forward(x).Shape);
    }

    [Fact]
    public void Options_UnknownKeyOrBadValue_SayWhatIsKnown()
    {
        var variant = ModelZoo.Get("dcgan");
        var unknown = Assert.Throws<ArgumentException>(() => ModelOptions.Resolve("dcgan", variant.Options, new Dictionary<string, string> { ["r2"] = "1" }));
        Assert.Contains("unknown option 'r2'", unknown.Message);
        Assert.Contains("r1", unknown.Message);
        var bad = Assert.Throws<ArgumentException>(() => ModelOptions.Resolve("dcgan", variant.Options, new Dictionary<string, string> { ["r1"] = "ten" }));
        Assert.Contains("'ten' is not a number", bad.Message);
        var choice = Assert.Throws<ArgumentException>(() => ModelOptions.Resolve("dcgan", variant.Options, new Dictionary<string, string> { ["d-norm"] = "group" }));
        Assert.Contains("batch, layer, none", choice.Message);
    }

    [Fact]
    public void Zoo_ListsEveryVariantOfThisIssue_WithADescription()
    {
        Assert.Equal(["gan", "dcgan", "wgan", "wgan-gp", "lsgan", "sngan", "cgan", "acgan", "sgan", "infogan", "stylegan", "progan",
                      "pix2pix", "unet-l1", "dagan", "srresnet", "srgan", "cyclegan", "transgan"], ModelZoo.Names);
        Assert.All(ModelZoo.All, v => Assert.False(string.IsNullOrWhiteSpace(v.Description)));
        Assert.Equal("wgan-gp", ModelZoo.Get("WGAN-GP").Name);
    }

    [Theory]
    [InlineData("gan", "")]
    [InlineData("dcgan", "mbstd=4")]
    [InlineData("wgan", "")]
    [InlineData("wgan-gp", "")]
    [InlineData("lsgan", "minibatch-discrimination=10")]
    [InlineData("sngan", "")]
    [InlineData("transgan", "d-width=16")]
    public void Sampler_CheckpointOfEveryVariant_LoadsWithItsOptionsAndSamples(string name, string option)
    {
        var dir = TestRuns.NewDir();
        try
        {
            var sampler = SamplerAfterOneStep(dir, config =>
            {
                config.Model = name;
                if (name != "gan") config.Set("width=8");
                if (option.Length > 0) config.Set(option);
            });
            var images = sampler.Sample(5, seed: 3);
            Assert.Equal([5, 1, 16, 16], images.Shape);
            Assert.All(images.ToArray(), v => Assert.InRange(v, -1f, 1f));
            Assert.Equal(name, sampler.State.Model);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Sampling in batches gives each batch's buffer back to the pool once copied out (GanModel.GenerateInto): the
    /// images must be those of one batch of all the samples (a buffer handed on while still read would change them).
    /// </summary>
    [Fact]
    public void Sampler_BatchesReturnedToThePool_GiveTheImagesOfOneBatch()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var sampler = SamplerAfterOneStep(dir, _ => { });
            // 64 images of 16 x 16 are 16,384 floats, the pool's smallest buffer.
            var batched = sampler.Sample(256, seed: 3, batchSize: 64).ToArray();
            var whole = sampler.Sample(256, seed: 3, batchSize: 256).ToArray();
            for (int i = 0; i < whole.Length; i++) Assert.True(Math.Abs(batched[i] - whole[i]) <= 1e-5f, $"value {i}: {batched[i]} against {whole[i]}");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    // The sampler of a run in dir trained one step at 16 x 16 on 320 images, the config set by configure first.
    static Sampler SamplerAfterOneStep(string dir, Action<GanForge.Gan.Training.TrainConfig> configure)
    {
        var config = TestRuns.Mlp(dir, limit: 320, batch: 32, epochs: 1);
        config.ImageSize = 16;
        config.MaxSteps = 1;
        configure(config);
        TrainingSetup.Create(config, resume: false).Run();
        return Sampler.Load(dir);
    }
}
