using GanForge.Gan.Losses;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

/// <summary>
/// The labelled games' loss terms and the projection discriminator against PyTorch 1.13
/// (tools/fixtures/gan_conditional.py), and the conditional networks' contracts.
/// </summary>
/// <remarks>PyTorch computes in float64 from the same float32 inputs; we compute in float32: rtol 1e-4, atol 1e-5.</remarks>
public class ConditionalParityTests
{
    const double Rtol = 1e-4, Atol = 1e-5;
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("gan", "conditional");

    static Tensor Leaf(string key) => Fx[key].Clone().RequiresGrad_();

    [Fact]
    public void AuxiliaryClassLoss_FixtureLogits_MatchPyTorch()
    {
        var (real, fake) = (Leaf("acgan.real_head"), Leaf("acgan.fake_head"));
        var labels = Fx["acgan.real_y"].ToArray().Select(v => (int)v).ToArray();
        var latents = new Latents(new Tensor(8, 4), Fx["acgan.fake_y"]);
        var loss = new AuxiliaryClassLoss().Discriminator(real, new GanBatch(new Tensor(8, 1, 2, 2), labels), fake, latents, new TrainingStatistics());
        Fixtures.AssertClose(Fx["acgan.d"], loss.Reshape(1), Rtol, Atol, "acgan D");
        var grads = Autograd.Grad([loss], [real, fake]);
        Fixtures.AssertClose(Fx["acgan.d.dreal"], grads[0]!, Rtol, Atol, "acgan D d/dreal");
        Fixtures.AssertClose(Fx["acgan.d.dfake"], grads[1]!, Rtol, Atol, "acgan D d/dfake");

        var fakeG = Leaf("acgan.fake_head");
        var g = new AuxiliaryClassLoss().Generator(fakeG, latents);
        Fixtures.AssertClose(Fx["acgan.g"], g.Reshape(1), Rtol, Atol, "acgan G");
        Fixtures.AssertClose(Fx["acgan.g.dfake"], Autograd.Grad(g, fakeG), Rtol, Atol, "acgan G d/dfake");
    }

    [Fact]
    public void MutualInformationLoss_FixtureHead_MatchesPyTorch()
    {
        var head = Leaf("info.head");
        var loss = new MutualInformationLoss(new LatentCodes(10, 2), 1f, 0.1f).Bound(head, Fx["info.codes"]);
        Fixtures.AssertClose(Fx["info.loss"], loss.Reshape(1), Rtol, Atol, "info");
        Fixtures.AssertClose(Fx["info.dhead"], Autograd.Grad(loss, head), Rtol, Atol, "info d/dhead");
    }

    [Fact]
    public void SemiSupervisedLosses_FixtureLogits_MatchPyTorch()
    {
        var (real, fake) = (Leaf("sgan.real"), Leaf("sgan.fake"));
        var unsup = SemiSupervisedLoss.Unsupervised(real, fake);
        Fixtures.AssertClose(Fx["sgan.unsup"], unsup.Reshape(1), Rtol, Atol, "sgan unsup");
        var grads = Autograd.Grad([unsup], [real, fake]);
        Fixtures.AssertClose(Fx["sgan.unsup.dreal"], grads[0]!, Rtol, Atol, "sgan unsup d/dreal");
        Fixtures.AssertClose(Fx["sgan.unsup.dfake"], grads[1]!, Rtol, Atol, "sgan unsup d/dfake");

        var labelled = Leaf("sgan.labelled");
        var sup = SemiSupervisedLoss.Supervised(labelled, Fx["sgan.y"]);
        Fixtures.AssertClose(Fx["sgan.sup"], sup.Reshape(1), Rtol, Atol, "sgan sup");
        Fixtures.AssertClose(Fx["sgan.sup.dlabelled"], Autograd.Grad(sup, labelled), Rtol, Atol, "sgan sup d/dlabelled");

        var fakeG = Leaf("sgan.fake");
        var g = SemiSupervisedLoss.Generator(fakeG);
        Fixtures.AssertClose(Fx["sgan.g"], g.Reshape(1), Rtol, Atol, "sgan G");
        Fixtures.AssertClose(Fx["sgan.g.dfake"], Autograd.Grad(g, fakeG), Rtol, Atol, "sgan G d/dfake");

        var features = Leaf("sgan.fm_fake");
        var fm = SemiSupervisedLoss.FeatureMatching(Fx["sgan.fm_real"], features);
        Fixtures.AssertClose(Fx["sgan.fm"], fm.Reshape(1), Rtol, Atol, "feature matching");
        Fixtures.AssertClose(Fx["sgan.fm.dfake"], Autograd.Grad(fm, features), Rtol, Atol, "feature matching d/dfake");
    }

