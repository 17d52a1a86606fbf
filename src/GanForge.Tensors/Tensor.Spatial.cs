using System.Buffers;
using GanForge.Functions;
using GanForge.Kernels;

namespace GanForge;

public sealed partial class Tensor
{
    static void CheckNchw(Tensor x, string op)
    {
        if (x.Rank != 4)
            throw new ArgumentException($"{op}: input must be 4-D (N,C,H,W), got {Shapes.Format(x.ShapeSpan)}");
    }

    // Pooling output length along one axis, with PyTorch's ceil_mode rule that the last window must start inside the input or left padding.
    static int PoolOutSize(int size, int k, int s, int p, int d, bool ceilMode, string op)
    {
        if (p * 2 > k)
            throw new ArgumentException($"{op}: padding {p} should be at most half of the kernel size {k}");
        int span = size + 2 * p - d * (k - 1) - 1;
        if (span < 0) throw new ArgumentException($"{op}: input size {size} (padded by {p}) is smaller than the kernel ({k}, dilation {d})");
        int o = (ceilMode ? (span + s - 1) / s : span / s) + 1;
        if (ceilMode && (o - 1) * s >= size + p) o--;
        return o;
    }

    /// <summary>2-D average pooling (torch.nn.functional.avg_pool2d). Stride defaults to the kernel size.</summary>
    public static Tensor AvgPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        bool ceilMode = false, bool countIncludePad = true)
    {
        const string op = "AvgPool2d";
        CheckNchw(input, op);
        Size2 k = kernelSize, s = stride ?? kernelSize, p = padding ?? 0;
        if (k.H < 1 || k.W < 1 || s.H < 1 || s.W < 1)
            throw new ArgumentException($"{op}: kernel size {k} and stride {s} must be positive");
        int oh = PoolOutSize(input.Size(2), k.H, s.H, p.H, 1, ceilMode, op), ow = PoolOutSize(input.Size(3), k.W, s.W, p.W, 1, ceilMode, op);
        var map = new SeparableMap(op, input.Size(0), input.Size(1),
            AxisMap.AvgPool(input.Size(2), oh, k.H, s.H, p.H, countIncludePad), AxisMap.AvgPool(input.Size(3), ow, k.W, s.W, p.W, countIncludePad));
        return LinearSpatial.Apply(input, map);
    }

    /// <summary>
    /// 2-D max pooling (torch.nn.functional.max_pool2d). Stride defaults to the kernel size. The gradient
    /// goes to each window's maximum (the first one on ties).
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, bool ceilMode = false)
    {
        const string op = "MaxPool2d";
        CheckNchw(input, op);
        Size2 k = kernelSize, s = stride ?? kernelSize, p = padding ?? 0, d = dilation ?? 1;
        if (k.H < 1 || k.W < 1 || s.H < 1 || s.W < 1 || d.H < 1 || d.W < 1)
            throw new ArgumentException($"{op}: kernel size {k}, stride {s} and dilation {d} must be positive");
        int n = input.Size(0), c = input.Size(1), h = input.Size(2), w = input.Size(3);
        int oh = PoolOutSize(h, k.H, s.H, p.H, d.H, ceilMode, op), ow = PoolOutSize(w, k.W, s.W, p.W, d.W, ceilMode, op);
        if (!GradMode.Records(input))
        {
            // No backward will ask which value won: the values in one pass, without the indices.
            var values = Uninitialized([n, c, oh, ow]);
            MaxPool.Values(input.Storage, values.Storage, n * c, h, w, oh, ow, k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W);
            return values;
        }
        var idx = ArrayPool<int>.Shared.Rent(n * c * oh * ow);
        MaxPool.Indices(input.Storage, idx, n * c, h, w, oh, ow, k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W);
        var map = new GatherMap(op, [n, c, h, w], [n, c, oh, ow], idx);
        var y = LinearSpatial.Apply(input, map);
        map.Release();   // the node holds the indices now (or, not recorded, nothing does)
        return y;
    }

    /// <summary>Adaptive average pooling to a fixed output size (torch.nn.functional.adaptive_avg_pool2d).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Size2 outputSize)
    {
        const string op = "AdaptiveAvgPool2d";
        CheckNchw(input, op);
        if (outputSize.H < 1 || outputSize.W < 1)
            throw new ArgumentException($"{op}: output size {outputSize} must be positive");
        var map = new SeparableMap(op, input.Size(0), input.Size(1),
            AxisMap.AdaptiveAvg(input.Size(2), outputSize.H), AxisMap.AdaptiveAvg(input.Size(3), outputSize.W));
        return LinearSpatial.Apply(input, map);
    }

    /// <summary>
    /// Resizes (N,C,H,W) as torch.nn.functional.interpolate with mode "nearest" or "bilinear".
    /// Give exactly one of <paramref name="size"/> or <paramref name="scaleFactor"/>.
    /// </summary>
    public static Tensor Interpolate(Tensor input, Size2? size = null, (double H, double W)? scaleFactor = null,
        string mode = "nearest", bool? alignCorners = null)
    {
        const string op = "Interpolate";
        CheckNchw(input, op);
        if ((size == null) == (scaleFactor == null))
            throw new ArgumentException($"{op}: give exactly one of size and scaleFactor");
        if (mode == "nearest" && alignCorners != null)
            throw new ArgumentException($"{op}: alignCorners only applies to mode 'bilinear'");
        int h = input.Size(2), w = input.Size(3);
        int oh, ow;
        double scaleH, scaleW;
        if (size is Size2 sz) { oh = sz.H; ow = sz.W; scaleH = (float)h / oh; scaleW = (float)w / ow; }
        else
        {
            var (fh, fw) = scaleFactor!.Value;
            if (fh <= 0 || fw <= 0) throw new ArgumentException($"{op}: scale factor ({fh}, {fw}) must be positive");
            oh = (int)Math.Floor(h * fh); ow = (int)Math.Floor(w * fw);
            scaleH = (float)(1.0 / fh); scaleW = (float)(1.0 / fw);
        }
        if (oh < 1 || ow < 1) throw new ArgumentException($"{op}: output size {oh}x{ow} of input {Shapes.Format(input.ShapeSpan)} is empty");
        (AxisMap rows, AxisMap cols) = mode switch
        {
            "nearest" => (AxisMap.Nearest(h, oh, scaleH), AxisMap.Nearest(w, ow, scaleW)),
            "bilinear" => (AxisMap.Linear(h, oh, alignCorners ?? false, scaleH), AxisMap.Linear(w, ow, alignCorners ?? false, scaleW)),
            _ => throw new ArgumentException($"{op}: mode '{mode}' is not supported (nearest, bilinear)"),
        };
        return LinearSpatial.Apply(input, new SeparableMap(op + "(" + mode + ")", input.Size(0), input.Size(1), rows, cols));
    }

    /// <summary>Interpolate by a uniform scale factor.</summary>
    public static Tensor Interpolate(Tensor input, double scaleFactor, string mode = "nearest", bool? alignCorners = null) =>
        Interpolate(input, null, (scaleFactor, scaleFactor), mode, alignCorners);

    /// <summary>
    /// Pads the last two dims (torch.nn.functional.pad with (left, right, top, bottom)). Mode "constant"
    /// fills with <paramref name="value"/> (negative pads crop), "reflect" mirrors without repeating the edge,
    /// "replicate" repeats the edge.
    /// </summary>
    public static Tensor Pad(Tensor input, (int Left, int Right, int Top, int Bottom) pad, string mode = "constant", float value = 0f)
    {
        const string op = "Pad";
        CheckNchw(input, op);
        var pm = mode switch
        {
            "constant" => PadMode.Constant,
            "reflect" => PadMode.Reflect,
            "replicate" => PadMode.Replicate,
            _ => throw new ArgumentException($"{op}: mode '{mode}' is not supported (constant, reflect, replicate)"),
        };
        int h = input.Size(2), w = input.Size(3);
        if (pm != PadMode.Constant && (pad.Left < 0 || pad.Right < 0 || pad.Top < 0 || pad.Bottom < 0))
            throw new ArgumentException($"{op}: {mode} padding {pad} must be non-negative");
        if (pm == PadMode.Reflect && (pad.Left >= w || pad.Right >= w || pad.Top >= h || pad.Bottom >= h))
            throw new ArgumentException($"{op}: reflect padding {pad} must be smaller than the input's spatial size {h}x{w}");
        if (h + pad.Top + pad.Bottom < 1 || w + pad.Left + pad.Right < 1)
            throw new ArgumentException($"{op}: padding {pad} of input {Shapes.Format(input.ShapeSpan)} leaves nothing");
        var map = new SeparableMap(op + "(" + mode + ")", input.Size(0), input.Size(1),
            AxisMap.Pad(h, pad.Top, pad.Bottom, pm), AxisMap.Pad(w, pad.Left, pad.Right, pm));
        var y = LinearSpatial.Apply(input, map);
        if (pm == PadMode.Constant && value != 0f) FillEmpty(y, map, value);
        return y;
    }

    // The constant part of an affine pad: positions reading no input get the fill value. It does not
    // depend on the input, so it changes no gradient and is written outside the graph.
    static void FillEmpty(Tensor y, SeparableMap map, float value)
    {
        int planes = y.Size(0) * y.Size(1), oh = y.Size(2), ow = y.Size(3);
        var d = y.Data;
        for (int pl = 0; pl < planes; pl++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    if (map.Rows.IsEmpty(i) || map.Cols.IsEmpty(j)) d[(pl * oh + i) * ow + j] = value;
    }

    /// <summary>(N, C*r*r, H, W) -> (N, C, H*r, W*r) (torch.nn.functional.pixel_shuffle).</summary>
    public static Tensor PixelShuffle(Tensor input, int upscaleFactor)
    {
        const string op = "PixelShuffle";
        CheckNchw(input, op);
        int r = upscaleFactor, n = input.Size(0), c = input.Size(1), h = input.Size(2), w = input.Size(3);
        if (r < 1 || c % (r * r) != 0)
            throw new ArgumentException($"{op}: {c} channels of input {Shapes.Format(input.ShapeSpan)} are not divisible by upscale factor {r} squared");
        // A pure permutation of elements, so it is written with differentiable views.
        return input.Reshape(n, c / (r * r), r, r, h, w).Permute(0, 1, 4, 2, 5, 3).Reshape(n, c / (r * r), h * r, w * r);
    }

    /// <summary>(N, C, H*r, W*r) -> (N, C*r*r, H, W), the inverse of <see cref="PixelShuffle"/>.</summary>
    public static Tensor PixelUnshuffle(Tensor input, int downscaleFactor)
    {
        const string op = "PixelUnshuffle";
        CheckNchw(input, op);
        int r = downscaleFactor, n = input.Size(0), c = input.Size(1), h = input.Size(2), w = input.Size(3);
        if (r < 1 || h % r != 0 || w % r != 0)
            throw new ArgumentException($"{op}: spatial size {h}x{w} of input {Shapes.Format(input.ShapeSpan)} is not divisible by downscale factor {r}");
        return input.Reshape(n, c, h / r, r, w / r, r).Permute(0, 1, 3, 5, 2, 4).Reshape(n, c * r * r, h / r, w / r);
    }
}
