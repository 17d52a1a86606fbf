using System.CommandLine;
using GanForge.Metrics.Evaluators;
using GanForge.NN;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge train-evaluator`, `eval` and `report`.</summary>
static class EvalCommands
{
    public static Command TrainEvaluator()
    {
        var outPath = new Option<string>("--out") { Description = "Weights file to write (.safetensors)", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (default 4)", DefaultValueFactory = _ => 4 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of initialisation, shuffling and augmentation (default 1)", DefaultValueFactory = _ => 1UL };
        var batch = new Option<int>("--batch-size") { Description = "Batch size (default 128)", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate, cosine-decayed to 0 (default 0.002)", DefaultValueFactory = _ => 2e-3 };
        var limit = new Option<int>("--limit") { Description = "Train on the first N training images only (default all)" };
        var arch = new Option<string>("--architecture") { Description = $"Evaluator architecture ({string.Join(", ", EvaluatorRegistry.Names)})", DefaultValueFactory = _ => EvaluatorRegistry.Default };
        var data = new Option<string?>("--data-dir") { Description = "Folder with the Fashion-MNIST files (default: the system folder)" };
        var cmd = new Command("train-evaluator", "Train the Fashion-MNIST feature network used by the metrics")
        { outPath, epochs, seed, batch, lr, limit, arch, data };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var options = new EvaluatorTrainingOptions
            {
                Architecture = r.GetValue(arch)!, Epochs = r.GetValue(epochs), Seed = r.GetValue(seed),
                BatchSize = r.GetValue(batch), Lr = r.GetValue(lr), TrainLimit = r.GetValue(limit), DataFolder = r.GetValue(data),
            };
            var console = AnsiConsole.Console;
            var (network, history) = EvaluatorTraining.Train(options,
                e => console.MarkupLine($"epoch {e.Epoch}/{options.Epochs}: train loss {e.TrainLoss:F4}, test accuracy [green]{e.TestAccuracy:P2}[/] ({e.Elapsed.TotalSeconds:F0} s)"),
                (epoch, b, loss) => { if (b % 100 == 0) console.WriteLine($"  epoch {epoch + 1} batch {b}: loss {loss:F4}"); });
            var file = r.GetValue(outPath)!;
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { } dir) Directory.CreateDirectory(dir);
            network.Module.Save(file, EvaluatorTraining.Metadata(options, history));
            console.MarkupLine($"Wrote [blue]{Markup.Escape(file)}[/] (test accuracy {history[^1].TestAccuracy:P2})");
            return 0;
        }));
        return cmd;
    }
}