    [Fact]
    public void ProjectionDiscriminator_FixtureWeights_MatchPyTorch()
    {
        var rng = new Generator(1);
        var d = new ProjectionDiscriminator(new Sequential(new Flatten(), new Linear(4, 6, generator: rng), new LeakyReLU(0.2f)), 6, 3, rng);
        foreach (var (name, p) in d.NamedParameters()) p.CopyFrom(Fx["proj." + name]);
        var x = Leaf("proj.x");
        var output = d.Forward(x, Fx["proj.y"]);
        Fixtures.AssertClose(Fx["proj.out"], output, Rtol, Atol, "projection D(x, y)");
        var parameters = d.NamedParameters().ToList();
        var grads = Autograd.Grad([output.Sum()], [x, .. parameters.Select(p => p.Value)]);
        Fixtures.AssertClose(Fx["proj.dx"], grads[0]!, Rtol, Atol, "projection d/dx");
        for (int i = 0; i < parameters.Count; i++)
            Fixtures.AssertClose(Fx["proj.d" + parameters[i].Key], grads[i + 1]!, Rtol, Atol, "projection d/d" + parameters[i].Key);
    }

    [Fact]
    public void ConditionalGenerator_Forward_EqualsBodyOnNoiseJoinedToOneHot()
    {
        var rng = new Generator(2);
        var body = new Linear(4 + 3, 5, generator: rng);
        var g = new ConditionalGenerator(body, 3, [7]);
        var z = Tensor.Randn([2, 4], rng);
        var classes = Tensor.FromArray([2f, 0f], [2]);
        var joined = Tensor.Cat([z, Tensor.FromArray([0f, 0, 1, 1, 0, 0], [2, 3])], 1);
        Fixtures.AssertClose(body.Forward(joined), g.Forward(z, classes), 1e-6, 1e-6, "G(z, y)");
    }

    [Fact]
    public void ConcatDiscriminator_Forward_EqualsBodyOnClassPlanesBesideTheImage()
    {
        var rng = new Generator(3);
        var body = new Sequential(new Flatten(), new Linear((1 + 2) * 2 * 2, 1, generator: rng));
        var d = new ConcatDiscriminator(body, 2);
        var x = Tensor.Randn([1, 1, 2, 2], rng);
        var planes = Tensor.FromArray([0f, 0, 0, 0, 1, 1, 1, 1], [1, 2, 2, 2]);   // class 1
        Fixtures.AssertClose(body.Forward(Tensor.Cat([x, planes], 1)), d.Forward(x, Tensor.FromArray([1f], [1])), 1e-6, 1e-6, "D(x, y)");
    }

    [Theory]
    [InlineData(3f, "class 3 of sample 1 is not an integer in [0, 3)")]
    [InlineData(-1f, "class -1 of sample 1 is not an integer in [0, 3)")]
    [InlineData(1.5f, "class 1.5 of sample 1 is not an integer in [0, 3)")]
    public void ConditionalModule_ClassOutOfRange_ErrorNamesTheSample(float bad, string expected)
    {
        var g = new ConditionalGenerator(new Linear(4 + 3, 5), 3, [7]);
        var e = Assert.Throws<ArgumentException>(() => g.Forward(new Tensor(2, 4), Tensor.FromArray([0f, bad], [2])));
        Assert.Contains(expected, e.Message);
        Assert.Contains("ConditionalGenerator", e.Message);
    }

    [Fact]
    public void ConditionalModule_ForwardWithoutClasses_SaysItIsConditional()
    {
        var e = Assert.Throws<ArgumentException>(() => new ConditionalGenerator(new Linear(7, 5), 3, [7]).Forward(new Tensor(2, 4)));
        Assert.Contains("class-conditional", e.Message);
    }
}
