using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

/// <summary>
/// The image-to-image networks against the same networks in PyTorch 1.13 (tools/fixtures/image_to_image.py), with
/// GanForge's parameter names: weights loaded by name, training mode, the output and the input's gradient compared.
/// </summary>
/// <remarks>
/// The references are computed in float64 from the float32 weights and input; we compute in float32 through many
/// layers of batch and instance norm: rtol 1e-3, atol 1e-4, and for the input's gradient an atol of 1e-4 of its largest
/// value (SRResNet's reaches 110 through its batch norms; PyTorch's own float32 gradient is 2.7e-3 from float64's there).
/// </remarks>
public class ImageToImageParityTests
{
    const double Rtol = 1e-3, Atol = 1e-4;
    static readonly Dictionary<string, Tensor> Fx = Fixtures.Load("gan", "image_to_image");

    public static TheoryData<string> Networks() => ["unet", "patch_batch", "patch_instance", "srresnet", "resnet"];

    static Module Build(string name) => name switch
    {
        "unet" => new UNet(2, 3, 32, ngf: 4, dropout: 0f, new Generator(1), new Generator(2)),
        "patch_batch" => PatchGan.Create(4, 8, 2, instanceNorm: false, new Generator(1)),
        "patch_instance" => PatchGan.Create(3, 8, 1, instanceNorm: true, new Generator(1)),
        "srresnet" => new SrResNet(1, 1, 4, blocks: 2, width: 8, new Generator(1)),
        "resnet" => new ResnetGenerator(1, 3, ngf: 4, blocks: 2, new Generator(1)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Network_PyTorchWeights_GivesPyTorchsOutputAndInputGradient(string name)
    {
        var net = Build(name);
        net.LoadStateDict(Checkpoint.Part(Fx, name + ".sd."));
        net.Train();
        var x = Fx[name + ".x"].Clone().RequiresGrad_();
        var y = net.Forward(x);
        Fixtures.AssertClose(Fx[name + ".y"], y, Rtol, Atol, name + " output");
        var dx = Autograd.Grad((y * Fx[name + ".w"]).Sum(), x);
        var expected = Fx[name + ".dx"];
        double scale = expected.ToArray().Max(v => Math.Abs(v));
        Fixtures.AssertClose(expected, dx, Rtol, Math.Max(Atol, 1e-4 * scale), name + " d/dx");
    }
}
