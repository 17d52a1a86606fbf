using System.CommandLine;
using System.Globalization;
using GanForge.Gan;
using GanForge.Metrics;
using GanForge.Metrics.Evaluation;
using GanForge.Metrics.Evaluators;
using GanForge.Metrics.Report;
using GanForge.NN;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge train-evaluator`, `eval` and `report`.</summary>
static class EvalCommands
{
    public static Command TrainEvaluator()
    {
        var outPath = new Option<string>("--out") { Description = "Weights file to write (.safetensors)", Required = true };
        var epochs = NumberOptions.WithDefault("--epochs", "Training epochs (default 6)", 6);
        var seed = NumberOptions.WithDefault("--seed", "Seed of initialisation, shuffling and augmentation (default 1)", 1UL);
        var batch = NumberOptions.WithDefault("--batch-size", "Batch size (default 64)", 64);
        var lr = NumberOptions.WithDefault("--lr", "Adam learning rate, cosine-decayed to 0 (default 0.001)", 1e-3);
        var shift = NumberOptions.WithDefault("--max-shift", "Augmentation: random shifts of up to N pixels besides horizontal flips (default 0)", 0);
        var limit = NumberOptions.WithDefault("--limit", "Train on the first N training images only (default all)", 0);
        var arch = new Option<string>("--architecture") { Description = $"Evaluator architecture ({string.Join(", ", EvaluatorRegistry.Names)})", DefaultValueFactory = _ => EvaluatorRegistry.Default };
        var data = new Option<string?>("--data-dir") { Description = "Folder with the Fashion-MNIST files (default: the system folder)" };
        var cmd = new Command("train-evaluator", "Train the Fashion-MNIST feature network used by the metrics")
        { outPath, epochs, seed, batch, lr, shift, limit, arch, data };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var options = new EvaluatorTrainingOptions
            {
                Architecture = r.GetValue(arch)!, Epochs = r.GetValue(epochs), Seed = r.GetValue(seed),
                BatchSize = r.GetValue(batch), Lr = r.GetValue(lr), MaxShift = r.GetValue(shift), TrainLimit = r.GetValue(limit), DataFolder = r.GetValue(data),
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

    public static Command Eval()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Run folder or checkpoint.safetensors whose generator is evaluated" };
        var images = new Option<string?>("--images") { Description = "Evaluate these images instead: an IDX images file or a folder of PNGs" };
        var data = new Option<string>("--data") { Description = $"Real data (default fashion-mnist): {GanForge.Data.DataSpec.Help}. The test split is the reference, the train split the floor", DefaultValueFactory = _ => "fashion-mnist" };
        var samples = NumberOptions.WithDefault("--samples", "Images to generate from the checkpoint (default 10000)", 10000);
        var json = new Option<string?>("--json") { Description = "Write every score, its floor and the protocol to this JSON file" };
        var evaluator = new Option<string>("--evaluator") { Description = $"Evaluator architecture ({string.Join(", ", EvaluatorRegistry.Names)})", DefaultValueFactory = _ => EvaluatorRegistry.Default };
        var weights = new Option<string?>("--evaluator-weights") { Description = "Safetensors weights for --evaluator (default: the built-in weights)" };
        var metrics = new Option<string[]>("--metrics") { Description = $"Metrics to compute (default all: {string.Join(", ", MetricRegistry.Names)})", AllowMultipleArgumentsPerToken = true };
        var seed = NumberOptions.WithDefault("--seed", "Seed of the latents and of metric subsampling (default 0)", 0UL);
        var noFloor = new Option<bool>("--no-floor") { Description = "Skip the real-vs-real floor" };
        var noEma = new Option<bool>("--no-ema") { Description = "Use the raw generator even if the run kept an EMA" };
        var cmd = new Command("eval", "Score a generator (or a set of images) against real data, beside the real-vs-real floor")
        { checkpoint, images, data, samples, json, evaluator, weights, metrics, seed, noFloor, noEma };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var console = AnsiConsole.Console;
            string? ckpt = r.GetValue(checkpoint), imagesPath = r.GetValue(images);
            if ((ckpt == null) == (imagesPath == null)) throw new ArgumentException("eval: give exactly one of --checkpoint and --images");
            if (r.GetValue(json) is { } jsonFile) GanForge.Serialization.AtomicFile.CheckWritable(jsonFile, "--json");   // before the slow part
            ulong s = r.GetValue(seed);
            Tensor fake;
            int[]? fakeClasses = null, fakeCodes = null;   // what a conditional model's (or InfoGAN's) samples were made for
            if (ckpt != null)
            {
                int n = r.GetValue(samples);
                if (n < 2) throw new ArgumentException($"--samples must be at least 2, got {n}");
                var sampler = Sampler.Load(ckpt, useEma: !r.GetValue(noEma));
                var latents = sampler.Latents(n, s);
                fake = sampler.Generate(latents);
                int[] Ints(Tensor t) => [.. t.ToArray().Select(v => (int)v)];
                if (latents.Classes is { } classes) fakeClasses = Ints(classes);
                if (sampler.Model.Codes is { Categories: > 0 } codes) fakeCodes = Ints(codes.CategoryOf(latents.Codes!));
            }
            else fake = ImageSets.Load(imagesPath!);
            var extractor = EvaluatorRegistry.Load(r.GetValue(evaluator)!, r.GetValue(weights));
            var suite = new EvaluationSuite(extractor, ImageSets.Real(r.GetValue(data)!), RealReference.DefaultCacheFolder);
            var chosen = r.GetValue(metrics);
            var result = suite.Evaluate(fake, new EvaluationOptions
            {
                Metrics = chosen is { Length: > 0 } ? chosen : null, Floor = !r.GetValue(noFloor), Seed = s,
                FakeClasses = fakeClasses, FakeCodes = fakeCodes,
            });
            Print(result, console);
            if (r.GetValue(json) is { } file)
            {
                GanForge.Serialization.AtomicFile.WriteAllText(file, result.ToJson());
                console.MarkupLine($"Wrote [blue]{Markup.Escape(file)}[/]");
            }
            return 0;
        }));
        return cmd;
    }

    static void Print(EvaluationResult result, IAnsiConsole console)
    {
        var p = result.Protocol;
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("score").RightAligned())
            .AddColumn(new TableColumn("real-vs-real floor").RightAligned()).AddColumn("better");
        foreach (var row in result.Rows())
            table.AddRow(row.Key, Format(row.Value), row.Floor is { } f ? Format(f) : "-", row.Better);
        table.Caption($"{Markup.Escape(p.Evaluator)} ({Markup.Escape(p.Layer)}), {p.NFake} samples vs {p.NReal} real ({Markup.Escape(p.RealSplit)}), seed {p.Seed}");
        console.Write(table);
        console.MarkupLine($"[grey]floor: {Markup.Escape(result.FloorDescription)}[/]");
    }

    static string Format(double v) => Math.Abs(v) >= 100 ? v.ToString("F1", CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 0.01 || v == 0 ? v.ToString("F4", CultureInfo.InvariantCulture) : v.ToString("E2", CultureInfo.InvariantCulture);

    public static Command Report()
    {
        var run = new Argument<string>("run") { Description = "Run folder (holding metrics.jsonl)" };
        var outPath = new Option<string?>("--out") { Description = "HTML file to write (default RUN/report.html)" };
        var cmd = new Command("report", "Write a run's HTML report: loss and score curves, warnings, config, sample grids") { run, outPath };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var file = RunReport.Write(r.GetValue(run)!, r.GetValue(outPath));
            AnsiConsole.Console.MarkupLine($"Wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        }));
        return cmd;
    }
}
