using GanForge.Data;

namespace GanForge.Gan.Training;

/// <summary>
/// One batch of training data: images (N,C,H,W) in [-1,1], and what a variant may need besides:
/// class labels (N), a paired target image per input (pix2pix, super-resolution), or a batch of a
/// second domain (CycleGAN).
/// </summary>
/// <remarks>
/// For paired data <see cref="Images"/> are the inputs A the generator is given (edge maps, masked or low-resolution
/// images) and <see cref="Target"/> the images B it should make, row for row. For unpaired data <see cref="Images"/>
/// are a batch of domain A and <see cref="DomainB"/> an independent batch of domain B.
/// </remarks>
public sealed record GanBatch(Tensor Images, int[]? Labels = null, Tensor? Target = null, Tensor? DomainB = null)
{
    public int Size => Images.Size(0);

    /// <summary>
    /// The real images the generator's outputs imitate: the targets of paired data, domain B of unpaired data, the
    /// images themselves otherwise (the diversity statistic compares the generated batch with these).
    /// </summary>
    public Tensor RealOutputs => Target ?? DomainB ?? Images;

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

    /// <summary>
    /// A fixed batch of up to <paramref name="count"/> samples for sample grids (the same on every call, the position
    /// untouched); null when the source has none to give.
    /// </summary>
    GanBatch? Preview(int count) => null;
}
