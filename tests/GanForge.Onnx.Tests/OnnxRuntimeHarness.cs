using Microsoft.ML.OnnxRuntime;

namespace GanForge.Onnx.Tests;

/// <summary>Runs an exported model in ONNX Runtime and compares it with GanForge's own forward pass.</summary>
static class OnnxRuntimeHarness
{
    /// <summary>Runs <paramref name="model"/> (bytes of an ONNX file) on <paramref name="input"/>; returns its one output.</summary>
    public static Tensor Run(byte[] model, Tensor input, string inputName = "z", string outputName = "image")
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };   // default graph optimisations, as a user gets
        using var session = new InferenceSession(model, options);
        return Run(session, input, inputName, outputName);
    }

    public static Tensor Run(InferenceSession session, Tensor input, string inputName = "z", string outputName = "image")
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input.ToArray(), input.Shape.Select(d => (long)d).ToArray());
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [value], [outputName]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape.Select(d => (int)d).ToArray();
        return Tensor.FromArray(outputs[0].GetTensorDataAsSpan<float>().ToArray(), shape);
    }

    /// <summary>Runs <paramref name="model"/> on a generator's latents: z, and the class (int64) and codes where it takes them.</summary>
    public static Tensor Run(byte[] model, GanForge.Gan.Zoo.Latents latents, bool flatZ)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var names = new List<string> { "z" };
        var z = flatZ ? latents.Z : latents.Z.Reshape([latents.Count, .. session.InputMetadata["z"].Dimensions[1..]]);
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(z.ToArray(), z.Shape.Select(d => (long)d).ToArray()) };
        if (latents.Codes is { } codes)
        {
            names.Add("code");
            values.Add(OrtValue.CreateTensorValueFromMemory(codes.ToArray(), codes.Shape.Select(d => (long)d).ToArray()));
        }
        if (latents.Classes is { } classes)
        {
            names.Add("class");
            values.Add(OrtValue.CreateTensorValueFromMemory(classes.ToArray().Select(c => (long)c).ToArray(), [classes.Numel]));
        }
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, ["image"]);
            var shape = outputs[0].GetTensorTypeAndShape().Shape.Select(d => (int)d).ToArray();
            return Tensor.FromArray(outputs[0].GetTensorDataAsSpan<float>().ToArray(), shape);
        }
        finally { foreach (var v in values) v.Dispose(); }
    }

    /// <summary>GanForge's output for <paramref name="input"/>, without a graph.</summary>
    public static Tensor Forward(GanForge.NN.Module module, Tensor input)
    {
        using var noGrad = GradMode.NoGrad();
        return module.Forward(input).Clone();
    }

    /// <summary>max |a - b| over same-shaped tensors; fails on a shape mismatch.</summary>
    public static double MaxAbsDifference(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double max = 0;
        var e = expected.Data; var a = actual.Data;
        for (int i = 0; i < e.Length; i++) max = Math.Max(max, Math.Abs((double)e[i] - a[i]));
        return max;
    }
}
