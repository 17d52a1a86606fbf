using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>Facts about the processor that the kernel rules read, from CPUID.</summary>
internal static class Processor
{
    /// <summary>
    /// True on AMD's Zen and Zen+ (family 17h, models below 30h), which run each 256-bit AVX2 operation as two halves on
    /// 128-bit units: their FMA peak a clock is half a Zen 2's or a Haswell's. There oneDNN's direct jit:avx2
    /// convolutions run near that peak (dcgan64's 128 -> 256 layer at 16 px, batch 64: 38.2 GFLOP/s on one thread
    /// against a peak of 38.4), and beat im2col and one GEMM on maps where a full-width AVX2 processor ran the GEMM faster
    /// (<see cref="Conv"/>'s small-map rule, <see cref="Conv.DeepGemmForwards"/>).
    /// </summary>
    internal static readonly bool SplitsAvx2 = X86Base.IsSupported && SplitsAvx2For(IsAmd(), X86Base.CpuId(1, 0).Eax);

    /// <summary>Whether a processor with this vendor and CPUID leaf 1 EAX (its signature) is a Zen or Zen+.</summary>
    internal static bool SplitsAvx2For(bool amd, int signature) => amd && Family(signature) == 0x17 && Model(signature) < 0x30;

    /// <summary>
    /// True on AMD's Zen 4 (family 19h with AVX-512), which runs each 512-bit operation as two halves on 256-bit units: its
    /// FMA peak a clock is its AVX2 peak, half a Zen 5's. There oneDNN's direct kernels ran dcgan64's 256 -> 512 layer at
    /// 8 px (a 4 x 4 output map) at the FMA peak, faster than im2col and one GEMM over the batch, where the Zen 5 ran the
    /// GEMM faster (<see cref="Conv"/>'s tiny-map rule, <see cref="Conv.TinyMapGemms"/>).
    /// </summary>
    internal static readonly bool SplitsAvx512 = X86Base.IsSupported && SplitsAvx512For(IsAmd(), X86Base.CpuId(1, 0).Eax, Avx512F.IsSupported);

    /// <summary>Whether a processor with this vendor, CPUID leaf 1 EAX (its signature) and AVX-512F or not is a Zen 4.</summary>
    internal static bool SplitsAvx512For(bool amd, int signature, bool avx512) => amd && avx512 && Family(signature) == 0x19;

    // A signature's family and model: the extended fields count only where the base family is 0Fh.
    static int Family(int signature) => BaseFamily(signature) + (BaseFamily(signature) == 0xF ? (signature >> 20) & 0xFF : 0);

    static int Model(int signature) => (signature >> 4) & 0xF | (BaseFamily(signature) == 0xF ? ((signature >> 16) & 0xF) << 4 : 0);

    static int BaseFamily(int signature) => (signature >> 8) & 0xF;

    // CPUID leaf 0 spells the vendor in EBX, EDX, ECX: "Auth" "enti" "cAMD".
    static bool IsAmd()
    {
        var (_, b, c, d) = X86Base.CpuId(0, 0);
        return b == 0x68747541 && d == 0x69746E65 && c == 0x444D4163;
    }
}
