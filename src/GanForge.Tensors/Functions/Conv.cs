using GanForge.Kernels;

namespace GanForge.Functions;

// The convolution family. All three share one geometry and weight layout (Co, Ci/groups, KH, KW),
// and each one's backward is written with the other two, so gradients of gradients work:
//   y  = conv(x, w) + b:   dx = convT(g, w),  dw = convW(x, g),   db = sum_{N,H,W} g
//   x' = convT(y, w) + b:  dy = conv(g, w),   dw = convW(g, y),   db = sum_{N,H,W} g
//   w' = convW(x, gy):     dx = convT(gy, g), dgy = conv(x, g)

/// <summary>Checks and builds the geometry shared by the conv family.</summary>
internal static class ConvShape
{
    public static void CheckRank4(Tensor t, string op, string what)
    {
        if (t.Rank != 4)
            throw new ArgumentException($"{op}: {what} must be 4-D (N,C,H,W), got {Shapes.Format(t.ShapeSpan)}");
    }

    public static void CheckBias(Tensor? bias, int channels, string op)
    {
        if (bias != null && (bias.Rank != 1 || bias.Size(0) != channels))
            throw new ArgumentException($"{op}: bias {Shapes.Format(bias.ShapeSpan)} should have shape ({channels})");
    }

    public static void CheckPositive(Size2 s, string op, string what, int min)
    {
        if (s.H < min || s.W < min)
            throw new ArgumentException($"{op}: {what} {s} must be at least {min}");
    }

    public static ConvGeometry Make(int ci, int h, int w, int co, int oh, int ow, int kh, int kw,
        Size2 stride, Size2 padding, Size2 dilation, int groups) =>
        new(ci, h, w, co, oh, ow, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups);

    /// <summary>Output length of a convolution along one axis.</summary>
    public static int OutSize(int size, int k, int s, int p, int d) => (size + 2 * p - d * (k - 1) - 1) / s + 1;

    public static Tensor AddBias(Tensor y, Tensor bias)
    {
        Conv.AddBias(y.Storage, bias.Storage, y.Size(0), y.Size(1), y.Size(2) * y.Size(3));
        return y;
    }
}

// y = conv(x, w) + b; dx = convT(g, w), dw = convW(x, g), db = sum_{N,H,W} g
internal sealed class Conv2d(ConvGeometry geom) : Function
{
    protected internal override string ProfileName => $"Conv2d {geom}";

    /// <summary>x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW), b: (Co) -> (N,Co,OH,OW) for a geometry already checked.</summary>
    public static Tensor Apply(Tensor x, Tensor w, Tensor? b, ConvGeometry geom)
    {
        int n = x.Size(0);
        var y = Tensor.Uninitialized([n, geom.Co, geom.OH, geom.OW]);   // the three kernels overwrite their output
        Conv.Forward(x.Storage, w.Storage, b?.Storage, y.Storage, n, geom);
        var fn = new Conv2d(geom);
        return b == null ? Record(fn, y, x, w) : Record(fn, y, x, w, b);
    }

    /// <summary>
    /// conv(reflection-pad(x), w) + b without a graph, the padding being geom's PH and PW (the convolution's own is none):
    /// the direct kernels' fused form (<see cref="Conv.ForwardReflected"/>), or null where they do not take the layer or
    /// a graph would be recorded.
    /// </summary>
    public static Tensor? TryApplyReflected(Tensor x, Tensor w, Tensor? b, ConvGeometry geom)
    {
        int n = x.Size(0);
        if ((b == null ? WillRecord(x, w) : WillRecord(x, w, b)) || !Conv.TakesReflected(n, geom)) return null;
        var y = Tensor.Uninitialized([n, geom.Co, geom.OH, geom.OW]);
        Conv.ForwardReflected(x.Storage, w.Storage, b?.Storage, y.Storage, n, geom);
        var fn = new Conv2d(geom);
        return b == null ? Record(fn, y, x, w) : Record(fn, y, x, w, b);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (x, w) = (Inputs[0], Inputs[1]);
        var dx = NeedsGrad(0) ? ConvTranspose2d.Apply(g, w, null, geom) : null;
        var dw = NeedsGrad(1) ? ConvWeightGrad.Apply(x, g, geom) : null;
        if (Inputs.Count == 2) return [dx, dw];
        return [dx, dw, NeedsGrad(2) ? g.Sum([0, 2, 3]) : null];
    }
}

// y = gain·LeakyReLU(conv(x, w) + b) with slope >= 0 (ReLU at 0) and gain >= 1: the values, and the gradients of every
// order, of Conv2d then LeakyRelu bit for bit. y > 0 exactly where z = conv(x, w) + b > 0 (a gain under 1 could round a
// tiny positive z·gain to 0), so the activation's gradient is read from y and z is neither kept nor, on a layer on an image
// with a gain of 1, written: there the kernel applies the activation as it stores y, and without a graph the backward
// makes gz = g·(y > 0 ? 1 : slope) a sample at a time in cache for dx, dw and db.
//   gz = LeakyReluGrad(y, g);  dx = convT(gz, w), dw = convW(x, gz), db = sum_{N,H,W} gz
internal sealed class Conv2dLeakyRelu(ConvGeometry geom, float slope, float gain) : Function
{
    Tensor? _y;

