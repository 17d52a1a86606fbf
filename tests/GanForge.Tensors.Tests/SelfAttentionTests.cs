using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// <see cref="Tensor.SelfAttention"/> (multi-head self-attention in one pass each way, probabilities recomputed in
/// backward) against the naive kernel in double and against the ops it replaces (products, softmax, permutes): value,
/// gradient, gradient of a gradient, both token layouts and any thread count.
/// </summary>
public class SelfAttentionTests
{
    // The composed form: q, k, v cut from the packed rows, per head softmax(scale·q kᵀ) v, heads side by side.
    static Tensor Composed(Tensor qkv, int heads, bool batchFirst)
    {
        int e = qkv.Size(2) / 3, d = e / heads;
        var (n, l) = batchFirst ? (qkv.Size(0), qkv.Size(1)) : (qkv.Size(1), qkv.Size(0));
        int[] toHeads = batchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3];
        Tensor Part(int part) => qkv.Narrow(2, part * e, e).Reshape(qkv.Size(0), qkv.Size(1), heads, d).Permute(toHeads).Reshape(n * heads, l, d);
        var prob = (Part(0).MatMul(Part(1), transposeOther: true) * (1f / MathF.Sqrt(d))).Softmax(-1);
        var context = prob.MatMul(Part(2)).Reshape(n, heads, l, d);                        // (N, H, L, d)
        return (batchFirst ? context.Permute(0, 2, 1, 3) : context.Permute(2, 0, 1, 3)).Reshape(qkv.Size(0), qkv.Size(1), e);
    }

    // Forward, backward and the second order, raw: [output, row statistics, dqkv, second order to qkv, to g]. The
    // statistics start as statsStart.
    static float[][] EveryKernel(AttentionLayout layout, float[] qkv, float[] g, float[] u, float scale, float statsStart = 0f)
    {
        int rows = layout.Batch * layout.Length, e = layout.Embed;
        var (output, stats) = (new float[rows * e], new float[Attention.StatsLength(layout)]);
        Array.Fill(stats, statsStart);
        var (dqkv, second, dg) = (new float[rows * 3 * e], new float[rows * 3 * e], new float[rows * e]);
        Attention.Forward(qkv, output, stats, layout, scale);
        Attention.Backward(qkv, g, stats, dqkv, layout, scale);
        Attention.SecondOrder(qkv, g, u, stats, second, dg, layout, scale);
        return [output, stats, dqkv, second, dg];
    }

    // Backward in double, one pair and element at a time: dqkv for the output gradient g (the reference for the narrow
    // heads' one-pass form, whose sums run in orders of their own).
    static double[] BackwardNaive(float[] qkv, float[] g, AttentionLayout a, float scale)
    {
        int l = a.Length, d = a.HeadDim, e = a.Embed;
        var dqkv = new double[qkv.Length];
        var (p, dp) = (new double[l], new double[l]);
        for (int b = 0; b < a.Batch; b++)
            for (int head = 0; head < a.Heads; head++)
                for (int i = 0; i < l; i++)
                {
                    int qi = a.Row(b, i) * 3 * e + head * d, gi = a.Row(b, i) * e + head * d;
                    double max = double.NegativeInfinity, sum = 0, rowSum = 0;
                    for (int j = 0; j < l; j++)
                    {
                        int kj = a.Row(b, j) * 3 * e + e + head * d;
                        double dot = 0, gv = 0;
                        for (int c = 0; c < d; c++) (dot, gv) = (dot + (double)qkv[qi + c] * qkv[kj + c], gv + (double)g[gi + c] * qkv[kj + e + c]);
                        (p[j], dp[j]) = (scale * dot, gv);
                        max = Math.Max(max, p[j]);
                    }
                    for (int j = 0; j < l; j++) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
                    for (int j = 0; j < l; j++) { p[j] /= sum; rowSum += p[j] * dp[j]; }
                    for (int j = 0; j < l; j++)
                    {
                        int kj = a.Row(b, j) * 3 * e + e + head * d;
                        double ds = p[j] * (dp[j] - rowSum);
                        for (int c = 0; c < d; c++)
                        {
                            dqkv[qi + c] += scale * ds * qkv[kj + c];
                            dqkv[kj + c] += scale * ds * qkv[qi + c];
                            dqkv[kj + e + c] += p[j] * g[gi + c];
                        }
                    }
                }
        return dqkv;
    }

    // What EveryKernel returns, in its order.
    static readonly string[] EveryKernelNames = ["output", "row statistics", "backward", "second order to qkv", "second order to g"];

    // EveryKernel on random inputs (q, k and v of twice the unit scale) with a library switch on, then off, the switch
    // put back as it was.
    static (float[][] On, float[][] Off) EveryKernelBothWays(AttentionLayout layout, ulong seed, Func<bool> get, Action<bool> set, float statsStart)
    {
        var (qkv, u, g) = RandomInputs(layout, seed);
        float scale = 1f / MathF.Sqrt(layout.HeadDim);
        float[][] Run(bool on)
        {
            var saved = get();
            set(on);
            try { return EveryKernel(layout, qkv, g, u, scale, statsStart); }
            finally { set(saved); }
        }
        return (Run(true), Run(false));
    }

    [Theory]
    [InlineData(3, 5, 2, 4, true)]      // d = 2, as TransGAN's last stage
    [InlineData(2, 65, 4, 16, false)]   // a ViT's 64 patches and class token, sequence first
    [InlineData(4, 1, 1, 3, true)]      // one token: the output is v
    [InlineData(1, 17, 3, 7, true)]     // odd widths leave tails after the vector loops
    [InlineData(2, 30, 2, 12, true)]    // eight floats of each head's width at a time, then four one by one
    [InlineData(2, 33, 2, 32, true)]    // two 16 x 16 blocks of a head's floats, two of tokens, one token after them
    public void Forward_AgainstNaiveDoubleKernel(int n, int l, int heads, int d, bool batchFirst)
    {
        var layout = new AttentionLayout(n, l, heads, d, batchFirst);
        var qkv = Tensor.Randn([n * l, 3 * heads * d], new Generator(5)) * 2f;
        var expected = new float[n * l * heads * d];
        Attention.ForwardNaive(qkv.Storage, expected, layout, 0.4f);
        Tensor actual = null!;
        var saved = Attention.ForwardLanes;
        try
        {
            foreach (var lanes in new[] { LaneKind.Sixteen, LaneKind.EightTwice })
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Attention.ForwardLanes = lanes;
                    ThreadingTests.WithThreads(threads, () =>
                        actual = Tensor.SelfAttention(qkv.Reshape(batchFirst ? new[] { n, l, -1 } : new[] { l, n, -1 }), heads, batchFirst, scale: 0.4f));
                    // float scores of up to ~20 against double ones: about 1e-6 of them in each exponent
                    Fixtures.AssertClose(Tensor.FromArray(expected), actual.Reshape(-1), 2e-5, 2e-5, $"output on {threads} threads, {lanes} lanes");
                }
        }
        finally { Attention.ForwardLanes = saved; }
    }

    // The forward runs on sixteen lanes where AVX-512 is and on two AVX2 vectors elsewhere: on any processor both must
    // give the same outputs and row statistics, and so the same gradients from them.
    [Theory]
    [InlineData(2, 65, 4, 16, false)]   // D's layout: four vectors of queries, then the class token in a row
    [InlineData(1, 17, 3, 7, true)]     // odd widths, one query past the vector
    [InlineData(2, 30, 2, 12, true)]    // eight floats of each head's width at a time, then four one by one
    public void Forward_OnPairedEights_MatchesSixteenLanes(int n, int l, int heads, int d, bool batchFirst)
    {
        var (paired, sixteen) = EveryKernelBothWays(new AttentionLayout(n, l, heads, d, batchFirst), 73,
            () => Attention.ForwardLanes == LaneKind.EightTwice, on => Attention.ForwardLanes = on ? LaneKind.EightTwice : LaneKind.Sixteen,
            statsStart: float.NaN);
        for (int i = 0; i < EveryKernelNames.Length; i++)
            Fixtures.AssertClose(Tensor.FromArray(sixteen[i]), Tensor.FromArray(paired[i]), 1e-6, 1e-6, $"{EveryKernelNames[i]}, paired eights against sixteen lanes");
    }

    // EveryKernelBothWays' inputs for a seed: q, k and v of twice the unit scale, the second order's u, the output's g.
    static (float[] Qkv, float[] U, float[] G) RandomInputs(AttentionLayout layout, ulong seed)
    {
        int rows = layout.Batch * layout.Length, e = layout.Embed;
        var gen = new Generator(seed);
        float[] qkv = (Tensor.Randn([rows * 3 * e], gen) * 2f).Data.ToArray(), u = Tensor.Randn([rows * 3 * e], gen).Data.ToArray();
        return (qkv, u, Tensor.Randn([rows * e], gen).Data.ToArray());
    }

    // The narrow heads' forward and backward on or off together, the switches put back as they were.
    static bool NarrowKernels
    {
        get => Attention.NarrowHeadsInOnePass && Attention.NarrowBackwardOnLanes;
        set => (Attention.NarrowHeadsInOnePass, Attention.NarrowBackwardOnLanes) = (value, value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AgainstComposedOps_SameValueGradientSecondAndThirdOrder(bool batchFirst)
    {
        // A gradient penalty's path: the gradient with a graph (the fused SelfAttentionGrad), then its gradient with
        // respect to qkv and to the output gradient (the second-order kernel), and once more with a graph (its
        // differentiable form) for a third derivative.
        int a0 = 3, a1 = 6, heads = 2, e = 8;
        var v = Tensor.Randn([a0, a1, 3 * e], new Generator(32));
        var w = Tensor.Randn([a0, a1, 3 * e], new Generator(33));
        (Tensor Y, Tensor Grad, Tensor[] Second, Tensor[] SecondWithGraph, Tensor Third) Run(bool fused)
        {
            var qkv = Tensor.Randn([a0, a1, 3 * e], new Generator(30)).RequiresGrad_();
            var gy = Tensor.Randn([a0, a1, e], new Generator(31)).RequiresGrad_();
            Tensor Grad() => Autograd.Grad([fused ? Tensor.SelfAttention(qkv, heads, batchFirst) : Composed(qkv, heads, batchFirst)], [qkv], [gy], createGraph: true)[0]!;
            var grad = Grad();
            var second = Autograd.Grad([(grad * v).Sum()], [qkv, gy]).Select(t => t!).ToArray();
            var withGraph = Autograd.Grad([(Grad() * v).Sum()], [qkv, gy], createGraph: true);
            var third = Autograd.Grad([(withGraph[0]! * w).Sum() + withGraph[1]!.Square().Sum()], [qkv])[0]!;
            var y = fused ? Tensor.SelfAttention(qkv, heads, batchFirst) : Composed(qkv, heads, batchFirst);
            return (y.Detach(), grad.Detach(), second, withGraph.Select(t => t!.Detach()).ToArray(), third);
        }
        var (f, c) = (Run(fused: true), Run(fused: false));
        Fixtures.AssertClose(c.Y, f.Y, 1e-5, 1e-6, "value");
        Fixtures.AssertClose(c.Grad, f.Grad, 1e-4, 1e-5, "gradient");
        string[] names = ["qkv", "the output gradient"];
        for (int i = 0; i < 2; i++)
        {
            Fixtures.AssertClose(c.Second[i], f.Second[i], 1e-4, 1e-5, $"second-order gradient to {names[i]} (kernel)");
            Fixtures.AssertClose(c.SecondWithGraph[i], f.SecondWithGraph[i], 1e-4, 1e-5, $"second-order gradient to {names[i]} (with a graph)");
        }
        Fixtures.AssertClose(c.Third, f.Third, 1e-3, 1e-4, "third-order gradient");
    }

    [Theory]
    [InlineData(2, 65, 4, 16, true)]    // D's layout: dq from the keys' rows; dk and dv in tiles of four vectors, then one
    [InlineData(2, 64, 2, 4, false)]    // narrow heads: dq from the transposed keys; whole tiles only
    [InlineData(1, 70, 2, 12, true)]    // 12 floats: tiles of four of them, then eight and four single ones in the last vector
    public void BackwardAndSecondOrder_AgainstComposedOps_AtWideLayouts(int n, int l, int heads, int d, bool batchFirst)
    {
        // The kernels' products over a pair's whole rows (keys of several vectors, heads of several floats), the
        // gradient and a penalty's second order, against the composed ops' graph.
        int e = heads * d;
        int[] shape = batchFirst ? [n, l, 3 * e] : [l, n, 3 * e], outShape = batchFirst ? [n, l, e] : [l, n, e];
        var v = Tensor.Randn(shape, new Generator(34));
        (Tensor Grad, Tensor[] Second) Run(bool fused)
        {
            var qkv = Tensor.Randn(shape, new Generator(35)).RequiresGrad_();
            var gy = Tensor.Randn(outShape, new Generator(36)).RequiresGrad_();
            var y = fused ? Tensor.SelfAttention(qkv, heads, batchFirst) : Composed(qkv, heads, batchFirst);
            var grad = Autograd.Grad([y], [qkv], [gy], createGraph: true)[0]!;
            var second = Autograd.Grad([(grad * v).Sum()], [qkv, gy]).Select(t => t!).ToArray();
            return (grad.Detach(), second);
        }
        var (f, c) = (Run(fused: true), Run(fused: false));
        string[] names = ["gradient", "second order to qkv", "second order to the output gradient"];
        Tensor[] expected = [c.Grad, c.Second[0], c.Second[1]], actual = [f.Grad, f.Second[0], f.Second[1]];
        for (int i = 0; i < 3; i++)
            Fixtures.AssertClose(expected[i], actual[i], 1e-4, 1e-5 * expected[i].Abs().Max().Item(), names[i]);
    }

    [Theory]
    [InlineData(1, 9, 3, 4)]
    [InlineData(2, 9, 3, 4)]
    [InlineData(1, 67, 4, 16)]   // three keys past the last whole vector: their dk and dv a key at a time
    [InlineData(2, 66, 4, 16)]   // a ViT's width; rows in blocks of four leave two, keys two vectors' tail
    [InlineData(1, 7, 2, 8)]     // a block of four rows and three
    [InlineData(2, 33, 2, 32)]   // two 16 x 16 blocks of a head's floats, two of tokens, one token after them
    public void GraphFreeBackward_MatchesComposedOps_OnAnyThreads(int threads, int l, int heads, int d)
    {
        // The kernel's own backward (no graph): a training step's path; the test above runs the graph-mode one.
        int e = heads * d;
        var gy = Tensor.Randn([4, l, e], new Generator(41));
        Tensor Grad(bool fused)
        {
            var qkv = (Tensor.Randn([4, l, 3 * e], new Generator(40)) * 3f).Detach().RequiresGrad_();
            var y = fused ? Tensor.SelfAttention(qkv, heads) : Composed(qkv, heads, batchFirst: true);
            y.Backward(gy);
            return qkv.Grad!;
        }
        Tensor fusedGrad = null!;
        ThreadingTests.WithThreads(threads, () => fusedGrad = Grad(fused: true));
        // dq_i = scale·Σ_j ds_ij k_j sums terms near 10 that cancel to 1e-3 (Σ_j ds_ij = 0): float rounding either way
        var expected = Grad(fused: false);
        float scale = expected.Abs().Max().Item();
        Fixtures.AssertClose(expected, fusedGrad, 1e-4, 1e-5 * scale, "gradient");
    }

    [Fact]
    public void GradCheck_FirstAndSecondOrder()
    {
        GradCheck.First("SelfAttention", xs => Tensor.SelfAttention(xs[0], 2), [Tensor.Randn([2, 3, 12], new Generator(50))]);
        GradCheck.Second("SelfAttention", xs => Tensor.SelfAttention(xs[0], 2, batchFirst: false), [Tensor.Randn([3, 2, 6], new Generator(51))]);
        // the second-order kernel against central differences of the fused gradient, both of its inputs
        var g = Tensor.Randn([2, 5, 8], new Generator(53));
        GradCheck.First("SelfAttentionGrad", xs =>
        {
            bool graph = GradMode.IsEnabled;   // off while the check evaluates its differences
            using var _ = GradMode.EnableGrad();
            return Autograd.Grad([Tensor.SelfAttention(xs[0], 2)], [xs[0]], [xs[1]], createGraph: graph)[0]!;
        }, [Tensor.Randn([2, 5, 24], new Generator(52)), g]);
    }

    [Theory]
    [InlineData(66, 4, 16)]   // a ViT's width; the last key vector holds two keys on 16 lanes, two on 8
    [InlineData(9, 3, 4)]     // fewer keys than one 16-lane vector
    [InlineData(64, 2, 2)]    // whole vectors on either width
    public void RowKernels_EightAndSixteenLanes_Agree(int l, int heads, int d)
    {
        // The backward and second-order row kernels run on the widest accelerated lanes; the other width (in software
        // where the processor lacks it) must give the same gradients, so both are checked on any machine.
        var layout = new AttentionLayout(3, l, heads, d, BatchFirst: true);
        int rows = 3 * l, e = heads * d;
        var gen = new Generator(60);
        float[] qkv = Tensor.Randn([rows * 3 * e], gen).Data.ToArray(), u = Tensor.Randn([rows * 3 * e], gen).Data.ToArray();
        float[] g = Tensor.Randn([rows * e], gen).Data.ToArray();
        float scale = 1f / MathF.Sqrt(d);
        var (output, stats) = (new float[rows * e], new float[Attention.StatsLength(layout)]);
        Attention.Forward(qkv, output, stats, layout, scale);
        (float[] Dqkv, float[] Second, float[] Dg) Run(int width)
        {
            var (dqkv, second, dg) = (new float[rows * 3 * e], new float[rows * 3 * e], new float[rows * e]);
            Attention.Backward(qkv, g, stats, dqkv, layout, scale, width);
            Attention.SecondOrder(qkv, g, u, stats, second, dg, layout, scale, width);
            return (dqkv, second, dg);
        }
        var (wide, narrow) = (Run(16), Run(8));
        Fixtures.AssertClose(Tensor.FromArray(wide.Dqkv), Tensor.FromArray(narrow.Dqkv), 1e-5, 1e-5, "backward, 8 against 16 lanes");
        Fixtures.AssertClose(Tensor.FromArray(wide.Second), Tensor.FromArray(narrow.Second), 1e-5, 1e-5, "second order to qkv, 8 against 16 lanes");
        Fixtures.AssertClose(Tensor.FromArray(wide.Dg), Tensor.FromArray(narrow.Dg), 1e-5, 1e-5, "second order to g, 8 against 16 lanes");
    }

    [Theory]
    [InlineData(2, 65, 4, 16, true)]    // D's layout: four blocks of 16 tokens, then the class token alone
    [InlineData(3, 33, 2, 32, false)]   // two blocks of a head's floats, sequence first
    [InlineData(2, 16, 1, 16, true)]    // one block, no token after it
    public void BlockTransposes_MatchFloatByFloatCopies(int n, int l, int heads, int d, bool batchFirst)
    {
        // With AVX-512, heads of whole vectors move between the packed rows and a pair's transposed tables 16 x 16 in
        // registers; every kernel must give what the float-by-float copies give (elsewhere both runs take those copies).
        var layout = new AttentionLayout(n, l, heads, d, batchFirst);
        int rows = n * l, e = heads * d;
        var gen = new Generator(70);
        float[] qkv = Tensor.Randn([rows * 3 * e], gen).Data.ToArray(), u = Tensor.Randn([rows * 3 * e], gen).Data.ToArray();
        float[] g = Tensor.Randn([rows * e], gen).Data.ToArray();
        float scale = 1f / MathF.Sqrt(d);
        float[][] Run(bool blocks)
        {
            var saved = Attention.BlockTransposes;
            Attention.BlockTransposes = blocks;
            try { return EveryKernel(layout, qkv, g, u, scale); }
            finally { Attention.BlockTransposes = saved; }
        }
        var (blocked, single) = (Run(true), Run(false));
        for (int i = 0; i < EveryKernelNames.Length; i++)
            Fixtures.AssertClose(Tensor.FromArray(single[i]), Tensor.FromArray(blocked[i]), 1e-6, 1e-6, EveryKernelNames[i]);
    }

    [Theory]
    [InlineData(2, 65, 4, 16, true)]    // D's layout: the class token after four vectors of 16 queries
    [InlineData(2, 66, 2, 16, false)]   // two queries past the last vector, sequence first
    [InlineData(2, 33, 2, 32, true)]    // heads of two vectors of floats, one query past two vectors
    public void LeftoverQueries_InRows_MatchTheVectorLanes(int n, int l, int heads, int d, bool batchFirst)
    {
        // The forward computes the one or two queries past the last whole vector a row at a time; everything downstream
        // (its row statistics, backward and the second order from them) must match the vector lanes' forward. The
        // statistics start as NaN, as a pooled buffer may hold anything: the lanes past L must be written too. The row's
        // Σ exp is summed in another order, so 1/Σ may differ in its last bits, which backward's cancellations
        // (dP − Σ P∘dP at a peaked softmax) carry to a few 1e-6 of these gradients' size.
        var (inRows, inLanes) = EveryKernelBothWays(new AttentionLayout(n, l, heads, d, batchFirst), 71,
            () => Attention.LeftoverQueriesInRows, on => Attention.LeftoverQueriesInRows = on, statsStart: float.NaN);
        // Not the row statistics: their lanes past L hold zeros here and a vector's values there, read by no kernel.
        foreach (int i in new[] { 0, 2, 3, 4 })
        {
            Assert.All(inRows[i], x => Assert.True(float.IsFinite(x), $"{EveryKernelNames[i]}: {x}"));
            Fixtures.AssertClose(Tensor.FromArray(inLanes[i]), Tensor.FromArray(inRows[i]), 1e-5, 1e-5, EveryKernelNames[i]);
        }
    }

    [Theory]
    [InlineData(2, 65, 4, 16, true)]    // D's layout: one key in the last vector of sixteen
    [InlineData(2, 68, 2, 16, false)]   // four keys there, a quarter of the lanes, sequence first
    [InlineData(1, 33, 2, 32, true)]    // heads of two vectors of floats, one key past two vectors
    public void FewKeys_AKeyAtATime_MatchTheVector(int n, int l, int heads, int d, bool batchFirst)
    {
        // The keys' and values' gradients of a last vector that holds few keys (D's class token), a key at a time, against
        // the same gradients made over the whole vector: backward and the second order (whose keys' gradient is two such
        // products, the second added to the first). Summed in another order, so to float rounding.
        var (byKey, byVector) = EveryKernelBothWays(new AttentionLayout(n, l, heads, d, batchFirst), 73,
            () => Attention.KeysAtATime, on => Attention.KeysAtATime = on, statsStart: 0f);
        foreach (int i in new[] { 2, 3, 4 })
            Fixtures.AssertClose(Tensor.FromArray(byVector[i]), Tensor.FromArray(byKey[i]), 1e-5, 1e-5, EveryKernelNames[i]);
    }

    [Theory]
    [InlineData(2, 65, 4, 16, true)]    // D's layout: the class token's key alone past four vectors of sixteen
    [InlineData(2, 68, 2, 16, false)]   // four keys past them, a quarter of the lanes, sequence first
    [InlineData(1, 33, 2, 32, true)]    // heads of two vectors of floats, one key past two vectors
    public void FewKeys_AsColumns_MatchTheVector(int n, int l, int heads, int d, bool batchFirst)
    {
        // Backward takes the keys of a last vector that holds few of them as columns over the queries: their scores in the
        // forward's order (so the same probabilities), g·v summed across a head's lanes, each row's Σ p·(g·v) and their ds
        // in another order than the vector's, so to float rounding.
        var (columns, vector) = EveryKernelBothWays(new AttentionLayout(n, l, heads, d, batchFirst), 83,
            () => Attention.FewKeysAsColumns, on => Attention.FewKeysAsColumns = on, statsStart: 0f);
        Fixtures.AssertClose(Tensor.FromArray(vector[2]), Tensor.FromArray(columns[2]), 1e-5, 1e-5, EveryKernelNames[2]);
    }

    [Theory]
    [InlineData(2, 64, 2, 2, true)]     // transgan32's G at 32 x 32 tokens: four vectors of queries, two keys at a time
    [InlineData(3, 17, 4, 4, false)]    // G at 16 x 16's heads, sequence first: a vector and one query, an odd key last
    [InlineData(2, 5, 3, 1, true)]      // one float a head, fewer queries than a vector
    [InlineData(1, 33, 2, 3, true)]     // three floats
    public void NarrowHeads_InOnePass_MatchTheTableForm(int n, int l, int heads, int d, bool batchFirst)
    {
        // Heads of at most four floats take the forward and backward in one pass over the keys a vector of queries, m_i a
        // bound of the row's max from the keys' ranges: the second order recomputes the probabilities from that m_i and
        // must agree with the table form's, as must the output. Their sums run in other orders, so to float rounding;
        // backward's to a few 1e-6 of its largest gradient either way (the two forms' gradients differed by 1.4e-5 at
        // values near 9), so both are held to the double-precision reference. The statistics start as NaN: the lanes
        // past L must be written.
        var layout = new AttentionLayout(n, l, heads, d, batchFirst);
        var (inOnePass, table) = EveryKernelBothWays(layout, 79, () => NarrowKernels, on => NarrowKernels = on, statsStart: float.NaN);
        // Not the row statistics: m_i is the row's max in one and a bound of it in the other.
        foreach (int i in new[] { 0, 2, 3, 4 })
            Assert.All(inOnePass[i], x => Assert.True(float.IsFinite(x), $"{EveryKernelNames[i]}: {x}"));
        foreach (int i in new[] { 0, 3, 4 })
            Fixtures.AssertClose(Tensor.FromArray(table[i]), Tensor.FromArray(inOnePass[i]), 1e-5, 1e-5, EveryKernelNames[i]);
        var (qkv, _, g) = RandomInputs(layout, 79);
        var exact = BackwardNaive(qkv, g, layout, 1f / MathF.Sqrt(d));
        double largest = exact.Max(Math.Abs);
        foreach (var (form, grads) in new[] { ("one pass", inOnePass[2]), ("table", table[2]) })
        {
            double worst = exact.Select((x, t) => Math.Abs(grads[t] - x)).Max();
            Assert.True(worst <= 2e-6 * largest, $"{form}: backward {worst:G3} from the double kernel, largest gradient {largest:G3}");
        }
    }

    [Fact]
    public void NarrowHeads_ScoresFarBelowTheirBound_TakeTheMax()
    {
        // Keys (±100, ∓100) span a box whose corner (100, 100) no key reaches: for q = (1, 1) every score is 0 while the
        // bound is 100·√2 (scale 1/√2), so every 2^(log2(e)·s − m) underflows to 0 and Σ exp with it. Those queries must
        // fall back to their max and give the mean of the values; queries (1, -1) on the same keys reach the bound.
        const int l = 20;
        var qkv = new float[l * 6];
        for (int j = 0; j < l; j++)
        {
            float sign = j % 2 == 0 ? 1f : -1f;
            (qkv[j * 6], qkv[j * 6 + 1]) = j < 12 ? (1f, 1f) : (0.01f, -0.01f);   // q: twelve (1, 1), eight small
            (qkv[j * 6 + 2], qkv[j * 6 + 3]) = (100f * sign, -100f * sign);          // k
            (qkv[j * 6 + 4], qkv[j * 6 + 5]) = (j, 2f * j);                         // v
        }
        var layout = new AttentionLayout(1, l, 1, 2, BatchFirst: true);
        var (output, exact, stats) = (new float[l * 2], new float[l * 2], new float[Attention.StatsLength(layout)]);
        Attention.Forward(qkv, output, stats, layout, 1f / MathF.Sqrt(2));
        Attention.ForwardNaive(qkv, exact, layout, 1f / MathF.Sqrt(2));
        Assert.Equal(9.5f, output[0], 1e-5f);   // the mean of 0..19
        Fixtures.AssertClose(Tensor.FromArray(exact), Tensor.FromArray(output), 1e-5, 1e-5, "value");
        var (dqkv, table) = (new float[l * 6], new float[l * 6]);
        var g = Enumerable.Range(0, l * 2).Select(i => MathF.Sin(i)).ToArray();
        Attention.Backward(qkv, g, stats, dqkv, layout, 1f / MathF.Sqrt(2));
        var saved = NarrowKernels;
        try
        {
            NarrowKernels = false;
            Attention.Forward(qkv, new float[l * 2], stats, layout, 1f / MathF.Sqrt(2));
            Attention.Backward(qkv, g, stats, table, layout, 1f / MathF.Sqrt(2));
        }
        finally { NarrowKernels = saved; }
        // dq sums terms of keys' size (100) that cancel to a few units, so the two forms' last bits show at 1e-5 of them.
        Fixtures.AssertClose(Tensor.FromArray(table), Tensor.FromArray(dqkv), 1e-4, 1e-4, "backward");
    }

    [Fact]
    public void LargeScores_StayFinite()
    {
        // Scores of ±400: exp would overflow without the row max taken out. Against the double-precision kernel, to 1e-5
        // (a float score of 400 is known to ulp(400) = 3e-5; the outputs came within 1e-5, not 5e-6, before and after
        // the exponentials went to base 2).
        var qkv = Tensor.Randn([2, 8, 12], new Generator(60)) * 20f;
        var y = Tensor.SelfAttention(qkv.Detach().RequiresGrad_(), 1);
        var exact = new float[2 * 8 * 4];
        Attention.ForwardNaive(qkv.Storage, exact, new AttentionLayout(2, 8, 1, 4, BatchFirst: true), 0.5f);
        Fixtures.AssertClose(Tensor.FromArray(exact), y.Detach().Reshape(-1), 1e-5, 1e-5, "value");
        Assert.All(y.Data.ToArray(), x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void WrongWidth_NamesOpAndShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.SelfAttention(Tensor.Zeros(2, 5, 10), 2));
        Assert.Contains("SelfAttention", ex.Message);
        Assert.Contains("(2,5,10)", ex.Message);
    }

    // The kernels' work tables start on cache lines (whole-vector loads then never straddle two), whatever length is
    // asked for and however often the thread's buffer grows.
    [Fact]
    public void Scratch_StartsOnA64ByteBoundary()
    {
        foreach (int length in new[] { 1, 100, 5_000, 40_000, 16 })
        {
            var work = Attention.Scratch(length);
            Assert.Equal(length, work.Length);
            unsafe
            {
                fixed (float* at = work) Assert.Equal(0u, (nuint)at % 64);
            }
        }
    }
}
