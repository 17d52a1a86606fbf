using GanForge.Data;

namespace GanForge.Gan.Training;

/// <summary>
/// Paired training data (pix2pix, super-resolution) as the trainer's batches: a <see cref="PairedDataLoader"/>,
/// shuffled by seed, drop-last, A and B scaled to [-1,1]. A batch's <see cref="GanBatch.Images"/> are the inputs A,
/// its <see cref="GanBatch.Target"/> the images B to make, its labels the source images' classes (-1 where unknown).
/// </summary>
public sealed class PairedBatchSource : IBatchSource, IDisposable
{
    readonly PairedDataLoader _loader;

    /// <param name="pairs">The pairs, images in [0,1] as datasets give them.</param>
    /// <param name="batchSize">Pairs per batch.</param>
    /// <param name="seed">The shuffle's seed.</param>
    public PairedBatchSource(IPairedDataset pairs, int batchSize, ulong seed)
    {
        if (pairs.Count < batchSize)
            throw new ArgumentException($"The pairs number {pairs.Count}, fewer than one batch of {batchSize}");
        _loader = new PairedDataLoader(pairs, new DataLoaderOptions
        {
            BatchSize = batchSize, Shuffle = true, DropLast = true, Seed = seed, Transforms = [new Normalize()],
        });
    }

    /// <summary>The loader (its position is the source's).</summary>
    public PairedDataLoader Loader => _loader;

    public int BatchesPerEpoch => _loader.BatchesPerEpoch;
    public (int Epoch, int Batch) Position => (_loader.Position.Epoch, _loader.Position.Batch);
    public GanBatch Next() => ToGanBatch(_loader.Next());
    public void Seek(int epoch, int batch) => _loader.Seek(new DataLoaderPosition(epoch, batch));

    /// <summary>The first <paramref name="count"/> pairs, in the data's order (not the shuffle's): the same for every run on the data.</summary>
    public GanBatch Preview(int count)
    {
        int n = Math.Min(count, _loader.Pairs.Count);
        var a = new Tensor[n];
        var b = new Tensor[n];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            var (x, y, label) = _loader.Pairs.Get(i);
            (a[i], b[i], labels[i]) = (Scale(x), Scale(y), label);
        }
        return new GanBatch(Tensor.Cat(a, 0), labels, Target: Tensor.Cat(b, 0));
    }

    /// <summary>An image (C,H,W) in [0,1] as a batch of one in [-1,1], as <see cref="Normalize"/> makes it.</summary>
    internal static Tensor Scale(Tensor image) => (image * 2f - 1f).Unsqueeze(0);

    static GanBatch ToGanBatch(PairedBatch b) => new(b.A, b.Labels, Target: b.B);

    public void Dispose() => _loader.Dispose();
}

/// <summary>
/// Unpaired training data (CycleGAN) as the trainer's batches: an <see cref="UnpairedDataLoader"/> over domains A and B,
/// each scaled to [-1,1]. A batch's <see cref="GanBatch.Images"/> are a batch of A, its <see cref="GanBatch.DomainB"/>
/// an independent batch of B; an epoch is a pass over the larger domain.
/// </summary>
public sealed class UnpairedBatchSource : IBatchSource, IDisposable
{
    readonly UnpairedDataLoader _loader;

    public UnpairedBatchSource(IDataset a, IDataset b, int batchSize, ulong seed)
    {
        foreach (var (d, name) in new[] { (a, "A"), (b, "B") })
            if (d.Count < batchSize)
                throw new ArgumentException($"Domain {name} has {d.Count} images, fewer than one batch of {batchSize}");
        _loader = new UnpairedDataLoader(a, b, new DataLoaderOptions
        {
            BatchSize = batchSize, Shuffle = true, DropLast = true, Seed = seed, Transforms = [new Normalize()],
        });
    }

    /// <summary>The loader (its position is the source's).</summary>
    public UnpairedDataLoader Loader => _loader;

    public int BatchesPerEpoch => _loader.BatchesPerEpoch;
    public (int Epoch, int Batch) Position => (_loader.Position.Epoch, _loader.Position.Batch);
    public GanBatch Next()
    {
        var b = _loader.Next();
        return new GanBatch(b.A.Images, DomainB: b.B.Images);
    }
    public void Seek(int epoch, int batch) => _loader.Seek(new DataLoaderPosition(epoch, batch));

    /// <summary>The first <paramref name="count"/> images of each domain, in the data's order.</summary>
    public GanBatch Preview(int count) => new(First(_loader.A.Dataset, count), DomainB: First(_loader.B.Dataset, count));

    static Tensor First(IDataset d, int count)
    {
        int n = Math.Min(count, d.Count);
        var images = new Tensor[n];
        for (int i = 0; i < n; i++) images[i] = PairedBatchSource.Scale(d.Get(i).Image);
        return Tensor.Cat(images, 0);
    }

    public void Dispose() => _loader.Dispose();
}
