using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// A Linear layer of at most sixteen inputs over many rows, with AVX-512: transgan32's generator at 16 x 16 and 32 x 32
/// tokens (4 -> 12, 4 -> 16, 16 -> 4 over 32,768 rows, 16 -> 48 and 16 -> 64 over 8,192 and 2,048). A row of x is then one
/// vector, a row of y at most four, and the GEMM's tiles (8 rows by 32 columns, packed first) hold mostly padding where
/// y's row is narrow. Here:
/// <list type="bullet">
/// <item>forward: y[r] = b + Σ_i x[r][i] · W[:, i], a masked vector of y at a time over eight rows;</item>
/// <item>backward in one pass over g and x instead of three (dx's product, dW's product, db's column sums), 64 rows at a
/// time so that the second read of g's rows comes from L1: dx[r] = Σ_o g[r][o] · W[o, :] over eight rows, then the
/// chunk's sums dWᵀ[i] += Σ_r x[r][i] · g[r] (four inputs by two rows in registers) and db += Σ_r g[r].</item>
/// </list>
/// The chunks of rows the sums are made in are fixed by the row count alone, and added in chunk order, so the sums are
/// the same on any number of threads. Over 32,768 rows, 4 -> 12 alone on two threads: forward 148-332 us in the GEMM
/// against 74-102 here, backward (dx, dW, and db's column sums, 12 floats a row added one row at a time) 424-515 against
/// 130-195.
/// </summary>
internal static class ThinLinear
{
    const int Lanes = 16, Rows = 8;

    /// <summary>Rows a chunk of the backward sums (its partial dW and db): fixed, so that the sums do not depend on the threads.</summary>
    internal const int RowsPerChunk = 1024;

    /// <summary>The fewest rows the kernels take: below them the products are too small to matter.</summary>
    internal const int MinRows = 2048;

    /// <summary>Whether Linear layers this thin run here (the bench's switch thin-linear).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// The forward's rule: at most sixteen inputs and outputs over 2,048 rows or more, where products run on the AVX-512
    /// GEMM (no other backend forced) in fp32. With more outputs the GEMM's full tiles (8 rows by 32 columns) are as fast
    /// or faster: over 8,192 rows alone on two threads, 16 -> 48 took 48-91 us in the GEMM and 53-122 here, 16 -> 64 48-77
    /// against 76-106.
    /// </summary>
    public static bool SuitsForward(int rows, int inF, int outF) => Suits(rows, inF, outF, Lanes);

    /// <summary>
    /// The backward's rule: at most sixteen inputs and sixty-four outputs over 2,048 rows or more (on the AVX-512 GEMM's
    /// terms, as the forward's). Over 8,192 rows alone on two threads, the GEMM's three passes took 321-484 us on 16 -> 48
    /// against 126-181 here, 270-386 on 16 -> 64 against 172-202; over 2,048 rows 16 -> 64 111-143 against 44-53.
    /// </summary>
    public static bool SuitsBackward(int rows, int inF, int outF) => Suits(rows, inF, outF, MaxOutputs);

    static bool Suits(int rows, int inF, int outF, int maxOutputs) =>
        Enabled && Fits(inF, outF) && outF <= maxOutputs && rows >= MinRows && Gemm.RunsAvx512 && !Precision.Bf16Active;

    // What the kernels can compute: a row of x and dx in one vector, a row of y and g in at most four.
    static bool Fits(int inF, int outF) => inF >= 1 && inF <= Lanes && outF >= 1 && outF <= MaxOutputs && Avx512F.IsSupported;

    /// <summary>The most outputs the kernels take: four vectors.</summary>
    internal const int MaxOutputs = 4 * Lanes;

    static int VectorsOf(int width) => (width + Lanes - 1) / Lanes;

    static Vector512<float> Mask(int lanes) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();

