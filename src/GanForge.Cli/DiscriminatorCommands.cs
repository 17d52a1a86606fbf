using System.CommandLine;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Metrics.Evaluation;
using GanForge.Metrics.Probes;
using GanForge.Serialization;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge classify` and `probe`: the discriminator used as a classifier and as a feature extractor.</summary>
static class DiscriminatorCommands
{
    public static Command Classify()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Run folder or checkpoint.safetensors of a model whose D has a class head (acgan, sgan)", Required = true };
        var images = new Option<string>("--images") { Description = "Images to label: an IDX images file or a folder of images", Required = true };
        var outPath = new Option<string>("--out") { Description = "labels.txt: one label a line, in the images' order", Required = true };
        var labels = new Option<string?>("--labels") { Description = "True labels (IDX labels file) to print the accuracy" };
        var cmd = new Command("classify", "Label images with the discriminator's class head (acgan, sgan)") { checkpoint, images, outPath, labels };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var d = TrainedDiscriminator.Load(r.GetValue(checkpoint)!);
            if (!d.Classifies)
                throw new ArgumentException($"classify: the discriminator of '{d.Model.Name}' has no class head (acgan and sgan have one)");
            var x = ImageSets.Load(r.GetValue(images)!);
            int[]? truth = null;
            if (r.GetValue(labels) is { } labelsPath)
            {
                var idx = Idx.ReadLabels(labelsPath);
                if (idx.Count != x.Size(0))
                    throw new ArgumentException($"classify: {labelsPath} has {idx.Count} labels for {x.Size(0)} images");
                truth = [.. idx.Data.ToArray().Select(b => (int)b)];
            }
            var predicted = d.Classify(x);
            var file = r.GetValue(outPath)!;
            AtomicFile.WriteAllText(file, string.Concat(predicted.Select(p => p + "\n")));
            AnsiConsole.Console.MarkupLine($"Wrote {predicted.Length} labels to [blue]{Markup.Escape(file)}[/]");
            if (truth != null)
                AnsiConsole.Console.MarkupLine($"accuracy {Probes.Accuracy(predicted, truth):P2} ({predicted.Zip(truth).Count(p => p.First == p.Second)} of {truth.Length})");
            return 0;
        }));
        return cmd;
    }

    public static Command Probe()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Run folder or checkpoint.safetensors", Required = true };
        var perClass = NumberOptions.WithDefault("--labels-per-class", "Labelled training images per class for the probe (default 100)", 100);
        var data = new Option<string>("--data") { Description = "Data spec: labelled images from its train split, accuracy on its test split (default fashion-mnist)", DefaultValueFactory = _ => "fashion-mnist" };
        var seed = NumberOptions.WithDefault("--seed", "Seed of the labelled images and the random D (default 0)", 0UL);
        var testLimit = NumberOptions.WithDefault("--test-limit", "Score on the first N test images only (default all)", 0);
        var cmd = new Command("probe", "The discriminator as a feature extractor: a linear classifier on its last hidden layer, beside a random D and raw pixels")
        { checkpoint, perClass, data, seed, testLimit };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            int n = r.GetValue(perClass);
            if (n < 1) throw new ArgumentException($"--labels-per-class must be at least 1, got {n}");
            if (r.GetValue(testLimit) < 0) throw new ArgumentException($"--test-limit must not be negative, got {r.GetValue(testLimit)}");
            var (rows, protocol) = DiscriminatorProbe.Run(r.GetValue(checkpoint)!, r.GetValue(data)!, n, r.GetValue(seed), r.GetValue(testLimit));
            var table = new Table().AddColumn("features").AddColumn(new TableColumn("width").RightAligned()).AddColumn(new TableColumn("test accuracy").RightAligned());
            foreach (var row in rows) table.AddRow(row.Representation, row.Features.ToString(), $"{row.Accuracy:P2}");
            AnsiConsole.Console.MarkupLine(Markup.Escape(protocol));
            AnsiConsole.Console.Write(table);
            return 0;
        }));
        return cmd;
    }
}
