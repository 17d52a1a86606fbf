using System.CommandLine;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge import --torch`: a generator trained in PyTorch as a GanForge checkpoint.</summary>
static class ImportCommand
{
    public static Command Create()
    {
        var torch = new Option<string>("--torch")
        {
            Description = "The generator's state_dict as safetensors (safetensors.torch.save_file(netG.state_dict(), FILE))", Required = true,
        };
        var model = new Option<string>("--model")
        {
            Description = "The zoo model whose generator it is (default dcgan): " + string.Join(", ", ModelZoo.Names), DefaultValueFactory = _ => "dcgan",
        };
        var outDir = new Option<string>("--out") { Description = "Folder to write the checkpoint into (sample, interpolate, export and info read it)", Required = true };
        var size = NumberOptions.WithDefault("--image-size", "Side of the generated images (default 64, as pytorch/examples' DCGAN)", 64);
        var channels = NumberOptions.WithDefault("--channels", "Channels of the generated images: 3 (default) or 1", 3);
        var latentDim = NumberOptions.WithDefault("--latent-dim", "Size of the latent vector z, nz (default 100)", 100);
        var set = new Option<string[]>("--set") { Description = "A model option, KEY=VALUE, repeatable: --set width=64 for ngf (`ganforge models --model NAME` lists them)" };
        var prefix = new Option<string?>("--prefix") { Description = "Prefix of the generator's tensor names in the file, e.g. main. (default: found from the names)" };
        var cmd = new Command("import", "Import a generator trained elsewhere as a GanForge checkpoint") { torch, model, outDir, size, channels, latentDim, set, prefix };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var config = new TrainConfig
            {
                Model = r.GetValue(model)!, Out = r.GetValue(outDir)!, ImageSize = r.GetValue(size), Channels = r.GetValue(channels),
                LatentDim = r.GetValue(latentDim),
            };
            foreach (var assignment in r.GetValue(set) ?? []) config.Set(assignment);
            var file = r.GetValue(torch)!;
            var result = TorchImport.Import(file, config, r.GetValue(prefix));
            var shape = string.Join("x", result.Model.ImageShape);
            AnsiConsole.Console.MarkupLine(
                $"Imported {result.Match.Tensors.Count} tensors" +
                (result.Match.Prefix.Length > 0 ? $" under '{Markup.Escape(result.Match.Prefix)}'" : "") +
                (result.Match.Ignored > 0 ? $" ({result.Match.Ignored} others in the file left alone)" : "") +
                $" into {result.Model.Name}'s generator (z {result.Model.LatentDim} -> {shape}): [blue]{Markup.Escape(result.Checkpoint)}[/]");
            return 0;
        }));
        return cmd;
    }
}
