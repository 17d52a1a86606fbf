using System.CommandLine;
using GanForge.Gan;
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
        var cmd = new Command("translate", "Translate images with a trained image-to-image model (pix2pix, unet-l1, cyclegan; srresnet and srgan too)")
        { checkpoint, images, outPath, batch, direction };
        cmd.SetAction(r => Errors.Guard(() =>
            Run(Translator.Load(r.GetValue(checkpoint)!, r.GetValue(direction)!, "translate"), r.GetValue(images)!, r.GetValue(outPath)!, r.GetValue(batch), "translate")));
        return cmd;
    }

    public static Command Upscale()
    {
        var (checkpoint, images, outPath, batch) = Common("Low-resolution images to upscale: " + Inputs);
        var cmd = new Command("upscale", "Upscale images with a trained super-resolution model (srresnet, srgan)") { checkpoint, images, outPath, batch };
        cmd.SetAction(r => Errors.Guard(() =>
            Run(Translator.Load(r.GetValue(checkpoint)!, "a2b", "upscale", superResolution: true), r.GetValue(images)!, r.GetValue(outPath)!, r.GetValue(batch), "upscale")));
        return cmd;
    }

    static (Option<string> Checkpoint, Option<string> Images, Option<string> Out, Option<int> Batch) Common(string imagesDescription) =>
    (
        new Option<string>("--checkpoint") { Description = "Run folder or checkpoint.safetensors of an image-to-image model", Required = true },
        new Option<string>("--images") { Description = imagesDescription, Required = true },
        new Option<string>("--out") { Description = "Where the outputs go: " + Outputs, Required = true },
        NumberOptions.WithDefault("--batch-size", "Images per batch (default 64)", 64)
    );

    static int Run(Translator translator, string input, string output, int batchSize, string who)
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
        var written = Gan.Outputs.WriteImages(result, output);
        console.MarkupLine($"Wrote {n} images {string.Join("x", translator.OutputShape)} ({Markup.Escape(translator.Model.Name)}, {translator.Direction}) " +
                           $"from {string.Join("x", images.Shape[1..])} inputs to [blue]{Markup.Escape(written)}[/]");
        return 0;
    }
}
