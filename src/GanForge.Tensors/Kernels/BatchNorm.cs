using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GanForge.Kernels;

/// <summary>
/// Training-mode batch normalisation per channel, parallel over channels.
/// x, y, g, dx: (N,C,inner) contiguous; mean, invstd, weight, bias, dw, db: (C).
/// </summary>
public static partial class BatchNorm
{
    /// <summary>
    /// Batch mean and biased variance of each channel (two passes, accumulated in double across rows),
    /// then y = (x - mean)·invstd·w + b with invstd = 1/sqrt(var + eps). weight/bias null mean 1/0.
    /// </summary>
    /// <remarks>
    /// With <paramref name="activationSlope"/> y is LeakyReLU of that slope (0: ReLU) of the normalised value, in the
    /// same pass (the values of the normalisation then <see cref="Activation.LeakyRelu"/>, bit for bit); y may then be x.
    /// </remarks>
    public static void Forward(float[] x, float[] y, int n, int c, int inner, float[]? weight, float[]? bias, float eps,
        float[] mean, float[] variance, float[] invstd, float? activationSlope = null)
    {
        if (inner == 1) { ForwardRows(x, y, n, c, weight, bias, eps, mean, variance, invstd, activationSlope); return; }
        int count = n * inner;
        bool lanes = RunsOnLanes(inner);
        if (lanes) CheckHold(n, c, inner, ("x", x), ("y", y));
        Threading.For(c, ch =>
        {
            double s = 0;
            for (int b = 0; b < n; b++)
            {
                FetchAhead(x, b, ch, n, c, inner);
                s += Sum(x.AsSpan((b * c + ch) * inner, inner));
            }
            float m = (float)(s / count);
            double ss = 0;
            for (int b = 0; b < n; b++) ss += SumSquaredDeviation(x.AsSpan((b * c + ch) * inner, inner), m);
            double v = ss / count;
            mean[ch] = m;
            variance[ch] = (float)v;
            invstd[ch] = (float)(1.0 / Math.Sqrt(v + eps));
            float scale = invstd[ch] * (weight?[ch] ?? 1f);
            float shift = (bias?[ch] ?? 0f) - m * scale;
            if (lanes) { NormaliseOnLanes(x, y, n, c, inner, ch, scale, shift, activationSlope ?? 1f); return; }
            for (int b = 0; b < n; b++)
            {
                int off = (b * c + ch) * inner;
                if (activationSlope is float slope) ScaleShiftLeakyRelu(x.AsSpan(off, inner), scale, shift, slope, y.AsSpan(off, inner));
                else ScaleShift(x.AsSpan(off, inner), scale, shift, y.AsSpan(off, inner));
            }
        });
    }

