namespace GanForge;

/// <summary>The number format the engine's matrix products and convolutions read their inputs in.</summary>
public enum ComputePrecision
{
    /// <summary>Single precision throughout (the default).</summary>
    Fp32,

    /// <summary>
    /// bfloat16 inputs (rounded to nearest, ties to even) with single-precision accumulation and outputs,
    /// run by oneDNN's bf16 kernels; every other op stays in single precision.
    /// </summary>
    Bf16,
}

/// <summary>
/// The process-wide precision of GEMMs and convolutions (read by <see cref="Kernels.Gemm"/> and
/// <see cref="Kernels.Conv"/>), like <see cref="Threading"/>. Always fp32 unless code sets it (the bench's
/// --precision): no environment variable changes a training run's numerics behind its configuration, and bf16
/// lost to fp32 on every product that takes time here (docs/performance.md, "bf16 (issue 17): explored"). Master weights, optimizer state, losses and normalisation
/// are single precision whatever it says; only the operands of the products are rounded.
/// </summary>
public static class Precision
{
    static ComputePrecision _current = ComputePrecision.Fp32;

    /// <summary>The precision of matrix products and convolutions from now on.</summary>
    public static ComputePrecision Current
    {
        get => _current;
        set => _current = value;
    }

    /// <summary>Whether products run in bf16 now: bf16 is asked for and oneDNN (its kernels) could be loaded.</summary>
    internal static bool Bf16Active => _current == ComputePrecision.Bf16 && Native.NativeMethods.DnnlAvailable;

    /// <summary>The name used by options and configuration files ("fp32", "bf16").</summary>
    public static string Name(ComputePrecision p) => p == ComputePrecision.Bf16 ? "bf16" : "fp32";

    /// <summary>Parses "fp32"/"float32"/"bf16"/"bfloat16" (any case).</summary>
    public static ComputePrecision Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" or "f32" => ComputePrecision.Fp32,
        "bf16" or "bfloat16" => ComputePrecision.Bf16,
        _ => throw new ArgumentException($"Precision: unknown precision '{text}' (expected fp32 or bf16)"),
    };

    /// <summary>
    /// Throws when bf16 is asked for but oneDNN, whose kernels run it, is missing (the products would
    /// silently stay fp32).
    /// </summary>
    public static void EnsureSupported(ComputePrecision p)
    {
        if (p != ComputePrecision.Bf16) return;
        if (!Native.NativeMethods.DnnlAvailable)
            throw new InvalidOperationException("Precision: bf16 needs oneDNN (libdnnl.so.2), which could not be loaded");
    }
}
