using GanForge.Optim;

namespace GanForge.Gan.Training;

/// <summary>Moves an optimizer's state in and out of a checkpoint (tensors under a prefix, JSON in the checkpoint state).</summary>
static class OptimizerState
{
    public static (IReadOnlyDictionary<string, Tensor> Tensors, string Json) Export(Optimizer optimizer)
    {
        var state = optimizer.StateDict();
        return (state.Tensors, state.Json);
    }

    public static void Import(Optimizer optimizer, Dictionary<string, Tensor> tensors, string json, string path, string group)
    {
        if (json.Length == 0) throw new InvalidDataException($"{path}: no state for optimizer group '{group}'");
        try { optimizer.LoadStateDict(new OptimizerStateDict(tensors, json)); }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or InvalidDataException)
        { throw new InvalidDataException($"{path}: the state of optimizer group '{group}' does not fit this run: {e.Message}", e); }
    }
}
