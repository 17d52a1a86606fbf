namespace GanForge.NN;

/// <summary>PyTorch's default initialisation of conv layers (reset_parameters).</summary>
internal static class ConvInit
{
    /// <summary>
    /// kaiming_uniform(a = sqrt(5)) on the weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias;
    /// both reduce to the bound 1/sqrt(fan_in), with fan_in = weight.size(1) * KH * KW.
    /// </summary>
    public static float Bound(int[] weightShape) => 1f / MathF.Sqrt(weightShape[1] * weightShape[2] * weightShape[3]);
}
