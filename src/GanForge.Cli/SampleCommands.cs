using System.CommandLine;
using GanForge.Gan;
using GanForge.Gan.Training;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge sample`, `interpolate` and `info`.</summary>
static class SampleCommands
{
    static Option<string> CheckpointOption() =>
        new("--checkpoint") { Description = "Run folder or checkpoint.safetensors", Required = true };

    public static Command Sample()
    {
        var checkpoint = CheckpointOption();
        var count = NumberOptions.WithDefault("--count", "Number of images (default 64)", 64);
        var outPath = new Option<string>("--out") { Description = "samples.idx (IDX ubyte), grid.png, x.npy (raw floats), or a folder for one PNG per image", Required = true };
        var latents = new Option<string?>("--latents") { Description = "Generate from these latent vectors (.npy, float32, (n, nz)), or styles (n, layers, w_dim) as `project` writes them" };
        var truncation = NumberOptions.Optional<float>("--truncation", "Truncation ψ in [0, 1] for style-based models: w pulled toward w_avg (1 = none)");
        var seed = NumberOptions.WithDefault("--seed", "Seed of the latent noise (default 0)", 0UL);
        var noEma = new Option<bool>("--no-ema") { Description = "Use the raw generator even if the run kept an EMA" };
        var (cls, code) = ConditionOptions();
        var labelsOut = new Option<string?>("--labels-out") { Description = "Also write the class of each image (IDX ubyte labels; conditional models)" };
        var cmd = new Command("sample", "Generate images from a trained generator") { checkpoint, count, outPath, latents, seed, noEma, cls, code, labelsOut, truncation };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!, useEma: !r.GetValue(noEma));
            if (r.GetValue(truncation) is float psi) sampler.SetTruncation(psi);
            var conditions = SampleConditions.Parse(r.GetValue(cls), r.GetValue(code) ?? []);
            var given = r.GetValue(latents) is { } file ? Outputs.ReadLatents(file, allowStyles: true) : null;
            var drawn = given is { Rank: 3 } ? null : given is not null
                ? sampler.LatentsFor(given, conditions)
                : sampler.Latents(CheckCount(r.GetValue(count)), r.GetValue(seed), conditions);
            var labelsPath = r.GetValue(labelsOut);
            if (labelsPath != null && drawn?.Classes == null)
                throw new ArgumentException($"--labels-out: model '{sampler.Model.Name}' is not class-conditional; its samples have no class");
            var images = drawn != null ? sampler.Generate(drawn) : sampler.FromStyles(given!);
            var written = Outputs.WriteImages(images, r.GetValue(outPath)!);
            if (labelsPath != null) Outputs.WriteLabels(drawn!.Classes!, labelsPath);
            AnsiConsole.Console.MarkupLine($"Wrote {images.Size(0)} images to [blue]{Markup.Escape(written)}[/]"
                + (labelsPath != null ? $" and their classes to [blue]{Markup.Escape(labelsPath)}[/]" : ""));
            return 0;
        }));
        return cmd;
    }

    static (Option<int?> Class, Option<string[]> Code) ConditionOptions() => (
        new Option<int?>("--class") { Description = "Class of every image (cgan, acgan); without it classes go round 0..C-1" },
        new Option<string[]>("--code") { Description = "InfoGAN code: cat=K (categorical value) or cN=V (continuous code N from 1), repeatable", AllowMultipleArgumentsPerToken = false });

    public static Command Sweep()
    {
        var checkpoint = CheckpointOption();
        var outPath = new Option<string>("--out") { Description = "grid.png", Required = true };
        var columns = NumberOptions.WithDefault("--columns", "Noise vectors (conditional models) or steps of the continuous code from -2 to 2 (InfoGAN) (default 10)", 10);
        var code = NumberOptions.WithDefault("--code", "InfoGAN: the continuous code swept, from 1 (default 1)", 1);
        var seed = NumberOptions.WithDefault("--seed", "Seed of the noise (default 0)", 0UL);
        var cmd = new Command("sweep", "A grid of what a model's conditions do: class x noise (cgan, acgan), or categorical value x a swept continuous code (infogan)")
        { checkpoint, outPath, columns, code, seed };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!);
            var (images, cols) = sampler.Sweep(r.GetValue(seed), r.GetValue(columns), r.GetValue(code) - 1);
            var file = r.GetValue(outPath)!;
            Outputs.WriteGrid(images, file, cols);
            AnsiConsole.Console.MarkupLine($"Wrote a {images.Size(0) / cols} x {cols} grid to [blue]{Markup.Escape(file)}[/]");
            return 0;
        }));
        return cmd;
    }

    static int CheckCount(int n) => n > 0 ? n : throw new ArgumentException($"--count must be positive, got {n}");

    public static Command Interpolate()
    {
        var checkpoint = CheckpointOption();
        var outPath = new Option<string>("--out") { Description = "strip.png (one row) or walk.gif (animated)", Required = true };
        var points = NumberOptions.WithDefault("--points", "Random latent points to pass through (default 2)", 2);
        var steps = NumberOptions.WithDefault("--steps", "Frames between consecutive points (default 8)", 8);
        var seed = NumberOptions.WithDefault("--seed", "Seed of the latent points (default 0)", 0UL);
        var latents = new Option<string?>("--latents") { Description = "Latent points to pass through (.npy, (k, nz))" };
        var linear = new Option<bool>("--linear") { Description = "Linear instead of spherical interpolation" };
        var (cls, code) = ConditionOptions();
        var cmd = new Command("interpolate", "Walk through latent space between points: a PNG strip or an animated GIF")
        { checkpoint, outPath, points, steps, seed, latents, linear, cls, code };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!);
            int k = r.GetValue(points), s = r.GetValue(steps);
            if (k < 2) throw new ArgumentException($"--points must be at least 2, got {k}");
            if (s < 1) throw new ArgumentException($"--steps must be at least 1, got {s}");
            var given = r.GetValue(latents) is { } z ? Outputs.ReadLatents(z) : null;
            sampler.FrameCount(given?.Size(0) ?? k, s);
            var anchors = given ?? Tensor.Randn([k, sampler.Model.LatentDim], new Generator(r.GetValue(seed)));
            var path = Sampler.InterpolateLatents(anchors, s, spherical: !r.GetValue(linear));
            // a conditional walk keeps one class (0 unless --class says), InfoGAN's codes stay fixed along it
            var conditions = SampleConditions.Parse(r.GetValue(cls) ?? (sampler.Model.Classes > 0 ? 0 : null), r.GetValue(code) ?? []);
            var walk = sampler.LatentsFor(path, conditions);
            if (walk.Codes is { } codes)
                for (int i = 1; i < walk.Count; i++) codes.Data.Slice(0, codes.Size(1)).CopyTo(codes.Data.Slice(i * codes.Size(1)));
            var images = sampler.Generate(walk);
            var file = r.GetValue(outPath)!;
            Outputs.WriteStrip(images, file);
            AnsiConsole.Console.MarkupLine($"Wrote {images.Size(0)} frames to [blue]{Markup.Escape(file)}[/]");
            return 0;
        }));
        return cmd;
    }

    public static Command Info()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "Run folder or checkpoint.safetensors" };
        var cmd = new Command("info", "Show what a checkpoint holds") { checkpoint };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var path = Checkpoint.Locate(r.GetValue(checkpoint)!);
            var (_, state) = Checkpoint.Read(path, Checkpoint.NoTensors);
            var table = new Table().AddColumn("field").AddColumn("value");
            table.AddRow("file", Markup.Escape(path));
            table.AddRow("model", state.Model);
            table.AddRow("image shape", string.Join("x", state.ImageShape));
            table.AddRow("latent dim", state.LatentDim.ToString());
            table.AddRow("epochs done", state.Epoch.ToString());
            table.AddRow("generator steps", state.Step.ToString());
            table.AddRow("networks", string.Join(", ", state.Networks));
            table.AddRow("EMA", state.EmaNetworks.Length > 0 || state.HasEmaOf("generator") ? string.Join(", ", state.EmaNetworks.DefaultIfEmpty("generator")) : "no");
            table.AddRow("saved (UTC)", state.SavedUtc.ToString("u"));
            if (state.ImportedFrom != null) table.AddRow("imported from", Markup.Escape(state.ImportedFrom));
            var shapes = state.TensorShapes;
            var parts = shapes.Keys.Where(k => k.Contains('.')).Select(k => k[..(k.IndexOf('.') + 1)]).Distinct();
            foreach (var part in parts)
            {
                var p = shapes.Where(kv => kv.Key.StartsWith(part, StringComparison.Ordinal)).Select(kv => kv.Value).ToList();
                table.AddRow(part.TrimEnd('.'), $"{p.Count} tensors, {p.Sum(shape => (long)Shapes.Numel(shape)):N0} values");
            }
            AnsiConsole.Console.Write(table);
            AnsiConsole.Console.WriteLine("config:");
            AnsiConsole.Console.WriteLine(state.ConfigYaml);
            return 0;
        }));
        return cmd;
    }
}
