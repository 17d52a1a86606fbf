namespace GanForge.Data.Tests;

public class DataLoaderTests
{
    /// <summary>n samples of (1,2,3); sample i has label i and pixels i, i+1, ... so order and flips are visible.</summary>
    static TensorDataset Numbered(int n)
    {
        var px = new byte[n * 6];
        for (int i = 0; i < n; i++) for (int j = 0; j < 6; j++) px[i * 6 + j] = (byte)(i + j * 10);
        return new TensorDataset(px, Enumerable.Range(0, n).ToArray(), 1, 2, 3);
    }

    static List<int> Labels(IEnumerable<Batch> batches) => batches.SelectMany(b => b.Labels.ToArray().Select(v => (int)v)).ToList();

    static List<Batch> Take(DataLoader l, int count) => Enumerable.Range(0, count).Select(_ => l.Next()).ToList();

    [Fact]
    public void Next_SameSeed_SameOrder()
    {
        using var a = new DataLoader(Numbered(50), new() { BatchSize = 8, Seed = 42 });
        using var b = new DataLoader(Numbered(50), new() { BatchSize = 8, Seed = 42, Prefetch = false });
        Assert.Equal(Labels(Take(a, 20)), Labels(Take(b, 20)));
    }

    [Fact]
    public void Next_DifferentSeeds_DifferentOrder()
    {
        using var a = new DataLoader(Numbered(50), new() { BatchSize = 50, Seed = 1 });
        using var b = new DataLoader(Numbered(50), new() { BatchSize = 50, Seed = 2 });
        var la = Labels([a.Next()]); var lb = Labels([b.Next()]);
        Assert.NotEqual(la, lb);
        Assert.Equal(Enumerable.Range(0, 50), la.Order()); // still a permutation
    }

    [Fact]
    public void Epoch_EachEpoch_IsNewPermutation()
    {
        using var l = new DataLoader(Numbered(30), new() { BatchSize = 7, Seed = 3 });
        var e0 = Labels(l.Epoch());
        var e1 = Labels(l.Epoch());
        Assert.Equal(Enumerable.Range(0, 30), e0.Order());
        Assert.Equal(Enumerable.Range(0, 30), e1.Order());
        Assert.NotEqual(e0, e1);
        Assert.Equal(new DataLoaderPosition(2, 0), l.Position);
    }