    /// <summary>
    /// The backward without a graph, from sg = sum(g) and sgx = sum(g·(x - mean)) per channel:
    /// dx = A·g + B·x + C with A = invstd·w, B = -w·invstd³·sgx/count, C = -A·sg/count - B·mean;
    /// dw = sgx·invstd, db = sg. dx, dw, db may each be null when not wanted.
    /// </summary>
    /// <remarks>
    /// With <paramref name="activation"/>, the forward's activation (<see cref="Forward"/> with activationSlope: its
    /// slope and the bias it was given, null for 0), g is the gradient at the activation's output and each value is first
    /// multiplied by the activation's derivative, 1 where the normalised value is positive and the slope elsewhere, that
    /// value made again from x as the forward made it: the values of <see cref="Activation.LeakyReluBackward"/> then
    /// this, bit for bit, with no map read but x and g.
    /// </remarks>
    public static void Backward(float[] x, float[] g, int n, int c, int inner, float[] mean, float[] invstd, float[]? weight,
        float[]? dx, float[]? dw, float[]? db, (float Slope, float[]? Bias)? activation = null)
    {
        if (inner == 1) { BackwardRows(x, g, n, c, mean, invstd, weight, dx, dw, db, activation); return; }
        int count = n * inner;
        bool lanes = RunsOnLanes(inner);
        if (lanes && dx != null) CheckHold(n, c, inner, ("g", g), ("x", x), ("dx", dx));
        Threading.For(c, ch =>
        {
            float m = mean[ch];
            // The forward's normalisation of this channel, x·scale + shift, whose sign picks the activation's derivative.
            float scale = invstd[ch] * (weight?[ch] ?? 1f);
            float shift = (activation?.Bias?[ch] ?? 0f) - m * scale;
            double sg = 0, sgx = 0;
            for (int b = 0; b < n; b++)
            {
                FetchAhead(x, b, ch, n, c, inner);
                FetchAhead(g, b, ch, n, c, inner);
                int off = (b * c + ch) * inner;
                float s1, s2;
                if (activation is not { Slope: var slope }) SumAndDot(g.AsSpan(off, inner), x.AsSpan(off, inner), m, out s1, out s2);
                else SumAndDotMasked(g.AsSpan(off, inner), x.AsSpan(off, inner), scale, shift, slope, m, out s1, out s2);
                sg += s1; sgx += s2;
            }
            float istd = invstd[ch], w = weight?[ch] ?? 1f;
            if (dw != null) dw[ch] = (float)(sgx * istd);
            if (db != null) db[ch] = (float)sg;
            if (dx == null) return;
            float a = istd * w;
            float bcoef = (float)(-w * (double)istd * istd * istd * sgx / count);
            float ccoef = (float)(-a * sg / count - bcoef * (double)m);
            if (lanes) { InputGradientOnLanes(g, x, dx, n, c, inner, ch, (scale, shift, activation?.Slope ?? 1f), a, bcoef, ccoef); return; }
            for (int b = 0; b < n; b++)
            {
                int off = (b * c + ch) * inner;
                var gs = g.AsSpan(off, inner); var xs = x.AsSpan(off, inner); var ds = dx.AsSpan(off, inner);
                if (activation is not { Slope: var slope }) Axpby(gs, a, xs, bcoef, ccoef, ds);
                else AxpbyMasked(gs, xs, scale, shift, slope, a, bcoef, ccoef, ds);
            }
        });
    }

    // The pieces of Forward and Backward for statistics combined over several processes (synchronised batch norm):
    // each process sums its rows in double, the sums are added over the processes, and the results are applied here.

    /// <summary>sum[ch] = Σx over the channel's rows (double).</summary>
    public static void ChannelSums(float[] x, int n, int c, int inner, double[] sum) =>
        PerChannel(n, c, inner, sum, null, (ch, off, len) => (Sum(x.AsSpan(off, len)), 0));

    /// <summary>sum[ch] = Σ(x - mean)² over the channel's rows (double).</summary>
    public static void ChannelSquaredDeviations(float[] x, int n, int c, int inner, float[] mean, double[] sum) =>
        PerChannel(n, c, inner, sum, null, (ch, off, len) => (SumSquaredDeviation(x.AsSpan(off, len), mean[ch]), 0));

    /// <summary>sg[ch] = Σg and sgx[ch] = Σg·(x - mean) over the channel's rows (double), as <see cref="Backward"/> forms them.</summary>
    public static void ChannelGradientSums(float[] x, float[] g, int n, int c, int inner, float[] mean, double[] sg, double[] sgx) =>
        PerChannel(n, c, inner, sg, sgx, (ch, off, len) =>
        {
            SumAndDot(g.AsSpan(off, len), x.AsSpan(off, len), mean[ch], out float s1, out float s2);
            return (s1, s2);
        });

