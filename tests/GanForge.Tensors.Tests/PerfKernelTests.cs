using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>The fast kernels written for speed, each against its naive reference.</summary>
public class PerfKernelTests
{
    [Theory]
    [InlineData(37, 0.2f, 1f)]
    [InlineData(200_003, 0.2f, 1f)] // large enough to split across threads
    [InlineData(1000, 0f, 1f)]
    [InlineData(200_003, 0.2f, 1.4142135f)] // StyleGAN's activation, the gain in the same pass
    public void LeakyReluKernels_VariousSizes_MatchNaive(int count, float slope, float gain)
    {
        var gen = new Generator(3);
        var x = Tensor.Randn([count], gen); var g = Tensor.Randn([count], gen);
        var (y1, y2) = (new float[count], new float[count]);
        Activation.LeakyRelu(x.Storage, y1, count, slope, gain); Activation.LeakyReluNaive(x.Data, y2, slope, gain);
        AssertClose(y2, y1);
        Activation.LeakyReluBackward(x.Storage, g.Storage, y1, count, slope, gain); Activation.LeakyReluBackwardNaive(x.Data, g.Data, y2, slope, gain);
        AssertClose(y2, y1);
    }

    // The separable resampling kernels (their column pass gathers 8 outputs at a time once a row has 8 or more) against
    // the dense sum y[p,i,j] = Σ_a Σ_b Rh[i,a]·x[p,a,b]·Rw[j,b] and its adjoint, on maps with 1, 2 and 4 taps per output.
    // Sides of 16 and up take the AVX-512 paths (rows a multiple of 16 a vector pass, blocks of 16 outputs by
    // permutes, the rest of a row scalar); 13 and 8 the general ones. Bilinear doubling of widths a multiple of 8 runs
    // on its own kernel (Bilinear2x), of 12 on the general map.
    public static TheoryData<string, int> SeparableMaps => new()
    {
        { "bilinear x2", 16 }, { "bilinear x2", 32 }, { "bilinear x2", 24 }, { "bilinear 13->32", 13 }, { "avgpool 2", 16 },
        { "avgpool 2", 32 }, { "avgpool 2", 48 }, { "adaptive to 6", 16 }, { "adaptive to 6", 64 }, { "reflect pad 3", 16 },
        { "reflect pad 3", 32 }, { "nearest x2", 16 }, { "nearest x2", 8 },
        // padding as one index map (a gather, its adjoint a scatter-add): cyclegan32's 8 -> 10, odd sizes, empty and cropped edges
        { "reflect pad 1", 8 }, { "replicate pad 2", 7 }, { "zero pad 2-1", 5 }, { "crop and pad", 9 },
        // doubling by Bilinear2x (widths a multiple of 8): 8 on AVX2 vectors alone, 40 on two AVX-512 vectors and an AVX2
        // one; one row (the edge on both sides) and three rows of 24
        { "bilinear x2", 8 }, { "bilinear x2", 40 }, { "bilinear x2", 12 }, { "bilinear x2 one row of 16", 1 }, { "bilinear x2 rows of 24", 3 },
    };

