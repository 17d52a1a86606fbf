using GanForge.Gan.Training;
using GanForge.NN;

namespace GanForge.Gan.Tests;

public class EmaTests
{
    static (Linear Source, Ema Ema, float[] Initial) Setup(float beta)
    {
        var source = new Linear(4, 3, generator: new Generator(1));
        var ema = new Ema(source, new Linear(4, 3, generator: new Generator(2)), beta);
        return (source, ema, source.Weight.Data.ToArray());
    }

    [Fact]
    public void DecayAt_EarlySteps_WarmsUpToTheGivenDecay()
    {
        var (_, ema, _) = Setup(0.999f);
        Assert.Equal(2f / 11f, ema.DecayAt(1), 1e-6f);
        Assert.Equal(101f / 110f, ema.DecayAt(100), 1e-6f);
        Assert.Equal(0.999f, ema.DecayAt(9_000), 1e-6f);
        Assert.Equal(0.999f, ema.DecayAt(1_000_000), 1e-6f);
    }

    [Fact]
    public void Update_FirstStep_AveragesWithTheWarmUpDecay()
    {
        var (source, ema, initial) = Setup(0.999f);
        for (int i = 0; i < source.Weight.Data.Length; i++) source.Weight.Data[i] += 1f;
        ema.Update(1);
        float beta = 2f / 11f;
        for (int i = 0; i < initial.Length; i++)
            Assert.Equal(beta * initial[i] + (1 - beta) * (initial[i] + 1f), ((Linear)ema.Average).Weight.Data[i], 1e-5f);
    }

    [Fact]
    public void Update_HighDecayShortRun_ForgetsTheInitialWeights()
    {
        // 300 steps of β = 0.999 with no warm-up would keep 0.999^300 = 74% of the starting weights in the average.
        var (source, ema, initial) = Setup(0.999f);
        for (int i = 0; i < source.Weight.Data.Length; i++) source.Weight.Data[i] += 1f;
        for (int step = 1; step <= 300; step++) ema.Update(step);
        var average = ((Linear)ema.Average).Weight.Data;
        for (int i = 0; i < initial.Length; i++)
            Assert.InRange(initial[i] + 1f - average[i], 0, 0.01);   // under 1% of the way back to the start
    }
}
