using GanForge.Gan.Training;
using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

/// <summary>
/// `import --torch` against a generator trained in PyTorch (tools/fixtures/torch_import.py): pytorch/examples' DCGAN
/// layout (main.N names) at 32 x 32 x 3, nz 16, ngf 8, saved as a state_dict in safetensors.
/// </summary>
public sealed class TorchImportTests : IDisposable
{
    readonly string _dir = TestRuns.NewDir();
    static string FixtureFile => Path.Combine(Fixtures.Root, "gan", "torch_dcgan32_generator.safetensors");

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    TrainConfig Config(string name = "imported", int latent = 16, int width = 8)
    {
        var c = new TrainConfig { Model = "dcgan", ImageSize = 32, Channels = 3, LatentDim = latent, Out = Path.Combine(_dir, name) };
        c.Set($"width={width}");
        return c;
    }

    [Fact]
    public void Import_PyTorchDcgan_SamplesTheImagesPyTorchGaveForTheSameLatents()
    {
        var io = Fixtures.Load("gan", "torch_dcgan32_io");
        var result = TorchImport.Import(FixtureFile, Config());
        Assert.Equal("main.", result.Match.Prefix);
        Assert.Equal(19, result.Match.Tensors.Count);
        Assert.Equal(0, result.Match.Ignored);

        var sampler = Sampler.Load(Path.Combine(_dir, "imported"));
        Assert.False(sampler.UsesEma);
        Assert.Equal(Path.GetFullPath(FixtureFile), sampler.State.ImportedFrom);
        var images = sampler.FromLatents(io["latents"]);
        Fixtures.AssertClose(io["images"], images, 0, 1e-4, "imported generator vs PyTorch, eval mode");
        Assert.True(io["images"].ToArray().Select(Math.Abs).Max() > 0.2, "the fixture's images are not near zero, so the comparison means something");
    }

    [Fact]
    public void Import_WrongWidthAndLatentSize_ListsEveryMisShapedTensorInOneLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchImport.Import(FixtureFile, Config(latent: 100, width: 16)));
        Assert.StartsWith($"{FixtureFile} does not fit dcgan's generator of 3x32x32 images from latents of 100", e.Message);
        Assert.Contains("under the prefix 'main.'", e.Message);
        Assert.Contains("shape differs 16: main.0.weight is (16,32,4,4), the model's (100,64,4,4), main.1.weight is (32), the model's (64)", e.Message);
        Assert.Contains("main.9.weight is (8,3,4,4), the model's (16,3,4,4)", e.Message);
        Assert.DoesNotContain("missing", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "imported")));
    }

    [Fact]
    public void Import_MissingAndUnexpectedNames_ListsEachWithItsShape()
    {
        var (tensors, meta) = SafeTensors.Read(FixtureFile);
        tensors.Remove("main.3.weight");
        tensors.Remove("main.4.running_var");
        tensors["main.99.weight"] = Tensor.Zeros(2);
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "edited.safetensors");
        SafeTensors.Save(file, tensors, meta, ModuleSerialization.Int64Names(tensors.Keys));
        var e = Assert.Throws<InvalidDataException>(() => TorchImport.Import(file, Config()));
        Assert.Contains(": missing 2: 3.weight (32,16,4,4), 4.running_var (16); unexpected 1: main.99.weight (2) (set the shape with", e.Message);
    }

    [Fact]
    public void Import_FileHoldingGeneratorAndDiscriminator_TakesTheGeneratorsPrefix()
    {
        var (tensors, meta) = SafeTensors.Read(FixtureFile);
        var both = tensors.ToDictionary(kv => "netG." + kv.Key, kv => kv.Value);
        both["netD.main.0.weight"] = Tensor.Zeros(8, 3, 4, 4);
        both["netD.main.2.weight"] = Tensor.Zeros(1, 8, 4, 4);
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "both.safetensors");
        SafeTensors.Save(file, both, meta, ModuleSerialization.Int64Names(both.Keys));
        var result = TorchImport.Import(file, Config());
        Assert.Equal(("netG.main.", 2), (result.Match.Prefix, result.Match.Ignored));
    }

    [Fact]
    public void Resume_ImportedCheckpoint_IsRefusedSayingWhy()
    {
        TorchImport.Import(FixtureFile, Config());
        var saved = Checkpoint.Read(Path.Combine(_dir, "imported")).State.Config;
        var e = Assert.Throws<InvalidDataException>(() => TrainingSetup.Create(saved, resume: true));
        Assert.Contains("holds a generator imported from", e.Message);
        Assert.Contains("not resumed", e.Message);
    }

    [Fact]
    public void Import_IntoAFolderHoldingARun_IsRefused()
    {
        TorchImport.Import(FixtureFile, Config());
        var e = Assert.Throws<IOException>(() => TorchImport.Import(FixtureFile, Config()));
        Assert.Contains("already holds a run", e.Message);
    }
}