    [Theory, MemberData(nameof(SeparableMaps))]
    public void SeparableKernels_ResamplingMaps_MatchDenseSums(string name, int h)
    {
        (AxisMap rows, AxisMap cols) = name switch
        {
            "bilinear x2" => (AxisMap.Linear(h, 2 * h, false, 0.5), AxisMap.Linear(h, 2 * h, false, 0.5)),
            "bilinear x2 one row of 16" or "bilinear x2 rows of 24" =>
                (AxisMap.Linear(h, 2 * h, false, 0.5), AxisMap.Linear(h == 1 ? 16 : 24, h == 1 ? 32 : 48, false, 0.5)),
            "bilinear 13->32" => (AxisMap.Linear(h, 32, false, 13.0 / 32), AxisMap.Linear(h, 32, false, 13.0 / 32)),
            "avgpool 2" => (AxisMap.AvgPool(h, h / 2, 2, 2, 0, true), AxisMap.AvgPool(h, h / 2, 2, 2, 0, true)),
            "adaptive to 6" => (AxisMap.AdaptiveAvg(h, 6), AxisMap.AdaptiveAvg(h, 6)),
            "reflect pad 3" => (AxisMap.Pad(h, 3, 3, PadMode.Reflect), AxisMap.Pad(h, 3, 3, PadMode.Reflect)),
            "reflect pad 1" => (AxisMap.Pad(h, 1, 1, PadMode.Reflect), AxisMap.Pad(h, 1, 1, PadMode.Reflect)),
            "replicate pad 2" => (AxisMap.Pad(h, 2, 2, PadMode.Replicate), AxisMap.Pad(h, 2, 2, PadMode.Replicate)),
            "zero pad 2-1" => (AxisMap.Pad(h, 2, 1, PadMode.Constant), AxisMap.Pad(h, 1, 2, PadMode.Constant)),
            "crop and pad" => (AxisMap.Pad(h, -1, 2, PadMode.Constant), AxisMap.Pad(h, 3, -2, PadMode.Reflect)),
            _ => (AxisMap.Nearest(h, 2 * h, 0.5), AxisMap.Nearest(h, 2 * h, 0.5)),
        };
        int planes = 6, oh = rows.OutSize, ow = cols.OutSize, w = cols.InSize;
        var gen = new Generator(5);
        var x = Tensor.Randn([planes * h * w], gen).Storage; var g = Tensor.Randn([planes * oh * ow], gen).Storage;
        var (y, dx) = (new float[planes * oh * ow], new float[planes * h * w]);
        Separable.Forward(x, y, planes, rows, cols);
        Separable.Adjoint(g, dx, planes, rows, cols);
        double[,] Dense(AxisMap m)
        {
            var d = new double[m.OutSize, m.InSize];
            for (int o = 0; o < m.OutSize; o++) for (int e = m.Ptr[o]; e < m.Ptr[o + 1]; e++) d[o, m.Src[e]] += m.Weight[e];
            return d;
        }
        var (rh, rw) = (Dense(rows), Dense(cols));
        var (yRef, dxRef) = (new float[y.Length], new float[dx.Length]);
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++) for (int j = 0; j < ow; j++) for (int a = 0; a < h; a++) for (int b = 0; b < w; b++)
            {
                yRef[(p * oh + i) * ow + j] += (float)(rh[i, a] * rw[j, b] * x[(p * h + a) * w + b]);
                dxRef[(p * h + a) * w + b] += (float)(rh[i, a] * rw[j, b] * g[(p * oh + i) * ow + j]);
            }
        AssertClose(yRef, y, 1e-5f);
        AssertClose(dxRef, dx, 1e-5f);
    }

    // Padding by planes (PadPlanes, AVX-512: each sixteen floats of the padded plane one permute of the input plane, or a
    // gather) against the index map's gather and scatter-add, bit for bit: the adjoint adds each input's readers in the
    // scatter's order. Reflection, replication (an edge read 21 times), constant and cropped edges; planes of one to
    // hundreds of vectors with tails; wide rows whose readers lie apart (gathers); a plane past MaxOutputs (the index map).
    public static TheoryData<string, int, int, int, int, int> PaddingMaps => new()
    {
        { "reflect", 8, 8, 1, 1, 256 }, { "reflect", 32, 32, 3, 3, 5 }, { "reflect", 7, 19, 2, 5, 4 }, { "replicate", 9, 5, 20, 1, 3 },
        { "constant", 5, 33, 2, -1, 4 }, { "constant", 9, 17, -1, 16, 3 }, { "reflect", 6, 20, 19, 19, 2 }, { "reflect", 1, 3, 2, 1, 7 },
        { "reflect", 100, 100, 3, 3, 2 },
    };

    [Theory, MemberData(nameof(PaddingMaps))]
    public void PadPlanes_SameBitsAsTheIndexMap(string mode, int h, int w, int before, int after, int planes)
    {
        var pm = Enum.Parse<PadMode>(mode, ignoreCase: true);
        var (rows, cols) = (AxisMap.Pad(h, Math.Max(before, 0), Math.Max(after, 0), pm == PadMode.Constant ? pm : PadMode.Replicate),
            AxisMap.Pad(w, before, after, pm));
        var gen = new Generator(9);
        var x = Tensor.Randn([planes * h * w], gen).Storage;
        var g = Tensor.Randn([planes * rows.OutSize * cols.OutSize], gen).Storage;
        (float[] Y, float[] Dx) Run(bool byPlanes)
        {
            bool saved = PadPlanes.Enabled;
            PadPlanes.Enabled = byPlanes;
            try
            {
                var (y, dx) = (new float[g.Length], new float[x.Length]);
                Array.Fill(y, float.NaN); Array.Fill(dx, float.NaN);   // both overwrite every float
                Separable.Forward(x, y, planes, rows, cols);
                Separable.Adjoint(g, dx, planes, rows, cols);
                return (y, dx);
            }
            finally { PadPlanes.Enabled = saved; }
        }
        var (planeY, planeDx) = Run(byPlanes: true);
        var (mapY, mapDx) = Run(byPlanes: false);
        Assert.Equal(mapY, planeY);
        Assert.Equal(mapDx, planeDx);
        Assert.Contains(mapDx, v => v != 0f);
    }

    [Fact]
    public void PadPlanes_RunOnPlanesUpToTheirLimit()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        var cyclegan = AxisMap.Pad(8, 1, 1, PadMode.Reflect);
        Assert.NotNull(PadPlanes.For(cyclegan, cyclegan));
        var large = AxisMap.Pad(100, 3, 3, PadMode.Reflect);
        Assert.Null(PadPlanes.For(large, large));
        Assert.NotNull(PadPlanes.For(large, AxisMap.Pad(8, 1, 1, PadMode.Reflect)));
    }

    static void AssertClose(float[] expected, float[] actual, float scaleTolerance)
    {
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= scaleTolerance * scale, $"element {i}: {actual[i]}, expected {expected[i]}");
    }

    static void AssertClose(float[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * Math.Abs(expected[i]), $"element {i}: {actual[i]}, expected {expected[i]}");
    }

    [Theory]
    [InlineData(4, 3, 37)]   // (N,C,H*W) with a tail after the vector loop
    [InlineData(16, 300, 1)] // (N,C): the row-wise path
    [InlineData(2, 5, 64)]
    public void BatchNormKernels_VariousShapes_MatchNaive(int n, int c, int inner)
    {
        var gen = new Generator(4);
        var x = Tensor.Randn([n, c, inner], gen); var g = Tensor.Randn([n, c, inner], gen);
        var data = x.Data;
        for (int i = 0; i < data.Length; i++) data[i] = data[i] * 3f + 5f; // an offset the variance must not suffer from
        var w = Tensor.Randn([c], gen).ToArray(); var b = Tensor.Randn([c], gen).ToArray();
        var (y1, y2) = (new Tensor(x.Shape), new Tensor(x.Shape));
        var (m1, v1, istd) = (new float[c], new float[c], new float[c]);
        var (m2, v2) = (new float[c], new float[c]);
        BatchNorm.Forward(x.Storage, y1.Storage, n, c, inner, w, b, 1e-5f, m1, v1, istd);
        BatchNorm.ForwardNaive(x.Data, y2.Data, n, c, inner, w, b, 1e-5f, m2, v2);
        Fixtures.AssertClose(y2, y1, 1e-4, 1e-4, "y");
        Fixtures.AssertClose(Tensor.Wrap(m2, [c]), Tensor.Wrap(m1, [c]), 1e-5, 1e-5, "mean");
        Fixtures.AssertClose(Tensor.Wrap(v2, [c]), Tensor.Wrap(v1, [c]), 1e-4, 1e-5, "var");

        var (dx1, dx2) = (new Tensor(x.Shape), new Tensor(x.Shape));
        var (dw1, dw2, db1, db2) = (new float[c], new float[c], new float[c], new float[c]);
        BatchNorm.Backward(x.Storage, g.Storage, n, c, inner, m1, istd, w, dx1.Storage, dw1, db1);
        BatchNorm.BackwardNaive(x.Data, g.Data, n, c, inner, 1e-5f, w, dx2.Data, dw2, db2);
        Fixtures.AssertClose(dx2, dx1, 1e-3, 1e-4, "dx");
        Fixtures.AssertClose(Tensor.Wrap(dw2, [c]), Tensor.Wrap(dw1, [c]), 1e-3, 1e-4, "dw");
        Fixtures.AssertClose(Tensor.Wrap(db2, [c]), Tensor.Wrap(db1, [c]), 1e-4, 1e-4, "db");

        var (s, sh) = (new float[c], new float[c]);
        for (int ch = 0; ch < c; ch++) { s[ch] = istd[ch] * w[ch]; sh[ch] = b[ch] - m1[ch] * s[ch]; }
        var y3 = new Tensor(x.Shape);
        BatchNorm.Affine(x.Storage, y3.Storage, n, c, inner, s, sh);
        Fixtures.AssertClose(y2, y3, 1e-4, 1e-4, "affine");
    }
}

