using System.Text.Json;
using System.Text.Json.Nodes;
using GanForge.Serialization;

namespace GanForge.Optim;

/// <summary>
/// An optimizer's saved state: buffers as tensors (<c>state.{paramIndex}.exp_avg</c>, ...) and a JSON
/// string with the optimizer type, the parameter groups (lr, initial_lr, params, hyperparameters) and the
/// per-parameter step counts. Fits in a safetensors file, alone or beside a model under a prefix.
/// </summary>
public sealed class OptimizerStateDict
{
    /// <summary>Metadata key (after the prefix) under which <see cref="Json"/> is stored.</summary>
    public const string JsonKey = "json";

    /// <summary>Creates a state dict from its parts.</summary>
    public OptimizerStateDict(IReadOnlyDictionary<string, Tensor> tensors, string json)
    {
        Tensors = tensors;
        Json = json;
    }

    /// <summary>Per-parameter buffers by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>Groups, hyperparameters and step counts as JSON.</summary>
    public string Json { get; }

    /// <summary>
    /// Adds this state to a checkpoint being assembled: tensors as <c>{prefix}state.0.exp_avg</c> and the
    /// JSON under the metadata key <c>{prefix}json</c>.
    /// </summary>
    public void AddTo(IDictionary<string, Tensor> tensors, IDictionary<string, string> metadata, string prefix = "optimizer.")
    {
        foreach (var (name, t) in Tensors) tensors.Add(prefix + name, t);
        metadata.Add(prefix + JsonKey, Json);
    }

    /// <summary>Extracts the state stored by <see cref="AddTo"/> under <paramref name="prefix"/>; other entries are ignored.</summary>
    public static OptimizerStateDict ReadFrom(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata,
        string prefix = "optimizer.", string source = "checkpoint")
    {
        if (!metadata.TryGetValue(prefix + JsonKey, out var json))
            throw new InvalidDataException($"OptimizerStateDict: '{source}' has no metadata '{prefix}{JsonKey}' (no optimizer state saved under prefix '{prefix}')");
        var own = tensors.Where(kv => kv.Key.StartsWith(prefix + "state.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        return new OptimizerStateDict(own, json);
    }

    /// <summary>Writes this state alone to a safetensors file (atomically).</summary>
    public void Save(string path, string prefix = "")
    {
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        AddTo(tensors, metadata, prefix);
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Reads a state written by <see cref="Save"/>.</summary>
    public static OptimizerStateDict Load(string path, string prefix = "")
    {
        var (tensors, metadata) = SafeTensors.Read(path);
        return ReadFrom(tensors, metadata, prefix, path);
    }
}

/// <summary>The JSON half of <see cref="OptimizerStateDict"/>.</summary>
static class OptimizerStateJson
{
    internal sealed record Group(double Lr, double? InitialLr, int ParamCount, OptimizerOptions Options);

    static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal static string Write(string type, IReadOnlyList<ParamGroup> groups, IReadOnlyDictionary<int, long> steps)
    {
        var groupArray = new JsonArray();
        int index = 0;
        foreach (var g in groups)
        {
            var o = JsonSerializer.SerializeToNode(g.Options, g.Options.GetType(), Options)!.AsObject();
            o["lr"] = g.Lr;
            if (g.InitialLr is { } initial) o["initial_lr"] = initial;
            o["params"] = new JsonArray(Enumerable.Range(index, g.Params.Count).Select(i => (JsonNode)i).ToArray());
            index += g.Params.Count;
            groupArray.Add(o);
        }
        var state = new JsonObject();
        foreach (var (i, step) in steps) state[i.ToString()] = new JsonObject { ["step"] = step };
        var root = new JsonObject { ["type"] = type, ["param_groups"] = groupArray, ["state"] = state };
        return root.ToJsonString();
    }

    internal static (string Type, List<Group> Groups, Dictionary<int, long> Steps) Read(string json, Type optionsType)
    {
        try
        {
            var root = JsonNode.Parse(json)!.AsObject();
            string type = root["type"]!.GetValue<string>();
            var groups = new List<Group>();
            foreach (var node in root["param_groups"]!.AsArray())
            {
                var o = node!.AsObject().DeepClone().AsObject();
                double lr = o["lr"]!.GetValue<double>();
                double? initial = o["initial_lr"]?.GetValue<double>();
                int count = o["params"]!.AsArray().Count;
                o.Remove("lr"); o.Remove("initial_lr"); o.Remove("params");
                var options = (OptimizerOptions)o.Deserialize(optionsType, Options)!;
                groups.Add(new Group(lr, initial, count, options));
            }
            var steps = new Dictionary<int, long>();
            foreach (var (key, value) in root["state"]!.AsObject())
                steps[int.Parse(key)] = value!["step"]!.GetValue<long>();
            return (type, groups, steps);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"OptimizerStateDict: malformed state JSON ({MessageText.Quote(e.Message, 120)})", e);
        }
    }
}
