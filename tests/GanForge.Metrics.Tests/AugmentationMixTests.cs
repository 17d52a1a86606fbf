using GanForge.Metrics.Probes;

namespace GanForge.Metrics.Tests;

/// <summary>`augment --generated-share`: the mixing ratio of real and generated images in each classifier batch.</summary>
public class AugmentationMixTests
{
    // 100 real images (indices 0..99) and 1,000 generated ones (100..1099).
    const int Real = 100, Count = 1100, Batch = 64;

    [Theory]
    [InlineData(0.25, 16)]
    [InlineData(0.5, 32)]
    [InlineData(0.9, 58)]
    public void BatchIndices_WithAShare_DrawThatManyFromTheGeneratedImages(double share, int expected)
    {
        var rng = new Generator(3);
        for (int step = 0; step < 20; step++)
        {
            var picks = Augmentation.BatchIndices(rng, Batch, Count, Real, share);
            Assert.Equal(expected, picks.Count(i => i >= Real));
            Assert.All(picks, i => Assert.InRange(i, 0, Count - 1));
        }
    }

    [Fact]
    public void BatchIndices_WithoutAShare_DrawFromAllAlike()
    {
        var rng = new Generator(4);
        int generated = 0, total = 0;
        for (int step = 0; step < 200; step++)
        {
            var picks = Augmentation.BatchIndices(rng, Batch, Count, Real, 0);
            generated += picks.Count(i => i >= Real);
            total += picks.Length;
        }
        double fraction = (double)generated / total;   // 1000 / 1100 = 0.909 expected; sd over 12,800 draws ~0.0025
        Assert.InRange(fraction, 0.89, 0.93);
    }

    [Fact]
    public void BatchIndices_WithNoGeneratedImagesKept_DrawTheRealOnes()
    {
        var picks = Augmentation.BatchIndices(new Generator(5), Batch, Real, Real, 0.5);   // the filter kept none
        Assert.All(picks, i => Assert.InRange(i, 0, Real - 1));
    }
}