/// <summary>The GEMM split across threads (by columns when N >= M, else by rows), against the reference.</summary>
public class BatchNormLanesTests
{
    // The two ways of one pass over a channel: on sixteen lanes with rows fetched ahead, and a span call a row without.
    // They make the same IEEE operations on each float in the same order, so the same bits on any processor.
    static T Either<T>(bool lanes, Func<T> run)
    {
        var (wasLanes, wasAhead) = (BatchNorm.OnLanes, BatchNorm.RowsAhead);
        (BatchNorm.OnLanes, BatchNorm.RowsAhead) = (lanes, lanes ? 4 : 0);
        try { return run(); }
        finally { (BatchNorm.OnLanes, BatchNorm.RowsAhead) = (wasLanes, wasAhead); }
    }

    [GemmTests.Avx512Theory]
    [InlineData(6, 5, 49, 0.2f)]      // dcgan28's 7 x 7: three whole vectors and one float in a masked row end, rows fetched ahead
    [InlineData(5, 3, 16, 0f)]        // one whole vector a row, ReLU
    [InlineData(7, 2, 7, null)]       // a masked row end only, no activation
    [InlineData(3, 4, 300, 0.2f)]     // eighteen whole vectors and a masked end of twelve floats a row
    [InlineData(2, 3, 600, 0.2f)]     // rows too long to fetch ahead
    [InlineData(2, 3, 33, -0.5f)]     // a negative slope
    public void OnLanes_SameBitsAsSpanCalls(int n, int c, int inner, float? slope)
    {
        var gen = new Generator(9);
        var x = Tensor.Randn([n * c * inner], gen).ToArray();
        var g = Tensor.Randn([n * c * inner], gen).ToArray();
        var w = Tensor.Randn([c], gen).ToArray(); var b = Tensor.Randn([c], gen).ToArray();
        (float[] Y, float[] Mean, float[] InvStd, float[] Dx, float[] Dw, float[] Db, float[] DwOnly) Run()
        {
            var (y, mean, variance, invstd) = (new float[x.Length], new float[c], new float[c], new float[c]);
            BatchNorm.Forward(x, y, n, c, inner, w, b, 1e-5f, mean, variance, invstd, slope);
            var (dx, dw, db, dwOnly) = (new float[x.Length], new float[c], new float[c], new float[c]);
            (float, float[]?)? activation = slope is float s ? (s, b) : null;
            BatchNorm.Backward(x, g, n, c, inner, mean, invstd, w, dx, dw, db, activation);
            BatchNorm.Backward(x, g, n, c, inner, mean, invstd, w, null, dwOnly, null, activation);
            return (y, mean, invstd, dx, dw, db, dwOnly);
        }
        var (spans, lanes) = (Either(false, Run), Either(true, Run));
        Assert.Equal(spans.Y, lanes.Y);
        Assert.Equal(spans.Mean, lanes.Mean);
        Assert.Equal(spans.InvStd, lanes.InvStd);
        Assert.Equal(spans.Dx, lanes.Dx);
        Assert.Equal(spans.Dw, lanes.Dw);
        Assert.Equal(spans.Db, lanes.Db);
        Assert.Equal(spans.Dw, lanes.DwOnly);
        Assert.Contains(lanes.Y, v => v != 0f);
        Assert.Contains(lanes.Dx, v => v != 0f);
    }

