namespace GanForge;

public sealed partial class Tensor
{
    public Tensor Sin() => Functions.Sin.Apply(this);
    public Tensor Cos() => Functions.Cos.Apply(this);

    /// <summary>1 / sqrt(x).</summary>
    public Tensor Rsqrt() => Functions.Rsqrt.Apply(this);

    /// <summary>1 / x.</summary>
    public Tensor Reciprocal() => Functions.Reciprocal.Apply(this);

    /// <summary>log(1 + x), accurate for small x.</summary>
    public Tensor Log1p() => Functions.Log1p.Apply(this);

    /// <summary>this ^ exponent elementwise with broadcasting, differentiable in both.</summary>
    /// <remarks>d/da = b a^(b-1); d/db = a^b log a, taken as 0 where a = 0 and b &gt;= 0 (as PyTorch).</remarks>
    public Tensor Pow(Tensor exponent) => Functions.Pow.Apply(this, exponent);
}
