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
        var latents = new Option<string?>("--latents") { Description = "Generate from these latent vectors (.npy, float32, (n, nz))" };
        var seed = NumberOptions.WithDefault("--seed", "Seed of the latent noise (default 0)", 0UL);
        var noEma = new Option<bool>("--no-ema") { Description = "Use the raw generator even if the run kept an EMA" };
        var cmd = new Command("sample", "Generate images from a trained generator") { checkpoint, count, outPath, latents, seed, noEma };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!, useEma: !r.GetValue(noEma));
            var images = r.GetValue(latents) is { } z
                ? sampler.FromLatents(Outputs.ReadLatents(z))
                : sampler.Sample(CheckCount(r.GetValue(count)), r.GetValue(seed));
            var written = Outputs.WriteImages(images, r.GetValue(outPath)!);
            AnsiConsole.Console.MarkupLine($"Wrote {images.Size(0)} images to [blue]{Markup.Escape(written)}[/]");
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
        var cmd = new Command("interpolate", "Walk through latent space between points: a PNG strip or an animated GIF")
        { checkpoint, outPath, points, steps, seed, latents, linear };
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
            var images = sampler.FromLatents(path);
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
            var (tensors, state) = Checkpoint.Read(path);
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
            var parts = tensors.Keys.Where(k => k.Contains('.')).Select(k => k[..(k.IndexOf('.') + 1)]).Distinct();
            foreach (var part in parts)
            {
                var p = Checkpoint.Part(tensors, part);
                if (p.Count > 0)
                    table.AddRow(part.TrimEnd('.'), $"{p.Count} tensors, {p.Values.Sum(t => (long)t.Numel):N0} values");
            }
            AnsiConsole.Console.Write(table);
            AnsiConsole.Console.WriteLine("config:");
            AnsiConsole.Console.WriteLine(state.ConfigYaml);
            return 0;
        }));
        return cmd;
    }
}
