namespace GanForge.NN;

/// <summary>
/// How a state dict from elsewhere (a PyTorch <c>state_dict</c>) lines up with a module's own: under which name prefix,
/// and every tensor missing, unexpected or of another shape. Built by <see cref="Of"/>.
/// </summary>
/// <remarks>
/// PyTorch names a module's tensors by its attribute path: pytorch/examples' DCGAN keeps its layers in
/// <c>self.main = nn.Sequential(...)</c>, so its names are <c>main.0.weight</c>, where a GanForge Sequential's are
/// <c>0.weight</c>; nn.DataParallel adds <c>module.</c>; a file holding several networks prefixes each
/// (<c>netG.main.0.weight</c>). The prefix under which most names are the module's own is taken, and tensors outside
/// it are left alone (<see cref="Ignored"/>). A missing <c>num_batches_tracked</c> is no difference: PyTorch uses it
/// only when BatchNorm's momentum is None.
/// </remarks>
public sealed class StateDictMatch
{
    /// <summary>The prefix stripped from the file's names ("" when they are the module's as they are).</summary>
    public string Prefix { get; }

    /// <summary>The file's tensors under <see cref="Prefix"/>, by the module's names.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>The module's tensors the file lacks: "name (shape)".</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>The file's tensors (under the prefix) the module lacks: "full name (shape)".</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Tensors both have, of different shapes: "full name is (file shape), the module's (shape)".</summary>
    public IReadOnlyList<string> MisShaped { get; }

    /// <summary>The file's tensors outside <see cref="Prefix"/> (another network's, say), left alone.</summary>
    public int Ignored { get; }

    /// <summary>True when every tensor of the module is in the file with its shape, and nothing else is under the prefix.</summary>
    public bool Fits => Missing.Count == 0 && Unexpected.Count == 0 && MisShaped.Count == 0;

    StateDictMatch(string prefix, IReadOnlyDictionary<string, Tensor> tensors, List<string> missing, List<string> unexpected,
        List<string> misShaped, int ignored)
    {
        Prefix = prefix; Tensors = tensors; Missing = missing; Unexpected = unexpected; MisShaped = misShaped; Ignored = ignored;
    }

    /// <summary>Lines <paramref name="file"/> up with <paramref name="module"/>'s state dict.</summary>
    /// <param name="module">The module to load into.</param>
    /// <param name="file">The tensors read from the file, by their names there.</param>
    /// <param name="prefix">The prefix to strip; null finds the one under which most names are the module's.</param>
    public static StateDictMatch Of(Module module, IReadOnlyDictionary<string, Tensor> file, string? prefix = null)
    {
        var own = module.StateDict();
        prefix ??= BestPrefix(own.Keys.ToHashSet(), file.Keys);
        var under = file.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                        .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        var missing = new List<string>();
        var misShaped = new List<string>();
        foreach (var (name, t) in own)
        {
            if (!under.TryGetValue(name, out var theirs))
            {
                if (!IsBatchCounter(name)) missing.Add($"{name} {Shapes.Format(t.ShapeSpan)}");
            }
            else if (!theirs.ShapeSpan.SequenceEqual(t.ShapeSpan))
                misShaped.Add($"{prefix}{name} is {Shapes.Format(theirs.ShapeSpan)}, the model's {Shapes.Format(t.ShapeSpan)}");
        }
        var unexpected = under.Where(kv => !own.ContainsKey(kv.Key)).Select(kv => $"{prefix}{kv.Key} {Shapes.Format(kv.Value.ShapeSpan)}").ToList();
        return new StateDictMatch(prefix, under, missing, unexpected, misShaped, file.Count - under.Count);
    }

    static bool IsBatchCounter(string name) => name == "num_batches_tracked" || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>
    /// Of "" and every dotted prefix of the file's names, the one under which most names are the module's; ties go
    /// to the shorter prefix.
    /// </summary>
    static string BestPrefix(HashSet<string> own, IEnumerable<string> names)
    {
        var counts = new Dictionary<string, int> { [""] = 0 };
        foreach (var name in names)
        {
            if (own.Contains(name)) counts[""]++;
            for (int dot = name.IndexOf('.'); dot >= 0; dot = name.IndexOf('.', dot + 1))
            {
                var prefix = name[..(dot + 1)];
                counts.TryAdd(prefix, 0);
                if (own.Contains(name[(dot + 1)..])) counts[prefix]++;
            }
        }
        return counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
    }

    /// <summary>Every difference, in one line: "missing: ...; unexpected: ...; shape differs: ...".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Missing.Count > 0) parts.Add($"missing {Missing.Count}: {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) parts.Add($"unexpected {Unexpected.Count}: {string.Join(", ", Unexpected)}");
        if (MisShaped.Count > 0) parts.Add($"shape differs {MisShaped.Count}: {string.Join(", ", MisShaped)}");
        return parts.Count == 0 ? "every tensor matches" : string.Join("; ", parts);
    }
}