    static void Check(string op, int rows, int inF, int outF, params (string Name, float[]? Buffer, long Need)[] buffers)
    {
        if (!Fits(inF, outF) || rows < 0)
            throw new ArgumentException($"{op}: {rows} rows of {inF} -> {outF} is not a thin layer on AVX-512 (1 to {Lanes} inputs, 1 to {MaxOutputs} outputs)");
        foreach (var (name, buffer, need) in buffers)
            if (buffer != null && buffer.Length < need)
                throw new ArgumentException($"{op}: {name} holds {buffer.Length} floats, {rows} rows of {inF} -> {outF} need {need}");
    }

    /// <summary>y (rows, out) = x (rows, in) · Wᵀ + b, W (out, in), b (out) or none.</summary>
    public static unsafe void Forward(float[] x, float[] w, float[]? bias, float[] y, int rows, int inF, int outF)
    {
        Check("ThinLinear.Forward", rows, inF, outF, ("x", x, (long)rows * inF), ("W", w, outF * inF), ("b", bias, outF), ("y", y, (long)rows * outF));
        // For each vector v of y's row: W's columns over its outputs (lanes past out zero), then the bias.
        int vectors = VectorsOf(outF);
        var columns = new float[vectors * (inF + 1) * Lanes];
        for (int o = 0; o < outF; o++)
        {
            int at = o / Lanes * (inF + 1) * Lanes + o % Lanes;
            for (int i = 0; i < inF; i++) columns[at + i * Lanes] = w[o * inF + i];
            columns[at + inF * Lanes] = bias?[o] ?? 0f;
        }
        Threading.ForRanges((rows + RowsPerChunk - 1) / RowsPerChunk, (_, c0, c1) =>
        {
            fixed (float* px = x, py = y, pc = columns)
                for (int v = 0; v < vectors; v++)
                    ForwardVector(px, pc + v * (inF + 1) * Lanes, py + v * Lanes, c0 * RowsPerChunk, Math.Min(rows, c1 * RowsPerChunk), inF, outF,
                        Mask(Math.Min(Lanes, outF - v * Lanes)));
        });
    }

