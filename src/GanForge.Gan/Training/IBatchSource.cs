namespace GanForge.Gan.Training;

/// <summary>Real images for training, batch by batch, with a position that checkpoints can restore.</summary>
public interface IBatchSource
{
    /// <summary>Batches in one pass over the data.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>The epoch and the index of the next batch within it.</summary>
    (int Epoch, int Batch) Position { get; }

    /// <summary>The next batch of images (N,C,H,W) in [-1,1]; moves to the next epoch after the last.</summary>
    Tensor Next();

    /// <summary>Continues from a position saved earlier, as if never stopped.</summary>
    void Seek(int epoch, int batch);
}
