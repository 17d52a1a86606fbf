using GanForge.NN;
using static GanForge.Onnx.Tests.OnnxRuntimeHarness;

namespace GanForge.Onnx.Tests;

/// <summary>
/// One table of modules, each exported and run in ONNX Runtime at two batch sizes against GanForge's eval-mode
/// output: every converter, with the geometry settings a layer takes (stride, padding, output padding,
/// dilation, groups, bias, non-square kernels).
/// </summary>
public class LayerExportTests
{
    const double Tolerance = 1e-4;

    static readonly Dictionary<string, (Func<Module> Create, int[] Sample)> Cases = new()
    {
        ["Conv2d stride 2, padding 1, dilation 2, groups 2"] =
            (() => new Conv2d(4, 6, 3, stride: 2, padding: 1, dilation: 2, groups: 2, generator: new(1)), [4, 9, 9]),
        ["Conv2d non-square, no bias"] =
            (() => new Conv2d(3, 5, (3, 2), stride: (2, 1), padding: (1, 0), bias: false, generator: new(2)), [3, 8, 7]),
        ["ConvTranspose2d stride 2, padding 1, output padding 1, dilation 2, groups 2"] =
            (() => new ConvTranspose2d(4, 6, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: 2, generator: new(3)), [4, 5, 5]),
        ["ConvTranspose2d non-square, no bias"] =
            (() => new ConvTranspose2d(3, 2, (4, 3), stride: (2, 3), padding: (1, 0), outputPadding: (1, 2), bias: false, generator: new(4)), [3, 4, 6]),
        ["Conv2d, BatchNorm2d, LeakyReLU, Flatten, Linear without bias, Sigmoid"] =
            (() => new Sequential(new Conv2d(2, 4, 3, padding: 1, generator: new(5)), new BatchNorm2d(4), new LeakyReLU(0.1f),
                new Flatten(), new Linear(4 * 6 * 6, 3, bias: false, generator: new(6)), new Sigmoid()), [2, 6, 6]),
        ["nested Sequential with Identity, Dropout and Dropout2d (identities in eval)"] =
            (() => new Sequential(new Linear(8, 8, generator: new(7)), new Sequential(new Identity(), new Dropout(0.5f), new Tanh()),
                new Unflatten(1, [2, 2, 2]), new Dropout2d(0.5f), new Flatten(2)), [8]),
        ["Linear on (N,L,in): MatMul and Add"] = (() => new Linear(5, 3, generator: new(8)), [4, 5]),
        ["Linear on (N,L,in) without bias"] = (() => new Linear(5, 3, bias: false, generator: new(9)), [4, 5]),
        ["BatchNorm1d on (N,C,L), not affine, cumulative average"] =
            (() => new BatchNorm1d(3, eps: 1e-3f, momentum: null, affine: false), [3, 4]),
        ["Unflatten with -1"] = (() => new Sequential(new Linear(6, 12, generator: new(10)), new Unflatten(1, [3, -1])), [6]),
        ["spectral norm on Linear and Conv2d: the weight Forward uses"] =
            (() => new Sequential(SpectralNorm.Apply(new Conv2d(2, 3, 3, generator: new(11)), generator: new(12)), new Flatten(),
                SpectralNorm.Apply(new Linear(3 * 3 * 3, 4, generator: new(13)), generator: new(14))), [2, 5, 5]),
        ["InstanceNorm2d affine, then PixelShuffle"] =
            (() => new Sequential(new InstanceNorm2d(8, affine: true), new PixelShuffle(2)), [8, 3, 5]),
        ["InstanceNorm2d with running statistics (used in eval)"] =
            (() => new InstanceNorm2d(3, eps: 1e-3f, trackRunningStats: true), [3, 4, 4]),
        ["an empty Sequential: the identity"] = (() => new Sequential(), [3, 2]),
        ["PixelNorm, EqualLinear (lr x 0.01), ScaledLeakyReLU, Unflatten, EqualConv2d stride 2, nearest Upsample, PixelNorm"] =
            (() => new Sequential(new PixelNorm(), new EqualLinear(6, 2 * 4 * 4, lrMultiplier: 0.01f, generator: new(15)),
                new GanForge.Gan.Zoo.ScaledLeakyReLU(), new Unflatten(1, [2, 4, 4]), new EqualConv2d(2, 3, 3, stride: 2, padding: 1, generator: new(16)),
                new Upsample(scaleFactor: 2), new PixelNorm()), [6]),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    /// <summary>
    /// The module with its 1-D parameters (biases, norm scales and shifts) moved off their initial values and
    /// after training-mode passes (BatchNorm statistics and spectral norm's u move), then Eval().
    /// </summary>
    static Module Prepared(string name)
    {
        var (create, sample) = Cases[name];
        var module = create();
        var rng = new Generator(21);
        foreach (var p in module.Parameters().Where(p => p.Rank == 1))
            Tensor.Uniform(p.Shape, -0.5f, 0.5f, rng).Data.CopyTo(p.Data);
        using (GradMode.NoGrad())
            for (int i = 0; i < 3; i++) module.Forward(Tensor.Randn([8, .. sample], rng) + 0.5f);
        module.Eval();
        return module;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ExportOnnx_Layer_MatchesGanForgeAtBatch1And5(string name)
    {
        var module = Prepared(name);
        var sample = Cases[name].Sample;
        var bytes = module.ToOnnx(Tensor.Randn([3, .. sample], new Generator(1)), new OnnxExportOptions("x", "y"));
        foreach (int batch in new[] { 1, 5 })
        {
            var x = Tensor.Randn([batch, .. sample], new Generator((ulong)batch + 100));
            var expected = Forward(module, x);
            double diff = MaxAbsDifference(expected, Run(bytes, x, "x", "y"));
            Assert.True(diff <= Tolerance, $"{name}, batch {batch}: max |ONNX Runtime - GanForge| = {diff:E3}");
        }
    }

    [Fact]
    public void ExportOnnx_ToAFile_LoadsInOnnxRuntimeFromThePath()
    {
        var module = new Sequential(new Linear(4, 6, generator: new(1)), new ReLU(), new Unflatten(1, [1, 2, 3]));
        var dir = Directory.CreateTempSubdirectory("ganforge-onnx-");
        try
        {
            var path = Path.Combine(dir.FullName, "sub", "g.onnx");
            module.ExportOnnx(path, Tensor.Randn(1, 4));
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            Assert.Equal(["batch", ""], session.InputMetadata["z"].SymbolicDimensions);
            Assert.Equal([-1, 4], session.InputMetadata["z"].Dimensions);
            Assert.Equal([-1, 1, 2, 3], session.OutputMetadata["image"].Dimensions);
            var x = Tensor.Randn(2, 4);
            Assert.True(MaxAbsDifference(Forward(module, x), Run(session, x)) <= Tolerance);
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temp file left beside it
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ExportOnnx_ModuleInTrainingMode_IsLeftAsItWas()
    {
        var bn = new BatchNorm1d(4);
        var dropout = new Dropout(0.5f);
        var module = new Sequential(new Linear(3, 4, generator: new(1)), bn, new Sequential(dropout));
        dropout.Eval();
        var mean = bn.RunningMean!.ToArray();
        var tracked = bn.NumBatchesTracked!.ToArray();

        module.ToOnnx(Tensor.Randn(5, 3));

        Assert.True(module.Training);
        Assert.True(bn.Training);
        Assert.False(dropout.Training);
        Assert.Equal(mean, bn.RunningMean!.ToArray());        // exported in eval mode: no statistics update
        Assert.Equal(tracked, bn.NumBatchesTracked!.ToArray());
    }
}
