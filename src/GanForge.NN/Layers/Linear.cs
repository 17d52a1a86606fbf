namespace GanForge.NN;

/// <summary>
/// y = x W^T + b (as torch.nn.Linear): weight (out,in) initialised kaiming-uniform with a = sqrt(5),
/// i.e. U(±1/sqrt(in)), and bias U(±1/sqrt(in)).
/// </summary>
public sealed class Linear : Module, IPureLayer
{
    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>The registered weight (out,in). After <see cref="SpectralNorm.Apply"/> this is weight_orig.</summary>
    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear: features must be positive, got in={inFeatures}, out={outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Init.KaimingUniform(new Tensor(outFeatures, inFeatures), MathF.Sqrt(5f), generator: generator));
        if (bias)
        {
            float bound = 1f / MathF.Sqrt(inFeatures);
            Bias = RegisterParameter("bias", Init.Uniform(new Tensor(outFeatures), -bound, bound, generator));
        }
        else RegisterNullParameter("bias");
    }

    public override Tensor Forward(Tensor input)
    {
        var weight = ForwardParameter("weight")!;
        return ReadOnce("weight", weight, F.Linear(input, weight, ForwardParameter("bias")));
    }

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Bias != null}";
}
