using GanForge.NN;
using GanForge.Optim;

namespace GanForge.NN.Tests;

public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExample_GradientPenaltyStep_ChangesTheCriticAndSaves()
    {
        // The library example of README.md, verbatim but for the file path and the assertions.
        var critic = new Sequential(new Conv2d(1, 64, 4, stride: 2, padding: 1), new LeakyReLU(0.2f),
                                    new Flatten(), new Linear(64 * 14 * 14, 1));
        var opt = new Adam(critic.Parameters(), 1e-4, beta1: 0.0, beta2: 0.9);
        var before = critic.Parameters().First().ToArray();

        var x = Tensor.Randn(16, 1, 28, 28).RequiresGrad_();
        var grad = Autograd.Grad(critic.Forward(x).Sum(), x, createGraph: true);
        var penalty = (grad.Flatten(1).Norm(2, [1]) - 1f).Square().Mean();
        opt.ZeroGrad();
        penalty.Backward();
        opt.Step();
        var path = Path.Combine(Path.GetTempPath(), $"critic-{Guid.NewGuid():N}.safetensors");
        critic.Save(path);

        Assert.NotNull(critic.Parameters().First().Grad);
        Assert.NotEqual(before, critic.Parameters().First().ToArray());
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], GanForge.Serialization.SafeTensors.Load(path).Keys.ToArray());
        File.Delete(path);
    }
}
