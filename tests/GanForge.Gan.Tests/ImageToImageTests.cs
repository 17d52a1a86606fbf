using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Gan.Tests;

/// <summary>The image-to-image variants' networks, settings, pool, schedule and resumes.</summary>
public class ImageToImageTests
{
    static ModelSpec Spec(string model, int channels, int size, params string[] options) =>
        new(channels, size, 16, Options: ModelOptions.Resolve(model, ModelZoo.Get(model).Options,
            options.Select(o => o.Split('=')).Where(kv => ModelZoo.Get(model).Options.Any(d => d.Key == kv[0])).ToDictionary(kv => kv[0], kv => kv[1])));

    [Theory]
    [InlineData(28, 2)]    // 28 -> 14 -> 7
    [InlineData(32, 5)]    // down to 1x1
    [InlineData(256, 8)]   // the paper's 8 levels
    [InlineData(1024, 8)]  // at most 8
    public void UNet_Depth_HalvesWhileTheSideStaysEven(int size, int depth) => Assert.Equal(depth, UNet.Depth(size));

    [Theory]
    [InlineData("pix2pix", 1, 3, 28, 28, 1)]      // edges (gray) to RGB: input and output channels differ
    [InlineData("pix2pix", 3, 3, 32, 32, 1)]
    [InlineData("pix2pix", 1, 1, 64, 64, 2)]
    [InlineData("srgan", 1, 1, 28, 7, 1)]         // x4 (the default scale)
    [InlineData("cyclegan", 3, 1, 28, 28, 1)]
    [InlineData("cyclegan", 1, 1, 32, 32, 1)]
    public void Generator_MapsItsInputToAnImageOfTheOutputsShape(string name, int inChannels, int outChannels, int size, int inSize, int expectedPatchLayers)
    {
        var model = ModelZoo.Create(name, Spec(name, outChannels, size, $"input-channels={inChannels}", "ngf=8", "ndf=8", "width=8", "blocks=1", "d-width=8"));
        using var _ = GradMode.NoGrad();
        var x = Tensor.Randn([2, inChannels, inSize, inSize], new Generator(1));
        var y = model.Generator.Forward(x);
        Assert.Equal([2, outChannels, size, size], y.Shape);
        Assert.All(y.ToArray(), v => Assert.InRange(v, -1f, 1f));   // tanh
        var dIn = name == "pix2pix" ? Tensor.Cat([Tensor.Randn([2, inChannels, size, size], new Generator(2)), y], 1) : y;
        var d = model.Discriminator.Forward(dIn);
        Assert.Equal(2, d.Size(0));
        if (name != "srgan") Assert.Equal(1, d.Size(1));   // PatchGAN: one logit per patch
        Assert.Equal(expectedPatchLayers, PatchGan.LayersFor(size));
        if (name == "cyclegan")
            Assert.Equal([2, inChannels, size, size], model[CycleGan.GeneratorBaName].Forward(y).Shape);
    }

    sealed class FixedBatch(GanBatch batch) : IBatchSource
    {
        public int BatchesPerEpoch => 1;
        public (int Epoch, int Batch) Position => (0, 0);
        public GanBatch Next() => batch;
        public void Seek(int epoch, int b) { }
    }

