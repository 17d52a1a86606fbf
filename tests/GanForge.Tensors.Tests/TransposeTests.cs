using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>The register-block helpers of <see cref="Transpose"/> against element-by-element sums.</summary>
public class TransposeTests
{
    [Fact]
    public void RowSums_SixteenRows_PutEachRowsSumInItsLane()
    {
        // Rows of different sizes and signs, so that a lane holding another row's sum, or a half of its own, is caught.
        if (!Avx512F.IsSupported) return;
        var rng = new Random(5);
        var rows = new float[16 * 16];
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 16; c++) rows[r * 16 + c] = (float)((r + 1) * (rng.NextDouble() - 0.3) * Math.Pow(2, r % 5));
        var sums = Transpose.RowSums(ref rows[0]);
        for (int r = 0; r < 16; r++)
        {
            double expected = 0;
            for (int c = 0; c < 16; c++) expected += rows[r * 16 + c];
            Assert.True(Math.Abs(sums.GetElement(r) - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"row {r}: {sums.GetElement(r)}, expected {expected}");
        }
    }
}
