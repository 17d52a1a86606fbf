using System.Text.Json;
using System.Text.Json.Serialization;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Optim;
using GanForge.Serialization;

namespace GanForge.Gan.Training;

/// <summary>Where a run stands: enough, with the tensors, to continue as if it had never stopped.</summary>
public sealed class CheckpointState
{
    public int FormatVersion { get; set; } = 2;
    public string Model { get; set; } = "";
    public string ConfigYaml { get; set; } = "";
    public long Step { get; set; }
    /// <summary>Completed epochs.</summary>
    public int Epoch { get; set; }
    public int DataEpoch { get; set; }
    public int DataBatch { get; set; }
    public ulong[] NoiseRng { get; set; } = [];
    public ulong[] LabelRng { get; set; } = [];
    /// <summary>The networks saved, by name (tensors under "NAME.").</summary>
    public string[] Networks { get; set; } = [];
    /// <summary>The networks whose EMA is saved (tensors under "NAME_ema.").</summary>
    public string[] EmaNetworks { get; set; } = [];
    /// <summary>Each optimizer group's state (its tensors are under "optimizer_GROUP.").</summary>
    public Dictionary<string, string> Optimizers { get; set; } = [];
    /// <summary>The training monitors' counts (null in checkpoints written before they were kept: the counts start afresh).</summary>
    public MonitorState? Monitors { get; set; }
    public int[] ImageShape { get; set; } = [];
    public int LatentDim { get; set; }
    public DateTime SavedUtc { get; set; }
    /// <summary>
    /// The file a generator was imported from (<see cref="TorchImport"/>); null for a trained run. Such a checkpoint
    /// holds the generator alone: it can be sampled and exported, not resumed.
    /// </summary>
    public string? ImportedFrom { get; set; }

    /// <summary>Format 1 (one generator and one discriminator): the EMA flag and the two optimizers' states.</summary>
    [JsonInclude, JsonPropertyName("HasEma")] internal bool LegacyHasEma { get; set; }
    [JsonInclude, JsonPropertyName("OptimizerG")] internal string? LegacyOptimizerG { get; set; }
    [JsonInclude, JsonPropertyName("OptimizerD")] internal string? LegacyOptimizerD { get; set; }

    /// <summary>The run's settings (a fresh copy each time); errors in them name the checkpoint.</summary>
    [JsonIgnore] public TrainConfig Config => TrainConfig.FromYaml(ConfigYaml, $"{Source}: its settings");

    /// <summary>The file the state was read from, for messages.</summary>
    [JsonIgnore] internal string Source { get; set; } = "checkpoint";

    /// <summary>The shape of every tensor the checkpoint file holds, read or not (header order).</summary>
    [JsonIgnore] public IReadOnlyDictionary<string, int[]> TensorShapes { get; internal set; } = new Dictionary<string, int[]>();

    /// <summary>
    /// Checks what sampling and a resume rely on, so a damaged or hand-edited state is refused with the file's name
    /// before any network is built: every list present, the noise streams' states whole, the settings valid and of
    /// this model, the image shape and latent size those of the settings, the counters not negative.
    /// </summary>
    internal void Check(string path)
    {
        Source = path;
        void Require(bool ok, string what) { if (!ok) throw new InvalidDataException($"{path}: the checkpoint's state {what}"); }
        Require(Model != null && ConfigYaml != null, "lacks the model or its settings");
        Require(Networks != null && !Networks.Contains(null!) && EmaNetworks != null && !EmaNetworks.Contains(null!), "has a missing network name");
        Require(Optimizers != null && Optimizers.Values.All(v => v != null), "has a missing optimizer state");
        // An imported generator has no training behind it, so no noise streams; it is never resumed (ThrowIfImported).
        Require(ImportedFrom != null || (NoiseRng is { Length: 6 } && LabelRng is { Length: 6 }), "has no whole noise-generator state (6 numbers each)");
        Require(Step >= 0 && Epoch >= 0 && DataEpoch >= 0 && DataBatch >= 0, $"has a negative count (step {Step}, epoch {Epoch}, data {DataEpoch}/{DataBatch})");
        Require(Monitors == null || (Monitors.Pinned >= 0 && Monitors.Collapsed >= 0 && Monitors.Active is { } a && !a.Contains(null!)), "has damaged monitor counts");
        TrainConfig config;
        try
        {
            config = Config;
            config.Validate();
            config = config.Resolve();
        }
        catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException))
        {
            throw new InvalidDataException(e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message : $"{path}: its settings are invalid: {e.Message}", e);
        }
        var variant = ModelZoo.Get(config.Model);
        Require(variant.Name == Model, $"is of model '{MessageText.Quote(Model)}' but its settings are of '{config.Model}'");
        Require(ImageShape is { Length: 3 } s && s[0] is >= 1 and <= 4 && s[1] == s[2] && variant.SupportsImageSize(s[1])
                && (config.ImageSize == 0 || config.ImageSize == s[1]),
            $"has image shape {MessageText.Quote(Shapes.Format(ImageShape ?? []))}, not (channels, size, size) of a size {variant.Name} takes and its settings name");
        Require(LatentDim >= 1 && LatentDim == config.LatentDim, $"has latent size {LatentDim} but its settings say {config.LatentDim}");
    }

    /// <summary>True when the EMA of <paramref name="network"/> was saved.</summary>
    public bool HasEmaOf(string network) => EmaNetworks.Contains(network) || (LegacyHasEma && network == GanModel.GeneratorName);

    /// <summary>The saved state of an optimizer group ("" when none was saved).</summary>
    public string OptimizerJson(string group) => Optimizers.TryGetValue(group, out var json) ? json
        : group switch { "g" => LegacyOptimizerG ?? "", "d" => LegacyOptimizerD ?? "", _ => "" };
}

