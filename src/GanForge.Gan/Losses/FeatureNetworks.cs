using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Gan.Losses;

/// <summary>
/// Fixed feature networks for content losses (SRGAN's loss on VGG activations), by name. The Gan layer holds none of
/// its own: a layer above it registers them (GanForge.Metrics registers <see cref="Evaluator"/>, the built-in
/// evaluator's convolutional features, and the `ganforge` command line does so at start), so the model zoo does not
/// depend on the metrics.
/// </summary>
public static class FeatureNetworks
{
    /// <summary>The built-in Fashion-MNIST evaluator's convolutional features, when registered.</summary>
    public const string Evaluator = "evaluator";

    static readonly Dictionary<string, (Func<Module> Create, string Description)> Registered = [];
    static readonly Lock Gate = new();

    /// <summary>
    /// Registers <paramref name="create"/>: it builds a module mapping images (N,C,H,W) in [-1,1], of any channels and
    /// size, to feature maps, in eval mode, its weights fixed.
    /// </summary>
    public static void Register(string name, Func<Module> create, string description)
    {
        lock (Gate) Registered[name] = (create, description);
    }

    /// <summary>True when a network of this name is registered.</summary>
    public static bool Has(string name) { lock (Gate) return Registered.ContainsKey(name); }

    /// <summary>One line on the network, for logs.</summary>
    public static string Describe(string name) { lock (Gate) return Registered.TryGetValue(name, out var r) ? r.Description : name; }

    /// <summary>A fresh copy of the network <paramref name="name"/>, frozen; a clear error naming <paramref name="who"/> when none is registered.</summary>
    public static Module Create(string name, string who)
    {
        Func<Module> create;
        lock (Gate)
            create = Registered.TryGetValue(name, out var r) ? r.Create
                : throw new InvalidOperationException($"{who}: no feature network '{MessageText.Quote(name)}' is registered (the ganforge command registers '{Evaluator}'); use --set content=mse for a loss on pixels");
        var net = create();
        net.RequiresGrad(false);
        net.Eval();
        return net;
    }
}
