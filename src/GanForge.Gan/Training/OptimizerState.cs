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

    public static void Import(Optimizer optimizer, Dictionary<string, Tensor> tensors, string json, string path)
    {
        try { optimizer.LoadStateDict(new OptimizerStateDict(tensors, json)); }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or InvalidDataException)
        { throw new InvalidDataException($"{path}: optimizer state does not fit this run: {e.Message}", e); }
    }
}