/// <summary>
/// Training checkpoints: one safetensors file holding every network, every EMA, every optimizer and the
/// fixed sampling noise, by name (tensors prefixed NAME., NAME_ema., optimizer_GROUP.; for the classic
/// games generator., discriminator., generator_ema., optimizer_g., optimizer_d.), with the run's state
/// as JSON metadata and a checksum of it all; written atomically. Beside it, checkpoint.json (the state, for people)
/// and generator.safetensors (G alone with PyTorch state_dict names, loadable into the equivalent nn.Sequential).
/// </summary>
/// <remarks>
/// checkpoint.safetensors is the only file a resume reads. It is written first and the other two after it, each
/// atomically (temp + rename), so a kill leaves the previous checkpoint whole until the new one is complete; a kill
/// between the writes leaves checkpoint.json and generator.safetensors one checkpoint behind, and the resume rewrites
/// them from checkpoint.safetensors (<see cref="WriteCompanions"/>).
/// </remarks>
public static class Checkpoint
{
    public const string FileName = "checkpoint.safetensors";
    const string MetaKey = "ganforge";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static void Save(string dir, GanModel model, IReadOnlyDictionary<string, Module> emas,
        IReadOnlyDictionary<string, Optimizer> optimizers, Tensor fixedNoise, CheckpointState state) =>
        Save(dir, model, emas, optimizers, fixedNoise, [], state);

    /// <summary>As the overload without <paramref name="parts"/>, with the game's other state (under "NAME." each).</summary>
    public static void Save(string dir, GanModel model, IReadOnlyDictionary<string, Module> emas,
        IReadOnlyDictionary<string, Optimizer> optimizers, Tensor fixedNoise, IReadOnlyList<ICheckpointPart> parts, CheckpointState state)
    {
        state.SavedUtc = DateTime.UtcNow;
        state.Networks = [.. model.Networks.Select(n => n.Key)];
        state.EmaNetworks = [.. emas.Keys];
        var tensors = new List<KeyValuePair<string, Tensor>>();
        void Add(string prefix, IEnumerable<KeyValuePair<string, Tensor>> items) =>
            tensors.AddRange(items.Select(kv => new KeyValuePair<string, Tensor>(prefix + kv.Key, kv.Value)));
        foreach (var (name, network) in model.Networks) Add(name + ".", network.StateDict());
        foreach (var (name, ema) in emas) Add(name + "_ema.", ema.StateDict());
        foreach (var (group, optimizer) in optimizers)
        {
            var (groupTensors, json) = OptimizerState.Export(optimizer);
            Add($"optimizer_{group}.", groupTensors);
            state.Optimizers[group] = json;
        }
        foreach (var part in parts) Add(part.Name + ".", part.StateDict());
        tensors.Add(new("fixed_noise", fixedNoise));

        var int64 = tensors.Where(t => t.Key.EndsWith("num_batches_tracked")).Select(t => t.Key).ToHashSet();
        var meta = new Dictionary<string, string> { [MetaKey] = JsonSerializer.Serialize(state) };
        SafeTensors.Save(Path.Combine(dir, FileName), tensors, meta, int64);
        WriteCompanions(dir, model.Generator, state);
    }

    /// <summary>
    /// Saves a checkpoint of <paramref name="model"/>'s generator alone (an imported one: <see cref="TorchImport"/>),
    /// which `sample`, `interpolate`, `export` and `info` read as they read a run's, with its companions and config.yaml.
    /// </summary>
    public static void SaveGenerator(string dir, GanModel model, CheckpointState state)
    {
        state.SavedUtc = DateTime.UtcNow;
        state.Networks = [GanModel.GeneratorName];
        state.EmaNetworks = [];
        var tensors = model.Generator.StateDict().Select(kv => new KeyValuePair<string, Tensor>(GanModel.GeneratorName + "." + kv.Key, kv.Value)).ToList();
        var meta = new Dictionary<string, string> { [MetaKey] = JsonSerializer.Serialize(state) };
        SafeTensors.Save(Path.Combine(dir, FileName), tensors, meta, ModuleSerialization.Int64Names(tensors.Select(t => t.Key)));
        WriteCompanions(dir, model.Generator, state);
        AtomicFile.WriteAllText(Path.Combine(dir, "config.yaml"), state.ConfigYaml);
    }

