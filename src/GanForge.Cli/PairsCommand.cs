using System.CommandLine;
using GanForge.Data;
using GanForge.Gan;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge pairs`: writes a paired set for image-to-image translation (A the input, B the target) out, in the split's order.</summary>
static class PairsCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Data spec (default embedded): " + DataSpec.Help, DefaultValueFactory = _ => "embedded" };
        var pairs = new Option<string>("--pairs") { Description = "How the pairs are made: " + DataSpec.PairsHelp, Required = true };
        var split = new Option<string>("--split") { Description = "train (default) or test", DefaultValueFactory = _ => "train" };
        var limit = NumberOptions.WithDefault("--limit", "Write only the first N pairs (default 0: all)", 0);
        const string formats = "a.idx (IDX ubyte, gray), grid.png, x.npy (floats in [-1, 1]), or a folder for one PNG per image";
        var outA = new Option<string>("--out-a") { Description = "Where the inputs A go: " + formats, Required = true };
        var outB = new Option<string>("--out-b") { Description = "Where the targets B go, as --out-a", Required = true };
        var outLabels = new Option<string?>("--out-labels") { Description = "Also write the source images' classes as IDX labels (labelled data only), for `translate --labels`" };
        var size = NumberOptions.WithDefault("--image-size", "Centre-crop images to squares and resize them to N x N before pairing (default 0: their own size)", 0);
        var channels = NumberOptions.WithDefault("--channels", "1 (gray) or 3 (RGB): convert the images (default 0: the data's own)", 0);
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip image files that cannot be read, and count them, instead of stopping at the first" };
        var cmd = new Command("pairs", "Write the pairs of an image-to-image data set (edges, masked, downscale:S, or a folder of pairs) as A and B files, in the split's order")
        { data, pairs, split, limit, outA, outB, outLabels, size, channels, skipBad };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            string a = r.GetValue(outA)!, b = r.GetValue(outB)!;
            if (Path.GetFullPath(a) == Path.GetFullPath(b)) throw new ArgumentException($"--out-a and --out-b are both '{a}'; give A and B a file each");
            var options = new DataOptions { ImageSize = r.GetValue(size), Channels = r.GetValue(channels), SkipBad = r.GetValue(skipBad) };
            var resolved = DataSpec.ResolvePairs(r.GetValue(data)!, r.GetValue(pairs)!, r.GetValue(split)!, r.GetValue(limit), options);
            var all = resolved.Pairs.Stack(minusOneToOne: true);
            Outputs.WriteImages(all.A, a);
            Outputs.WriteImages(all.B, b);
            if (r.GetValue(outLabels) is { } labelsPath)
            {
                if (resolved.NumClasses == 0) throw new ArgumentException($"--out-labels: the pairs of {r.GetValue(data)} have no classes");
                var classes = new Tensor(all.Count);
                for (int i = 0; i < all.Count; i++) classes.Data[i] = all.Labels[i];
                Outputs.WriteLabels(classes, labelsPath);
            }
            var console = AnsiConsole.Console;
            console.MarkupLine($"[grey]data: {Markup.Escape(resolved.Description)}[/]");
            console.MarkupLine($"Wrote {all.Count} pairs ({Markup.Escape(resolved.Kind)}): A {string.Join("x", all.A.Shape[1..])} to [blue]{Markup.Escape(a)}[/], " +
                               $"B {string.Join("x", all.B.Shape[1..])} to [blue]{Markup.Escape(b)}[/]");
            return 0;
        }));
        return cmd;
    }
}
