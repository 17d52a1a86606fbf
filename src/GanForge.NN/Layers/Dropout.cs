namespace GanForge.NN;

/// <summary>Zeroes elements with probability p in training, scaling the rest by 1/(1-p); identity in eval.</summary>
public sealed class Dropout(float p = 0.5f, Generator? generator = null) : Module, IPureLayer
{
    public float P { get; } = p;
    public override Tensor Forward(Tensor input) => F.Dropout(input, P, Training, generator);
    protected override string ExtraRepr() => $"p={P}";
}

/// <summary>Zeroes whole channels of (N,C,H,W) with probability p in training; identity in eval.</summary>
public sealed class Dropout2d(float p = 0.5f, Generator? generator = null) : Module, IPureLayer
{
    public float P { get; } = p;
    public override Tensor Forward(Tensor input) => F.Dropout2d(input, P, Training, generator);
    protected override string ExtraRepr() => $"p={P}";
}