    /// <summary>
    /// Writes the files derived from a checkpoint: checkpoint.json (its state) and generator.safetensors (the
    /// generator's weights), each atomically. A resume calls it with the state it read and the generator it loaded,
    /// which gives the files the completed save would have written.
    /// </summary>
    public static void WriteCompanions(string dir, Module generator, CheckpointState state)
    {
        AtomicFile.WriteAllText(Path.Combine(dir, "checkpoint.json"), JsonSerializer.Serialize(state, Json));
        generator.Save(Path.Combine(dir, "generator.safetensors"));
    }

    /// <summary>Finds the checkpoint file given a run folder or the file itself.</summary>
    public static string Locate(string pathOrDir)
    {
        var path = Directory.Exists(pathOrDir) ? Path.Combine(pathOrDir, FileName) : pathOrDir;
        if (!File.Exists(path))
            throw new FileNotFoundException($"No checkpoint at '{path}' (give a run folder holding {FileName}, or the file)");
        return path;
    }

    /// <summary>Reads a checkpoint's tensors and state; a corrupt file says what is wrong and where.</summary>
    public static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read(string pathOrDir) => Read(pathOrDir, null);

    /// <summary>
    /// As <see cref="Read(string)"/>, reading only the tensors whose names <paramref name="keep"/> accepts (a sampler needs
    /// its generator, not the discriminator and the optimizers' moments); the state's
    /// <see cref="CheckpointState.TensorShapes"/> still lists them all, and the whole file is checked.
    /// </summary>
    public static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read(string pathOrDir, Func<string, bool>? keep)
    {
        var path = Locate(pathOrDir);
        return Read(SafeTensors.ReadFile(path, keep), path);
    }

    /// <summary>As <see cref="Read(string)"/>, from the bytes of a checkpoint file (rank 0's, sent to every rank).</summary>
    public static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read(byte[] bytes, string path) =>
        Read(SafeTensors.ReadFile(bytes, path), path);

    /// <summary>The tensors under any of the prefixes, for <see cref="Read(string, Func{string, bool}?)"/>.</summary>
    public static Func<string, bool> Under(params string[] prefixes) =>
        name => prefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>No tensors: the state alone (and the shapes of what the file holds).</summary>
    public static bool NoTensors(string name) => false;

    static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read(SafeTensorsFile file, string path)
    {
        var (tensors, meta) = (file.Tensors, file.Metadata);
        if (!meta.TryGetValue(MetaKey, out var json))
            throw new InvalidDataException($"{path}: not a GanForge training checkpoint (no '{MetaKey}' metadata)");
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: corrupt checkpoint state: {MessageText.Quote(e.Message, 120)}", e); }
        if (state == null) throw new InvalidDataException($"{path}: empty checkpoint state");
        state.Check(path);
        state.TensorShapes = file.TensorShapes;
        return (tensors, state);
    }

    /// <summary>
    /// Builds the networks a checkpoint's settings describe, no larger in all than the tensors the file holds (its
    /// networks, their EMAs and optimizer states together), so damaged or edited settings cannot make GanForge build
    /// networks far beyond the file before their weights are found not to fit. Errors name the checkpoint.
    /// </summary>
    public static GanModel CreateModel(string path, CheckpointState state, Func<GanModel> create)
    {
        long held = state.TensorShapes.Values.Sum(shape => (long)Shapes.Numel(shape));
        using var limit = AllocationLimit.Begin(held + (1 << 20), asked => new InvalidDataException(
            $"{path}: its settings describe networks of over {asked:N0} values, more than the {held:N0} the file holds (damaged or edited settings?)"));
        try { return create(); }
        catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException))
        { throw new InvalidDataException($"{path}: the networks its settings describe cannot be built: {e.Message}", e); }
    }

    /// <summary>
    /// As <see cref="CreateModel"/>, for a command that loads the networks it uses from the checkpoint next (a sampler its
    /// generator, a translator its one): the random initialisers draw nothing (<see cref="Init.SkippingRandom"/>), since
    /// the load overwrites what they would draw. The networks it does not load are left uninitialised and must not be used.
    /// </summary>
    public static GanModel CreateModelToLoad(string path, CheckpointState state, Func<GanModel> create)
    {
        using (Init.SkippingRandom()) return CreateModel(path, state, create);
    }

    /// <summary>Refuses to resume a checkpoint that holds an imported generator alone.</summary>
    public static void ThrowIfImported(string path, CheckpointState state)
    {
        if (state.ImportedFrom != null)
            throw new InvalidDataException($"{path}: holds a generator imported from {state.ImportedFrom}, without a discriminator or optimizer state; " +
                                           "it can be sampled and exported, not resumed");
    }

    /// <summary>The tensors under a prefix, with the prefix removed.</summary>
    public static Dictionary<string, Tensor> Part(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
               .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    /// <summary>Loads one network's weights, naming the checkpoint and the model when they do not fit.</summary>
    public static void LoadInto(Module module, Dictionary<string, Tensor> tensors, string prefix, string path, string model)
    {
        try { module.LoadStateDict(Part(tensors, prefix)); }
        catch (ArgumentException e)
        { throw new InvalidDataException($"{path}: the {prefix.TrimEnd('.')} does not fit model '{model}': {e.Message}", e); }
    }
}