    [GemmTests.Avx512Fact]
    public void OnLanes_InPlace_SameBitsAsIntoAnotherBuffer()
    {
        int n = 4, c = 3, inner = 49;
        var x = Tensor.Randn([n * c * inner], new Generator(10)).ToArray();
        var (y, inPlace) = (new float[x.Length], (float[])x.Clone());
        var (m1, v1, s1, m2, v2, s2) = (new float[c], new float[c], new float[c], new float[c], new float[c], new float[c]);
        Either(true, () => { BatchNorm.Forward(x, y, n, c, inner, null, null, 1e-5f, m1, v1, s1, 0.2f); return 0; });
        Either(true, () => { BatchNorm.Forward(inPlace, inPlace, n, c, inner, null, null, 1e-5f, m2, v2, s2, 0.2f); return 0; });
        Assert.Equal(y, inPlace);
        Assert.NotEqual(x, inPlace);
    }

    [GemmTests.Avx512Fact]
    public void OnLanes_ShortBuffer_SaysWhichAndWhatItNeeds()
    {
        var e = Assert.Throws<ArgumentException>(() => Either(true, () =>
        {
            BatchNorm.Forward(new float[2 * 3 * 49], new float[100], 2, 3, 49, null, null, 1e-5f, new float[3], new float[3], new float[3]);
            return 0;
        }));
        Assert.Equal("BatchNorm: y holds 100 floats, (2, 3, 49) needs 294", e.Message);
    }

