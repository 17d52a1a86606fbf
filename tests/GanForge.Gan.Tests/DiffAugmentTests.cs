using GanForge.Gan.Augment;
using GanForge.Gan.Zoo;

namespace GanForge.Gan.Tests;

public class DiffAugmentTests
{
    static readonly DiffAugment All = DiffAugment.Parse("translation,cutout,color")!;

    // A 1 x 1 x 8 x 8 image whose pixel (y, x) holds 1 + 8y + x, so every value names where it came from.
    static Tensor Ramp(int n = 1, int c = 1, int size = 8)
    {
        var t = new Tensor(n, c, size, size);
        for (int i = 0; i < t.Numel; i++) t.Data[i] = 1 + i % (size * size);
        return t;
    }

    [Fact]
    public void Parse_PolicyText_KeepsTheOrderGivenAndNoneIsOff()
    {
        Assert.Equal(["translation", "cutout", "color"], All.Policy);
        Assert.Equal(["color", "translation"], DiffAugment.Parse(" Color, translation,color")!.Policy);
        Assert.Null(DiffAugment.Parse("none"));
        Assert.Null(DiffAugment.Parse(""));
        var e = Assert.Throws<ArgumentException>(() => DiffAugment.Parse("translation,flip"));
        Assert.Contains("'flip'", e.Message);
        Assert.Contains("cutout", e.Message);
    }

    [Fact]
    public void Option_DiffAugment_IsCanonicalisedAndCheckedForEveryClassicVariant()
    {
        var options = ModelOptions.Resolve("dcgan", ModelZoo.Get("dcgan").Options, new Dictionary<string, string> { ["diffaugment"] = "Color, cutout" });
        Assert.Equal("color,cutout", options.String("diffaugment"));
        Assert.Equal("none", ModelOptions.Resolve("dcgan", ModelZoo.Get("dcgan").Options, null).String("diffaugment"));
        Assert.Equal("translation,cutout,color", ModelOptions.Resolve("transgan", ModelZoo.Get("transgan").Options, null).String("diffaugment"));
        var e = Assert.Throws<ArgumentException>(() => ModelOptions.Resolve("dcgan", ModelZoo.Get("dcgan").Options, new Dictionary<string, string> { ["diffaugment"] = "blur" }));
        Assert.Contains("diffaugment", e.Message);
    }

    [Fact]
    public void Translate_ShiftsByWholePixelsAndFillsTheUncoveredBorderWithZero()
    {
        // s = round(8 / 8) = 1; u = (0.99, 0.0) -> dy = +1, dx = -1: output (y, x) shows input (y - 1, x + 1).
        var y = All.Translate(Ramp(), [0.99f, 0f]);
        var v = y.Data;
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
            {
                int fy = r - 1, fx = c + 1;
                float expected = fy is >= 0 and < 8 && fx is >= 0 and < 8 ? 1 + 8 * fy + fx : 0f;
                Assert.Equal(expected, v[r * 8 + c]);                                     // moved values are copies, exact
            }
        var still = All.Translate(Ramp(), [0.5f, 0.5f]);                                   // u = 0.5 -> no shift
        Assert.Equal(Ramp().ToArray(), still.ToArray());
    }

    [Fact]
    public void Cutout_ZeroesOneSquareOfHalfTheSideAndKeepsTheRest()
    {
        // side round(8 / 2) = 4; centre drawn from [0, 8 + 1): u = 0.5 -> 4, the square covers rows and columns 2..5.
        var y = All.Cutout(Ramp(), [0.5f, 0.5f]).Data;
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
                Assert.Equal(r is >= 2 and <= 5 && c is >= 2 and <= 5 ? 0f : 1 + 8 * r + c, y[r * 8 + c]);
        var corner = All.Cutout(Ramp(), [0f, 0f]).Data;                                 // centre (0, 0): clipped to 2 x 2
        Assert.Equal(4, corner.ToArray().Count(v => v == 0f));
    }

    [Fact]
    public void Color_OnGreyImages_ShiftsBrightnessAndScalesContrastAroundTheMean()
    {
        var x = Tensor.Uniform([2, 1, 8, 8], -1, 1, new Generator(3));
        // u = (0.5, any, 0.5): no brightness change, contrast factor 1 -> identity (saturation is a no-op on one channel).
        Fixtures.AssertClose(x, DiffAugment.Color(x, [0.5f, 0.3f, 0.5f, 0.5f, 0.9f, 0.5f]), 1e-6, 1e-6, "identity");
        // Brightness u = 0.75 adds 0.25; contrast u = 1 scales deviations from the image mean by 1.5.
        var y = DiffAugment.Color(x, [0.75f, 0f, 1f, 0.75f, 0f, 1f]);
        for (int i = 0; i < 2; i++)
        {
            var xi = x.Narrow(0, i, 1);
            var expected = (xi - xi.Mean()) * 1.5f + (xi.Mean() + 0.25f);
            Fixtures.AssertClose(expected, y.Narrow(0, i, 1), 1e-5, 1e-5, $"image {i}");
        }
    }

    [Fact]
    public void Apply_KeepsTheShapeAndIsDeterministicGivenTheGenerator()
    {
        var x = Tensor.Uniform([4, 3, 16, 16], -1, 1, new Generator(5));
        var a = All.Apply(x, new Generator(9));
        var b = All.Apply(x, new Generator(9));
        var c = All.Apply(x, new Generator(10));
        Assert.Equal(x.Shape, a.Shape);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(a.ToArray(), c.ToArray());
    }

    [Fact]
    public void Apply_Shards_GiveTheRowsOfTheWholeBatch()
    {
        var x = Tensor.Uniform([4, 1, 8, 8], -1, 1, new Generator(5));
        var whole = All.Apply(x, new Generator(9));
        var second = All.Apply(x.Narrow(0, 2, 2), new Generator(9), new Shard(1, 2));
        Assert.Equal(whole.Narrow(0, 2, 2).ToArray(), second.ToArray());
    }

    [Fact]
    public void Apply_GradientsFlowToTheImagesThroughEveryTransform()
    {
        var x = Tensor.Uniform([2, 1, 8, 8], -1, 1, new Generator(5)).RequiresGrad_();
        var y = All.Apply(x, new Generator(4));
        (y * y).Sum().Backward();
        Assert.NotNull(x.Grad);
        Assert.Contains(x.Grad!.ToArray(), g => MathF.Abs(g) > 1e-3f);

        // Translation and cutout move or drop pixels: the gradient is the upstream gradient moved back, exactly.
        var t = DiffAugment.Parse("translation,cutout")!;
        var x2 = Ramp(1).RequiresGrad_();
        var y2 = t.Apply(x2, new Generator(4));
        y2.Sum().Backward();
        float kept = y2.ToArray().Count(v => v != 0f);
        Assert.Equal(kept, x2.Grad!.ToArray().Sum(), 1e-3);                                  // each kept pixel feeds back 1
        Assert.All(x2.Grad!.ToArray(), g => Assert.True(g is 0f or 1f));
    }

    [Fact]
    public void Apply_FiniteDifferences_MatchTheGradient()
    {
        GradCheck.First("DiffAugment", xs => All.Apply(xs[0], new Generator(21)), [Tensor.Uniform([2, 3, 8, 8], -1, 1, new Generator(6))]);
    }
}
