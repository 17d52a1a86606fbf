using GanForge.Optim;

namespace GanForge.NN.Tests.Optim;

/// <summary>Each optimizer against PyTorch 1.13 (tools/fixtures/optim.py): 5 steps from fixed params and gradients.</summary>
public class OptimizerTests
{
    // The updates repeat PyTorch's float32 operations in order (with FMA where its compiled kernels fuse),
    // and on these fixtures they are bit-identical; the tolerance leaves room for PyTorch's vectorised
    // kernels on large tensors, which may round differently by an ulp.
    const double Rtol = 1e-6, Atol = 1e-7;
    const int Steps = 5;

    /// <summary>The cases of optim.py's optimizer_cases(), with the same hyperparameters.</summary>
    static readonly Dictionary<string, Func<Tensor, Tensor, Optimizer>> Cases = new()
    {
        ["sgd_plain"] = (a, b) => new Sgd([a, b], lr: 0.1),
        ["sgd_momentum"] = (a, b) => new Sgd([a, b], lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01),
        ["sgd_nesterov"] = (a, b) => new Sgd([a, b], lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.001),
        ["sgd_maximize"] = (a, b) => new Sgd([a, b], lr: 0.1, momentum: 0.5, maximize: true),
        ["sgd_groups"] = (a, b) => TwoGroups(new Sgd([a], lr: 0.1, momentum: 0.9), b, 0.01),
        ["adam"] = (a, b) => new Adam([a, b], lr: 1e-2),
        ["adam_wd_amsgrad"] = (a, b) => new Adam([a, b], lr: 1e-2, beta1: 0.5, beta2: 0.99, weightDecay: 0.1, amsgrad: true),
        ["adam_groups"] = (a, b) => TwoGroups(new Adam([a], lr: 2e-3, beta1: 0.0, beta2: 0.99, eps: 1e-6), b, 1e-3),
        ["adamw"] = (a, b) => new AdamW([a, b], lr: 1e-2, weightDecay: 0.05),
        ["adamw_amsgrad"] = (a, b) => new AdamW([a, b], lr: 1e-2, beta1: 0.8, beta2: 0.9, weightDecay: 0.01, amsgrad: true, maximize: true),
        ["rmsprop"] = (a, b) => new RmsProp([a, b], lr: 1e-2),
        ["rmsprop_centered"] = (a, b) => new RmsProp([a, b], lr: 1e-2, alpha: 0.9, eps: 1e-6, weightDecay: 0.01, momentum: 0.8, centered: true),
        ["rmsprop_groups"] = (a, b) => TwoGroups(new RmsProp([a], lr: 1e-2, momentum: 0.5), b, 3e-3),
    };

    static Optimizer TwoGroups(Optimizer opt, Tensor second, double lr)
    {
        opt.AddParamGroup([second], lr: lr);
        return opt;
    }

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    static (Tensor P0, Tensor P1) InitialParams(Dictionary<string, Tensor> f) =>
        (f["init.0"].Clone().RequiresGrad_(), f["init.1"].Clone().RequiresGrad_());

