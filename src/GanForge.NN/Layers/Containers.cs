using System.Collections;

namespace GanForge.NN;

/// <summary>Returns its input.</summary>
public sealed class Identity : Module, IPureLayer
{
    public override Tensor Forward(Tensor input) => input;
}

/// <summary>Flattens dims startDim..endDim (by default all but the batch dim).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module, IPureLayer
{
    public int StartDim { get; } = startDim;
    public int EndDim { get; } = endDim;
    public override Tensor Forward(Tensor input) => input.Flatten(StartDim, EndDim);
    protected override string ExtraRepr() => $"start_dim={StartDim}, end_dim={EndDim}";
}

/// <summary>Splits dim <paramref name="dim"/> into <paramref name="sizes"/> (one may be -1).</summary>
public sealed class Unflatten(int dim, int[] sizes) : Module, IPureLayer
{
    public int Dim { get; } = dim;
    /// <summary>The sizes dim <see cref="Dim"/> is split into (a copy; one may be -1).</summary>
    public int[] Sizes => [.. sizes];
    public override Tensor Forward(Tensor input)
    {
        int d = Shapes.NormalizeDim(Dim, input.Rank, "Unflatten");
        var inner = Shapes.InferReshape(sizes, input.Size(d), [input.Size(d)]);
        return input.Reshape([.. input.ShapeSpan[..d], .. inner, .. input.ShapeSpan[(d + 1)..]]);
    }
    protected override string ExtraRepr() => $"dim={Dim}, unflattened_size={Shapes.Format(sizes)}";
}

/// <summary>Children named "0", "1", ... applied in order.</summary>
public sealed class Sequential : Module, IEnumerable<Module>
{
    readonly List<Module> _modules = [];

    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends a module under the next index name.</summary>
    public Sequential Add(Module module)
    {
        RegisterModule(_modules.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _modules.Add(module);
        return this;
    }

    public int Count => _modules.Count;

    public Module this[int index] => _modules[index < 0 ? index + _modules.Count : index];

    /// <summary>
    /// Whether a normalisation and the ReLU or LeakyReLU after it run as one function: training-mode batch norm and
    /// instance norm without affine parameters or running statistics always (the normalised map never written), and where
    /// no graph is recorded eval-mode batch norm too, in place where the input is an intermediate of this container
    /// (true; the bench switches it to measure).
    /// </summary>
    internal static bool FuseNormActivation { get; set; } = true;

    /// <summary>
    /// Whether a Conv2d or an EqualConv2d and the ReLU, LeakyReLU or other <see cref="ILeakyRectifier"/> (slope 0 or more,
    /// gain 1 or more) after it run as one function (true; the bench and tests switch it): the same values and gradients,
    /// without the convolution's own output kept for the backward.
    /// </summary>
    internal static bool FuseConvActivation { get; set; } = true;

    /// <summary>
    /// Whether a <see cref="ReflectionPad2d"/> and the unpadded <see cref="Conv2d"/> after it run as one op where no graph is
    /// recorded and the direct kernels take the layer (CycleGAN's RGB layer in generation): the same bits without the
    /// padded map (97 MB at 256 images). True; the bench and tests switch it.
    /// </summary>
    internal static bool FuseReflectPadConv { get; set; } = true;

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        Tensor? viewed = null; // the intermediate whose buffer x shares, when x is a view of it
        for (int i = 0; i < _modules.Count; i++)
        {
            // x was made by a built-in layer, so nothing outside the graph holds it.
            bool owned = i > 0 && _modules[i - 1] is IPureLayer && !ReferenceEquals(x.Storage, input.Storage);
            bool consumedByLayer = _modules[i] is IPureLayer;
            Tensor? y = i + 1 >= _modules.Count ? null
                : _modules[i + 1] is ILeakyRectifier next ? TryForwardActivated(_modules[i], x, next, owned)
                : FuseReflectPadConv && _modules[i] is ReflectionPad2d pad && _modules[i + 1] is Conv2d conv ? conv.TryForwardReflectPadded(x, pad.Padding)
                : null;
            if (y != null) i++;   // the activation, or the convolution after the padding, ran in the same function
            else y = _modules[i].Forward(x);
            Tensor? nextViewed = null;
            if (owned && consumedByLayer)
            {
                if (ReferenceEquals(x.Storage, y.Storage)) nextViewed = viewed ?? x; // y is a view: its buffer lives on
                else Recycle(x, viewed, y);
            }
            viewed = nextViewed;
            x = y;
        }
        return x;
    }

    // Layer m and the activation after it as one function, where m can and its switch is on; else null.
    static Tensor? TryForwardActivated(Module m, Tensor x, ILeakyRectifier activation, bool owned) => m switch
    {
        INormThenActivation norm when FuseNormActivation && activation.Gain == 1f => norm.TryForwardActivated(x, activation.NegativeSlope, inPlace: owned),
        Conv2d conv when FuseConvActivation => conv.TryForwardActivated(x, activation.NegativeSlope, activation.Gain),
        EqualConv2d conv when FuseConvActivation => conv.TryForwardActivated(x, activation.NegativeSlope, activation.Gain),
        _ => null,
    };

    /// <summary>
    /// Without a graph the buffer of x is free now; with one, the engine frees it once the node that made
    /// it has run its backward (for a view, the node that made the viewed tensor).
    /// </summary>
    /// <remarks>
    /// When x has no graph but y has one (a frozen layer feeding a trainable one), the node that made y
    /// may have saved x (Linear keeps its input for the weight gradient), and x has no node of its own
    /// after which the engine could free it: its buffer is left to the GC.
    /// </remarks>
    static void Recycle(Tensor x, Tensor? viewed, Tensor y)
    {
        if (x.GradFn == null)
        {
            if (!y.RequiresGrad) StoragePool.Return(x.Storage);
            return;
        }
        x.RecycleAfterBackward = true;
        if (viewed != null) viewed.RecycleAfterBackward = true;
    }

    public IEnumerator<Module> GetEnumerator() => _modules.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Holds modules under "0", "1", ... so their parameters are registered; has no Forward.</summary>
public sealed class ModuleList : Module, IEnumerable<Module>
{
    readonly List<Module> _modules = [];

    public ModuleList(params Module[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    public ModuleList Add(Module module)
    {
        RegisterModule(_modules.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _modules.Add(module);
        return this;
    }

    public int Count => _modules.Count;

    public Module this[int index] => _modules[index < 0 ? index + _modules.Count : index];

    public IEnumerator<Module> GetEnumerator() => _modules.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
