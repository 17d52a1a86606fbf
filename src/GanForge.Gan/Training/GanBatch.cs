using GanForge.Data;

namespace GanForge.Gan.Training;

/// <summary>
/// One batch of training data: images (N,C,H,W) in [-1,1], and what a variant may need besides:
/// class labels (N), a paired target image per input (pix2pix, super-resolution), or a batch of a
/// second domain (CycleGAN).
/// </summary>
public sealed record GanBatch(Tensor Images, int[]? Labels = null, Tensor? Target = null, Tensor? DomainB = null)
{
    public int Size => Images.Size(0);

    /// <summary>The labels as class indices (N) stored as floats; an error naming <paramref name="who"/> when the data has none.</summary>
    public Tensor ClassTensor(string who)
    {
        if (Labels is null)
            throw new InvalidOperationException($"{who}: the training data has no class labels (use a labelled dataset: fashion-mnist, CIFAR-10, a folder of class subfolders)");
        var t = new Tensor(Labels.Length);
        for (int i = 0; i < Labels.Length; i++) t.Data[i] = Labels[i];
        return t;
    }
}

/// <summary>Training batches, one after another, with a position that checkpoints can restore.</summary>
public interface IBatchSource
{
    /// <summary>Batches in one pass over the data.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>The epoch and the index of the next batch within it.</summary>
    (int Epoch, int Batch) Position { get; }

    /// <summary>The next batch; moves to the next epoch after the last.</summary>
    GanBatch Next();

    /// <summary>Continues from a position saved earlier, as if never stopped.</summary>
    void Seek(int epoch, int batch);

    /// <summary>The training images, for variants that pick some by index (a labelled subset); null when not indexable.</summary>
    IDataset? Dataset => null;

    /// <summary>The samples of <see cref="Dataset"/> at <paramref name="indices"/>, prepared as training batches are, with their labels.</summary>
    GanBatch Take(IReadOnlyList<int> indices) => throw new NotSupportedException($"{GetType().Name}: batches of chosen images are not supported");
}
