namespace GanForge.Tensors.Tests;

public class SpatialTests
{
    const double Rtol = 1e-4, Atol = 1e-5;

    static readonly Dictionary<string, Func<Tensor, Tensor>> Ops = new()
    {
        ["avgpool_k3s2p1"] = x => Tensor.AvgPool2d(x, 3, 2, 1),
        ["avgpool_nopadcount_ceil"] = x => Tensor.AvgPool2d(x, 3, 2, 1, ceilMode: true, countIncludePad: false),
        ["avgpool_k2"] = x => Tensor.AvgPool2d(x, 2),
        ["maxpool_k3s2p1"] = x => Tensor.MaxPool2d(x, 3, 2, 1),
        ["maxpool_dil_ceil"] = x => Tensor.MaxPool2d(x, (2, 3), (2, 1), (1, 1), dilation: (2, 1), ceilMode: true),
        ["maxpool_k2"] = x => Tensor.MaxPool2d(x, 2),
        ["adaptiveavg_7x5_to_3x2"] = x => Tensor.AdaptiveAvgPool2d(x, (3, 2)),
        ["adaptiveavg_to_1"] = x => Tensor.AdaptiveAvgPool2d(x, 1),
        ["nearest_scale2"] = x => Tensor.Interpolate(x, 2.0),
        ["nearest_size5x7"] = x => Tensor.Interpolate(x, size: (5, 7)),
        ["bilinear_align_scale2"] = x => Tensor.Interpolate(x, 2.0, "bilinear", alignCorners: true),
        ["bilinear_size5x7"] = x => Tensor.Interpolate(x, size: (5, 7), mode: "bilinear", alignCorners: false),
        ["bilinear_scale1_5"] = x => Tensor.Interpolate(x, 1.5, "bilinear"),
        ["bilinear_down_size2x3"] = x => Tensor.Interpolate(x, size: (2, 3), mode: "bilinear"),
        ["pixelshuffle_r2"] = x => Tensor.PixelShuffle(x, 2),
        ["pixelunshuffle_r2"] = x => Tensor.PixelUnshuffle(x, 2),
        ["pad_constant"] = x => Tensor.Pad(x, (1, 2, 0, 3), "constant", 0.5f),
        ["pad_zero_crop"] = x => Tensor.Pad(x, (-1, 2, 1, -1)),
        ["pad_reflect"] = x => Tensor.Pad(x, (2, 1, 1, 2), "reflect"),
        ["pad_replicate"] = x => Tensor.Pad(x, (1, 2, 3, 0), "replicate"),
    };

    public static TheoryData<string> Names() => [.. Ops.Keys];

    [Theory, MemberData(nameof(Names))]
    public void Spatial_Fixture_MatchesPyTorchOutputAndGradient(string name)
    {
        var f = Fixtures.Load("conv", name);
        var x = f["x"].RequiresGrad_();
        var y = Ops[name](x);
        Fixtures.AssertClose(f["y"], y, Rtol, Atol, name + " y");
        var gx = Autograd.Grad((y * f["gy"]).Sum(), x);
        Fixtures.AssertClose(f["gx"], gx, Rtol, Atol, name + " dx");
    }

    [Theory, MemberData(nameof(Names))]
    public void Spatial_FiniteDifferences_FirstOrderMatches(string name)
    {
        var f = Fixtures.Load("conv", name);
        GradCheck.First(name, a => Ops[name](a[0]), [f["x"]]);
    }

    public static TheoryData<string> SecondOrder() =>
        ["avgpool_nopadcount_ceil", "bilinear_size5x7", "nearest_size5x7", "pad_reflect", "pad_constant", "adaptiveavg_7x5_to_3x2", "maxpool_k3s2p1"];

    [Theory, MemberData(nameof(SecondOrder))]
    public void Spatial_FiniteDifferences_SecondOrderMatches(string name)
    {
        var f = Fixtures.Load("conv", name);
        // The ops are linear, so a square gives a non-zero second derivative to check.
        GradCheck.Second(name, a => Ops[name](a[0]).Square(), [f["x"]], eps: 1e-2);
    }

