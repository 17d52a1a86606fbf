namespace GanForge.Data.Tests;

/// <summary><c>--pairs same-class</c> (DAGAN's pairs): each image with another of its class.</summary>
public class SameClassPairsTests
{
    /// <summary>Images of 1x1 pixel whose value is their index, with the given labels.</summary>
    static TensorDataset Indexed(params int[] labels) =>
        new(labels.Select((_, i) => (byte)i).ToArray(), labels, 1, 1, 1);

    static int IndexOf(Tensor image) => (int)Math.Round(image.Data[0] * 255);

    [Fact]
    public void Get_EveryImage_IsPairedWithAnotherOfItsClassAndIsOnePairsPartner()
    {
        int[] labels = [0, 1, 0, 2, 1, 0, 2, 2, 0, 1, 1, 0];
        var pairs = new SameClassPairs(Indexed(labels), seed: 3);
        var partners = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            var (a, b, label) = pairs.Get(i);
            Assert.Equal(i, IndexOf(a));
            partners[i] = IndexOf(b);
            Assert.Equal(pairs.Partner(i), partners[i]);
            Assert.NotEqual(i, partners[i]);
            Assert.Equal(labels[i], labels[partners[i]]);
            Assert.Equal(labels[i], label);
        }
        Assert.Equal(Enumerable.Range(0, labels.Length), partners.Order());   // a permutation: each image is B once
    }

    [Fact]
    public void Constructor_Seeds_FixThePairing()
    {
        int[] labels = [.. Enumerable.Range(0, 40).Select(i => i % 2)];
        int[] Pairing(ulong seed) { var p = new SameClassPairs(Indexed(labels), seed); return [.. Enumerable.Range(0, 40).Select(p.Partner)]; }
        Assert.Equal(Pairing(5), Pairing(5));
        Assert.NotEqual(Pairing(5), Pairing(6));
    }

    [Fact]
    public void Constructor_ClassOfOneImage_IsRefusedNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => new SameClassPairs(Indexed(0, 0, 4), seed: 0));
        Assert.Equal("Pairs 'same-class': class 4 has a single image, which no other image of its class can pair with", e.Message);
    }

    [Fact]
    public void ResolvePairs_SameClass_RecordsItsSeedAndKeepsTheClasses()
    {
        var r = DataSpec.ResolvePairs("embedded", "same-class", "test", 200, DataOptions.Default);
        Assert.Equal("same-class:0", r.Kind);
        Assert.Equal(10, r.NumClasses);
        Assert.Equal(200, r.Pairs.Count);
        var images = DataSpec.Resolve("embedded", "test", 200).Dataset;
        var (a, b, label) = r.Pairs.Get(7);
        Assert.Equal(images.Get(7).Image.ToArray(), a.ToArray());
        Assert.Equal(images.Label(7), label);
        Assert.Contains(Enumerable.Range(0, 200), j => j != 7 && images.Label(j) == label && images.Get(j).Image.ToArray().SequenceEqual(b.ToArray()));
        Assert.Equal("same-class:9", DataSpec.ResolvePairs("embedded", "same-class:9", "test", 200, DataOptions.Default).Kind);
    }

    [Fact]
    public void ResolvePairs_SameClassOfAnUnlabelledFolder_IsRefused()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 3; i++)
            Formats.PngEncoder.Save(Path.Combine(dir.Path, $"{i}.png"), new ByteImage(4, 4, 1, new byte[16]));
        var e = Assert.Throws<ArgumentException>(() => DataSpec.ResolvePairs(dir.Path, "same-class", "train", 0, DataOptions.Default));
        Assert.Contains("pairs 'same-class' pair images of one class, but these images have no classes", e.Message);
    }
}
