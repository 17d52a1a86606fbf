namespace GanForge.Tests;

/// <summary>
/// Finite-difference gradient checks, first and second order. A function of several tensors is
/// reduced to a scalar by a fixed random projection, then each input's analytic gradient is compared
/// with central differences computed in double from float32 evaluations.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks d(sum(f(x) * w))/dx for every input against central differences.
    /// Returns nothing; fails the test with the op name, input index and worst element.
    /// </summary>
    public static void First(string op, Func<Tensor[], Tensor> f, Tensor[] inputs,
        double eps = 1e-3, double atol = 2e-3, double rtol = 2e-2, int seed = 7)
    {
        foreach (var x in inputs) x.RequiresGrad = true;
        var y0 = f(inputs);
        var w = Tensor.Randn(y0.Shape, new Generator((ulong)seed));
        double Objective() { using var _ = GradMode.NoGrad(); return Dot(f(inputs), w); }

        var grads = Autograd.Grad([(f(inputs) * w).Sum()], inputs, allowUnused: true);
        for (int k = 0; k < inputs.Length; k++)
            Compare(op, $"input {k}", inputs[k], grads[k], Objective, eps, atol, rtol);
    }

    /// <summary>
    /// Second-order check: with v fixed, the gradient of g(x) = sum(grad_x(sum(f(x) * w)) * v),
    /// computed by double backward, against central differences of g.
    /// </summary>
    public static void Second(string op, Func<Tensor[], Tensor> f, Tensor[] inputs,
        double eps = 1e-3, double atol = 5e-3, double rtol = 5e-2, int seed = 11)
    {
        foreach (var x in inputs) x.RequiresGrad = true;
        var w = Tensor.Randn(f(inputs).Shape, new Generator((ulong)seed));
        var vs = inputs.Select((x, i) => Tensor.Randn(x.Shape, new Generator((ulong)(seed + 1 + i)))).ToArray();

        Tensor G(bool createGraph)
        {
            var g = Autograd.Grad([(f(inputs) * w).Sum()], inputs, createGraph: createGraph, allowUnused: true);
            Tensor total = Tensor.Scalar(0f);
            for (int i = 0; i < g.Length; i++) if (g[i] != null) total = total + (g[i]! * vs[i]).Sum();
            return total;
        }
        double Objective() => G(false).Item();

        var second = Autograd.Grad([G(true)], inputs, allowUnused: true);
        for (int k = 0; k < inputs.Length; k++)
            Compare(op + " (second order)", $"input {k}", inputs[k], second[k], Objective, eps, atol, rtol);
    }

    static void Compare(string op, string what, Tensor x, Tensor? analytic, Func<double> objective,
        double eps, double atol, double rtol)
    {
        var data = x.Data;
        for (int i = 0; i < data.Length; i++)
        {
            float orig = data[i];
            data[i] = (float)(orig + eps); double plus = objective();
            data[i] = (float)(orig - eps); double minus = objective();
            data[i] = orig;
            double numeric = (plus - minus) / (2 * eps);
            double a = analytic == null ? 0 : analytic.Data[i];
            if (Math.Abs(a - numeric) > atol + rtol * Math.Abs(numeric))
                Assert.Fail($"{op}: gradient of {what} {Shapes.Format(x.ShapeSpan)} at element {i}: analytic {a:G6}, numeric {numeric:G6}");
        }
    }

    static double Dot(Tensor a, Tensor b)
    {
        double s = 0;
        var x = a.Data; var y = b.Data;
        for (int i = 0; i < x.Length; i++) s += (double)x[i] * y[i];
        return s;
    }
}
