using GanForge.Serialization;

namespace GanForge.NN;

/// <summary>
/// Saving and loading a module's state dict as safetensors with PyTorch's names, so files move
/// between GanForge and <c>torch.nn.Module.load_state_dict</c> in both directions.
/// </summary>
public static class ModuleSerialization
{
    /// <summary>Metadata written by default, as PyTorch's safetensors writer does.</summary>
    public static IReadOnlyDictionary<string, string> DefaultMetadata { get; } = new Dictionary<string, string> { ["format"] = "pt" };

    /// <summary>
    /// Names among <paramref name="names"/> that PyTorch stores as int64: BatchNorm's
    /// <c>num_batches_tracked</c>, recognised by its name.
    /// </summary>
    public static HashSet<string> Int64Names(IEnumerable<string> names) =>
        names.Where(n => n == "num_batches_tracked" || n.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToHashSet();

    /// <summary>
    /// Writes the module's state dict (parameters and persistent buffers, PyTorch names) to
    /// <paramref name="path"/> atomically; <paramref name="metadata"/> is added to <c>{"format": "pt"}</c>.
    /// </summary>
    public static void Save(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var state = module.StateDict();
        var meta = new Dictionary<string, string>(DefaultMetadata);
        if (metadata != null) foreach (var (k, v) in metadata) meta[k] = v;
        SafeTensors.Save(path, state, meta, Int64Names(state.Keys));
    }

    /// <summary>
    /// Loads a state dict written by <see cref="Save"/> or by PyTorch. With <paramref name="strict"/>,
    /// a tensor missing from the file or a file tensor the module lacks is an error; a shape mismatch
    /// always is. Only file entries starting with <paramref name="prefix"/> are considered (prefix stripped).
    /// </summary>
    public static void Load(this Module module, string path, bool strict = true, string prefix = "")
    {
        var tensors = SafeTensors.Load(path);
        module.LoadStateDictFrom(tensors, path, strict, prefix);
    }

    /// <summary>
    /// As <see cref="Load"/>, from tensors already read (e.g. one checkpoint holding several modules);
    /// <paramref name="source"/> names the file in error messages.
    /// </summary>
    public static void LoadStateDictFrom(this Module module, IReadOnlyDictionary<string, Tensor> tensors, string source,
        bool strict = true, string prefix = "")
    {
        var state = prefix.Length == 0 ? tensors
            : tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        var own = module.StateDict();
        string Full(string name) => $"'{prefix}{name}'";
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
            {
                var parts = new List<string>();
                if (missing.Count > 0) parts.Add($"missing {string.Join(", ", missing.Select(Full))}");
                if (unexpected.Count > 0) parts.Add($"unexpected {string.Join(", ", unexpected.Select(Full))}");
                throw new ArgumentException($"Load ({module.TypeName}): '{source}' does not match the model: {string.Join("; ", parts)}");
            }
        }
        foreach (var (name, target) in own)
        {
            if (state.TryGetValue(name, out var t) && !t.ShapeSpan.SequenceEqual(target.ShapeSpan))
                throw new ArgumentException($"Load ({module.TypeName}): tensor {Full(name)} in '{source}' has shape {Shapes.Format(t.ShapeSpan)}, the model expects {Shapes.Format(target.ShapeSpan)}");
        }
        module.LoadStateDict(state.Where(kv => own.ContainsKey(kv.Key)).ToDictionary(), strict: false);
    }
}
