namespace GanForge.Data.Tests;

/// <summary>Batches of pairs (pix2pix, super-resolution) and of two unpaired domains (CycleGAN): seeded, resumable.</summary>
public class PairedLoaderTests
{
    /// <summary>n gray 2x3 images; every pixel of image i is i and its label is i (so a batch says which samples it holds).</summary>
    static TensorDataset Numbered(int n) =>
        new(Enumerable.Range(0, n).SelectMany(i => Enumerable.Repeat((byte)i, 6)).ToArray(), Enumerable.Range(0, n).ToArray(), 1, 2, 3);

    /// <summary>Pairs whose A and B are the same image (so joint transforms keep them equal), labelled by index.</summary>
    sealed class SamePairs(int n) : IPairedDataset
    {
        public int Count => n;
        public (Tensor A, Tensor B, int Label) Get(int index)
        {
            var x = Tensor.FromArray(Enumerable.Range(0, 6).Select(k => (index * 6 + k) / 255f).ToArray(), 1, 2, 3);
            return (x.Clone(), x, index);
        }
    }

    static int[] Ids(Batch b) => b.Labels.ToArray().Select(v => (int)v).ToArray();

    [Fact]
    public void PairedDataLoader_SameSeed_SameBatchesAndSeekResumesExactly()
    {
        var pairs = new DerivedPairs(Numbered(10), new CentreMaskOperator(1), labelled: true);
        var options = new DataLoaderOptions { BatchSize = 4, Seed = 3 };
        using var first = new PairedDataLoader(pairs, options);
        Assert.Equal(3, first.BatchesPerEpoch);
        var seen = Enumerable.Range(0, 7).Select(_ => first.Next()).ToList();
        Assert.Equal(new DataLoaderPosition(2, 1), first.Position);
        Assert.Equal(Enumerable.Range(0, 10), seen.Take(3).SelectMany(b => b.Labels).Order());   // an epoch visits every pair once
        Assert.NotEqual(seen[0].Labels, seen[3].Labels);                                          // and the next reshuffles

        using var resumed = new PairedDataLoader(pairs, options);
        resumed.Seek(new DataLoaderPosition(1, 2));
        var again = resumed.Next();
        Assert.Equal(seen[5].Labels, again.Labels);
        Assert.Equal(seen[5].A.ToArray(), again.A.ToArray());
        Assert.Equal(seen[5].B.ToArray(), again.B.ToArray());
        Assert.Equal(new DataLoaderPosition(1, 2), again.Position);
    }

    [Fact]
    public void PairedDataLoader_RandomFlip_MirrorsAAndBTogether()
    {
        using var loader = new PairedDataLoader(new SamePairs(32), new DataLoaderOptions
        {
            BatchSize = 32, Shuffle = false, Seed = 1, Transforms = [new RandomHorizontalFlip(), new Normalize()], Prefetch = false,
        });
        var batch = loader.Next();
        Assert.Equal(batch.A.ToArray(), batch.B.ToArray());
        // some pairs were flipped and some not: row 0 of pair i starts with its first or its third pixel
        int flipped = Enumerable.Range(0, 32).Count(i => batch.B.Data[i * 6] > batch.B.Data[i * 6 + 2]);
        Assert.InRange(flipped, 4, 28);
        Assert.InRange(batch.A.ToArray().Min(), -1f, -0.99f);   // normalised to [-1, 1]
    }

    [Fact]
    public void PairedDataLoader_SuperResolution_BatchesAAndBOfTheirOwnSizes()
    {
        var r = DataSpec.ResolvePairs("embedded", "downscale:4", "test", 20, DataOptions.Default);
        using var loader = new PairedDataLoader(r.Pairs, new DataLoaderOptions { BatchSize = 8, DropLast = true });
        Assert.Equal(2, loader.BatchesPerEpoch);
        var batch = loader.Next();
        Assert.Equal([8, 1, 7, 7], batch.A.Shape);
        Assert.Equal([8, 1, 28, 28], batch.B.Shape);
        Assert.All(batch.Labels, l => Assert.InRange(l, 0, 9));
    }

