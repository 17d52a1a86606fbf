using System.Collections;

namespace GanForge.NN;

/// <summary>Returns its input.</summary>
public sealed class Identity : Module
{
    public override Tensor Forward(Tensor input) => input;
}

/// <summary>Flattens dims startDim..endDim (by default all but the batch dim).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    public override Tensor Forward(Tensor input) => input.Flatten(startDim, endDim);
    protected override string ExtraRepr() => $"start_dim={startDim}, end_dim={endDim}";
}

/// <summary>Splits dim <paramref name="dim"/> into <paramref name="sizes"/> (one may be -1).</summary>
public sealed class Unflatten(int dim, int[] sizes) : Module
{
    public override Tensor Forward(Tensor input)
    {
        int d = Shapes.NormalizeDim(dim, input.Rank, "Unflatten");
        var inner = Shapes.InferReshape(sizes, input.Size(d), [input.Size(d)]);
        return input.Reshape([.. input.ShapeSpan[..d], .. inner, .. input.ShapeSpan[(d + 1)..]]);
    }
    protected override string ExtraRepr() => $"dim={dim}, unflattened_size={Shapes.Format(sizes)}";
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

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var m in _modules) x = m.Forward(x);
        return x;
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
