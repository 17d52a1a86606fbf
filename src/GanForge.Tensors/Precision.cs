using System.Runtime.Intrinsics.X86;

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
/// The process-wide precision of convolutions (read by <see cref="Kernels.Conv"/>; matrix products follow it only with
/// <see cref="Kernels.Gemm.Bf16Products"/>), like <see cref="Threading"/>. fp32 unless code sets it: `ganforge train
/// --precision bf16` (recorded in config.yaml) or the bench's --precision; no environment variable changes a training
/// run's numerics behind its configuration. On a processor whose bf16 dot product runs at the FMA's instruction rate
/// (the Zen 5) bf16 convolutions win; on the Xeon of the first exploration they lost (docs/performance.md, "bf16 on the
/// Zen 5" and "bf16 (issue 17): explored"). Master weights, optimizer state, losses and normalisation are single
/// precision whatever it says; only the operands of the products are rounded.
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

    /// <summary>Whether products run in bf16 now: bf16 is asked for and can run here (<see cref="Bf16Supported"/>).</summary>
    internal static bool Bf16Active => _current == ComputePrecision.Bf16 && Bf16Supported;

    /// <summary>
    /// Whether bf16 products can run here: oneDNN (its kernels) could be loaded and the processor has AVX512-BF16.
    /// Without that instruction set oneDNN falls back to kernels that do not keep the contract above (on an AVX2
    /// processor its bf16 convolutions were 2-4e-3 of the scale away from the product of the rounded inputs).
    /// </summary>
    public static bool Bf16Supported => Bf16Unavailable == null;

    /// <summary>CPUID leaf 7, sub-leaf 1, EAX bit 5 (AVX512_BF16), where AVX-512 itself is usable.</summary>
    static readonly bool ProcessorHasAvx512Bf16 =
        Avx512F.IsSupported && X86Base.CpuId(0, 0).Eax >= 7 && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

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
    /// Throws when bf16 is asked for but cannot run here (the products would silently stay fp32).
    /// </summary>
    public static void EnsureSupported(ComputePrecision p)
    {
        if (p == ComputePrecision.Bf16 && Bf16Unavailable is { } why) throw new InvalidOperationException($"Precision: {why}");
    }

    /// <summary>Why bf16 products cannot run here, or null where they can (<see cref="Bf16Supported"/>).</summary>
    public static string? Bf16Unavailable =>
        !Native.NativeMethods.DnnlAvailable ? "bf16 needs oneDNN (libdnnl.so.2), which could not be loaded"
        : !ProcessorHasAvx512Bf16 ? "bf16 needs a processor with AVX512-BF16, which this one lacks"
        : null;
}
