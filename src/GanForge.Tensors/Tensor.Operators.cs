using GanForge.Functions;

namespace GanForge;

public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => Functions.Add.Apply(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Functions.Sub.Apply(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Functions.Mul.Apply(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Functions.Div.Apply(a, b);
    public static Tensor operator -(Tensor a) => Functions.Neg.Apply(a);

    public static Tensor operator +(Tensor a, float s) => Functions.AddScalar.Apply(a, s);
    public static Tensor operator +(float s, Tensor a) => Functions.AddScalar.Apply(a, s);
    public static Tensor operator -(Tensor a, float s) => Functions.AddScalar.Apply(a, -s);
    public static Tensor operator -(float s, Tensor a) => Functions.AddScalar.Apply(Functions.Neg.Apply(a), s);
    public static Tensor operator *(Tensor a, float s) => Functions.MulScalar.Apply(a, s);
    public static Tensor operator *(float s, Tensor a) => Functions.MulScalar.Apply(a, s);
    public static Tensor operator /(Tensor a, float s) => Functions.MulScalar.Apply(a, 1f / s);
    public static Tensor operator /(float s, Tensor a) => Functions.MulScalar.Apply(Functions.PowScalar.Apply(a, -1f), s);
}
