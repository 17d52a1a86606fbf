using System.CommandLine;
using GanForge.Gan;
using GanForge.Onnx;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge export`: a run's generator as an ONNX model.</summary>
static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Run folder or checkpoint.safetensors", Required = true };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (opset 17, input z, output image, dynamic batch)", Required = true };
        var noEma = new Option<bool>("--no-ema") { Description = "Export the raw generator even if the run kept an EMA" };
        var cmd = new Command("export", "Export a trained generator to ONNX (BatchNorm with its running statistics)") { checkpoint, onnx, noEma };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!, useEma: !r.GetValue(noEma));
            var example = sampler.Model.SampleLatent(1, new Generator(0));   // for the shapes only
            var file = r.GetValue(onnx)!;
            sampler.Generator.ExportOnnx(file, example);
            string Shape(int[] dims) => "(batch," + string.Join(",", dims) + ")";
            AnsiConsole.Console.MarkupLine(
                $"Wrote the {(sampler.UsesEma ? "EMA " : "")}generator of {sampler.State.Model} to [blue]{Markup.Escape(file)}[/]: " +
                $"z {Shape(sampler.Model.LatentShape)} -> image {Shape(sampler.Model.ImageShape)}, ONNX opset {OnnxGraph.Opset}");
            return 0;
        }));
        return cmd;
    }
}