    protected internal override string ProfileName => $"Conv2d+LeakyRelu {geom}";

    /// <summary>x: (N,Ci,H,W), w: (Co,Ci/groups,KH,KW), b: (Co) -> (N,Co,OH,OW) for a geometry already checked, a slope of 0 or more and a gain of 1 or more.</summary>
    public static Tensor Apply(Tensor x, Tensor w, Tensor? b, ConvGeometry geom, float slope, float gain)
    {
        int n = x.Size(0);
        var y = Tensor.Uninitialized([n, geom.Co, geom.OH, geom.OW]);
        Conv.ForwardActivated(x.Storage, w.Storage, b?.Storage, y.Storage, n, geom, slope, gain);
        var fn = new Conv2dLeakyRelu(geom, slope, gain);
        fn._y = y;
        return b == null ? Record(fn, y, x, w) : Record(fn, y, x, w, b);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (x, w, y) = (Inputs[0], Inputs[1], _y!);
        bool biased = Inputs.Count == 3;
        if (!GradMode.IsEnabled && gain == 1f && Conv.BacksActivatedInOnePass(x.Size(0), geom, NeedsGrad(0), NeedsGrad(1)))
        {
            var dx = NeedsGrad(0) ? Tensor.Uninitialized(x.ShapeSpan) : null;
            var dw = NeedsGrad(1) ? Tensor.Uninitialized(w.ShapeSpan) : null;
            var db = biased && NeedsGrad(2) ? Tensor.Uninitialized([geom.Co]) : null;
            Conv.BackwardActivated(x.Storage, w.Storage, g.Storage, y.Storage, slope, dx?.Storage, dw?.Storage, db?.Storage, x.Size(0), geom);
            return biased ? [dx, dw, db] : [dx, dw];
        }
        var gz = LeakyReluGrad.Apply(y, g, slope, gain);   // the activation's backward: a pass, and with a graph a node
        var gx = NeedsGrad(0) ? ConvTranspose2d.Apply(gz, w, null, geom) : null;
        var gw = NeedsGrad(1) ? ConvWeightGrad.Apply(x, gz, geom) : null;
        var gb = biased && NeedsGrad(2) ? gz.Sum([0, 2, 3]) : null;
        // gz is read by those three alone: without a graph its buffer goes back now, with one after its own node's backward.
        if (!GradMode.IsEnabled) StoragePool.Return(gz.Storage);
        else if (gz.GradFn != null) gz.RecycleAfterBackward = true;
        return biased ? [gx, gw, gb] : [gx, gw];
    }

    protected internal override void ReleaseSaved() => _y = null;
}

// x' = convT(y, w) + b; dy = conv(g, w), dw = convW(g, y), db = sum_{N,H,W} g
internal sealed class ConvTranspose2d(ConvGeometry geom) : Function
{
    protected internal override string ProfileName => $"ConvTranspose2d {geom}";

    /// <summary>y: (N,Co,OH,OW), w: (Co,Ci/groups,KH,KW), b: (Ci) -> (N,Ci,H,W) for a geometry already checked.</summary>
    public static Tensor Apply(Tensor y, Tensor w, Tensor? b, ConvGeometry geom)
    {
        int n = y.Size(0);
        var x = Tensor.Uninitialized([n, geom.Ci, geom.H, geom.W]);
        Conv.Transpose(y.Storage, w.Storage, x.Storage, n, geom);
        if (b != null) ConvShape.AddBias(x, b);
        var fn = new ConvTranspose2d(geom);
        return b == null ? Record(fn, x, y, w) : Record(fn, x, y, w, b);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (y, w) = (Inputs[0], Inputs[1]);
        var dy = NeedsGrad(0) ? Conv2d.Apply(g, w, null, geom) : null;
        var dw = NeedsGrad(1) ? ConvWeightGrad.Apply(g, y, geom) : null;
        if (Inputs.Count == 2) return [dy, dw];
        return [dy, dw, NeedsGrad(2) ? g.Sum([0, 2, 3]) : null];
    }
}

// w' = convW(x, gy) = sum_n gy[n] (x) im2col(x[n]); dx = convT(gy, g), dgy = conv(x, g)
internal sealed class ConvWeightGrad(ConvGeometry geom) : Function
{
    protected internal override string ProfileName => $"ConvWeightGrad {geom}";

    /// <summary>x: (N,Ci,H,W), gy: (N,Co,OH,OW) -> (Co,Ci/groups,KH,KW) for a geometry already checked.</summary>
    public static Tensor Apply(Tensor x, Tensor gy, ConvGeometry geom)
    {
        var dw = Tensor.Uninitialized([geom.Co, geom.CiG, geom.KH, geom.KW]);
        Conv.WeightGrad(x.Storage, gy.Storage, dw.Storage, x.Size(0), geom);
        return Record(new ConvWeightGrad(geom), dw, x, gy);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (x, gy) = (Inputs[0], Inputs[1]);
        return [NeedsGrad(0) ? ConvTranspose2d.Apply(gy, g, null, geom) : null,
                NeedsGrad(1) ? Conv2d.Apply(x, g, null, geom) : null];
    }
}
