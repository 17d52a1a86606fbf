namespace GanForge.Tests;

/// <summary>How a test input is drawn: each kind keeps finite differences away from an op's kinks or domain edges.</summary>
public enum Init
{
    /// <summary>Standard normal.</summary>
    Normal,
    /// <summary>Uniform in [0.5, 2): inside the domain of log, sqrt, rsqrt, reciprocal, pow.</summary>
    Positive,
    /// <summary>|x| &gt;= 0.3: away from the kink of abs, relu, sign.</summary>
    AwayFromZero,
    /// <summary>A shuffled grid with step 0.25 (shifted per input), so no two values tie and none sits near ±0.5.</summary>
    Distinct,
    /// <summary>Integers in [-2, 2]: ties on purpose (comparisons, tie-breaking).</summary>
    Integers,
    /// <summary>Standard normal with the first row (index 0 of dim 0) set to 0.</summary>
    ZeroRow,
}

/// <summary>
/// One op of the engine as the harness sees it: <c>Op(x, c)</c> maps differentiable inputs x and constant inputs c
/// (indices, masks) to one tensor. The same entry drives the finite-difference checks and the PyTorch replay of
/// tests/fixtures/ops/{Name}.safetensors, written by tools/fixtures/ops.py from a table with the same names.
/// </summary>
/// <param name="Consts">Constant inputs for the finite-difference check (the fixture carries its own).</param>
/// <param name="Differentiable">False for ops whose output carries no gradient (comparisons, indices).</param>
/// <param name="FiniteDiff">False where the inputs sit on a kink on purpose (ties, zero norm): fixtures only.</param>
/// <param name="Second">Also check second derivatives (ops a gradient penalty differentiates through).</param>
public sealed record OpCase(
    string Name,
    Func<Tensor[], Tensor[], Tensor> Op,
    int[][] Shapes,
    Init[]? Inits = null,
    Tensor[]? Consts = null,
    bool Second = false,
    bool Differentiable = true,
    bool FiniteDiff = true,
    double Rtol = 1e-5,
    double Atol = 1e-6)
{
    public override string ToString() => Name;

    /// <summary>Fresh inputs for the finite-difference check, drawn from a seed derived from the name.</summary>
    public Tensor[] MakeInputs()
    {
        var g = new Generator((ulong)Name.Aggregate(17, (h, ch) => h * 31 + ch) & 0xFFFF);
        return Shapes.Select((s, i) => Draw(s, Inits?[i] ?? Init.Normal, i, g)).ToArray();
    }

    static Tensor Draw(int[] shape, Init init, int inputIndex, Generator g)
    {
        int n = GanForge.Shapes.Numel(shape);
        switch (init)
        {
            case Init.Positive: return Tensor.Uniform(shape, 0.5f, 2f, g);
            case Init.Integers: return Tensor.RandInt(-2, 3, shape, g);
            case Init.AwayFromZero:
            {
                var t = Tensor.Randn(shape, g);
                var d = t.Data;
                for (int i = 0; i < n; i++) d[i] = MathF.CopySign(0.3f + MathF.Abs(d[i]), d[i]);
                return t;
            }
            case Init.Distinct:
            {
                var perm = g.Permutation(n);
                var v = perm.Select(k => (k - n / 2) * 0.25f + 0.1f + 0.07f * inputIndex).ToArray();
                return Tensor.FromArray(v, shape);
            }
            case Init.ZeroRow:
            {
                var t = Tensor.Randn(shape, g);
                t.Data[..(n / shape[0])].Clear();
                return t;
            }
            default: return Tensor.Randn(shape, g);
        }
    }
}

/// <summary>The table of every op the engine differentiates (and the non-differentiable ones fixtures cover).</summary>
public static class OpTable
{
    static int[] S(params int[] s) => s;
    static Tensor C(float[] v, params int[] shape) => Tensor.FromArray(v, shape);
    const Init N = Init.Normal, P = Init.Positive, A = Init.AwayFromZero, D = Init.Distinct, I = Init.Integers;

