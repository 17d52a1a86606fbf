namespace GanForge.Data;

/// <summary>A finite, indexable collection of labelled images (as torch.utils.data.Dataset).</summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Sample <paramref name="index"/>: an image (C,H,W) with values in [0, 1] and its class label.</summary>
    (Tensor Image, int Label) Get(int index);

    /// <summary>The label of sample <paramref name="index"/> without decoding its image (datasets that hold labels apart override this).</summary>
    int Label(int index) => Get(index).Label;

    /// <summary>Class names indexed by label; empty when the dataset has none.</summary>
    IReadOnlyList<string> Classes => [];
}
