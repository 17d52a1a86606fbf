using System.CommandLine;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Metrics.Evaluators;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge mix`, `noise` and `project`: what a style-based generator (stylegan) adds.</summary>
static class StyleCommands
{
    static Option<string> CheckpointOption() =>
        new("--checkpoint") { Description = "Run folder or checkpoint.safetensors of a style-based model (stylegan)", Required = true };

    public static Command Mix()
    {
        var checkpoint = CheckpointOption();
        var outPath = new Option<string>("--out") { Description = "mix.png", Required = true };
        var rows = NumberOptions.WithDefault("--rows", "Samples giving the coarse styles, one per row (default 4)", 4);
        var columns = NumberOptions.WithDefault("--columns", "Samples giving the fine styles, one per column (default 6)", 6);
        var crossover = NumberOptions.Optional<int>("--crossover", "First layer whose style comes from the column's sample (default: half the layers)");
        var truncation = NumberOptions.WithDefault("--truncation", "Truncation ψ of the sources in [0, 1] (default 1 = none)", 1f);
        var seed = NumberOptions.WithDefault("--seed", "Seed of the sources (default 0)", 0UL);
        var cmd = new Command("mix", "Style-mixing grid: rows take the coarse styles of one sample, columns the fine styles of another; the first row and column show the sources")
        { checkpoint, outPath, rows, columns, crossover, truncation, seed };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!);
            var file = r.GetValue(outPath)!;
            if (!file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"--out '{file}': the grid is written as .png");
            sampler.SetTruncation(r.GetValue(truncation));
            var (images, cols) = sampler.MixGrid(r.GetValue(seed), r.GetValue(rows), r.GetValue(columns), r.GetValue(crossover));
            Outputs.WriteGrid(images, file, cols);
            AnsiConsole.Console.MarkupLine($"Wrote a {images.Size(0) / cols} x {cols} style-mixing grid to [blue]{Markup.Escape(file)}[/]");
            return 0;
        }));
        return cmd;
    }

    public static Command Noise()
    {
        var checkpoint = CheckpointOption();
        var outPath = new Option<string>("--out") { Description = "noise.png", Required = true };
        var rows = NumberOptions.WithDefault("--rows", "Samples, one w per row (default 4)", 4);
        var columns = NumberOptions.WithDefault("--columns", "Noise draws per w (default 6)", 6);
        var truncation = NumberOptions.WithDefault("--truncation", "Truncation ψ of the ws in [0, 1] (default 1 = none)", 1f);
        var seed = NumberOptions.WithDefault("--seed", "Seed of the ws and the noise (default 0)", 0UL);
        var cmd = new Command("noise", "What the noise inputs do: each row one w with fresh noise in each column, then the per-pixel standard deviation")
        { checkpoint, outPath, rows, columns, truncation, seed };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!);
            var file = r.GetValue(outPath)!;
            if (!file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"--out '{file}': the grid is written as .png");
            sampler.SetTruncation(r.GetValue(truncation));
            var (images, cols) = sampler.NoiseGrid(r.GetValue(seed), r.GetValue(rows), r.GetValue(columns));
            Outputs.WriteGrid(images, file, cols);
            AnsiConsole.Console.MarkupLine($"Wrote a {images.Size(0) / cols} x {cols} noise grid (last column: standard deviation) to [blue]{Markup.Escape(file)}[/]");
            return 0;
        }));
        return cmd;
    }

    public static Command Project()
    {
        var checkpoint = CheckpointOption();
        var image = new Option<string>("--image") { Description = "The target image (PNG, JPEG, BMP or GIF), centre-cropped and resized to the model's size", Required = true };
        var outPath = new Option<string>("--out") { Description = "w.npy: the styles found, (1, layers, w_dim); the reconstruction is written beside it as w.png", Required = true };
        var steps = NumberOptions.WithDefault("--steps", "Adam steps on w (default 500)", 500);
        var lr = NumberOptions.WithDefault("--lr", "Adam's peak learning rate (default 0.1)", 0.1f);
        var featureWeight = NumberOptions.WithDefault("--feature-weight", "Weight of the evaluator-feature distance beside the pixel MSE (default 1; 0 = pixels only)", 1f);
        var evaluator = new Option<string>("--evaluator") { Description = $"Evaluator whose features the loss compares ({string.Join(", ", EvaluatorRegistry.Names)})", DefaultValueFactory = _ => EvaluatorRegistry.Default };
        var weights = new Option<string?>("--evaluator-weights") { Description = "Weights of the evaluator (default: the built-in ones)" };
        var cmd = new Command("project", "GAN inversion: optimise w so that a style-based generator reproduces an image; `sample --latents w.npy` regenerates it")
        { checkpoint, image, outPath, steps, lr, featureWeight, evaluator, weights };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var file = r.GetValue(outPath)!;
            if (!file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"--out '{file}': the styles are written as .npy");
            var options = new ProjectionOptions(r.GetValue(steps), r.GetValue(lr), r.GetValue(featureWeight));
            options.Validate();
            var sampler = Sampler.Load(r.GetValue(checkpoint)!);
            var g = sampler.RequireStyles("project");
            var shape = sampler.Model.ImageShape;
            var target = Outputs.ReadImage(r.GetValue(image)!, shape[0], shape[1]);
            Func<Tensor, Tensor>? features = options.FeatureWeight > 0 ? EvaluatorRegistry.Load(r.GetValue(evaluator)!, r.GetValue(weights)).Embed : null;
            var start = Projector.Distances(g, g.Broadcast(g.Mapping.WAvg.Unsqueeze(0)), target, features);
            // The baseline the projection is judged against: the image of a random w (z drawn with seed 0).
            var random = Projector.Distances(g, g.MapToWs(Tensor.Randn([1, sampler.Model.LatentDim], new Generator(0)), 1f), target, features);
            var result = Projector.Project(g, target, features, options);
            Npy.Save(file, result.Ws);
            var png = Path.ChangeExtension(file, ".png");
            Outputs.WriteImages(result.Image, png);
            AnsiConsole.Console.MarkupLine($"Wrote w to [blue]{Markup.Escape(file)}[/] and its image to [blue]{Markup.Escape(png)}[/]");
            AnsiConsole.Console.WriteLine($"pixel MSE {start.PixelMse:G4} -> {result.PixelMse:G4}, feature distance {start.FeatureDistance:G4} -> {result.FeatureDistance:G4} (from w_avg, {options.Steps} steps)");
            AnsiConsole.Console.WriteLine($"a random w: pixel MSE {random.PixelMse:G4}, feature distance {random.FeatureDistance:G4}");
            return 0;
        }));
        return cmd;
    }
}