    // The (N, C) path works in blocks of ColumnsPerBlock columns; every pass is column by column, so each column's values
    // are those of the column alone.
    [Theory]
    [InlineData(8, 1100, 0f)]     // two threads' ranges of 550: a whole block and a part of one each
    [InlineData(5, 1025, null)]
    public void Rows_InBlocks_EachColumnAsAlone(int n, int c, float? slope)
    {
        var gen = new Generator(12);
        var x = Tensor.Randn([n * c], gen).ToArray();
        var g = Tensor.Randn([n * c], gen).ToArray();
        var w = Tensor.Randn([c], gen).ToArray(); var b = Tensor.Randn([c], gen).ToArray();
        var (y, mean, variance, invstd) = (new float[n * c], new float[c], new float[c], new float[c]);
        BatchNorm.Forward(x, y, n, c, 1, w, b, 1e-5f, mean, variance, invstd, slope);
        var (dx, dw, db) = (new float[n * c], new float[c], new float[c]);
        (float, float[]?)? activation = slope is float s ? (s, b) : null;
        BatchNorm.Backward(x, g, n, c, 1, mean, invstd, w, dx, dw, db, activation);
        foreach (int j in new[] { 0, 511, 512, 549, 550, 1024, c - 1 })
        {
            float[] Column(float[] a) => Enumerable.Range(0, n).Select(r => a[r * c + j]).ToArray();
            var (xj, gj, yj) = (Column(x), Column(g), new float[n]);
            var (mj, vj, sj) = (new float[1], new float[1], new float[1]);
            BatchNorm.Forward(xj, yj, n, 1, 1, [w[j]], [b[j]], 1e-5f, mj, vj, sj, slope);
            var (dxj, dwj, dbj) = (new float[n], new float[1], new float[1]);
            BatchNorm.Backward(xj, gj, n, 1, 1, mj, sj, [w[j]], dxj, dwj, dbj, slope is float t ? (t, [b[j]]) : null);
            Assert.Equal(Column(y), yj);
            Assert.Equal(Column(dx), dxj);
            Assert.Equal((mean[j], invstd[j], dw[j], db[j]), (mj[0], sj[0], dwj[0], dbj[0]));
        }
    }
}

public class GemmSplitTests
{
    [Theory]
    [InlineData(false, false, 150, 200, 130)]
    [InlineData(true, false, 200, 150, 130)]
    [InlineData(false, true, 150, 210, 140)]
    [InlineData(true, true, 210, 150, 140)]
    public void Sgemm_LargeEnoughToSplit_MatchesReference(bool ta, bool tb, int m, int n, int k)
    {
        var gen = new Generator(11);
        var a = Tensor.Randn([m * k], gen).ToArray(); var b = Tensor.Randn([k * n], gen).ToArray();
        var c1 = Tensor.Randn([m * n], gen).ToArray(); var c2 = (float[])c1.Clone();
        Gemm.Sgemm(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 0.25f, c1, n);
        Gemm.Reference(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 0.25f, c2, n);
        Fixtures.AssertClose(Tensor.Wrap(c2, [m, n]), Tensor.Wrap(c1, [m, n]), 1e-4, 1e-4, "sgemm");
    }
}