    /// <summary>
    /// The input gradient of <see cref="Backward"/> from sums over <paramref name="count"/> values per channel, which may
    /// span other processes' rows: dx = A·g + B·x + C with A = invstd·w, B = -w·invstd³·sgx/count, C = -A·sg/count - B·mean.
    /// </summary>
    public static void InputGradient(float[] x, float[] g, int n, int c, int inner, float[] mean, float[] invstd, float[]? weight,
        double[] sg, double[] sgx, double count, float[] dx)
    {
        var a = new float[c]; var bcoef = new float[c]; var ccoef = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            float istd = invstd[ch], w = weight?[ch] ?? 1f;
            a[ch] = istd * w;
            bcoef[ch] = (float)(-w * (double)istd * istd * istd * sgx[ch] / count);
            ccoef[ch] = (float)(-a[ch] * sg[ch] / count - bcoef[ch] * (double)mean[ch]);
        }
        Threading.ForRanges(n * c, (_, r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int ch = r % c, off = r * inner;
                Axpby(g.AsSpan(off, inner), a[ch], x.AsSpan(off, inner), bcoef[ch], ccoef[ch], dx.AsSpan(off, inner));
            }
        });
    }

    // Sums per channel into first (and second), each row's partial sum (float) added in double, channel by channel.
    static void PerChannel(int n, int c, int inner, double[] first, double[]? second, Func<int, int, int, (float, float)> rowSums)
    {
        Threading.For(c, ch =>
        {
            double s1 = 0, s2 = 0;
            for (int b = 0; b < n; b++)
            {
                var (a, d) = rowSums(ch, (b * c + ch) * inner, inner);
                s1 += a; s2 += d;
            }
            first[ch] = s1;
            if (second != null) second[ch] = s2;
        });
    }

    /// <summary>
    /// y = x·scale[ch] + shift[ch] (eval-mode normalisation with fixed statistics). With <paramref name="activationSlope"/>
    /// y is LeakyReLU of that slope (0: ReLU) of it, in the same pass: the values of the normalisation then
    /// <see cref="Activation.LeakyRelu"/>, bit for bit; y may then be x (in place).
    /// </summary>
    public static void Affine(float[] x, float[] y, int n, int c, int inner, float[] scale, float[] shift, float? activationSlope = null)
    {
        if (inner == 1)
        {
            Threading.ForRanges(n, (_, b0, b1) =>
            {
                for (int b = b0; b < b1; b++)
                {
                    var row = y.AsSpan(b * c, c);
                    TensorPrimitives.FusedMultiplyAdd(x.AsSpan(b * c, c), scale, shift, row);
                    if (activationSlope is float slope) Activation.LeakyReluRange(row, row, 1f, slope);
                }
            });
            return;
        }
        Threading.ForRanges(n * c, (_, r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xr = x.AsSpan(r * inner, inner);
                var yr = y.AsSpan(r * inner, inner);
                if (activationSlope is float slope) ScaleShiftLeakyRelu(xr, scale[r % c], shift[r % c], slope, yr);
                else ScaleShift(xr, scale[r % c], shift[r % c], yr);
            }
        });
    }

    // v = x·a + b (ScaleShift's arithmetic), then y = v·(v > 0 ? 1 : slope) (LeakyRelu's), in one pass.
    static void ScaleShiftLeakyRelu(ReadOnlySpan<float> x, float a, float b, float slope, Span<float> y)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> va = new(a), vb = new(b), vn = new(slope);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (; i <= x.Length - w; i += w)
        {
            var v = Vector.LoadUnsafe(ref xr, (nuint)i) * va + vb;
            (v * Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), Vector<float>.One, vn)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < x.Length; i++)
        {
            float v = x[i] * a + b;
            y[i] = v * (v > 0f ? 1f : slope);
        }
    }

    // (N,C) inputs: each channel is a column, so work row by row, vectorised across a range of channels, in blocks of
    // ColumnsPerBlock so that a block's rows stay in L2 from the first pass over them to the last (the sums and values
    // are those of the whole range at once: every pass is column by column).
    static void ForwardRows(float[] x, float[] y, int n, int c, float[]? weight, float[]? bias, float eps,
        float[] mean, float[] variance, float[] invstd, float? activationSlope)
    {
        Threading.ForRanges(c, (_, from, to) =>
        {
            Span<float> work = stackalloc float[3 * ColumnsPerBlock];
            for (int c0 = from; c0 < to; c0 += ColumnsPerBlock)
                ForwardColumns(x, y, n, c, c0, Math.Min(to, c0 + ColumnsPerBlock), weight, bias, eps, mean, variance, invstd, activationSlope, work);
        }, 256);
    }

    // Columns this many at a time: 128 rows of them are 256 kB, where a thread's half of dcgan28's 6,272 columns (its
    // generator's first batch norm) was 1.6 MB, read from L3 in each of the three passes (docs/performance.md, fifty-third
    // pass). The working rows lie on the stack: no allocation a call.
    const int ColumnsPerBlock = 512;

    // A block's working rows: part i of `work`, ColumnsPerBlock floats apart.
    static Span<float> Part(Span<float> work, int i, int len) => work.Slice(i * ColumnsPerBlock, len);

    static void ForwardColumns(float[] x, float[] y, int n, int c, int c0, int c1, float[]? weight, float[]? bias, float eps,
        float[] mean, float[] variance, float[] invstd, float? activationSlope, Span<float> work)
    {
        int len = c1 - c0;
        Span<float> acc = Part(work, 0, len), d = Part(work, 1, len), shift = Part(work, 2, len);
        var mr = mean.AsSpan(c0, len);
        acc.Clear();
        for (int b = 0; b < n; b++) TensorPrimitives.Add(acc, x.AsSpan(b * c + c0, len), acc);
        TensorPrimitives.Multiply(acc, 1f / n, mr);
        acc.Clear();
        for (int b = 0; b < n; b++)
        {
            TensorPrimitives.Subtract(x.AsSpan(b * c + c0, len), mr, d);
            TensorPrimitives.FusedMultiplyAdd(d, d, acc, acc);
        }
        var scale = d;
        for (int i = 0; i < len; i++)
        {
            int ch = c0 + i;
            double v = acc[i] / (double)n;
            variance[ch] = (float)v;
            invstd[ch] = (float)(1.0 / Math.Sqrt(v + eps));
            scale[i] = invstd[ch] * (weight?[ch] ?? 1f);
            shift[i] = (bias?[ch] ?? 0f) - mean[ch] * scale[i];
        }
        for (int b = 0; b < n; b++)
        {
            var row = y.AsSpan(b * c + c0, len);
            TensorPrimitives.FusedMultiplyAdd(x.AsSpan(b * c + c0, len), scale, shift, row);
            if (activationSlope is float slope) Activation.LeakyReluRange(row, row, 1f, slope);
        }
    }

    static void BackwardRows(float[] x, float[] g, int n, int c, float[] mean, float[] invstd, float[]? weight,
        float[]? dx, float[]? dw, float[]? db, (float Slope, float[]? Bias)? activation)
    {
        Threading.ForRanges(c, (_, from, to) =>
        {
            Span<float> work = stackalloc float[8 * ColumnsPerBlock];
            for (int c0 = from; c0 < to; c0 += ColumnsPerBlock)
                BackwardColumns(x, g, n, c, c0, Math.Min(to, c0 + ColumnsPerBlock), mean, invstd, weight, dx, dw, db, activation, work);
        }, 256);
    }

    static void BackwardColumns(float[] x, float[] g, int n, int c, int c0, int c1, float[] mean, float[] invstd, float[]? weight,
        float[]? dx, float[]? dw, float[]? db, (float Slope, float[]? Bias)? activation, Span<float> work)
    {
        int len = c1 - c0;
        Span<float> sg = Part(work, 0, len), sgx = Part(work, 1, len), d = Part(work, 2, len), masked = Part(work, 3, len);
        Span<float> scale = Part(work, 4, len), shift = Part(work, 5, len), a = Part(work, 6, len), bc = Part(work, 7, len);
        sg.Clear();
        sgx.Clear();
        var mr = mean.AsSpan(c0, len);
        if (activation is { } act)
        {
            // ForwardColumns' normalisation of these channels, x·scale + shift by one FMA, whose sign picks the derivative.
            for (int i = 0; i < len; i++)
            {
                int ch = c0 + i;
                scale[i] = invstd[ch] * (weight?[ch] ?? 1f);
                shift[i] = (act.Bias?[ch] ?? 0f) - mean[ch] * scale[i];
            }
        }
        for (int b = 0; b < n; b++)
        {
            var gr = GradientAtNormalised(x, g, b * c + c0, masked, scale, shift, activation?.Slope);
            TensorPrimitives.Add(sg, gr, sg);
            TensorPrimitives.Subtract(x.AsSpan(b * c + c0, len), mr, d);
            TensorPrimitives.FusedMultiplyAdd(gr, d, sgx, sgx);
        }
        var cc = d;
        for (int i = 0; i < len; i++)
        {
            int ch = c0 + i;
            float istd = invstd[ch], w = weight?[ch] ?? 1f;
            if (dw != null) dw[ch] = sgx[i] * istd;
            if (db != null) db[ch] = sg[i];
            a[i] = istd * w;
            bc[i] = (float)(-w * (double)istd * istd * istd * sgx[i] / n);
            cc[i] = (float)(-a[i] * (double)sg[i] / n - bc[i] * (double)mean[ch]);
        }
        if (dx == null) return;
        for (int b = 0; b < n; b++)
        {
            var dr = dx.AsSpan(b * c + c0, len);
            TensorPrimitives.FusedMultiplyAdd(GradientAtNormalised(x, g, b * c + c0, masked, scale, shift, activation?.Slope), a, cc, dr);
            TensorPrimitives.FusedMultiplyAdd(x.AsSpan(b * c + c0, len), bc, dr, dr);
        }
    }

    // The gradient at the normalised values of the masked.Length columns from `at`: g itself, or, with the activation's
    // slope, g through its derivative (into masked).
    static ReadOnlySpan<float> GradientAtNormalised(float[] x, float[] g, int at, Span<float> masked, ReadOnlySpan<float> scale,
        ReadOnlySpan<float> shift, float? slope)
    {
        if (slope is not float s) return g.AsSpan(at, masked.Length);
        TensorPrimitives.FusedMultiplyAdd(x.AsSpan(at, masked.Length), scale, shift, masked);
        Activation.LeakyReluBackwardRange(masked, g.AsSpan(at, masked.Length), masked, 1f, s);
        return masked;
    }

    static float Sum(ReadOnlySpan<float> x) => TensorPrimitives.Sum(x);

    static float SumSquaredDeviation(ReadOnlySpan<float> x, float m)
    {
        int i = 0, w = Vector<float>.Count;
        var acc = Vector<float>.Zero; var vm = new Vector<float>(m);
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (; i <= x.Length - w; i += w) { var d = Vector.LoadUnsafe(ref xr, (nuint)i) - vm; acc += d * d; }
        float s = Vector.Sum(acc);
        for (; i < x.Length; i++) { float d = x[i] - m; s += d * d; }
        return s;
    }

    static void SumAndDot(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float m, out float sum, out float dot)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> a1 = Vector<float>.Zero, a2 = Vector<float>.Zero, vm = new(m);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (; i <= g.Length - w; i += w)
        {
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            a1 += gv;
            a2 += gv * (Vector.LoadUnsafe(ref xr, (nuint)i) - vm);
        }
        sum = Vector.Sum(a1); dot = Vector.Sum(a2);
        for (; i < g.Length; i++) { sum += g[i]; dot += g[i] * (x[i] - m); }
    }

    // g·(v > 0 ? 1 : slope) with v = x·scale + shift made as ScaleShiftLeakyRelu makes it: the gradient at the normalised
    // value, the product formed as LeakyReluBackward forms it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Masked(Vector<float> g, Vector<float> x, Vector<float> scale, Vector<float> shift, Vector<float> slope) =>
        g * Vector.ConditionalSelect(Vector.GreaterThan(x * scale + shift, Vector<float>.Zero), Vector<float>.One, slope);

    static float Masked(float g, float x, float scale, float shift, float slope)
    {
        float v = x * scale + shift;
        return g * (v > 0f ? 1f : slope);
    }

    // SumAndDot of Masked(g).
    static void SumAndDotMasked(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float scale, float shift, float slope, float m,
        out float sum, out float dot)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> a1 = Vector<float>.Zero, a2 = Vector<float>.Zero, vm = new(m), vs = new(scale), vt = new(shift), vn = new(slope);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (; i <= g.Length - w; i += w)
        {
            var xv = Vector.LoadUnsafe(ref xr, (nuint)i);
            var gv = Masked(Vector.LoadUnsafe(ref gr, (nuint)i), xv, vs, vt, vn);
            a1 += gv;
            a2 += gv * (xv - vm);
        }
        sum = Vector.Sum(a1); dot = Vector.Sum(a2);
        for (; i < g.Length; i++)
        {
            float gv = Masked(g[i], x[i], scale, shift, slope);
            sum += gv; dot += gv * (x[i] - m);
        }
    }

    // Axpby of Masked(g).
    static void AxpbyMasked(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float scale, float shift, float slope, float a, float b,
        float c, Span<float> d)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> va = new(a), vb = new(b), vc = new(c), vs = new(scale), vt = new(shift), vn = new(slope);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(d);
        for (; i <= g.Length - w; i += w)
        {
            var xv = Vector.LoadUnsafe(ref xr, (nuint)i);
            (Masked(Vector.LoadUnsafe(ref gr, (nuint)i), xv, vs, vt, vn) * va + xv * vb + vc).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < g.Length; i++) d[i] = a * Masked(g[i], x[i], scale, shift, slope) + b * x[i] + c;
    }

    // y = x·a + b
    static void ScaleShift(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> va = new(a), vb = new(b);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (; i <= x.Length - w; i += w) (Vector.LoadUnsafe(ref xr, (nuint)i) * va + vb).StoreUnsafe(ref yr, (nuint)i);
        for (; i < x.Length; i++) y[i] = x[i] * a + b;
    }

    // d = a·g + b·x + c
    static void Axpby(ReadOnlySpan<float> g, float a, ReadOnlySpan<float> x, float b, float c, Span<float> d)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> va = new(a), vb = new(b), vc = new(c);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(d);
        for (; i <= g.Length - w; i += w)
            (Vector.LoadUnsafe(ref gr, (nuint)i) * va + Vector.LoadUnsafe(ref xr, (nuint)i) * vb + vc).StoreUnsafe(ref dr, (nuint)i);
        for (; i < g.Length; i++) d[i] = a * g[i] + b * x[i] + c;
    }

    /// <summary>Double-precision reference of <see cref="Forward"/>.</summary>
    public static void ForwardNaive(ReadOnlySpan<float> x, Span<float> y, int n, int c, int inner, float[]? weight, float[]? bias, float eps,
        Span<float> mean, Span<float> variance)
    {
        int count = n * inner;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, ss = 0;
            for (int b = 0; b < n; b++) for (int i = 0; i < inner; i++) s += x[(b * c + ch) * inner + i];
            double m = s / count;
            for (int b = 0; b < n; b++) for (int i = 0; i < inner; i++) { double d = x[(b * c + ch) * inner + i] - m; ss += d * d; }
            double v = ss / count, istd = 1 / Math.Sqrt(v + eps);
            mean[ch] = (float)m; variance[ch] = (float)v;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < inner; i++)
                {
                    int k = (b * c + ch) * inner + i;
                    y[k] = (float)((x[k] - m) * istd * (weight?[ch] ?? 1f) + (bias?[ch] ?? 0f));
                }
        }
    }

    /// <summary>Double-precision reference of <see cref="Backward"/> (recomputes the statistics from x).</summary>
    public static void BackwardNaive(ReadOnlySpan<float> x, ReadOnlySpan<float> g, int n, int c, int inner, float eps, float[]? weight,
        Span<float> dx, Span<float> dw, Span<float> db)
    {
        int count = n * inner;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, ss = 0;
            for (int b = 0; b < n; b++) for (int i = 0; i < inner; i++) s += x[(b * c + ch) * inner + i];
            double m = s / count;
            for (int b = 0; b < n; b++) for (int i = 0; i < inner; i++) { double d = x[(b * c + ch) * inner + i] - m; ss += d * d; }
            double istd = 1 / Math.Sqrt(ss / count + eps), w = weight?[ch] ?? 1f;
            double sg = 0, sgxh = 0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < inner; i++) { int k = (b * c + ch) * inner + i; sg += g[k]; sgxh += g[k] * (x[k] - m) * istd; }
            dw[ch] = (float)sgxh; db[ch] = (float)sg;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < inner; i++)
                {
                    int k = (b * c + ch) * inner + i;
                    double xh = (x[k] - m) * istd;
                    dx[k] = (float)(istd * w * (g[k] - sg / count - xh * sgxh / count));
                }
        }
    }
}
