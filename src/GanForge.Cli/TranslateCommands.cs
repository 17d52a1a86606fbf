using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Metrics;
using GanForge.Serialization;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge translate` and `ganforge upscale`: an image-to-image generator over a set of images, in batches.</summary>
static class TranslateCommands
{
    const string Inputs = "an IDX images file, an image file (.png, .jpg, ...), a folder of images of one size, or .npy (N,C,H,W) in [-1,1]";
    const string Outputs = "out.idx (IDX ubyte, gray), grid.png, x.npy (floats in [-1, 1]), or a folder for one PNG per image";

    public static Command Translate()
    {
        var (checkpoint, images, outPath, batch) = Common("Images to translate: " + Inputs);
        var direction = new Option<string>("--direction") { Description = "a2b (default) or b2a (cyclegan's generator from B to A)", DefaultValueFactory = _ => "a2b" };
        var scoring = new Scoring();
        var cmd = new Command("translate", "Translate images with a trained image-to-image model (pix2pix, unet-l1, cyclegan; srresnet and srgan too)")
        { checkpoint, images, outPath, batch, direction, scoring.Target, scoring.Labels, scoring.TargetClass, scoring.Json };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var translator = Translator.Load(r.GetValue(checkpoint) ?? throw new ArgumentException("translate: give --checkpoint DIR (an image-to-image run)"),
                r.GetValue(direction)!, "translate");
            return Run(translator, r.GetValue(images)!, r.GetValue(outPath)!, r.GetValue(batch), "translate", scoring, r);
        }));
        return cmd;
    }

    public static Command Upscale()
    {
        var (checkpoint, images, outPath, batch) = Common("Low-resolution images to upscale: " + Inputs);
        var scoring = new Scoring();
        var bicubic = NumberOptions.Optional<int>("--bicubic", "Instead of a model, upscale by this factor with bicubic interpolation (PyTorch's, a = -0.75): the baseline (1 copies the images, to score the inputs themselves)");
        var cmd = new Command("upscale", "Upscale images with a trained super-resolution model (srresnet, srgan), or bicubic interpolation")
        { checkpoint, images, outPath, batch, bicubic, scoring.Target, scoring.Labels, scoring.TargetClass, scoring.Json };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            if (r.GetValue(bicubic) is int factor)
            {
                if (r.GetValue(checkpoint) != null) throw new ArgumentException("upscale: give --checkpoint or --bicubic S, not both");
                if (factor is < 1 or > 16) throw new ArgumentException($"upscale: --bicubic {factor} is not a factor from 1 to 16");
                var x = ImageInputs.Read(r.GetValue(images)!, 0, "upscale");
                return Finish(BicubicUpsample.Apply(x, factor), x, $"bicubic x{factor}", r.GetValue(outPath)!, "upscale", scoring, r);
            }
            var translator = Translator.Load(r.GetValue(checkpoint) ?? throw new ArgumentException("upscale: give --checkpoint DIR (an srresnet or srgan run) or --bicubic S"),
                "a2b", "upscale", superResolution: true);
            return Run(translator, r.GetValue(images)!, r.GetValue(outPath)!, r.GetValue(batch), "upscale", scoring, r);
        }));
        return cmd;
    }

    static (Option<string?> Checkpoint, Option<string> Images, Option<string> Out, Option<int> Batch) Common(string imagesDescription) =>
    (
        new Option<string?>("--checkpoint") { Description = "Run folder or checkpoint.safetensors of an image-to-image model" },
        new Option<string>("--images") { Description = imagesDescription, Required = true },
        new Option<string>("--out") { Description = "Where the outputs go: " + Outputs, Required = true },
        NumberOptions.WithDefault("--batch-size", "Images per batch (default 64)", 64)
    );

    /// <summary>The options that score the outputs (GanForge.Metrics.TranslationScores).</summary>
    sealed class Scoring
    {
        public Option<string?> Target { get; } = new("--target") { Description = "Score the outputs against these images (same formats as --images, row for row): L1, PSNR and SSIM" };
        public Option<string?> Labels { get; } = new("--labels") { Description = "IDX labels of the inputs (`pairs --out-labels`): the share of outputs the built-in evaluator gives that label (class preservation)" };
        public Option<int?> TargetClass { get; } = new("--target-class") { Description = "The share of outputs the built-in evaluator labels this class (CycleGAN's translation rate)" };
        public Option<string?> Json { get; } = new("--json") { Description = "Also write the scores to this JSON file" };
    }

    static int Run(Translator translator, string input, string output, int batchSize, string who, Scoring scoring, ParseResult r)
    {
        var images = ImageInputs.Read(input, translator.InputShape[0], who);
        int n = images.Size(0);
        var console = AnsiConsole.Console;
        Tensor result = null!;
        if (console.Profile.Capabilities.Interactive)
            console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"{who} {n} images", maxValue: n);
                    result = translator.Translate(images, batchSize, done => task.Value = done, who);
                });
        else result = translator.Translate(images, batchSize, null, who);
        return Finish(result, images, $"{translator.Model.Name}, {translator.Direction}", output, who, scoring, r);
    }

    /// <summary>Writes the outputs, says so, and scores them as the options ask.</summary>
    static int Finish(Tensor result, Tensor images, string how, string output, string who, Scoring scoring, ParseResult r)
    {
        var console = AnsiConsole.Console;
        int n = result.Size(0);
        var written = Gan.Outputs.WriteImages(result, output);
        console.MarkupLine($"Wrote {n} images {string.Join("x", result.Shape[1..])} ({Markup.Escape(how)}) " +
                           $"from {string.Join("x", images.Shape[1..])} inputs to [blue]{Markup.Escape(written)}[/]");
        var scores = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (r.GetValue(scoring.Target) is { } target)
        {
            var y = ImageInputs.Read(target, result.Size(1), who + " --target");
            if (!y.ShapeSpan.SequenceEqual(result.ShapeSpan))
                throw new ArgumentException($"{who} --target: {target} holds {Shapes.Format(y.ShapeSpan)}, the outputs are {Shapes.Format(result.ShapeSpan)}");
            (scores["l1"], scores["psnr"]) = (TranslationScores.L1(result, y), TranslationScores.Psnr(result, y));
            if (y.Size(2) >= 11 && y.Size(3) >= 11) scores["ssim"] = TranslationScores.Ssim(result, y);
        }
        int[]? predicted = null;
        if (r.GetValue(scoring.Labels) is { } labelsPath)
        {
            var labels = Idx.ReadLabels(labelsPath);
            if (labels.Count != n) throw new ArgumentException($"{who} --labels: {labelsPath} has {labels.Count} labels for {n} images");
            predicted = TranslationScores.EvaluatorLabels(result);
            scores["class_agreement"] = TranslationScores.Agreement(predicted, labels.Data.Select(b => (int)b).ToArray());
        }
        if (r.GetValue(scoring.TargetClass) is int k)
        {
            predicted ??= TranslationScores.EvaluatorLabels(result);
            scores["target_class_rate"] = TranslationScores.Agreement(predicted, Enumerable.Repeat(k, n).ToArray());
        }
        if (scores.Count > 0)
        {
            console.MarkupLine(string.Join(", ", scores.Select(kv => $"{kv.Key} {kv.Value.ToString("0.####", CultureInfo.InvariantCulture)}")));
            if (r.GetValue(scoring.Json) is { } json)
                AtomicFile.WriteAllText(json, JsonSerializer.Serialize(scores, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }
}
