using GanForge.Gan.Training;

namespace GanForge.Gan.Zoo;

/// <summary>
/// The conditional GAN (Mirza and Osindero 2014): G(z, y) and D(x, y) both see the class, so the game is
/// played per class, min_G max_D E[log D(x|y)] + E[log(1 - D(G(z|y)|y))]. G takes the one-hot class joined to z;
/// D takes it as constant planes beside the image (`conditioning: concat`, the paper's joining) or through a
/// projection (`conditioning: projection`, Miyato and Koyama 2018). DCGAN networks, non-saturating loss, Adam 2e-4 (0.5).
/// </summary>
public sealed class CGan : DcGanNetworkVariant
{
    public override string Name => "cgan";
    public override string Description => "Conditional GAN (Mirza & Osindero 2014): the class joined to z in G and to the image in D (or a projection D); DCGAN networks, Adam 2e-4 (0.5)";
    public override GameDefaults Defaults { get; } = GameDefaults.Pair("non-saturating", 1, OptimizerSettings.Adam(2e-4f, 0.5f, 0.999f));
    public override IReadOnlyList<ModelOption> Options { get; } =
    [
        ConditionalOptions.Classes,
        ModelOption.Choice("conditioning", "concat", "how D sees the class: concat (one-hot planes beside the image) or projection (Miyato & Koyama 2018: spectral norm on every D weight, no BatchNorm; d-norm and spectral-norm then do not apply)", "concat", "projection"),
        .. DcGanNetworks.Declare(),
        .. ClassicGame.RegulariserOptions(),
    ];

    public override GanModel CreateModel(ModelSpec spec) =>
        DcGanNetworks.Create(Name, spec, new Conditioning(spec.Options.Int("classes"), spec.Options.String("conditioning")));
}

/// <summary>Options the class-conditional variants share.</summary>
public static class ConditionalOptions
{
    /// <summary>The option name the trainer fills from the data's classes when the user gives none.</summary>
    public const string ClassesKey = "classes";

    public static ModelOption Classes { get; } =
        ModelOption.Int(ClassesKey, 10, "number of classes (taken from the training data's labels unless set)", min: 2);
}