    [Fact]
    public void Stack_EveryPairInOrder_InMinusOneToOne()
    {
        var r = DataSpec.ResolvePairs("embedded", "masked", "test", 3, DataOptions.Default);
        Assert.Equal("masked:14", r.Kind);   // half the side, made explicit
        Assert.Contains("A = masked: a centred 14 x 14 square set to 0", r.Description);
        var all = r.Pairs.Stack(minusOneToOne: true);
        Assert.Equal([3, 1, 28, 28], all.A.Shape);
        Assert.Equal([9, 2, 1], all.Labels);   // the test split's first labels
        var b2 = r.Pairs.Get(2).B;
        for (int k = 0; k < b2.Numel; k += 37) Assert.Equal(b2.Data[k] * 2 - 1, all.B.Data[2 * 784 + k], 1e-5);
        Assert.Equal(-1f, all.A.Data[14 * 28 + 14], 1e-6);   // the blanked square is black
        Assert.Throws<ArgumentException>(() => new SamePairs(0).Stack());
    }

    [Fact]
    public void UnpairedDataLoader_DomainsOfDifferentSizes_EpochIsThePassOverTheLarger()
    {
        using var loader = new UnpairedDataLoader(Numbered(10), Numbered(25), new DataLoaderOptions { BatchSize = 5, Seed = 4 });
        Assert.Equal(5, loader.BatchesPerEpoch);
        var steps = Enumerable.Range(0, 5).Select(_ => loader.Next()).ToList();
        Assert.Equal(new DataLoaderPosition(1, 0), loader.Position);
        Assert.Equal(Enumerable.Range(0, 25), steps.SelectMany(s => Ids(s.B)).Order());              // B: once each
        Assert.Equal(Enumerable.Range(0, 10), steps.Take(2).SelectMany(s => Ids(s.A)).Order());      // A: a pass every 2 steps,
        Assert.Equal(Enumerable.Range(0, 10), steps.Skip(2).Take(2).SelectMany(s => Ids(s.A)).Order());
        Assert.NotEqual(steps.Take(2).SelectMany(s => Ids(s.A)), steps.Skip(2).Take(2).SelectMany(s => Ids(s.A)));   // reshuffled
        Assert.Equal(new DataLoaderPosition(2, 0), steps[4].A.Position);                             // its third pass
        Assert.Equal(new DataLoaderPosition(0, 4), steps[4].Position);
    }

    [Fact]
    public void UnpairedDataLoader_SeekToASavedPosition_GivesTheSameBatches()
    {
        var options = new DataLoaderOptions { BatchSize = 4, Seed = 9, DropLast = true };
        using var straight = new UnpairedDataLoader(Numbered(9), Numbered(14), options);
        var seen = Enumerable.Range(0, 11).Select(_ => straight.Next()).ToList();
        Assert.Equal(3, straight.BatchesPerEpoch);

        using var resumed = new UnpairedDataLoader(Numbered(9), Numbered(14), options);
        resumed.Seek(new DataLoaderPosition(2, 2));   // step 8
        for (int step = 8; step < 11; step++)
        {
            var s = resumed.Next();
            Assert.Equal(Ids(seen[step].A), Ids(s.A));
            Assert.Equal(Ids(seen[step].B), Ids(s.B));
            Assert.Equal(seen[step].Position, s.Position);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Seek(new DataLoaderPosition(0, 4)));
    }

    [Fact]
    public void UnpairedDataLoader_OneDatasetAsBothDomains_GivesIndependentBatches()
    {
        var data = Numbered(40);
        using var loader = new UnpairedDataLoader(data, data, new DataLoaderOptions { BatchSize = 8, Seed = 1 });
        var s = loader.Next();
        Assert.NotEqual(Ids(s.A), Ids(s.B));
        using var plain = new DataLoader(data, new DataLoaderOptions { BatchSize = 8, Seed = 1 });
        Assert.NotEqual(Ids(plain.Next()), Ids(s.A));   // each domain's seed is derived, not the one given
    }
}