/// <summary>The fused Adam step against the multi-pass form it replaced.</summary>
public class AdamStepTests
{
    // The step in the product (GemmAvx512.SgemmAdam through Gemm.TrySgemmAdam) against the product into a gradient and
    // then the step: the same float operations, so equal but for nothing; a strip's rows or columns misplaced, a moment
    // read from the wrong place or the gradient's alpha lost are all far outside the tolerance.
    [GemmTests.Avx512Theory]
    [InlineData(true, false, 784, 1024, 64, 2, 0f)]     // a Linear's weight gradient gᵀ·x at batch 64, rows split over two threads
    [InlineData(true, false, 256, 100, 64, 2, 0f)]      // mlpgan's first layer: 1.6M multiply-adds, split since the forty-ninth pass
    [InlineData(true, false, 37, 1100, 100, 1, 0.01f)]  // edge rows and columns, two column panels (NC 1024), weight decay
    [InlineData(false, true, 70, 45, 256, 2, 0f)]       // A read in place with an edge strip, B transposed, a whole K block
    [InlineData(true, true, 300, 8, 128, 2, 0.1f)]      // the narrowest side the kernel takes
    [InlineData(false, false, 9, 33, 1, 1, 0f)]
    public void SgemmAdam_InTheProduct_MatchesProductThenStep(bool ta, bool tb, int m, int n, int k, int threads, float wd)
    {
        var gen = new Generator(21);
        var a = Tensor.Randn([m * k], gen).ToArray(); var b = Tensor.Randn([k * n], gen).ToArray();
        var p1 = Tensor.Randn([m * n], gen).ToArray(); var m1 = Tensor.Randn([m * n], gen).ToArray();
        var v1 = Tensor.Rand([m * n], gen).ToArray();
        var (p2, m2, v2) = ((float[])p1.Clone(), (float[])m1.Clone(), (float[])v1.Clone());
        var step = new AdamStep.Scalars(0.5f, 0.999f, 0.5f, 0.001f, wd, 2e-4f, 0.03f, 1e-8f);
        int lda = ta ? m : k, ldb = tb ? k : n;
        var grad = new float[m * n];
        int before = Threading.Threads;
        try
        {
            Threading.Threads = threads;
            GemmAvx512.Sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0f, grad, n);
            AdamStep.Update(p1, grad, m1, v1, step.Beta1, step.Beta2, step.C1, step.C2, step.WeightDecay, step.StepSize,
                step.BiasCorrection2Sqrt, step.Eps);
            Assert.True(Gemm.TrySgemmAdam(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, p2, m2, v2, step));
        }
        finally { Threading.Threads = before; }
        Fixtures.AssertClose(Tensor.Wrap(m1, [m, n]), Tensor.Wrap(m2, [m, n]), 1e-6, 1e-7, "m");
        Fixtures.AssertClose(Tensor.Wrap(v1, [m, n]), Tensor.Wrap(v2, [m, n]), 1e-6, 1e-7, "v");
        Fixtures.AssertClose(Tensor.Wrap(p1, [m, n]), Tensor.Wrap(p2, [m, n]), 1e-6, 1e-7, "p");
    }

    [Fact]
    public void SgemmAdam_DeeperThanOneBlock_DeclinesAndChangesNothing()
    {
        // Past one K block a tile is not final when stored: the caller makes the gradient instead.
        int m = 16, n = 32, k = 300;
        var gen = new Generator(22);
        var a = Tensor.Randn([m * k], gen).ToArray(); var b = Tensor.Randn([k * n], gen).ToArray();
        var p = Tensor.Randn([m * n], gen).ToArray(); var before = (float[])p.Clone();
        var step = new AdamStep.Scalars(0.5f, 0.999f, 0.5f, 0.001f, 0f, 2e-4f, 0.03f, 1e-8f);
        Assert.False(Gemm.TrySgemmAdam(false, false, m, n, k, 1f, a, k, b, n, p, new float[m * n], new float[m * n], step));
        Assert.Equal(before, p);
    }

    [Theory]
    [InlineData(1001, 0f)]
    [InlineData(100_003, 0.01f)] // split across threads
    public void AdamStep_Fused_MatchesMultiPass(int count, float wd)
    {
        var gen = new Generator(12);
        var p1 = Tensor.Randn([count], gen).ToArray(); var g = Tensor.Randn([count], gen).ToArray();
        var m1 = Tensor.Randn([count], gen).ToArray(); var v1 = Tensor.Rand([count], gen).ToArray();
        var (p2, m2, v2) = ((float[])p1.Clone(), (float[])m1.Clone(), (float[])v1.Clone());
        AdamStep.Update(p1, g, m1, v1, 0.5f, 0.999f, 0.5f, 0.001f, wd, 2e-4f, 0.03f, 1e-8f);
        AdamStep.UpdateNaive(p2, g, m2, v2, 0.5f, 0.999f, 0.5f, 0.001f, wd, 2e-4f, 0.03f, 1e-8f);
        Fixtures.AssertClose(Tensor.Wrap(m2, [count]), Tensor.Wrap(m1, [count]), 1e-6, 1e-7, "m");
        Fixtures.AssertClose(Tensor.Wrap(v2, [count]), Tensor.Wrap(v1, [count]), 1e-6, 1e-7, "v");
        Fixtures.AssertClose(Tensor.Wrap(p2, [count]), Tensor.Wrap(p1, [count]), 1e-6, 1e-7, "p");
    }
}