    /// <summary>
    /// Max pooling without a graph takes the values in one pass, without the indices: the same bits as the pass that
    /// records them, ties (the first maximum wins) and NaN (it wins) included, for 2 x 2 windows of stride 2 (a pass of
    /// their own) and any other.
    /// </summary>
    [Theory]
    [InlineData(2, 2, 0)]
    [InlineData(3, 2, 1)]
    public void MaxPool2d_WithoutAGraph_SameBitsAsWithOne(int kernel, int stride, int padding)
    {
        // integers in [-2, 2] tie often; -0 and 0 tie in value with different bits; one NaN a plane
        var x = Tensor.RandInt(-2, 3, [3, 5, 9, 11], new Generator(4));
        var data = x.Data;
        for (int i = 0; i < data.Length; i += 13) data[i] = -0f;
        for (int plane = 0; plane < 15; plane++) data[plane * 99 + plane * 7 % 99] = float.NaN;
        var withGraph = Tensor.MaxPool2d(x.Detach().RequiresGrad_(), kernel, stride, padding).Detach();
        Tensor without;
        using (GradMode.NoGrad()) without = Tensor.MaxPool2d(x, kernel, stride, padding);
        Assert.Equal(withGraph.Data.ToArray().Select(BitConverter.SingleToInt32Bits), without.Data.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>
    /// The 2 x 2 stride-2 windows' pass finds each window's index as a plain scan of the window does (row by row, the
    /// first maximum, a NaN at once), on odd sides whose last row and column no window reads, over the threads.
    /// </summary>
    [Fact]
    public void MaxPool_HalvingWindows_IndicesAsAScanFindsThem()
    {
        int planes = 40, h = 33, w = 35, oh = 16, ow = 17;
        var x = Tensor.RandInt(-2, 3, [planes, h, w], new Generator(5)).Data.ToArray();
        for (int i = 0; i < x.Length; i += 97) x[i] = float.NaN;
        var idx = new int[planes * oh * ow];
        ThreadingTests.WithThreads(2, () => GanForge.Kernels.MaxPool.Indices(x, idx, planes, h, w, oh, ow, 2, 2, 2, 2, 0, 0, 1, 1));
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int best = -1;
                    foreach (var (a, b) in new[] { (0, 0), (0, 1), (1, 0), (1, 1) })
                    {
                        int at = (2 * i + a) * w + 2 * j + b;
                        float v = x[p * h * w + at];
                        if (best < 0 || v > x[p * h * w + best] || float.IsNaN(v)) best = at;
                        if (float.IsNaN(v)) break;
                    }
                    Assert.Equal(best, idx[(p * oh + i) * ow + j]);
                }
    }

    /// <summary>
    /// Max pooling's indices come from the shared pool and go back when the last node reading them is released: after a
    /// backward, not before; with a gradient graph, only once the gradient's own backward has run, which reads them and
    /// gives the same second-order gradient as a graph whose indices were never given back.
    /// </summary>
    [Fact]
    public void MaxPool2d_WithAGraph_IndicesBackToThePoolOnceReleased()
    {
        var rng = new Generator(7);
        var x = Tensor.Randn([2, 3, 8, 10], rng).RequiresGrad_();
        var weights = Tensor.Randn([2, 3, 4, 5], rng);
        var y = Tensor.MaxPool2d(x, 2);
        var map = Assert.IsType<GanForge.Functions.GatherMap>(Assert.IsType<GanForge.Functions.LinearSpatial>(y.GradFn).Map);
        Assert.False(map.IndicesReturned);
        (y * weights).Sum().Backward();
        Assert.True(map.IndicesReturned);
        var firstOrder = x.Grad!.Detach();

        // With a graph of the gradient, the forward's graph freed as it is taken: ∂L/∂x of L = Σ w·maxpool(x) is w
        // scattered to each window's maximum, a node that reads the indices; the gradient of Σ (∂L/∂x)² in w gathers
        // 2·∂L/∂x back through them, 2w exactly.
        var w = weights.Detach().RequiresGrad_();
        var z = Tensor.MaxPool2d(x, 2);
        var pooled = (GanForge.Functions.GatherMap)((GanForge.Functions.LinearSpatial)z.GradFn!).Map;
        var gx = Autograd.Grad([(z * w).Sum()], [x], createGraph: true, retainGraph: false)[0]!;
        Assert.False(pooled.IndicesReturned);
        gx.Square().Sum().Backward();
        Assert.True(pooled.IndicesReturned);
        Assert.Equal((weights * 2f).Data.ToArray(), w.Grad!.Data.ToArray());
        // the first-order gradient goes to each window's maximum: one weight per window, zero elsewhere
        Assert.Equal(2 * 3 * 4 * 5, firstOrder.Data.ToArray().Count(v => v != 0f));
    }

    [Fact]
    public void PixelUnshuffle_AfterPixelShuffle_IsIdentity()
    {
        var x = Tensor.Randn([2, 12, 3, 4], new Generator(1));
        Assert.Equal(x.ToArray(), Tensor.PixelUnshuffle(Tensor.PixelShuffle(x, 2), 2).ToArray());
    }

    [Fact]
    public void Pad_ReflectTooWide_Throws() =>
        Assert.Throws<ArgumentException>(() => Tensor.Pad(new Tensor(1, 1, 3, 3), (3, 0, 0, 0), "reflect"));

    [Fact]
    public void Interpolate_SizeAndScale_Throws() =>
        Assert.Throws<ArgumentException>(() => Tensor.Interpolate(new Tensor(1, 1, 3, 3), size: 6, scaleFactor: (2, 2)));

    [Fact]
    public void MaxPool2d_Rank3Input_ThrowsNamingOp()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.MaxPool2d(new Tensor(3, 4, 4), 2));
        Assert.StartsWith("MaxPool2d:", ex.Message);
    }
}
