using GanForge.Optim;

namespace GanForge.NN.Tests.Optim;

/// <summary>Schedulers against PyTorch 1.13: two groups (lr 0.1 and 0.05), 14 steps.</summary>
public class SchedulerTests
{
    // Learning rates are computed in double as PyTorch does; the fixture stores them as float32.
    const double Rtol = 1e-6, Atol = 1e-9;

    static readonly Dictionary<string, Func<Optimizer, LrScheduler>> Cases = new()
    {
        ["step"] = o => new StepLR(o, stepSize: 3, gamma: 0.5),
        ["exponential"] = o => new ExponentialLR(o, gamma: 0.9),
        ["linear"] = o => new LinearLR(o, startFactor: 0.25, endFactor: 1.0, totalIters: 4),
        ["cosine"] = o => new CosineAnnealingLR(o, tMax: 5, etaMin: 0.001),
        ["lambda"] = o => new LambdaLR(o, e => 1.0 / (e + 1)),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    static Sgd TwoGroupSgd()
    {
        var opt = new Sgd([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1);
        opt.AddParamGroup([Tensor.Zeros(1).RequiresGrad_()], lr: 0.05);
        return opt;
    }

    static Tensor Row(IEnumerable<double> lrs) => Tensor.FromArray(lrs.Select(x => (float)x).ToArray());

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Step_FourteenEpochs_MatchesPyTorch(string name)
    {
        var expected = Fixtures.Load("optim", "schedulers")[$"lr.{name}"];
        var opt = TwoGroupSgd();
        var sched = Cases[name](opt);
        for (int e = 0; e < expected.Size(0); e++)
        {
            if (e > 0) { opt.Step(); sched.Step(); }
            var want = Tensor.FromArray(expected.Data.Slice(e * 2, 2));
            Fixtures.AssertClose(want, Row(sched.LastLr), Rtol, Atol, $"{name} epoch {e} LastLr");
            Fixtures.AssertClose(want, Row(opt.ParamGroups.Select(g => g.Lr)), Rtol, Atol, $"{name} epoch {e} group lr");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void LoadStateDict_ResumedWithOptimizerState_ContinuesIdentically(string name)
    {
        var straightOpt = TwoGroupSgd();
        var straight = Cases[name](straightOpt);
        for (int e = 0; e < 9; e++) straight.Step();

        var firstOpt = TwoGroupSgd();
        var first = Cases[name](firstOpt);
        for (int e = 0; e < 4; e++) first.Step();
        string schedJson = first.StateDict().ToJson();
        var optState = firstOpt.StateDict();

        var resumedOpt = TwoGroupSgd();
        var resumed = Cases[name](resumedOpt);
        resumedOpt.LoadStateDict(optState);
        resumed.LoadStateDict(LrSchedulerState.FromJson(schedJson));
        for (int e = 0; e < 5; e++) resumed.Step();

        Assert.Equal(straight.LastEpoch, resumed.LastEpoch);
        Assert.Equal(straight.LastLr, resumed.LastLr);
        Assert.Equal(straightOpt.ParamGroups.Select(g => g.Lr), resumedOpt.ParamGroups.Select(g => g.Lr));
    }

    [Fact]
    public void Constructor_SetsInitialLrOnGroups()
    {
        var opt = TwoGroupSgd();
        var sched = new LinearLR(opt, startFactor: 0.5, totalIters: 2);
        Assert.Equal([0.1, 0.05], opt.ParamGroups.Select(g => g.InitialLr!.Value));
        Assert.Equal([0.05, 0.025], sched.LastLr);
        Assert.Equal(0, sched.LastEpoch);
    }

    [Fact]
    public void LinearLR_StartFactorZero_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new LinearLR(TwoGroupSgd(), startFactor: 0));
        Assert.Contains("start_factor", e.Message);
    }

    [Fact]
    public void LambdaLR_WrongNumberOfLambdas_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new LambdaLR(TwoGroupSgd(), [_ => 1, _ => 1, _ => 1]));
        Assert.Contains("expected 1 or 2", e.Message);
    }

    [Fact]
    public void CosineAnnealingLR_NonPositiveTMax_Throws()
    {
        Assert.Throws<ArgumentException>(() => new CosineAnnealingLR(TwoGroupSgd(), tMax: 0));
    }

    [Fact]
    public void LrSchedulerState_MalformedJson_Throws()
    {
        Assert.Throws<InvalidDataException>(() => LrSchedulerState.FromJson("{not json"));
    }
}
