namespace GanForge.Gan.Training;

/// <summary>
/// A random stream a network draws from while training (pix2pix's dropout), saved in checkpoints so a resumed run
/// draws what an unbroken one would. Its 6 64-bit words are stored as 24 16-bit pieces, each exact in a float.
/// </summary>
public sealed class GeneratorStatePart(string name, Generator generator) : ICheckpointPart
{
    public string Name { get; } = name;

    public IEnumerable<KeyValuePair<string, Tensor>> StateDict()
    {
        var words = generator.GetState();
        var t = new Tensor(words.Length * 4);
        for (int i = 0; i < words.Length; i++)
            for (int k = 0; k < 4; k++) t.Data[i * 4 + k] = (words[i] >> (16 * k)) & 0xFFFF;
        yield return new("state", t);
    }

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (!tensors.TryGetValue("state", out var t)) return;   // a checkpoint from before the stream was saved
        var words = new ulong[t.Numel / 4];
        for (int i = 0; i < words.Length; i++)
            for (int k = 0; k < 4; k++) words[i] |= (ulong)t.Data[i * 4 + k] << (16 * k);
        generator.SetState(words);
    }
}

/// <summary>
/// The history of generated images a discriminator is shown (Shrivastava et al. 2017; CycleGAN's pool of 50): until
/// the pool is full each new image is kept and shown; then, with probability 1/2, a random stored image is shown in
/// its place and the new one stored instead. The draws come from the caller's stream; the images are saved in
/// checkpoints (tensor "NAME.images", absent while empty), so a resume continues exactly.
/// </summary>
public sealed class ImagePool(string name, int capacity) : ICheckpointPart
{
    readonly List<Tensor> _images = [];   // each (1,C,H,W)

    public string Name { get; } = name;
    public int Capacity { get; } = capacity;
    public int Count => _images.Count;

    /// <summary>The batch (N,C,H,W) D is shown for <paramref name="fakes"/> (detached), drawing from <paramref name="rng"/>.</summary>
    public Tensor Query(Tensor fakes, Generator rng)
    {
        if (Capacity == 0) return fakes;
        int n = fakes.Size(0);
        var shown = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var image = fakes.Narrow(0, i, 1).Clone();
            if (_images.Count < Capacity) { _images.Add(image); shown[i] = image; }
            else if (rng.NextDouble() > 0.5)
            {
                int j = rng.NextInt(Capacity);
                shown[i] = _images[j];
                _images[j] = image;
            }
            else shown[i] = image;
        }
        var batch = Tensor.Cat(shown, 0);
        // The images shown but no longer kept (displaced, or shown without a place) go back to the pool, each once.
        var kept = new HashSet<Tensor>(_images, ReferenceEqualityComparer.Instance);
        foreach (var image in shown.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
            if (!kept.Contains(image)) Intermediates.Release(image, batch);
        return batch;
    }

    public IEnumerable<KeyValuePair<string, Tensor>> StateDict()
    {
        if (_images.Count > 0) yield return new("images", Tensor.Cat([.. _images], 0));
    }

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> tensors)
    {
        _images.Clear();
        if (!tensors.TryGetValue("images", out var all)) return;
        if (all.Size(0) > Capacity) throw new InvalidDataException($"pool {Name}: the checkpoint holds {all.Size(0)} images, more than its {Capacity}");
        for (int i = 0; i < all.Size(0); i++) _images.Add(all.Narrow(0, i, 1).Clone());
    }
}