    [Theory]
    [InlineData(false, 5, 2)] // 4 full batches of 7 and one of 2
    [InlineData(true, 4, 7)]
    public void Epoch_DropLast_ControlsBatchCount(bool dropLast, int batches, int lastSize)
    {
        using var l = new DataLoader(Numbered(30), new() { BatchSize = 7, DropLast = dropLast, Shuffle = false });
        var epoch = l.Epoch().ToList();
        Assert.Equal(batches, l.BatchesPerEpoch);
        Assert.Equal(batches, epoch.Count);
        Assert.Equal(lastSize, epoch[^1].Count);
        Assert.Equal([lastSize, 1, 2, 3], epoch[^1].Images.Shape);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Next_Shards_TogetherAreTheGlobalBatch(bool randomFlip)
    {
        // The random flip makes each sample depend on the draws of the samples before it in the global batch.
        ITransform[] transforms = randomFlip ? [new RandomHorizontalFlip(), new Normalize()] : [new Normalize()];
        var options = new DataLoaderOptions { BatchSize = 6, DropLast = true, Seed = 4, Transforms = transforms };
        using var whole = new DataLoader(Numbered(40), options);
        var shards = Enumerable.Range(0, 3).Select(i => new DataLoader(Numbered(40), options with { Shard = new Shard(i, 3) })).ToList();
        for (int step = 0; step < 9; step++)   // past the end of the first epoch (6 batches)
        {
            var global = whole.Next();
            var parts = shards.Select(l => l.Next()).ToList();
            Assert.All(parts, p => Assert.Equal([2, 1, 2, 3], p.Images.Shape));
            Assert.Equal(global.Images.ToArray(), parts.SelectMany(p => p.Images.ToArray()).ToArray());
            Assert.Equal(global.Labels.ToArray(), parts.SelectMany(p => p.Labels.ToArray()).ToArray());
            Assert.All(shards, l => Assert.Equal(whole.Position, l.Position));
        }
        foreach (var l in shards) l.Dispose();
    }

    [Fact]
    public void Constructor_ShardWithoutDropLastOrEvenSplit_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(Numbered(40), new() { BatchSize = 7, DropLast = true, Shard = new Shard(0, 2) }));
        Assert.Contains("divisible by 2", e.Message);
        Assert.Throws<ArgumentException>(() => new DataLoader(Numbered(40), new() { BatchSize = 8, Shard = new Shard(1, 2) }));
    }

    [Fact]
    public void Seek_SavedPosition_ContinuesAsIfNeverStopped()
    {
        var options = new DataLoaderOptions { BatchSize = 4, DropLast = true, Seed = 9, Transforms = [new RandomHorizontalFlip(), new Normalize()] };
        using var straight = new DataLoader(Numbered(22), options);
        var all = Take(straight, 17); // crosses three epoch boundaries (5 batches per epoch)

        using var first = new DataLoader(Numbered(22), options);
        Take(first, 8);
        var saved = first.Position;
        Assert.Equal(new DataLoaderPosition(1, 3), saved);

        using var resumed = new DataLoader(Numbered(22), options);
        resumed.Seek(saved);
        var rest = Take(resumed, 9);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(all[8 + i].Position, rest[i].Position);
            Assert.Equal(all[8 + i].Labels.ToArray(), rest[i].Labels.ToArray());
            Assert.Equal(all[8 + i].Images.ToArray(), rest[i].Images.ToArray()); // same flips too
        }
    }

    [Fact]
    public void Seek_Backwards_RepeatsBatches()
    {
        using var l = new DataLoader(Numbered(20), new() { BatchSize = 3, Seed = 4 });
        var first = Take(l, 4);
        l.Seek(new DataLoaderPosition(0, 1));
        Assert.Equal(first[1].Labels.ToArray(), l.Next().Labels.ToArray());
    }

    [Fact]
    public void Next_NormalizeTransform_ValuesInSymmetricRange()
    {
        using var l = new DataLoader(FashionMnist.LoadEmbedded().Take(256), new() { BatchSize = 128, Transforms = [new Normalize()] });
        var b = l.Next();
        Assert.Equal([128, 1, 28, 28], b.Images.Shape);
        var v = b.Images.ToArray();
        Assert.Equal(-1f, v.Min());
        Assert.Equal(1f, v.Max());
    }

    [Fact]
    public void Next_ResizeTransform_ChangesImageSize()
    {
        using var l = new DataLoader(FashionMnist.LoadEmbedded().Take(8), new() { BatchSize = 8, Transforms = [new Resize(32, 32), new Normalize()] });
        Assert.Equal([8, 1, 32, 32], l.Next().Images.Shape);
    }

    [Fact]
    public void Next_RandomFlip_DeterministicPerSeedAndFlipsSome()
    {
        var options = new DataLoaderOptions { BatchSize = 40, Shuffle = false, Seed = 5, Transforms = [new RandomHorizontalFlip()] };
        using var a = new DataLoader(Numbered(40), options);
        using var b = new DataLoader(Numbered(40), options with { Prefetch = false });
        var ia = a.Next().Images;
        Assert.Equal(ia.ToArray(), b.Next().Images.ToArray());
        // Sample i's first pixel is i/255 unflipped and (i+20)/255 flipped.
        int flipped = Enumerable.Range(0, 40).Count(i => Math.Abs(ia[i, 0, 0, 0] - (i + 20) / 255f) < 1e-6);
        Assert.InRange(flipped, 5, 35);
    }

    [Fact]
    public void Next_DatasetThrows_ErrorReachesCaller()
    {
        using var l = new DataLoader(new BrokenDataset(), new() { BatchSize = 4 });
        var e = Assert.Throws<InvalidOperationException>(() => l.Next());
        Assert.Contains("sample 3 unreadable", e.Message);
    }

    sealed class BrokenDataset : IDataset
    {
        public int Count => 4;
        public (Tensor Image, int Label) Get(int index) =>
            index == 3 ? throw new IOException("sample 3 unreadable") : (new Tensor(1, 2, 2), 0);
    }

    [Fact]
    public void Constructor_DropLastWithTooFewSamples_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(Numbered(3), new() { BatchSize = 4, DropLast = true }));
        Assert.Contains("no full batch", e.Message);
    }
}
