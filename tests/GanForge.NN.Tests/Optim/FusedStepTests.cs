using GanForge.Kernels;
using GanForge.Optim;

namespace GanForge.NN.Tests.Optim;

/// <summary>
/// Optimizer.BackwardAndStep, where Adam's step on a Linear layer's weight runs in the product that makes its gradient,
/// against Backward then Step on a copy of the same network: the same float operations, so the same parameters and
/// moments after a few steps, and the gradients where a weight had to take one.
/// </summary>
public class FusedStepTests
{
    // Two-layer perceptrons of the same initialisation, and a loss of their outputs (batch 32: one K block).
    static Sequential Net(ulong seed) => new(new Linear(100, 64, generator: new Generator(seed)), new LeakyReLU(0.2f),
        new Linear(64, 40, generator: new Generator(seed + 1)));

    static Tensor Loss(Tensor y) => (y * y).Mean();

    static readonly Tensor Input = Tensor.Randn([32, 100], new Generator(3));

    static void AssertSame(Module expected, Module actual, Optimizer expectedOpt, Optimizer actualOpt)
    {
        var (e, a) = (expected.Parameters().ToList(), actual.Parameters().ToList());
        for (int i = 0; i < e.Count; i++)
        {
            Fixtures.AssertClose(e[i], a[i], 1e-6, 1e-8, $"parameter {i}");
            var (se, sa) = (expectedOpt.State(e[i])!, actualOpt.State(a[i])!);
            Assert.Equal(se.Step, sa.Step);
            foreach (var (name, buffer) in se.Buffers) Fixtures.AssertClose(buffer, sa.Buffers[name], 1e-6, 1e-10, $"{name} of parameter {i}");
        }
    }

    // Steps of the loss on Input: Backward then Step for plain, BackwardAndStep for fused.
    static void StepBoth(Module plain, Module fused, Optimizer plainOpt, Optimizer fusedOpt, int steps)
    {
        for (int step = 0; step < steps; step++)
        {
            plainOpt.ZeroGrad();
            Loss(plain.Forward(Input)).Backward();
            plainOpt.Step();
            fusedOpt.ZeroGrad();
            fusedOpt.BackwardAndStep(Loss(fused.Forward(Input)));
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void BackwardAndStep_Adam_SameAsBackwardThenStep(double weightDecay)
    {
        var (plain, fused) = (Net(7), Net(7));
        var plainOpt = new Adam(plain.Parameters(), lr: 1e-2, beta1: 0.5, weightDecay: weightDecay);
        var fusedOpt = new Adam(fused.Parameters(), lr: 1e-2, beta1: 0.5, weightDecay: weightDecay);
        StepBoth(plain, fused, plainOpt, fusedOpt, steps: 3);
        AssertSame(plain, fused, plainOpt, fusedOpt);
        // Where the AVX-512 kernel runs, the weights took their steps in the product (no gradient made); the biases after.
        var p = fused.Parameters().ToList();
        Assert.Equal(Gemm.FusesAdam && Optimizer.FusesSteps, p[0].Grad == null && p[2].Grad == null);
        Assert.NotNull(p[1].Grad);
        Assert.NotNull(p[3].Grad);
    }

    [Fact]
    public void BackwardAndStep_WeightUsedTwice_StepsItAfterTheBackward()
    {
        // One layer applied to two batches: its weight's gradient has two parts, so no single product may take the step
        // (the first would change the weight the second reads).
        var (plain, fused) = (new Linear(100, 48, generator: new Generator(4)), new Linear(100, 48, generator: new Generator(4)));
        var other = Tensor.Randn([32, 100], new Generator(5));
        var plainOpt = new Adam(plain.Parameters(), lr: 1e-2);
        var fusedOpt = new Adam(fused.Parameters(), lr: 1e-2);
        for (int step = 0; step < 2; step++)
        {
            plainOpt.ZeroGrad();
            (Loss(plain.Forward(Input)) + Loss(plain.Forward(other))).Backward();
            plainOpt.Step();
            fusedOpt.ZeroGrad();
            fusedOpt.BackwardAndStep(Loss(fused.Forward(Input)) + Loss(fused.Forward(other)));
        }
        AssertSame(plain, fused, plainOpt, fusedOpt);
        Assert.NotNull(fused.Parameters().First().Grad);
    }

    [Fact]
    public void BackwardAndStep_GradientLeftFromBefore_AddsToIt()
    {
        // Without ZeroGrad the new gradient adds to the old one, as Backward's does: no step in the product then.
        var (plain, fused) = (Net(9), Net(9));
        var plainOpt = new Adam(plain.Parameters(), lr: 1e-2);
        var fusedOpt = new Adam(fused.Parameters(), lr: 1e-2);
        Loss(plain.Forward(Input)).Backward();
        Loss(fused.Forward(Input)).Backward();
        Loss(plain.Forward(Input)).Backward();
        plainOpt.Step();
        fusedOpt.BackwardAndStep(Loss(fused.Forward(Input)));
        AssertSame(plain, fused, plainOpt, fusedOpt);
        Assert.All(fused.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void BackwardAndStep_AdamW_SameAsBackwardThenStep()
    {
        // AdamW's decay is not the one-pass kernel's: its steps run after the backward.
        var (plain, fused) = (Net(11), Net(11));
        var plainOpt = new AdamW(plain.Parameters(), lr: 1e-2);
        var fusedOpt = new AdamW(fused.Parameters(), lr: 1e-2);
        StepBoth(plain, fused, plainOpt, fusedOpt, steps: 2);
        AssertSame(plain, fused, plainOpt, fusedOpt);
        Assert.All(fused.Parameters(), p => Assert.NotNull(p.Grad));
    }
}
