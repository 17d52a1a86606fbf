using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The two convolution backends: oneDNN's primitives (when libdnnl.so.2 is installed) and im2col + GEMM,
/// each against the naive kernels and the PyTorch fixtures. Shares a collection with <see cref="ConvTests"/>
/// because it switches <see cref="Conv.ForceManaged"/>, a process-wide setting.
/// </summary>
[Collection("ConvBackend")]
public class ConvBackendTests
{
    /// <summary>A theory skipped, with the reason, where oneDNN cannot be loaded (CI installs libdnnl2).</summary>
    public sealed class DnnlTheoryAttribute : TheoryAttribute
    {
        public DnnlTheoryAttribute()
        {
            if (!Conv.DnnlAvailable)
                Skip = "oneDNN (libdnnl.so.2, Debian package libdnnl2) is not installed; the oneDNN convolution path is untested here";
        }
    }

    static (ConvGeometry Geom, Tensor X, Tensor W, Tensor Gy) Case(int s, int p, int d, int groups, int k, int size, int n)
    {
        var gen = new Generator(7);
        int ci = 2 * groups, co = 3 * groups, o = (size + 2 * p - d * (k - 1) - 1) / s + 1;
        var geom = new ConvGeometry(ci, size, size, co, o, o, k, k, s, s, p, p, d, d, groups);
        return (geom, Tensor.Randn([n, ci, size, size], gen), Tensor.Randn([co, ci / groups, k, k], gen), Tensor.Randn([n, co, o, o], gen));
    }

    [DnnlTheory, MemberData(nameof(ConvTests.Geometries), MemberType = typeof(ConvTests))]
    public void DnnlKernels_VariousGeometries_MatchNaive(int s, int p, int d, int groups, int k, int size, int n)
    {
        var (g, x, w, gy) = Case(s, p, d, groups, k, size, n);
        var (y, yRef) = (new Tensor(gy.Shape), new Tensor(gy.Shape));
        Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.Forward, x.Storage, w.Storage, y.Storage, n, g), "oneDNN forward could not run");
        Conv.ForwardNaive(x.Data, w.Data, yRef.Data, n, g);
        Fixtures.AssertClose(yRef, y, 1e-4, 1e-4, "dnnl forward");
        var (dx, dxRef) = (new Tensor(x.Shape), new Tensor(x.Shape));
        Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.BackwardData, gy.Storage, w.Storage, dx.Storage, n, g), "oneDNN backward-data could not run");
        Conv.TransposeNaive(gy.Data, w.Data, dxRef.Data, n, g);
        Fixtures.AssertClose(dxRef, dx, 1e-4, 1e-4, "dnnl backward data");
        var (dw, dwRef) = (new Tensor(w.Shape), new Tensor(w.Shape));
        Assert.True(ConvDnnl.TryRun(ConvDnnl.Kind.BackwardWeights, x.Storage, gy.Storage, dw.Storage, n, g), "oneDNN backward-weights could not run");
        Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
        Fixtures.AssertClose(dwRef, dw, 1e-4, 1e-4, "dnnl backward weights");
    }

    [DnnlTheory, MemberData(nameof(ConvTests.Geometries), MemberType = typeof(ConvTests))]
    public void DnnlAndManaged_VariousGeometries_Agree(int s, int p, int d, int groups, int k, int size, int n)
    {
        var (g, x, w, gy) = Case(s, p, d, groups, k, size, n);
        Tensor[] Run(bool managed)
        {
            var previous = Conv.ForceManaged;
            try
            {
                Conv.ForceManaged = managed;
                Assert.Equal(managed ? "managed" : "dnnl", Conv.Backend);
                var (y, dx, dw) = (new Tensor(gy.Shape), new Tensor(x.Shape), new Tensor(w.Shape));
                Conv.Forward(x.Storage, w.Storage, y.Storage, n, g);
                Conv.Transpose(gy.Storage, w.Storage, dx.Storage, n, g);
                Conv.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
                return [y, dx, dw];
            }
            finally { Conv.ForceManaged = previous; }
        }
        var (a, b) = (Run(managed: true), Run(managed: false));
        for (int i = 0; i < 3; i++) Fixtures.AssertClose(a[i], b[i], 1e-4, 1e-4, $"managed vs dnnl, kernel {i}");
    }

    [Theory, MemberData(nameof(ConvTests.Names), MemberType = typeof(ConvTests))]
    public void Conv_FixtureManagedBackend_MatchesPyTorch(string name) => WithBackend(true, () => new ConvTests().Conv_Fixture_MatchesPyTorchOutputAndGradients(name));

    [DnnlTheory, MemberData(nameof(ConvTests.Names), MemberType = typeof(ConvTests))]
    public void Conv_FixtureDnnlBackend_MatchesPyTorch(string name) => WithBackend(false, () => new ConvTests().Conv_Fixture_MatchesPyTorchOutputAndGradients(name));

    [Fact]
    public void Backend_ForcedManaged_ReportsManaged() => WithBackend(true, () => Assert.Equal("managed", Conv.Backend));

    static void WithBackend(bool managed, Action body)
    {
        var previous = Conv.ForceManaged;
        try { Conv.ForceManaged = managed; body(); }
        finally { Conv.ForceManaged = previous; }
    }
}
