using System.CommandLine;
using GanForge.Metrics.Probes;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge augment`: does adding a conditional generator's images to a few real ones help a classifier?</summary>
static class AugmentCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Run folder of a class-conditional model (cgan, acgan) or of dagan (which makes images from the labelled real ones)", Required = true };
        var perClass = NumberOptions.WithDefault("--labels-per-class", "Real labelled training images per class (default 10)", 10);
        var generated = NumberOptions.WithDefault("--generated-per-class", "Generated images added per class (default 100)", 100);
        var seeds = NumberOptions.WithDefault("--seeds", "Repeats for the mean ± sd (default 3)", 3);
        var steps = NumberOptions.WithDefault("--steps", "Classifier updates per training run (default 600)", 600);
        var minConfidence = NumberOptions.WithDefault("--min-confidence", "Keep generated images the evaluator gives at least this probability of their class (default 0: all)", 0.0);
        var share = NumberOptions.WithDefault("--generated-share", "Share of each classifier batch drawn from the generated images, the mixing ratio (default 0: from real and generated alike)", 0.0);
        var testLimit = NumberOptions.WithDefault("--test-limit", "Score on the first N test images only (default all)", 0);
        var data = new Option<string>("--data") { Description = "Data spec with a train and a test split (default fashion-mnist)", DefaultValueFactory = _ => "fashion-mnist" };
        var cmd = new Command("augment", "GAN data augmentation: a small classifier on N real images per class, with and without generated images, test accuracy")
        { checkpoint, perClass, generated, seeds, steps, minConfidence, share, testLimit, data };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var o = new AugmentationOptions(r.GetValue(perClass), r.GetValue(generated), r.GetValue(seeds), r.GetValue(steps),
                r.GetValue(minConfidence), r.GetValue(testLimit), r.GetValue(share));
            if (o.PerClass < 1) throw new ArgumentException($"--labels-per-class must be at least 1, got {o.PerClass}");
            if (o.GeneratedPerClass < 1) throw new ArgumentException($"--generated-per-class must be at least 1, got {o.GeneratedPerClass}");
            if (o.Seeds < 1) throw new ArgumentException($"--seeds must be at least 1, got {o.Seeds}");
            if (o.Steps < 1) throw new ArgumentException($"--steps must be at least 1, got {o.Steps}");
            if (!(o.MinConfidence >= 0 && o.MinConfidence < 1)) throw new ArgumentException($"--min-confidence must be in [0, 1), got {o.MinConfidence}");
            if (!(o.GeneratedShare >= 0 && o.GeneratedShare < 1)) throw new ArgumentException($"--generated-share must be in [0, 1), got {o.GeneratedShare}");
            if (o.TestLimit < 0) throw new ArgumentException($"--test-limit must not be negative, got {o.TestLimit}");
            var (rows, protocol) = Augmentation.Run(r.GetValue(checkpoint)!, r.GetValue(data)!, o);
            var table = new Table().AddColumn("training set").AddColumn(new TableColumn("real/class").RightAligned())
                .AddColumn(new TableColumn("generated/class").RightAligned()).AddColumn(new TableColumn("test accuracy").RightAligned())
                .AddColumn("per seed");
            foreach (var row in rows)
                table.AddRow(row.Setting, row.RealPerClass.ToString(), row.GeneratedPerClass.ToString(), $"{row.Mean * 100:F2}% ± {row.Sd * 100:F2}",
                    string.Join(", ", row.Accuracies.Select(a => a.ToString("P1"))));
            AnsiConsole.Console.MarkupLine(Markup.Escape(protocol));
            AnsiConsole.Console.Write(table);
            return 0;
        }));
        return cmd;
    }
}
