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
        var truncation = NumberOptions.Optional<float>("--truncation", "Style-based models: bake truncation ψ in [0, 1] into the graph (default 1 = none)");
        var cmd = new Command("export", "Export a trained generator to ONNX (BatchNorm with its running statistics)") { checkpoint, onnx, noEma, truncation };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            var sampler = Sampler.Load(r.GetValue(checkpoint)!, useEma: !r.GetValue(noEma));
            if (r.GetValue(truncation) is float psi) sampler.SetTruncation(psi);
            var file = r.GetValue(onnx)!;
            var model = sampler.Model;
            model.ExportGeneratorOnnx(file, sampler.Generator);
            string Shape(IEnumerable<int> dims) => "(batch," + string.Join(",", dims) + ")";
            string inputs = $"z {Shape(model.Codes is null && model.Classes == 0 ? model.LatentShape : [model.LatentDim])}"
                + (model.Codes is { } codes ? $", code (batch,{codes.Width})" : "")
                + (model.Classes > 0 ? $", class (batch) int64 in 0..{model.Classes - 1}" : "");
            AnsiConsole.Console.MarkupLine(
                $"Wrote the {(sampler.UsesEma ? "EMA " : "")}generator of {sampler.State.Model} to [blue]{Markup.Escape(file)}[/]: " +
                $"{inputs} -> image {Shape(model.ImageShape)}, ONNX opset {OnnxGraph.Opset}");
            return 0;
        }));
        return cmd;
    }
}
