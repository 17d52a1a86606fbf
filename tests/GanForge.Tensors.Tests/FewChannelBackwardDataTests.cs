using System.Runtime.Intrinsics.X86;
using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The backward-data kernel for layers whose input has at most four channels (a generator's last transposed layer),
/// against the naive kernel on a buffer poisoned with NaN: tap and position counts that are and are not multiples of
/// its blocks, strides 1 and 2, padding, and through <see cref="Conv.Transpose"/> where the rule picks it. Shares the
/// backend collection: it switches <see cref="Conv.FewChannelKernels"/>, a process-wide setting.
/// </summary>
[Collection("ConvBackend")]
public class FewChannelBackwardDataTests
{
    // (Ci, H, Co, K, stride, pad, n)
    public static TheoryData<int, int, int, int, int, int, int> Layers => new()
    {
        { 1, 28, 64, 4, 2, 1, 5 },   // dcgan28's and wgangp28's last transposed layer: 16 taps, 196 positions (4 past a block)
        { 1, 64, 16, 4, 2, 1, 3 },   // dcgan64's, narrower: 1,024 positions
        { 3, 32, 20, 7, 1, 3, 2 },   // an RGB 7 x 7 layer: 147 taps (3 past a block), padding 3
        { 1, 9, 8, 3, 1, 0, 4 },     // 9 taps, 49 positions: both last blocks overlap
        { 4, 12, 33, 3, 2, 1, 3 },   // four channels, stride 2 with an odd channel count
    };

    [Theory, MemberData(nameof(Layers))]
    public void FewChannelBackwardData_MatchesNaive(int ci, int h, int co, int k, int stride, int pad, int n)
    {
        if (!Avx2.IsSupported || !Fma.IsSupported) return;
        int o = (h + 2 * pad - k) / stride + 1;
        var g = new ConvGeometry(ci, h, h, co, o, o, k, k, stride, stride, pad, pad, 1, 1, 1);
        Assert.True(FewChannelBackwardData.Suits(g));
        var gen = new Generator(41);
        var (w, gy) = (Tensor.Randn([co, ci, k, k], gen), Tensor.Randn([n, co, o, o], gen));
        var expected = new Tensor(n, ci, h, h);
        Conv.TransposeNaive(gy.Data, w.Data, expected.Data, n, g);

        var dx = Tensor.Full([n, ci, h, h], float.NaN);
        FewChannelBackwardData.Run(gy.Storage, w.Storage, dx.Storage, n, g);
        Fixtures.AssertClose(expected, dx, 1e-4, 1e-4, $"{co} -> {ci} from {o} x {o}, kernel {k}, stride {stride}");

        // Through the dispatcher: the rule takes it without AVX-512, and the result is the same either way.
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            Assert.Equal("direct", Conv.Picks(ConvDnnl.Kind.BackwardData, n, g));
        var viaConv = Tensor.Full([n, ci, h, h], float.NaN);
        Conv.Transpose(gy.Storage, w.Storage, viaConv.Storage, n, g);
        Fixtures.AssertClose(expected, viaConv, 1e-4, 1e-4, "Conv.Transpose");
    }

    // Layers outside its reach (five input channels, fewer than 16 positions, groups) are refused by name and shape.
    [Fact]
    public void FewChannelBackwardData_OutsideItsLayers_Refuses()
    {
        var five = new ConvGeometry(5, 8, 8, 16, 4, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        var tiny = new ConvGeometry(1, 4, 4, 16, 2, 2, 4, 4, 2, 2, 1, 1, 1, 1, 1);
        Assert.False(FewChannelBackwardData.Suits(five));
        Assert.False(FewChannelBackwardData.Suits(tiny));
        var e = Assert.Throws<ArgumentException>(() => FewChannelBackwardData.Run(new float[16 * 16], new float[16 * 5 * 16], new float[5 * 64], 1, five));
        Assert.Contains("FewChannelBackwardData.Run", e.Message);
    }
}
