namespace GanForge.Functions;

// l = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100));
// dx = g (x - y) / max(x (1 - x), 1e-12), dy = g (max(log(1 - x), -100) - max(log x, -100))
// The dx formula is PyTorch's: it stays finite at x = 0 or 1, where the clamped logs have no slope.
internal sealed class BinaryCrossEntropy : Function
{
    const float LogFloor = -100f, Eps = 1e-12f;

    public static Tensor Apply(Tensor x, Tensor y)
    {
        var l = new Tensor(x.Shape);
        var xs = x.Data; var ys = y.Data; var ls = l.Data;
        for (int i = 0; i < xs.Length; i++)
        {
            float logX = MathF.Max(MathF.Log(xs[i]), LogFloor), log1mX = MathF.Max(MathF.Log(1f - xs[i]), LogFloor);
            ls[i] = -(ys[i] * logX + (1f - ys[i]) * log1mX);
        }
        return Record(new BinaryCrossEntropy(), l, x, y);
    }

    // max(log v, -100) = -100 + relu(log v + 100), differentiable in the core ops.
    static Tensor ClampedLog(Tensor v) => (v.Log() + 100f).Relu() + LogFloor;

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (x, y) = (Inputs[0], Inputs[1]);
        Tensor? dx = null, dy = null;
        if (NeedsGrad(0)) dx = g * (x - y) / ((x * (1f - x) - Eps).Relu() + Eps);
        if (NeedsGrad(1)) dy = g * (ClampedLog(1f - x) - ClampedLog(x));
        return [dx, dy];
    }
}
