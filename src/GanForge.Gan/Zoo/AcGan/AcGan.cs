using GanForge.Gan.Losses;
using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// AC-GAN (Odena et al. 2017): G(z, c) takes the class, D sees only the image and outputs both P(real) and
/// P(C | x). With L_S = E[log P(S = real | x_real)] + E[log P(S = fake | x_fake)] and
/// L_C = E[log P(C = c | x_real)] + E[log P(C = c | x_fake)], D maximises L_S + L_C and G maximises L_C - L_S
/// (G's side of L_S is the non-saturating one). DCGAN networks, Adam 2e-4 (0.5).
/// </summary>
public sealed class AcGan : DcGanNetworkVariant
{
    public override string Name => "acgan";
    public override string Description => "AC-GAN (Odena et al. 2017): class-conditional G, D outputs real/fake and the class; DCGAN networks, Adam 2e-4 (0.5)";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ConditionalOptions.Classes,
        ModelOption.Float("class-weight", 1f, "weight of the class loss L_C in both players' losses"),
        .. DcGanNetworks.Declare(),
        .. ClassicGame.RegulariserOptions(),
    ];

    public override GanModel CreateModel(ModelSpec spec)
    {
        int classes = spec.Options.Int("classes");
        return DcGanNetworks.Create(Name, spec, new Conditioning(classes, HeadOutputs: classes));
    }

    public override Tensor? ClassLogits(GanModel model, Tensor outputs) => model.Head(outputs);

    public override Game CreateGame(GanModel model, TrainConfig config, ModelOptions options) =>
        ClassicGame.Create(model, config, options, new AuxiliaryClassLoss(options.Float("class-weight")));
}
