using GanForge.Serialization;
using YamlDotNet.RepresentationModel;

namespace GanForge.Gan.Training;

/// <summary>A setting changed when a run was resumed: kept in config.yaml's <c>changes:</c> list, oldest first.</summary>
public sealed class ConfigChange
{
    /// <summary>The generator step the run was resumed at: the new value holds from the next step on.</summary>
    public long Step { get; set; }
    /// <summary>The setting as config.yaml names it (epochs, log-every, ...).</summary>
    public string Setting { get; set; } = "";
    public string From { get; set; } = "";
    public string To { get; set; } = "";

    public override string ToString() => $"{Setting} {From} -> {To} at step {Step}";
}

/// <summary>
/// What a resumed run may change. It continues the same training, so only how long it runs, how it is watched and
/// how its arithmetic runs (threads; the convolutions' precision, the weights being fp32 either way, so that a bf16 run
/// can go on where bf16 cannot run) may differ from the checkpoint's settings: <see cref="Allowed"/>, each recorded as a
/// <see cref="ConfigChange"/>. Any other difference (data, batch size, model and its options, image size,
/// seed, latent size, losses and optimizers, ...) would make a different run, and is refused.
/// </summary>
public static class ResumeSettings
{
    /// <summary>Settings (config.yaml keys) a resumed run may change.</summary>
    public static IReadOnlyList<string> Allowed { get; } =
        ["epochs", "max-steps", "log-every", "eval-every", "eval-samples", "sample-every", "checkpoint-every", "checkpoint-minutes", "threads", "precision"];

    /// <summary>Not settings of the training: where the run is, and the history itself.</summary>
    static readonly string[] Ignored = ["out", "changes"];

    /// <summary>
    /// The changes from <paramref name="saved"/> (the checkpoint's resolved settings) to <paramref name="resumed"/>
    /// (resolved), at <paramref name="step"/>; throws an ArgumentException naming the first refused setting and both values.
    /// </summary>
    public static List<ConfigChange> Compare(TrainConfig saved, TrainConfig resumed, long step)
    {
        var before = Flatten(saved.Resolve());
        var after = Flatten(resumed);
        var differ = before.Keys.Union(after.Keys).Where(k => !Ignored.Contains(k.Split('.')[0]))
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k)).ToList();
        var refused = differ.Where(k => !Allowed.Contains(k)).ToList();
        if (refused.Count > 0)
        {
            var k = refused[0];
            var more = refused.Count > 1 ? $" (also {string.Join(", ", refused.Skip(1).Take(3).Select(r => $"'{MessageText.Quote(r)}'"))}{(refused.Count > 4 ? ", ..." : "")})" : "";
            throw new ArgumentException($"--resume: '{MessageText.Quote(k)}' is {Show(before.GetValueOrDefault(k))} in the run and {Show(after.GetValueOrDefault(k))} now{more}; " +
                $"a resumed run keeps its settings apart from {string.Join(", ", Allowed)} (start a new run with another --out to change it)");
        }
        return differ.Select(k => new ConfigChange { Step = step, Setting = k, From = before.GetValueOrDefault(k) ?? "", To = after.GetValueOrDefault(k) ?? "" }).ToList();
    }

    static string Show(string? value) => value == null ? "not set" : $"'{MessageText.Quote(value)}'";

    /// <summary>Every scalar setting of a configuration by its config.yaml path (optimizers.g.lr, model-options.width).</summary>
    static Dictionary<string, string> Flatten(TrainConfig config)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(config.ToYaml()));
        var values = new Dictionary<string, string>();
        void Walk(YamlNode node, string path)
        {
            switch (node)
            {
                case YamlMappingNode map:
                    foreach (var (k, v) in map.Children) Walk(v, path.Length == 0 ? k.ToString() : $"{path}.{k}");
                    break;
                case YamlScalarNode scalar:
                    values[path] = scalar.Value ?? "";
                    break;
            }
        }
        if (stream.Documents.Count > 0) Walk(stream.Documents[0].RootNode, "");
        return values;
    }
}