    [Fact]
    public void CycleGeneratorPhase_BatchedPasses_MatchSixSeparateOnes()
    {
        // Both generators treat samples apart (instance norm), so the phase runs G over (a, b), F over (b, a, G(a)) and
        // G over F(b): its loss and every generator weight's gradient must be those of the six separate passes.
        var model = ModelZoo.Create("cyclegan", Spec("cyclegan", 3, 16, "ngf=4", "ndf=4", "blocks=1"));
        Module g = model.Generator, f = model[CycleGan.GeneratorBaName], dB = model.Discriminator, dA = model[CycleGan.DiscriminatorAName];
        Assert.True(g.IsSampleWise() && f.IsSampleWise() && dB.IsSampleWise(), "the networks are sample-wise, so the batched path runs");
        var rng = new Generator(8);
        var (a, b) = (Tensor.Rand([3, 3, 16, 16], rng) * 2f - 1f, Tensor.Rand([3, 3, 16, 16], rng) * 2f - 1f);
        var loss = GanLoss.FromName("least-squares");
        var phase = new CycleGeneratorPhase(new CycleState(new ImagePool("pool_a", 0), new ImagePool("pool_b", 0)), 10f, 5f, 2f);
        var game = new Game { Model = model, Loss = loss, Optimizers = [], Phases = [phase] };
        var ctx = new StepContext { Game = game, Data = new FixedBatch(new GanBatch(a, DomainB: b)), Noise = new Generator(1), LabelNoise = new Generator(2) };
        var generators = g.Parameters().Concat(f.Parameters()).ToList();

        var batched = phase.Loss(ctx);
        batched.Backward();
        var batchedGrads = generators.Select(p => p.Grad!.ToArray()).ToList();
        foreach (var p in model.Networks.SelectMany(n => n.Value.Parameters())) p.Grad = null;

        var (fakeB, fakeA) = (g.Forward(a), f.Forward(b));
        var separate = 2f * (loss.Generator(dB.Forward(fakeB)) + loss.Generator(dA.Forward(fakeA)))
                       + 10f * ((f.Forward(fakeB) - a).Abs().Mean() + (g.Forward(fakeA) - b).Abs().Mean())
                       + 5f * ((g.Forward(b) - b).Abs().Mean() + (f.Forward(a) - a).Abs().Mean());
        separate.Backward();
        Assert.Equal(separate.Item(), batched.Item(), 1e-5 * Math.Abs(separate.Item()));
        for (int i = 0; i < generators.Count; i++)
        {
            var (expected, actual) = (generators[i].Grad!.ToArray(), batchedGrads[i]);
            double scale = expected.Max(v => Math.Abs((double)v)) + 1e-6;
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-4 * scale, $"parameter {i}, element {k}: {actual[k]} against {expected[k]}");
        }
    }

    [Fact]
    public void PatchGan_70x70Setting_GivesThePapers30x30PatchesFor256()
    {
        var d = PatchGan.Create(6, 8, 3, instanceNorm: false, new Generator(1));
        using var _ = GradMode.NoGrad();
        d.Eval();
        Assert.Equal([1, 1, 30, 30], d.Forward(Tensor.Zeros([1, 6, 256, 256])).Shape);
    }

    [Fact]
    public void ImagePool_FillsThenSwapsHalfTheTime_AndRoundTripsItsState()
    {
        var pool = new ImagePool("pool_b", 4);
        var rng = new Generator(3);
        Tensor Batch(float v) => Tensor.Full([2, 1, 2, 2], v);
        Assert.Equal(Batch(1).ToArray(), pool.Query(Batch(1), rng).ToArray());   // filling: the new images are shown
        Assert.Equal(Batch(2).ToArray(), pool.Query(Batch(2), rng).ToArray());
        Assert.Equal(4, pool.Count);
        var shown = new List<float>();
        for (int i = 0; i < 50; i++) shown.AddRange(pool.Query(Batch(10 + i), rng).ToArray().Where((_, k) => k % 4 == 0));
        int old = shown.Where((v, k) => v != 10 + k / 2).Count();
        Assert.InRange(old, 30, 70);   // about half of the 100 shown are earlier images

        var copy = new ImagePool("pool_b", 4);
        copy.LoadStateDict(pool.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value));
        var (r1, r2) = (new Generator(9), new Generator(9));
        Assert.Equal(pool.Query(Batch(99), r1).ToArray(), copy.Query(Batch(99), r2).ToArray());
        Assert.Empty(new ImagePool("p", 4).StateDict());
    }

    [Fact]
    public void LinearDecay_ConstantForTheFirstHalf_ThenFallsToNearZero()
    {
        Assert.Equal(1.0, CycleGan.LinearDecay(0, 100), 1e-12);
        Assert.Equal(1.0, CycleGan.LinearDecay(49, 100), 1e-12);
        Assert.Equal(1.0, CycleGan.LinearDecay(50, 100), 1e-12);
        Assert.Equal(1 - 25 / 51.0, CycleGan.LinearDecay(75, 100), 1e-12);
        Assert.Equal(2 / 51.0, CycleGan.LinearDecay(99, 100), 1e-12);
        Assert.Equal(1 / 51.0, CycleGan.LinearDecay(100, 100), 1e-12);
    }

    [Theory]
    [InlineData("pix2pix", "", "pix2pix: needs paired data; give --pairs KIND: edges[:T]")]
    [InlineData("unet-l1", "", "unet-l1: needs paired data; give --pairs KIND")]
    [InlineData("cyclegan", "", "cyclegan: needs two domains; give --domain-a SPEC and --domain-b SPEC")]
    [InlineData("cyclegan", "pairs=edges", "cyclegan: trains on two unpaired domains (--domain-a, --domain-b), not on --pairs or --scale")]
    [InlineData("dcgan", "pairs=edges", "dcgan: --pairs, --domain-a, --domain-b and --scale are for the image-to-image models")]
    [InlineData("pix2pix", "pairs=edges;scale=2", "pix2pix: --scale is for the super-resolution models (srresnet, srgan)")]
    [InlineData("srgan", "pairs=downscale:2;scale=4", "srgan: --scale 4 but --pairs downscale:2; give one of them")]
    [InlineData("pix2pix", "pairs=edges;eval-every=100", "pix2pix: --eval-every scores samples generated from noise; score an image-to-image model with `ganforge translate --target B --labels L` instead")]
    [InlineData("srresnet", "pretrain-ae=1", "srresnet: --pretrain-ae pre-trains a generator from z")]
    public void Resolve_ImageToImageDataMissingOrMisplaced_SaysWhatToGive(string model, string settings, string message)
    {
        var c = new TrainConfig { Model = model };
        foreach (var s in settings.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (k, v) = (s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..]);
            switch (k)
            {
                case "pairs": c.Pairs = v; break;
                case "scale": c.Scale = int.Parse(v); break;
                case "eval-every": c.EvalEvery = int.Parse(v); break;
                default: c.PretrainAe = int.Parse(v); break;
            }
        }
        var e = Assert.Throws<ArgumentException>(() => c.Resolve());
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(0, null, 4, "downscale:4")]               // the default scale
    [InlineData(2, null, 2, "downscale:2")]               // --scale makes the pairs
    [InlineData(0, "downscale:8", 8, "downscale:8")]      // the pairs give the scale
    public void Resolve_SuperResolution_ScaleAndPairsAgree(int scale, string? pairs, int resolvedScale, string resolvedPairs)
    {
        var r = new TrainConfig { Model = "srgan", Scale = scale, Pairs = pairs }.Resolve();
        Assert.Equal(resolvedScale, r.Scale);
        Assert.Equal(resolvedPairs, r.Pairs);
        Assert.Equal(resolvedScale.ToString(), r.ModelOptions["scale"]);
        Assert.Equal(0f, r.Ema);   // the image-to-image games keep no EMA
        Assert.Equal(r.ToYaml(), r.Resolve().ToYaml());   // resolving is idempotent (resume compares resolved settings)
    }

    [Theory]
    [InlineData("pix2pix", "pairs=edges;ngf=8;ndf=8")]                                                        // the dropout stream
    [InlineData("srgan", "scale=2;blocks=1;width=8;d-width=8;content=mse")]
    [InlineData("cyclegan", "domain-a=embedded:class=7;domain-b=embedded:class=9;ngf=4;ndf=4;blocks=1;pool=3")] // the pools, the decay
    public void Resume_ImageToImageGames_GiveTheSameWeightsAsAnUninterruptedRun(string model, string settings)
    {
        string straight = TestRuns.NewDir(), split = TestRuns.NewDir();
        // 6 batches of 8 a epoch; the split run stops after 2 epochs by --max-steps, so the planned length (the LR decay's) is the same.
        TrainConfig Config(string dir, int maxSteps)
        {
            var c = new TrainConfig { Model = model, Data = "embedded", Limit = 48, BatchSize = 8, Epochs = 4, MaxSteps = maxSteps, Out = dir, LogEvery = 2, Seed = 3 };
            foreach (var s in settings.Split(';'))
            {
                var (k, v) = (s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..]);
                switch (k)
                {
                    case "pairs": c.Pairs = v; break;
                    case "scale": c.Scale = int.Parse(v); break;
                    case "domain-a": c.DomainA = v; break;
                    case "domain-b": c.DomainB = v; break;
                    default: c.Set(s); break;
                }
            }
            return c;
        }
        try
        {
            TrainingSetup.Create(Config(straight, 0), resume: false).Run();
            TrainingSetup.Create(Config(split, 12), resume: false).Run();
            var (_, half) = Checkpoint.Read(split);
            TrainingSetup.Create(Config(split, 0), resume: true).Run();
            var a = TestRuns.AssertSameCheckpoint(straight, split);
            var (_, state) = Checkpoint.Read(split);
            Assert.Empty(state.EmaNetworks);
            Assert.True(half.DataEpoch == 2 && half.DataBatch == 0, $"saved at data position {half.DataEpoch}/{half.DataBatch}");
            if (model == "pix2pix") Assert.Contains("dropout_rng.state", a.Keys);
            if (model == "cyclegan")
            {
                Assert.Equal(["generator", "generator_ba", "discriminator", "discriminator_a"], state.Networks);
                Assert.Equal([3, 1, 28, 28], a["pool_a.images"].Shape);
                Assert.Contains("pool_b.images", a.Keys);
            }
        }
        finally { Directory.Delete(straight, true); Directory.Delete(split, true); }
    }
}