    // One vector of y's rows [r0, r1) (at y, row stride out) from its columns (and bias after them), eight rows at a time
    // (eight independent sums keep both FMA units busy).
    static unsafe void ForwardVector(float* x, float* columns, float* y, int r0, int r1, int inF, int outF, Vector512<float> store)
    {
        var b = Vector512.Load(columns + inF * Lanes);
        int r = r0;
        for (; r + Rows <= r1; r += Rows)
        {
            float* x0 = x + (long)r * inF;
            Vector512<float> y0 = b, y1 = b, y2 = b, y3 = b, y4 = b, y5 = b, y6 = b, y7 = b;
            for (int i = 0; i < inF; i++)
            {
                var column = Vector512.Load(columns + i * Lanes);
                y0 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i]), column, y0);
                y1 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[inF + i]), column, y1);
                y2 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[2 * inF + i]), column, y2);
                y3 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[3 * inF + i]), column, y3);
                y4 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[4 * inF + i]), column, y4);
                y5 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[5 * inF + i]), column, y5);
                y6 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[6 * inF + i]), column, y6);
                y7 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[7 * inF + i]), column, y7);
            }
            float* y0p = y + (long)r * outF;
            Avx512F.MaskStore(y0p, store, y0); Avx512F.MaskStore(y0p + outF, store, y1);
            Avx512F.MaskStore(y0p + 2 * outF, store, y2); Avx512F.MaskStore(y0p + 3 * outF, store, y3);
            Avx512F.MaskStore(y0p + 4 * outF, store, y4); Avx512F.MaskStore(y0p + 5 * outF, store, y5);
            Avx512F.MaskStore(y0p + 6 * outF, store, y6); Avx512F.MaskStore(y0p + 7 * outF, store, y7);
        }
        for (; r < r1; r++)
        {
            var acc = b;
            for (int i = 0; i < inF; i++) acc = Avx512F.FusedMultiplyAdd(Vector512.Create(x[(long)r * inF + i]), Vector512.Load(columns + i * Lanes), acc);
            Avx512F.MaskStore(y + (long)r * outF, store, acc);
        }
    }

    /// <summary>
    /// The backward of <see cref="Forward"/> in one pass over g (rows, out) and x (rows, in): dx (rows, in) = g · W,
    /// dW (out, in) = gᵀ · x, db (out) = Σ_rows g; each of dx, dW and db is skipped where it is null.
    /// </summary>
    public static unsafe void Backward(float[] g, float[] x, float[] w, float[]? dx, float[]? dw, float[]? db, int rows, int inF, int outF)
    {
        Check("ThinLinear.Backward", rows, inF, outF, ("g", g, (long)rows * outF), ("x", x, (long)rows * inF), ("W", w, outF * inF),
            ("dx", dx, (long)rows * inF), ("dW", dw, outF * inF), ("db", db, outF));
        bool sums = dw != null || db != null;
        int chunks = (rows + RowsPerChunk - 1) / RowsPerChunk, outVectors = VectorsOf(outF);
        // Per chunk, for each vector v of g's row: dWᵀ's rows over its outputs (one for each input), then db's.
        int partialLength = outVectors * (inF + 1) * Lanes;
        // A cache line between chunks: two threads' chunks side by side do not write the same line.
        int partialStride = partialLength + Lanes;
        var partials = sums ? ArrayPool<float>.Shared.Rent(chunks * partialStride) : null;
        // W's rows as vectors over the inputs (lanes past in zero).
        var weightRows = new float[outF * Lanes];
        for (int o = 0; o < outF; o++) Array.Copy(w, o * inF, weightRows, o * Lanes, inF);
        try
        {
            Threading.For(chunks, c =>
            {
                fixed (float* pg = g, px = x, pdx = dx, pw = weightRows, pp = partials)
                {
                    float* partial = pp == null ? null : pp + c * partialStride;
                    if (partial != null) new Span<float>(partial, partialLength).Clear();
                    // A run of rows at a time, so that the sums read g's rows from L1 after dx's products did.
                    for (int r0 = c * RowsPerChunk, end = Math.Min(rows, r0 + RowsPerChunk); r0 < end; r0 += RowsPerRun)
                    {
                        int r1 = Math.Min(end, r0 + RowsPerRun);
                        if (pdx != null) InputGradient(pg, pw, pdx, r0, r1, inF, outF);
                        if (partial != null)
                            for (int v = 0; v < outVectors; v++)
                                AddPartialSums(pg + v * Lanes, px, partial + v * (inF + 1) * Lanes, r0, r1, inF, outF,
                                    Mask(Math.Min(Lanes, outF - v * Lanes)));
                    }
                }
            });
            if (!sums) return;
            // The chunks' partial sums, added in chunk order.
            var total = new float[partialLength];
            for (int c = 0; c < chunks; c++)
                for (int k = 0; k < partialLength; k++) total[k] += partials![c * partialStride + k];
            for (int o = 0; o < outF; o++)
            {
                int at = o / Lanes * (inF + 1) * Lanes + o % Lanes;
                if (dw != null)
                    for (int i = 0; i < inF; i++) dw[o * inF + i] = total[at + i * Lanes];
                if (db != null) db[o] = total[at + inF * Lanes];
            }
        }
        finally { if (partials != null) ArrayPool<float>.Shared.Return(partials); }
    }

    // Rows the backward takes at a time: 64 rows of g (up to 12 KB) stay in L1 between dx's products and the sums.
    const int RowsPerRun = 64;

    // dx[r] = Σ_o g[r][o] · W[o, :] for rows [r0, r1), eight rows at a time (eight independent sums keep both FMA units busy).
    static unsafe void InputGradient(float* g, float* weightRows, float* dx, int r0, int r1, int inF, int outF)
    {
        var store = Mask(inF);
        int r = r0;
        for (; r + Rows <= r1; r += Rows)
        {
            float* g0 = g + (long)r * outF;
            Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
            for (int o = 0; o < outF; o++)
            {
                var row = Vector512.Load(weightRows + o * Lanes);
                d0 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[o]), row, d0);
                d1 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[outF + o]), row, d1);
                d2 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[2 * outF + o]), row, d2);
                d3 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[3 * outF + o]), row, d3);
                d4 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[4 * outF + o]), row, d4);
                d5 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[5 * outF + o]), row, d5);
                d6 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[6 * outF + o]), row, d6);
                d7 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[7 * outF + o]), row, d7);
            }
            float* dx0 = dx + (long)r * inF;
            Avx512F.MaskStore(dx0, store, d0); Avx512F.MaskStore(dx0 + inF, store, d1);
            Avx512F.MaskStore(dx0 + 2 * inF, store, d2); Avx512F.MaskStore(dx0 + 3 * inF, store, d3);
            Avx512F.MaskStore(dx0 + 4 * inF, store, d4); Avx512F.MaskStore(dx0 + 5 * inF, store, d5);
            Avx512F.MaskStore(dx0 + 6 * inF, store, d6); Avx512F.MaskStore(dx0 + 7 * inF, store, d7);
        }
        for (; r < r1; r++)
        {
            Vector512<float> d = default;
            for (int o = 0; o < outF; o++) d = Avx512F.FusedMultiplyAdd(Vector512.Create(g[(long)r * outF + o]), Vector512.Load(weightRows + o * Lanes), d);
            Avx512F.MaskStore(dx + (long)r * inF, store, d);
        }
    }

    // For one vector of g's rows (at g, row stride out) over rows [r0, r1): adds Σ_r x[r][i] · g[r] to partial[i] for each
    // input i, and Σ_r g[r] to partial[in]. Four inputs at a time, two rows at a time: eight independent sums in registers.
    // A group past the last input reads the last input again and keeps nothing of it.
    static unsafe void AddPartialSums(float* g, float* x, float* partial, int r0, int r1, int inF, int outF, Vector512<float> load)
    {
        for (int i0 = 0; i0 < inF; i0 += 4)
        {
            int i1 = Math.Min(i0 + 1, inF - 1), i2 = Math.Min(i0 + 2, inF - 1), i3 = Math.Min(i0 + 3, inF - 1);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default, sum = default;
            int r = r0;
            for (; r + 2 <= r1; r += 2)
            {
                float* x0 = x + (long)r * inF, x1 = x0 + inF;
                var g0 = Avx512F.MaskLoad(g + (long)r * outF, load, Vector512<float>.Zero);
                var g1 = Avx512F.MaskLoad(g + (long)(r + 1) * outF, load, Vector512<float>.Zero);
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i0]), g0, a0);
                a1 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i1]), g0, a1);
                a2 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i2]), g0, a2);
                a3 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i3]), g0, a3);
                b0 = Avx512F.FusedMultiplyAdd(Vector512.Create(x1[i0]), g1, b0);
                b1 = Avx512F.FusedMultiplyAdd(Vector512.Create(x1[i1]), g1, b1);
                b2 = Avx512F.FusedMultiplyAdd(Vector512.Create(x1[i2]), g1, b2);
                b3 = Avx512F.FusedMultiplyAdd(Vector512.Create(x1[i3]), g1, b3);
                sum += g0 + g1;
            }
            if (r < r1)
            {
                float* x0 = x + (long)r * inF;
                var g0 = Avx512F.MaskLoad(g + (long)r * outF, load, Vector512<float>.Zero);
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i0]), g0, a0);
                a1 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i1]), g0, a1);
                a2 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i2]), g0, a2);
                a3 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i3]), g0, a3);
                sum += g0;
            }
            Add(partial + i0 * Lanes, a0 + b0);
            if (i0 + 1 < inF) Add(partial + (i0 + 1) * Lanes, a1 + b1);
            if (i0 + 2 < inF) Add(partial + (i0 + 2) * Lanes, a2 + b2);
            if (i0 + 3 < inF) Add(partial + (i0 + 3) * Lanes, a3 + b3);
            if (i0 == 0) Add(partial + inF * Lanes, sum);
        }
    }

    static unsafe void Add(float* at, Vector512<float> value) => (Vector512.Load(at) + value).Store(at);
}
