using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>
/// The Winograd kernels, F(2x2, 3x3) and F(4x4, 3x3), against the naive convolution, all three kinds, on even and odd
/// maps, one and two threads, and blocks of tiles that end inside an image or span several.
/// </summary>
[Collection("ConvBackend")]
public class WinogradTests
{
    public static TheoryData<int, int, int, int, int, int, int, int> Shapes => new()
    {
        // ci, co, h, w, padding, n, threads, block budget (floats; 0: the default)
        { 3, 5, 8, 8, 1, 2, 1, 0 },
        { 16, 24, 7, 9, 1, 3, 2, 0 },        // odd sizes: the last tiles' missing outputs
        { 16, 24, 7, 9, 1, 3, 2, 16 * 40 },  // blocks of 16 tiles, boundaries inside an image (20 tiles each)
        { 32, 32, 16, 16, 1, 4, 2, 0 },
        { 64, 16, 2, 2, 1, 5, 2, 0 },        // one tile an image
        { 1, 1, 1, 1, 1, 1, 1, 0 },          // one pixel: the whole patch but its centre is padding
        { 8, 12, 10, 10, 0, 3, 2, 0 },       // no padding (cyclegan's reflection-padded blocks): 8 x 8 out, backward-data padded by 2
        { 8, 12, 9, 7, 0, 2, 2, 16 * 20 },   // no padding, odd output 7 x 5
        { 6, 4, 5, 6, 2, 2, 1, 0 },          // padding 2: 7 x 8 out, backward-data unpadded
        // F(4x4) where the output's width is a multiple of 8 (pairs of 4-wide tiles): 2 tile rows of the last partial
        { 5, 7, 7, 16, 1, 3, 2, 0 },
        { 9, 11, 8, 8, 1, 7, 2, 36 * 20 * 2 },  // blocks of 16 tiles, four images each (4 tiles an image)
        { 12, 10, 13, 24, 1, 2, 2, 36 * 22 * 2 }, // blocks of 16 tiles ending inside rows of 6 tiles
        { 16, 16, 34, 34, 0, 1, 1, 0 },      // unpadded 32 x 32 out; backward-data padded by 2 (F(2x2): width 34)
        { 4, 3, 4, 14, 2, 3, 2, 0 },         // padding 2: 6 x 16 out
        { 3, 2, 3, 8, 1, 1, 1, 0 },          // one tile row: a last vector of zero tiles
        { 5, 7, 11, 16, 1, 3, 1, 36 * 12 },  // one thread, blocks of 16 tiles inside images of 12
        // (with the default budget the shapes above take all their tiles as one block, steps shared out over the threads)
    };

    [Theory, MemberData(nameof(Shapes))]
    public void Winograd_AllKinds_MatchNaive(int ci, int co, int h, int w, int pad, int n, int threads, int budget)
    {
        // F(2x2) everywhere, then F(4x4) where it fits (F(2x2) again elsewhere)
        foreach (int tile in new[] { 2, 4 }) AllKindsMatchNaive(ci, co, h, w, pad, n, threads, budget, tile);
    }

    static void AllKindsMatchNaive(int ci, int co, int h, int w, int pad, int n, int threads, int budget, int tile)
    {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        var g = new ConvGeometry(ci, h, w, co, oh, ow, 3, 3, 1, 1, pad, pad, 1, 1, 1);
        var gen = new Generator(3);
        var x = Tensor.Randn([n, ci, h, w], gen);
        var wt = Tensor.Randn([co, ci, 3, 3], gen);
        var gy = Tensor.Randn([n, co, oh, ow], gen);
        int before = Threading.Threads, budgetBefore = Winograd.BlockBudget, tileBefore = Winograd.TileSize, f4Before = Winograd.F4FromOutputs;
        (Threading.Threads, Winograd.TileSize, Winograd.F4FromOutputs) = (threads, tile, 0);
        if (budget > 0) Winograd.BlockBudget = budget;
        try
        {
            // Outputs start as NaN: every element must be written.
            var (y, yRef) = (Tensor.Full([n, co, oh, ow], float.NaN), new Tensor(n, co, oh, ow));
            Winograd.Forward(x.Storage, wt.Storage, y.Storage, n, g);
            Conv.ForwardNaive(x.Data, wt.Data, yRef.Data, n, g);
            Fixtures.AssertClose(yRef, y, 1e-4, Tolerance(yRef, tile), $"winograd forward, tile {tile}");

            var (dx, dxRef) = (Tensor.Full([n, ci, h, w], float.NaN), new Tensor(n, ci, h, w));
            Winograd.BackwardData(gy.Storage, wt.Storage, dx.Storage, n, g);
            Conv.TransposeNaive(gy.Data, wt.Data, dxRef.Data, n, g);
            Fixtures.AssertClose(dxRef, dx, 1e-4, Tolerance(dxRef, tile), $"winograd backward data, tile {tile}");

            var (dw, dwRef) = (Tensor.Full([co, ci, 3, 3], float.NaN), new Tensor(co, ci, 3, 3));
            Winograd.WeightGrad(x.Storage, gy.Storage, dw.Storage, n, g);
            Conv.WeightGradNaive(x.Data, gy.Data, dwRef.Data, n, g);
            Fixtures.AssertClose(dwRef, dw, 1e-4, Tolerance(dwRef, tile), $"winograd weight gradient, tile {tile}");
        }
        finally { (Threading.Threads, Winograd.BlockBudget, Winograd.TileSize, Winograd.F4FromOutputs) = (before, budgetBefore, tileBefore, f4Before); }
    }

