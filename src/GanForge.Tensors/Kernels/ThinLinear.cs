using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// A Linear layer of at most sixteen inputs over many rows, with AVX-512: transgan32's generator at 16 x 16 and 32 x 32
/// tokens (4 -> 12, 4 -> 16, 16 -> 4 over 32,768 rows, 16 -> 16 and 16 -> 48 over 8,192). A row of x is then one vector,
/// a row of y at most four, and the GEMM's tiles (8 rows by 32 columns, packed first) hold mostly padding where
/// y's row is narrow. Here:
/// <list type="bullet">
/// <item>forward: y[r] = b + Σ_i x[r][i] · W[:, i], a masked vector of y at a time over eight rows;</item>
/// <item>backward in one pass over g and x instead of three (dx's product, dW's product, db's column sums), 64 rows at a
/// time so that the second read of g's rows comes from L1: dx[r] = Σ_o g[r][o] · W[o, :] over eight rows, then the
/// chunk's sums dWᵀ[i] += Σ_r x[r][i] · g[r] (four inputs by two rows in registers) and db += Σ_r g[r].</item>
/// </list>
/// The chunks of rows the sums are made in are fixed by the row count alone, and added in chunk order, so the sums are
/// the same on any number of threads. Over 32,768 rows, 4 -> 12 alone on two threads (docs/performance.md, forty-fifth
/// pass): forward 142-375 us in the GEMM against 67-125 here, backward (dx, dW, and db's column sums, 12 floats a row
/// added one row at a time) 393-639 against 152-198.
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
    /// GEMM (no other backend forced) in fp32. With more outputs the GEMM's full tiles (8 rows by 32 columns) tie or win:
    /// alone on two threads over 8,192 rows, 16 -> 48 took 62-104 us in the GEMM and 67-92 here, 16 -> 64 60-94 against
    /// 97-123 (docs/performance.md, forty-fifth pass).
    /// </summary>
    public static bool SuitsForward(int rows, int inF, int outF) => Suits(rows, inF, outF, Lanes);

    /// <summary>
    /// The backward's rule: at most sixteen inputs and forty-eight outputs over 2,048 rows or more (on the AVX-512 GEMM's
    /// terms, as the forward's). Over 8,192 rows the GEMM's three passes took 353-702 us on 16 -> 48 against 146-179 here;
    /// at 64 outputs the two tie (16 -> 64: 203-276 against 199-220, and 48-58 against 48-55 over 2,048 rows).
    /// </summary>
    public static bool SuitsBackward(int rows, int inF, int outF) => Suits(rows, inF, outF, 3 * Lanes);

    static bool Suits(int rows, int inF, int outF, int maxOutputs) =>
        Enabled && Fits(inF, outF) && outF <= maxOutputs && rows >= MinRows && Gemm.RunsAvx512 && !Precision.Bf16Active;

    // What the kernels can compute: a row of x and dx in one vector, a row of y and g in at most four.
    static bool Fits(int inF, int outF) => inF >= 1 && inF <= Lanes && outF >= 1 && outF <= MaxOutputs && Avx512F.IsSupported;

    /// <summary>The most outputs the kernels take: four vectors.</summary>
    internal const int MaxOutputs = 4 * Lanes;

    static int VectorsOf(int width) => (width + Lanes - 1) / Lanes;

    // The forward's table and the backward's partial sums share one layout: for each vector v of y's (or g's) row, in + 1
    // vectors over its outputs (W's columns or dWᵀ's rows, one for each input, then the bias or db). TableOf(v) is where
    // vector v's table starts, Slot(o) where output o's lane lies.
    static int TableOf(int v, int inF) => v * (inF + 1) * Lanes;

    static int Slot(int o, int inF) => TableOf(o / Lanes, inF) + o % Lanes;

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
        // For each vector v of y's row: W's columns over its outputs (lanes past out zero), then the bias; at most 4.3 KB,
        // on the caller's stack, which waits for the workers that read it.
        int vectors = VectorsOf(outF);
        Span<float> columns = stackalloc float[TableOf(vectors, inF)];
        columns.Clear();
        for (int o = 0; o < outF; o++)
        {
            int at = Slot(o, inF);
            for (int i = 0; i < inF; i++) columns[at + i * Lanes] = w[o * inF + i];
            columns[at + inF * Lanes] = bias?[o] ?? 0f;
        }
        fixed (float* pc = columns)
        {
            nint tables = (nint)pc;
            Threading.ForRanges((rows + RowsPerChunk - 1) / RowsPerChunk, (_, c0, c1) =>
            {
                fixed (float* px = x, py = y)
                    for (int v = 0; v < vectors; v++)
                    {
                        float* table = (float*)tables + TableOf(v, inF);
                        RowsByTable(px, inF, table, Vector512.Load(table + inF * Lanes), py + v * Lanes, outF, FloatLanes.FirstLanes(Math.Min(Lanes, outF - v * Lanes)),
                            c0 * RowsPerChunk, Math.Min(rows, c1 * RowsPerChunk));
                    }
            });
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
        int partialLength = TableOf(outVectors, inF);
        // A cache line between chunks: two threads' chunks side by side do not write the same line.
        int partialStride = partialLength + Lanes;
        var partials = sums ? ArrayPool<float>.Shared.Rent(chunks * partialStride) : null;
        // W's rows as vectors over the inputs (lanes past in zero): at most 4 KB, on the caller's stack as the forward's table.
        Span<float> weightRows = stackalloc float[outF * Lanes];
        weightRows.Clear();
        for (int o = 0; o < outF; o++) w.AsSpan(o * inF, inF).CopyTo(weightRows[(o * Lanes)..]);
        try
        {
            fixed (float* pwr = weightRows)
            {
                nint table = (nint)pwr;
                Threading.For(chunks, c =>
                {
                    fixed (float* pg = g, px = x, pdx = dx, pp = partials)
                    {
                        float* partial = pp == null ? null : pp + c * partialStride;
                        if (partial != null) new Span<float>(partial, partialLength).Clear();
                        // A run of rows at a time, so that the sums read g's rows from L1 after dx's products did.
                        for (int r0 = c * RowsPerChunk, end = Math.Min(rows, r0 + RowsPerChunk); r0 < end; r0 += RowsPerRun)
                        {
                            int r1 = Math.Min(end, r0 + RowsPerRun);
                            if (pdx != null) RowsByTable(pg, outF, (float*)table, Vector512<float>.Zero, pdx, inF, FloatLanes.FirstLanes(inF), r0, r1);
                            if (partial != null)
                                for (int v = 0; v < outVectors; v++)
                                    AddPartialSums(pg + v * Lanes, px, partial + TableOf(v, inF), r0, r1, inF, outF,
                                        FloatLanes.FirstLanes(Math.Min(Lanes, outF - v * Lanes)));
                        }
                    }
                });
            }
            if (!sums) return;
            // The chunks' partial sums, added in chunk order.
            Span<float> total = stackalloc float[partialLength];
            total.Clear();
            for (int c = 0; c < chunks; c++)
                for (int k = 0; k < partialLength; k++) total[k] += partials![c * partialStride + k];
            for (int o = 0; o < outF; o++)
            {
                int at = Slot(o, inF);
                if (dw != null)
                    for (int i = 0; i < inF; i++) dw[o * inF + i] = total[at + i * Lanes];
                if (db != null) db[o] = total[at + inF * Lanes];
            }
        }
        finally { if (partials != null) ArrayPool<float>.Shared.Return(partials); }
    }

    // Rows the backward takes at a time: 64 rows of g (up to 12 KB) stay in L1 between dx's products and the sums.
    const int RowsPerRun = 64;

    // out[r] = start + Σ_k a[r][k] · table[k] for rows [r0, r1): a's rows of `depth` floats, the table's `depth` vectors, one
    // masked vector of out a row (at out, rows `stride` floats apart). The forward's vector of y (x by W's columns, from
    // the bias) and dx (g by W's rows, from zero). Eight rows at a time: eight independent sums keep both FMA units busy.
    static unsafe void RowsByTable(float* a, int depth, float* table, Vector512<float> start, float* output, int stride, Vector512<float> store, int r0, int r1)
    {
        int r = r0;
        for (; r + Rows <= r1; r += Rows)
        {
            float* a0 = a + (long)r * depth;
            Vector512<float> s0 = start, s1 = start, s2 = start, s3 = start, s4 = start, s5 = start, s6 = start, s7 = start;
            for (int k = 0; k < depth; k++)
            {
                var t = Vector512.Load(table + k * Lanes);
                s0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[k]), t, s0);
                s1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[depth + k]), t, s1);
                s2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[2 * depth + k]), t, s2);
                s3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[3 * depth + k]), t, s3);
                s4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[4 * depth + k]), t, s4);
                s5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[5 * depth + k]), t, s5);
                s6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[6 * depth + k]), t, s6);
                s7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[7 * depth + k]), t, s7);
            }
            float* o0 = output + (long)r * stride;
            Avx512F.MaskStore(o0, store, s0); Avx512F.MaskStore(o0 + stride, store, s1);
            Avx512F.MaskStore(o0 + 2 * stride, store, s2); Avx512F.MaskStore(o0 + 3 * stride, store, s3);
            Avx512F.MaskStore(o0 + 4 * stride, store, s4); Avx512F.MaskStore(o0 + 5 * stride, store, s5);
            Avx512F.MaskStore(o0 + 6 * stride, store, s6); Avx512F.MaskStore(o0 + 7 * stride, store, s7);
        }
        for (; r < r1; r++)
        {
            var sum = start;
            for (int k = 0; k < depth; k++) sum = Avx512F.FusedMultiplyAdd(Vector512.Create(a[(long)r * depth + k]), Vector512.Load(table + k * Lanes), sum);
            Avx512F.MaskStore(output + (long)r * stride, store, sum);
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
