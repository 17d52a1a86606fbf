namespace GanForge;

/// <summary>
/// Optional checks (as torch.autograd.detect_anomaly): every recorded op's output and every
/// computed gradient is scanned for NaN/Inf, and the first op that produced one is named.
/// Slow; for debugging. Per thread, like <see cref="GradMode"/>.
/// </summary>
public static class AnomalyMode
{
    [ThreadStatic] static bool _enabled;

    public static bool Enabled { get => _enabled; set => _enabled = value; }

    /// <summary>Enables anomaly detection until the returned scope is disposed.</summary>
    public static IDisposable Enable() { var prev = Enabled; Enabled = true; return new Restore(prev); }

    sealed class Restore(bool previous) : IDisposable { public void Dispose() => Enabled = previous; }

    internal static void CheckForward(string op, Tensor output)
    {
        if (!Enabled) return;
        if (FirstNonFinite(output.Data) is int i)
            throw new ArithmeticException($"Anomaly: {op} produced {output.Data[i]} at element {i} of its output {Shapes.Format(output.ShapeSpan)}");
    }

    internal static void CheckGradients(Function fn, Tensor?[] grads)
    {
        for (int k = 0; k < grads.Length; k++)
            if (grads[k] is { } g && FirstNonFinite(g.Data) is int i)
                throw new ArithmeticException($"Anomaly: {fn.Name} returned {g.Data[i]} at element {i} of the gradient for input {k} {Shapes.Format(g.ShapeSpan)}");
    }

    static int? FirstNonFinite(ReadOnlySpan<float> x)
    {
        for (int i = 0; i < x.Length; i++) if (!float.IsFinite(x[i])) return i;
        return null;
    }
}
