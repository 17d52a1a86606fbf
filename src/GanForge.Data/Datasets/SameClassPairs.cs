namespace GanForge.Data;

/// <summary>
/// <c>same-class[:SEED]</c>: pairs of two different images of one class, for DAGAN (Antoniou et al. 2017), whose
/// discriminator tells a real pair (an image and another of its class) from a generated one (the image and what the
/// generator made of it). Pair i is (image i, its partner): within each class the images are shuffled with the seed
/// and each is paired with the next in that order (the last with the first), so every image is some pair's A and
/// another's B, and none is paired with itself.
/// </summary>
public sealed class SameClassPairs : IPairedDataset
{
    readonly int[] _partner;

    /// <param name="images">Labelled images; every class needs at least two.</param>
    /// <param name="seed">The shuffle within each class.</param>
    /// <exception cref="ArgumentException">A class has a single image.</exception>
    public SameClassPairs(IDataset images, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(images);
        Source = images;
        Seed = seed;
        var byClass = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < images.Count; i++)
        {
            int label = images.Label(i);
            if (!byClass.TryGetValue(label, out var list)) byClass[label] = list = [];
            list.Add(i);
        }
        _partner = new int[images.Count];
        var rng = new Generator(seed);
        foreach (var (label, members) in byClass)
        {
            if (members.Count < 2)
                throw new ArgumentException($"Pairs 'same-class': class {label} has a single image, which no other image of its class can pair with");
            var order = rng.Permutation(members.Count);
            for (int k = 0; k < order.Length; k++) _partner[members[order[k]]] = members[order[(k + 1) % order.Length]];
        }
    }

    /// <summary>The images.</summary>
    public IDataset Source { get; }

    /// <summary>The seed of the pairing.</summary>
    public ulong Seed { get; }

    public int Count => Source.Count;
    public IReadOnlyList<string> Classes => Source.Classes;

    /// <summary>The index of the image that image <paramref name="index"/> is paired with.</summary>
    public int Partner(int index) => _partner[index];

    public (Tensor A, Tensor B, int Label) Get(int index)
    {
        var (a, label) = Source.Get(index);
        return (a, Source.Get(_partner[index]).Image, label);
    }
}