    /// <summary>Sets the fixture's gradients of step <paramref name="s"/>; a gradient absent from the fixture is null.</summary>
    static void SetGrads(Dictionary<string, Tensor> f, int s, params Tensor[] ps)
    {
        for (int k = 0; k < ps.Length; k++)
            ps[k].Grad = f.TryGetValue($"grad.{s}.{k}", out var g) ? g.Clone() : null;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Step_FiveSyntheticGradients_MatchesPyTorch(string name)
    {
        var f = Fixtures.Load("optim", name);
        var (p0, p1) = InitialParams(f);
        var opt = Cases[name](p0, p1);
        for (int s = 0; s < Steps; s++)
        {
            SetGrads(f, s, p0, p1);
            opt.Step();
            Fixtures.AssertClose(f[$"param.{s}.0"], p0, Rtol, Atol, $"{name} step {s} param 0");
            Fixtures.AssertClose(f[$"param.{s}.1"], p1, Rtol, Atol, $"{name} step {s} param 1");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void LoadStateDict_ResumedMidway_IsBitIdenticalToUninterrupted(string name)
    {
        var f = Fixtures.Load("optim", name);
        var (a0, a1) = InitialParams(f);
        var straight = Cases[name](a0, a1);
        for (int s = 0; s < Steps; s++) { SetGrads(f, s, a0, a1); straight.Step(); }

        var (b0, b1) = InitialParams(f);
        var first = Cases[name](b0, b1);
        for (int s = 0; s < 3; s++) { SetGrads(f, s, b0, b1); first.Step(); }
        // Through a file, as a training run would resume.
        var path = Path.Combine(Path.GetTempPath(), $"gf-optim-{Guid.NewGuid():N}.safetensors");
        try
        {
            first.StateDict().Save(path);
            var (c0, c1) = (b0.Detach().Clone().RequiresGrad_(), b1.Detach().Clone().RequiresGrad_());
            var resumed = Cases[name](c0, c1);
            resumed.LoadStateDict(OptimizerStateDict.Load(path));
            for (int s = 3; s < Steps; s++) { SetGrads(f, s, c0, c1); resumed.Step(); }
            Assert.Equal(a0.ToArray(), c0.ToArray());
            Assert.Equal(a1.ToArray(), c1.ToArray());
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Step_AfterTheFirst_AllocatesNothing(string name)
    {
        var f = Fixtures.Load("optim", name);
        var (p0, p1) = InitialParams(f);
        var opt = Cases[name](p0, p1);
        SetGrads(f, 0, p0, p1);
        opt.Step();
        opt.Step(); // the JIT may allocate on first calls of generic TensorPrimitives paths
        long before = GC.GetAllocatedBytesForCurrentThread();
        opt.Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void StateDict_Adam_NamesBuffersByParamIndexAndRecordsSteps()
    {
        var f = Fixtures.Load("optim", "adam_wd_amsgrad");
        var (p0, p1) = InitialParams(f);
        var opt = Cases["adam_wd_amsgrad"](p0, p1);
        for (int s = 0; s < 3; s++) { SetGrads(f, s, p0, p1); opt.Step(); }
        var state = opt.StateDict();
        Assert.Equal(["state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
                      "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"], state.Tensors.Keys.Order().ToArray());
        Assert.Equal(3, opt.State(p0)!.Step);
        Assert.Equal(2, opt.State(p1)!.Step); // its gradient was null at step 2
        Assert.Contains("\"beta1\":0.5", state.Json);
        Assert.Contains("\"amsgrad\":true", state.Json);
    }

    [Fact]
    public void StateDict_SavedWithPrefix_LoadsBackFromCombinedFile()
    {
        var p = Tensor.Ones(3).RequiresGrad_();
        var opt = new Adam([p], lr: 0.1);
        p.Grad = Tensor.Full([3], 0.5f);
        opt.Step();
        var tensors = new Dictionary<string, Tensor> { ["model.weight"] = p };
        var metadata = new Dictionary<string, string>();
        opt.StateDict().AddTo(tensors, metadata, "optimizer.");
        Assert.Contains("optimizer.state.0.exp_avg", tensors.Keys);
        Assert.Contains("optimizer.json", metadata.Keys);

        var back = OptimizerStateDict.ReadFrom(tensors, metadata, "optimizer.");
        var fresh = new Adam([Tensor.Ones(3).RequiresGrad_()], lr: 0.5);
        fresh.LoadStateDict(back);
        Assert.Equal(0.1, fresh.ParamGroups[0].Lr);
        Assert.Equal(opt.StateDict().Tensors["state.0.exp_avg"].ToArray(), fresh.StateDict().Tensors["state.0.exp_avg"].ToArray());
    }

    [Fact]
    public void Step_NullGrad_LeavesParameterAndStateUntouched()
    {
        var a = Tensor.Ones(2).RequiresGrad_();
        var b = Tensor.Ones(2).RequiresGrad_();
        var opt = new Adam([a, b], lr: 0.1);
        a.Grad = Tensor.Ones(2);
        opt.Step();
        Assert.Equal([1f, 1f], b.ToArray());
        Assert.Null(opt.State(b));
        Assert.NotEqual(1f, a.ToArray()[0]);
    }

    [Fact]
    public void ZeroGrad_DefaultSetsNull_FalseFillsZeros()
    {
        var p = Tensor.Ones(2).RequiresGrad_();
        var opt = new Sgd([p], lr: 0.1);
        p.Grad = Tensor.Ones(2);
        var grad = p.Grad;
        opt.ZeroGrad(setToNone: false);
        Assert.Same(grad, p.Grad);
        Assert.Equal([0f, 0f], p.Grad!.ToArray());
        opt.ZeroGrad();
        Assert.Null(p.Grad);
    }

    [Fact]
    public void Scheduler_ChangingGroupLr_ChangesTheUpdate()
    {
        var p = Tensor.Zeros(1).RequiresGrad_();
        var opt = new Sgd([p], lr: 1.0);
        opt.ParamGroups[0].Lr = 0.25;
        p.Grad = Tensor.Ones(1);
        opt.Step();
        Assert.Equal(-0.25f, p.Item());
    }
}
