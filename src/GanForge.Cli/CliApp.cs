using System.CommandLine;

namespace GanForge.Cli;

/// <summary>
/// ganforge: train, sample, interpolate, inspect and export GANs. Commands only parse and print;
/// the work is done by GanForge.Gan (and GanForge.Onnx for export).
/// </summary>
public static class CliApp
{
    // The model zoo's content losses (SRGAN) find the built-in evaluator's features by name; the Gan layer cannot
    // reach GanForge.Metrics itself, so the command line, which holds both, registers them.
    static CliApp() => Metrics.Evaluators.ContentFeatures.Register();

    public static RootCommand Build() => new("GanForge: train, evaluate and use Generative Adversarial Networks in .NET")
    {
        TrainCommand.Create(),
        ModelsCommand.Create(),
        SampleCommands.Sample(),
        SampleCommands.Interpolate(),
        SampleCommands.Sweep(),
        StyleCommands.Mix(),
        StyleCommands.Noise(),
        StyleCommands.Project(),
        DiscriminatorCommands.Classify(),
        DiscriminatorCommands.Probe(),
        AugmentCommand.Create(),
        PairsCommand.Create(),
        TranslateCommands.Translate(),
        TranslateCommands.Upscale(),
        SampleCommands.Info(),
        ExportCommand.Create(),
        ImportCommand.Create(),
        EvalCommands.Eval(),
        EvalCommands.Report(),
        EvalCommands.TrainEvaluator(),
        WebCommands.Serve(),
        WebCommands.Turing(),
    };

    /// <summary>Runs the command line; returns the exit code (0 ok, 1 usage, 2 bad input, 3 training diverged).</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var config = new InvocationConfiguration();
        if (output != null) config.Output = output;
        if (error != null) config.Error = error;
        return Errors.Run(() => Build().Parse(args).Invoke(config));
    }
}
