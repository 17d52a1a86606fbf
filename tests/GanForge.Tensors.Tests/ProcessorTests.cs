using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The processor facts the kernel rules read, decoded from CPUID signatures (leaf 1 EAX) of known processors: only
/// AMD's Zen and Zen+ run AVX2 in 128-bit halves, and only its Zen 4 AVX-512 in 256-bit halves.
/// </summary>
public class ProcessorTests
{
    [Theory]
    [InlineData(true, 0x00800F12, true)]    // EPYC 7551 (Zen, family 17h model 01h): the host of the thirty-seventh pass
    [InlineData(true, 0x00800F82, true)]    // Ryzen 7 2700X (Zen+, model 08h)
    [InlineData(true, 0x00830F10, false)]   // EPYC 7742 (Zen 2, model 31h): full-width AVX2
    [InlineData(true, 0x00A00F11, false)]   // EPYC 7763 (Zen 3, family 19h)
    [InlineData(true, 0x00B40F40, false)]   // Ryzen 9000 (Zen 5, family 1Ah)
    [InlineData(false, 0x000306C3, false)]  // Core i7-4770 (Haswell)
    [InlineData(false, 0x00800F12, false)]  // the Zen signature under another vendor
    public void SplitsAvx2For_KnownSignatures_OnlyZenAndZenPlus(bool amd, int signature, bool expected) =>
        Assert.Equal(expected, Processor.SplitsAvx2For(amd, signature));

    [Theory]
    [InlineData(true, 0x00A10F11, true, true)]     // EPYC 9654 (Zen 4, family 19h model 11h): the host of the forty-sixth pass
    [InlineData(true, 0x00A60F12, true, true)]     // Ryzen 7000 (Zen 4, model 61h)
    [InlineData(true, 0x00A00F11, false, false)]   // EPYC 7763 (Zen 3, family 19h, no AVX-512)
    [InlineData(true, 0x00B00F21, true, false)]    // EPYC 9005 (Zen 5, family 1Ah): full-width AVX-512
    [InlineData(false, 0x000806F8, true, false)]   // Xeon (Sapphire Rapids)
    [InlineData(false, 0x00A10F11, true, false)]   // the Zen 4 signature under another vendor
    public void SplitsAvx512For_KnownSignatures_OnlyZen4(bool amd, int signature, bool avx512, bool expected) =>
        Assert.Equal(expected, Processor.SplitsAvx512For(amd, signature, avx512));
}
