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
    public int FormatVersion { get; set; } = 1;
    public string Model { get; set; } = "";
    public string ConfigYaml { get; set; } = "";
    public long Step { get; set; }
    /// <summary>Completed epochs.</summary>
    public int Epoch { get; set; }
    public int DataEpoch { get; set; }
    public int DataBatch { get; set; }
    public ulong[] NoiseRng { get; set; } = [];
    public ulong[] LabelRng { get; set; } = [];
    public bool HasEma { get; set; }
    public string OptimizerG { get; set; } = "";
    public string OptimizerD { get; set; } = "";
    public int[] ImageShape { get; set; } = [];
    public int LatentDim { get; set; }
    public DateTime SavedUtc { get; set; }

    [JsonIgnore] public TrainConfig Config => TrainConfig.FromYaml(ConfigYaml, "checkpoint config");
}

/// <summary>
/// Training checkpoints: one safetensors file holding G, D, the EMA, both optimizers and the fixed
/// sampling noise (tensors prefixed generator., discriminator., generator_ema., optimizer_g.,
/// optimizer_d.), with the run's state as JSON metadata; written atomically. Beside it,
/// checkpoint.json (the state, for people) and generator.safetensors (G alone with PyTorch
/// state_dict names, loadable into the equivalent nn.Sequential).
/// </summary>
public static class Checkpoint
{
    public const string FileName = "checkpoint.safetensors";
    const string MetaKey = "ganforge";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static void Save(string dir, GanModel model, Module? ema, Optimizer optG, Optimizer optD, Tensor fixedNoise, CheckpointState state)
    {
        state.SavedUtc = DateTime.UtcNow;
        state.HasEma = ema != null;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        void Add(string prefix, IEnumerable<KeyValuePair<string, Tensor>> items) =>
            tensors.AddRange(items.Select(kv => new KeyValuePair<string, Tensor>(prefix + kv.Key, kv.Value)));
        Add("generator.", model.Generator.StateDict());
        Add("discriminator.", model.Discriminator.StateDict());
        if (ema != null) Add("generator_ema.", ema.StateDict());
        var (gTensors, gMeta) = OptimizerState.Export(optG);
        var (dTensors, dMeta) = OptimizerState.Export(optD);
        Add("optimizer_g.", gTensors);
        Add("optimizer_d.", dTensors);
        state.OptimizerG = gMeta; state.OptimizerD = dMeta;
        tensors.Add(new("fixed_noise", fixedNoise));

        var int64 = tensors.Where(t => t.Key.EndsWith("num_batches_tracked")).Select(t => t.Key).ToHashSet();
        var meta = new Dictionary<string, string> { [MetaKey] = JsonSerializer.Serialize(state) };
        SafeTensors.Save(Path.Combine(dir, FileName), tensors, meta, int64);
        AtomicFile.WriteAllText(Path.Combine(dir, "checkpoint.json"), JsonSerializer.Serialize(state, Json));
        model.Generator.Save(Path.Combine(dir, "generator.safetensors"));
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
        var (tensors, meta) = SafeTensors.Read(path);
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
