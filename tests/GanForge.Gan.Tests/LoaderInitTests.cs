using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

/// <summary>
/// Loaders build a checkpoint's model without drawing its random initial weights (<see cref="Init.SkippingRandom"/>,
/// <c>Checkpoint.CreateModelToLoad</c>) and then load the networks they use. That is only sound where a network's
/// state dict is the whole of what its outputs depend on: checked for every model of the zoo, on the networks the
/// loaders load (every generator).
/// </summary>
public class LoaderInitTests
{
    public static IEnumerable<object[]> Models => ModelZoo.All.Select(v => new object[] { v.Name });

    [Theory, MemberData(nameof(Models))]
    public void BuiltWithoutRandomInit_ThenLoaded_GeneratesAsTheInitialisedNetwork(string name)
    {
        var variant = ModelZoo.Get(name);
        int size = new[] { 32, 28, 16, 64 }.First(variant.SupportsImageSize);
        var spec = new ModelSpec(1, size, 16, 3, ModelOptions.Resolve(name, variant.Options, null));
        var initialised = ModelZoo.Create(name, spec);
        GanModel skipped;
        using (Init.SkippingRandom()) skipped = ModelZoo.Create(name, spec);
        Assert.False(Init.SkipsRandom);

        string[] loaded = variant is CycleGan ? [GanModel.GeneratorName, CycleGan.GeneratorBaName] : [GanModel.GeneratorName];
        foreach (var network in loaded)
        {
            var (a, b) = (initialised[network], skipped[network]);
            // The skip took: some weight was left undrawn.
            Assert.Contains(a.StateDict(), kv => !kv.Value.ToArray().SequenceEqual(b.StateDict()[kv.Key].ToArray()));
            b.LoadStateDict(a.StateDict());
            a.Eval();
            b.Eval();
            using var _ = GradMode.NoGrad();
            if (variant is ImageToImageVariant i2i)
            {
                int channels = network == GanModel.GeneratorName ? ImageToImageVariant.InputChannelsOf(spec) : spec.Channels;
                int side = network == GanModel.GeneratorName ? i2i.InputSize(spec.Options, size) : size;
                var x = Tensor.Uniform([2, channels, side, side], -1f, 1f, new Generator(9));
                Assert.Equal(a.Forward(x).ToArray(), b.Forward(x).ToArray());
            }
            else
            {
                var latents = initialised.SampleLatents(2, new Generator(9), initialised.BalancedClasses(2));
                Assert.Equal(initialised.Generate(latents, a).ToArray(), skipped.Generate(latents, b).ToArray());
            }
        }
    }
}
