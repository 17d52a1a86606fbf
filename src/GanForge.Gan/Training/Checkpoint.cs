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

    /// <summary>Format 1 (one generator and one discriminator): the EMA flag and the two optimizers' states.</summary>
    [JsonInclude, JsonPropertyName("HasEma")] internal bool LegacyHasEma { get; set; }
    [JsonInclude, JsonPropertyName("OptimizerG")] internal string? LegacyOptimizerG { get; set; }
    [JsonInclude, JsonPropertyName("OptimizerD")] internal string? LegacyOptimizerD { get; set; }

    [JsonIgnore] public TrainConfig Config => TrainConfig.FromYaml(ConfigYaml, "checkpoint config");

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
        IReadOnlyDictionary<string, Optimizer> optimizers, Tensor fixedNoise, CheckpointState state)
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
        tensors.Add(new("fixed_noise", fixedNoise));

        var int64 = tensors.Where(t => t.Key.EndsWith("num_batches_tracked")).Select(t => t.Key).ToHashSet();
        var meta = new Dictionary<string, string> { [MetaKey] = JsonSerializer.Serialize(state) };
        SafeTensors.Save(Path.Combine(dir, FileName), tensors, meta, int64);
        WriteCompanions(dir, model.Generator, state);
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
    public static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read(string pathOrDir)
    {
        var path = Locate(pathOrDir);
        return Read(SafeTensors.Read(path), path);
    }

    /// <summary>As <see cref="Read(string)"/>, from the bytes of a checkpoint file (rank 0's, sent to every rank).</summary>
    public static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read(byte[] bytes, string path) =>
        Read(SafeTensors.Read(bytes, path), path);

    static (Dictionary<string, Tensor> Tensors, CheckpointState State) Read((Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) file, string path)
    {
        var (tensors, meta) = file;
        if (!meta.TryGetValue(MetaKey, out var json))
            throw new InvalidDataException($"{path}: not a GanForge training checkpoint (no '{MetaKey}' metadata)");
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: corrupt checkpoint state: {e.Message}", e); }
        return (tensors, state ?? throw new InvalidDataException($"{path}: empty checkpoint state"));
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
