namespace GanForge.Data;

/// <summary>
/// A finite, indexable collection of image pairs (A, B) for image-to-image translation: A the input a generator is
/// given (an edge map, a masked or low-resolution image, a user's A image), B the image it should make.
/// </summary>
public interface IPairedDataset
{
    /// <summary>Number of pairs.</summary>
    int Count { get; }

    /// <summary>
    /// Pair <paramref name="index"/>: A and B as images (C,H,W) with values in [0, 1], as <see cref="IDataset.Get"/> gives
    /// them (A and B may differ in channels and size), and the class of the source image, or -1 where none is known.
    /// </summary>
    (Tensor A, Tensor B, int Label) Get(int index);

    /// <summary>Class names indexed by label; empty when the pairs have none.</summary>
    IReadOnlyList<string> Classes => [];
}