    public static readonly OpCase[] All =
    [
        // ---- core: arithmetic ----
        new("add", (x, c) => x[0] + x[1], [S(3, 4), S(4)], Second: true),
        new("sub", (x, c) => x[0] - x[1], [S(2, 3), S(2, 1)], Second: true),
        new("mul", (x, c) => x[0] * x[1], [S(2, 3, 4), S(3, 1)], Second: true),
        new("div", (x, c) => x[0] / x[1], [S(3, 4), S(4)], [N, P], Second: true),
        new("add_scalar", (x, c) => x[0] + 1.5f, [S(3, 4)]),
        new("sub_scalar", (x, c) => x[0] - 0.25f, [S(3, 4)]),
        new("rsub_scalar", (x, c) => 2f - x[0], [S(3, 4)]),
        new("mul_scalar", (x, c) => x[0] * -0.7f, [S(3, 4)], Second: true),
        new("div_scalar", (x, c) => x[0] / 4f, [S(3, 4)]),
        new("rdiv_scalar", (x, c) => 1.5f / x[0], [S(3, 4)], [P], Second: true),
        new("neg", (x, c) => -x[0], [S(3, 4)]),
        new("pow_scalar", (x, c) => x[0].Pow(2.5f), [S(3, 4)], [P], Second: true),
        new("square", (x, c) => x[0].Square(), [S(3, 4)], Second: true),
        // ---- core: unary ----
        new("exp", (x, c) => x[0].Exp(), [S(3, 4)], Second: true),
        new("log", (x, c) => x[0].Log(), [S(3, 4)], [P], Second: true),
        new("sqrt", (x, c) => x[0].Sqrt(), [S(3, 4)], [P], Second: true),
        new("tanh", (x, c) => x[0].Tanh(), [S(3, 4)], Second: true),
        new("sigmoid", (x, c) => x[0].Sigmoid(), [S(3, 4)], Second: true),
        new("relu", (x, c) => x[0].Relu(), [S(3, 4)], [A]),
        new("leaky_relu", (x, c) => x[0].LeakyRelu(0.2f), [S(3, 4)], [A], Second: true),
        new("leaky_relu_gain", (x, c) => x[0].LeakyRelu(0.2f, MathF.Sqrt(2f)), [S(3, 4)], [A], Second: true),
        // Fixture only (a kink of the activation may sit near an input); StyleEpilogueTests checks it against the composed ops, second order too.
        new("style_epilogue", (x, c) => Tensor.StyleEpilogue(x[0], x[1], x[2], c[0], x[3], 0.2f, MathF.Sqrt(2f)), [S(2, 3, 4, 4), S(2, 3), S(3), S(3)],
            [N, P, N, N], Consts: [Tensor.Randn([2, 1, 4, 4], new Generator(3))], FiniteDiff: false),
        new("prelu", (x, c) => x[0].PRelu(x[1]), [S(2, 3, 4, 4), S(1)], [A, N], Second: true),
        new("prelu_channels", (x, c) => x[0].PRelu(x[1]), [S(2, 3, 5), S(3)], [A, N], Second: true),
        new("abs", (x, c) => x[0].Abs(), [S(3, 4)], [A]),
        new("sign", (x, c) => x[0].Sign(), [S(3, 4)], [A], Differentiable: false),
        // ---- core: reductions ----
        new("sum_all", (x, c) => x[0].Sum(), [S(3, 4)], Second: true),
        new("sum_dims", (x, c) => x[0].Sum([0, 2], keepDim: true), [S(2, 3, 4)], Second: true),
        new("mean_all", (x, c) => x[0].Mean(), [S(3, 4)], Second: true),
        new("mean_dim", (x, c) => x[0].Mean(1), [S(2, 3, 4)], Second: true),
        new("sum_to", (x, c) => x[0].SumTo([3, 1]), [S(2, 3, 4)]),
        // ---- core: views ----
        new("reshape", (x, c) => x[0].Reshape(4, -1), [S(2, 3, 4)], Second: true),
        new("view", (x, c) => x[0].View(3, 8), [S(2, 3, 4)]),
        new("flatten", (x, c) => x[0].Flatten(1), [S(2, 3, 4)]),
        new("unsqueeze", (x, c) => x[0].Unsqueeze(1), [S(3, 4)]),
        new("squeeze", (x, c) => x[0].Squeeze(1), [S(3, 1, 2)]),
        new("expand", (x, c) => x[0].Expand(2, 3, 4), [S(3, 1)], Second: true),
        new("expand_as", (x, c) => x[0].ExpandAs(c[0]), [S(4)], Consts: [Tensor.Zeros(3, 4)]),
        new("permute", (x, c) => x[0].Permute(2, 0, 1), [S(2, 3, 4)], Second: true),
        new("transpose", (x, c) => x[0].Transpose(0, 2), [S(2, 3, 4)]),
        new("t", (x, c) => x[0].T, [S(3, 4)]),
        // ---- core: products ----
        new("matmul", (x, c) => x[0].MatMul(x[1]), [S(2, 3, 4), S(4, 5)], Second: true),
        new("matmul_transposed", (x, c) => x[0].MatMul(x[1], true, true), [S(4, 3), S(5, 4)], Second: true),
        new("matmul_vector", (x, c) => x[0].MatMul(x[1]), [S(3, 4), S(4)]),
        new("bmm", (x, c) => x[0].Bmm(x[1]), [S(2, 3, 4), S(2, 4, 2)]),
        new("outer", (x, c) => x[0].Outer(x[1]), [S(3), S(4)]),
        // ---- indexing ----
        new("narrow", (x, c) => x[0].Narrow(1, 1, 3), [S(3, 5)], Second: true),
        new("slice_step", (x, c) => x[0].Slice(1, 1, 6, 2), [S(4, 6)]),
        new("slice_negative", (x, c) => x[0].Slice(0, -3), [S(4, 3)]),
        new("select", (x, c) => x[0].Select(1, 2), [S(3, 4, 2)]),
        new("index_select", (x, c) => x[0].IndexSelect(0, c[0]), [S(4, 3)], Consts: [C([2, 0, 2, 3], 4)]),
        new("gather", (x, c) => x[0].Gather(1, c[0]), [S(3, 4)], Consts: [C([3, 0, 1, 1, 2, 2], 3, 2)], Second: true),
        new("scatter_add", (x, c) => x[0].ScatterAdd(0, c[0], x[1]), [S(3, 4), S(2, 4)],
            Consts: [C([0, 2, 2, 1, 0, 0, 2, 1], 2, 4)], Second: true),
        new("masked_fill", (x, c) => x[0].MaskedFill(c[0], -1.5f), [S(3, 4)], Consts: [C([1, 0, 0, 1], 4)]),
        // ---- joining ----
        new("cat", (x, c) => Tensor.Cat([x[0], x[1], x[2]], 1), [S(2, 3), S(2, 1), S(2, 2)], Second: true),
        new("stack", (x, c) => Tensor.Stack([x[0], x[1]], 1), [S(2, 3), S(2, 3)]),
        new("split", (x, c) => { var p = x[0].Split(2, 1); return Tensor.Cat([p[2], p[0] * 2f, p[1]], 1); }, [S(3, 5)]),
        new("split_sizes", (x, c) => { var p = x[0].Split([1, 3], 0); return Tensor.Cat([p[1], p[0]], 0); }, [S(4, 3)]),
        new("chunk", (x, c) => { var p = x[0].Chunk(3, 0); return Tensor.Cat([p[2], p[0], p[1] * 0.5f], 0); }, [S(5, 2)]),
        new("flip", (x, c) => x[0].Flip(0, 2), [S(2, 3, 4)]),
        // ---- selection ----
        new("where", (x, c) => Tensor.Where(c[0], x[0], x[1]), [S(3, 4), S(4)], Consts: [C([1, 0, 1], 3, 1)], Second: true),
        new("clamp", (x, c) => x[0].Clamp(-0.5f, 0.5f), [S(3, 4)], [D]),
        new("clamp_min", (x, c) => x[0].Clamp(min: 0.2f), [S(3, 4)], [D]),
        new("maximum", (x, c) => Tensor.Maximum(x[0], x[1]), [S(3, 4), S(4)], [D, D]),
        new("minimum", (x, c) => Tensor.Minimum(x[0], x[1]), [S(3, 4), S(4)], [D, D]),
        new("maximum_ties", (x, c) => Tensor.Maximum(x[0], x[1]), [S(3, 4), S(4)], [I, I], FiniteDiff: false),
        // ---- more math ----
        new("sin", (x, c) => x[0].Sin(), [S(3, 4)], Second: true),
        new("cos", (x, c) => x[0].Cos(), [S(3, 4)], Second: true),
        new("rsqrt", (x, c) => x[0].Rsqrt(), [S(3, 4)], [P], Second: true),
        new("reciprocal", (x, c) => x[0].Reciprocal(), [S(3, 4)], [P], Second: true),
        new("log1p", (x, c) => x[0].Log1p(), [S(3, 4)], [P], Second: true),
        new("pow_tensor", (x, c) => x[0].Pow(x[1]), [S(3, 4), S(4)], [P, N], Second: true),
        // ---- reductions ----
        new("max_dim", (x, c) => x[0].Max(1).Values, [S(3, 4)], [D]),
        new("max_dim_keep", (x, c) => x[0].Max(0, keepDim: true).Values, [S(3, 4)], [D]),
        new("min_dim", (x, c) => x[0].Min(-1).Values, [S(2, 3, 4)], [D]),
        new("max_dim_ties", (x, c) => x[0].Max(1).Values, [S(4, 5)], [I], FiniteDiff: false),
        new("max_all", (x, c) => x[0].Max(), [S(3, 4)], [D]),
        new("min_all", (x, c) => x[0].Min(), [S(3, 4)], [D]),
        new("max_all_ties", (x, c) => x[0].Max(), [S(3, 4)], [I], FiniteDiff: false),
        new("var_dim", (x, c) => x[0].Var(1), [S(3, 4)], Second: true),
        new("var_all_biased", (x, c) => x[0].Var(unbiased: false), [S(3, 4)], Second: true),
        new("std_keep", (x, c) => x[0].Std(0, keepDim: true), [S(3, 4)], Second: true),
        new("logsumexp_dim", (x, c) => x[0].LogSumExp(1), [S(3, 4)], Second: true),
        new("logsumexp_all", (x, c) => x[0].LogSumExp(), [S(2, 3, 4)], Second: true),
        new("logsumexp_large", (x, c) => (x[0] * 100f).LogSumExp(0), [S(3, 4)]),
        new("norm2", (x, c) => x[0].Norm(), [S(3, 4)], Second: true),
        new("norm2_dim", (x, c) => x[0].Norm(2f, [1], keepDim: true), [S(3, 4)], Second: true),
        new("norm2_zero_row", (x, c) => x[0].Norm(2f, [1]), [S(3, 4)], [Init.ZeroRow], FiniteDiff: false),
        new("norm1", (x, c) => x[0].Norm(1f, [0]), [S(3, 4)], [A]),
        new("norm3", (x, c) => x[0].Norm(3f, [1]), [S(3, 4)], Second: true),
        // ---- no gradient: comparisons and indices ----
        new("eq", (x, c) => x[0].Eq(x[1]), [S(3, 4), S(4)], [I, I], Differentiable: false),
        new("ne", (x, c) => x[0].Ne(x[1]), [S(3, 4), S(4)], [I, I], Differentiable: false),
        new("gt", (x, c) => x[0].Gt(x[1]), [S(3, 4), S(3, 1)], [I, I], Differentiable: false),
        new("ge", (x, c) => x[0].Ge(x[1]), [S(3, 4), S(3, 1)], [I, I], Differentiable: false),
        new("lt", (x, c) => x[0].Lt(x[1]), [S(3, 4), S(4)], [I, I], Differentiable: false),
        new("le", (x, c) => x[0].Le(x[1]), [S(3, 4), S(4)], [I, I], Differentiable: false),
        new("eq_scalar", (x, c) => x[0].Eq(1f), [S(3, 4)], [I], Differentiable: false),
        new("gt_scalar", (x, c) => x[0].Gt(0f), [S(3, 4)], [I], Differentiable: false),
        new("le_scalar", (x, c) => x[0].Le(-1f), [S(3, 4)], [I], Differentiable: false),
        new("argmax_dim", (x, c) => x[0].ArgMax(1), [S(3, 4)], [I], Differentiable: false),
        new("argmin_all", (x, c) => x[0].ArgMin(), [S(3, 4)], [I], Differentiable: false),
        new("max_dim_indices", (x, c) => x[0].Max(0).Indices, [S(4, 3)], [I], Differentiable: false),
    ];

    public static OpCase Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names(Func<OpCase, bool> filter)
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Where(filter)) data.Add(c.Name);
        return data;
    }
}