    // F(4x4)'s rounding error is about ten times F(2x2)'s, 4e-6 to 1.3e-5 of the output's largest value on 64-128
    // channels (F(2x2): 4e-7 to 1.5e-6): its absolute tolerance scales with that value.
    static double Tolerance(Tensor reference, int tile) =>
        tile == 4 ? 1e-4 * Math.Max(1, reference.Data.ToArray().Max(Math.Abs)) : 1e-4;

    [Fact]
    public void Winograd_OtherGeometry_Throws()
    {
        var g = new ConvGeometry(2, 8, 8, 2, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1);   // stride 2
        var ex = Assert.Throws<ArgumentException>(() => Winograd.Forward(new float[128], new float[36], new float[32], 1, g));
        Assert.Contains("stride-1", ex.Message);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(0, 10)]
    [InlineData(1, 16)]   // F(4x4) for all three kernels
    public void Conv2d_ThroughOwnWinograd_MatchesTheOtherKernels(int pad, int width)
    {
        // The layer's forward, gradients and a penalty's second order (R1: ‖∂y/∂x‖² differentiated in w) with every
        // 3x3 kernel on our Winograd, against the same with it off (oneDNN or im2col + GEMM).
        (Tensor Y, Tensor Dx, Tensor Dw, Tensor Dw2) Run(bool own)
        {
            var (before, f4Before) = (Conv.OwnWinograd, Winograd.F4FromOutputs);
            (Conv.OwnWinograd, Winograd.F4FromOutputs) = (own, 0);
            try
            {
                var gen = new Generator(5);
                var x = Tensor.Randn([3, 8, 9, width], gen).RequiresGrad_();
                var w = (Tensor.Randn([6, 8, 3, 3], gen) * 0.2f).RequiresGrad_();
                var r = Tensor.Randn([3, 6, 7 + 2 * pad, width - 2 + 2 * pad], gen);
                var y = Tensor.Conv2d(x, w, padding: pad);
                var dx = Autograd.Grad((y * r).Sum(), x, createGraph: true);
                var dw = Autograd.Grad((y * r).Sum(), w);
                var dw2 = Autograd.Grad(dx.Square().Sum(), w);
                return (y.Detach(), dx.Detach(), dw, dw2);
            }
            finally { (Conv.OwnWinograd, Winograd.F4FromOutputs) = (before, f4Before); }
        }
        var (ours, other) = (Run(own: true), Run(own: false));
        // F(2x2) throughout only for padding 1 at width 10; unpadded, the forward and weight gradient (8 wide) run F(4x4)
        int tile = pad == 1 && width == 10 ? 2 : 4;
        Fixtures.AssertClose(other.Y, ours.Y, 1e-4, Tolerance(other.Y, tile), "forward");
        Fixtures.AssertClose(other.Dx, ours.Dx, 1e-4, Tolerance(other.Dx, tile), "input gradient");
        Fixtures.AssertClose(other.Dw, ours.Dw, 1e-4, Tolerance(other.Dw, tile), "weight gradient");
        Fixtures.AssertClose(other.Dw2, ours.Dw2, 1e-4, Tolerance(other.Dw2, tile), "second order in w");
    }
}
