using GanForge.Gan.Zoo;
using Microsoft.ML.OnnxRuntime;

namespace GanForge.Onnx.Tests;

/// <summary>The README's "Export to ONNX" example: export a generator, run it from C# with ONNX Runtime.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void ExportThenRunInOnnxRuntime_MlpGan_GivesSixteenImagesInRange()
    {
        var dir = Directory.CreateTempSubdirectory("ganforge-readme-");
        try
        {
            var file = Path.Combine(dir.FullName, "g.onnx");   // the README's "g.onnx"
            var model = ModelZoo.Create("gan", new ModelSpec(1, 28));
            model.Generator.Eval().ExportOnnx(file, model.SampleLatent(1, new Generator(0)));

            // --- as in the README ---
            using var session = new InferenceSession(file);
            var z = new float[16 * 100];                                            // fill with N(0, 1) noise
            using var input = OrtValue.CreateTensorValueFromMemory(z, [16, 100]);
            using var outputs = session.Run(new RunOptions(), ["z"], [input], ["image"]);
            ReadOnlySpan<float> images = outputs[0].GetTensorDataAsSpan<float>();   // (16, 1, 28, 28) in [-1, 1]
            // ---

            Assert.Equal(16 * 28 * 28, images.Length);
            foreach (float v in images) Assert.InRange(v, -1f, 1f);
        }
        finally { dir.Delete(true); }
    }
}
