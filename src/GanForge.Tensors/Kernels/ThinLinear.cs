using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// A Linear layer of at most sixteen inputs and sixteen outputs over many rows, with AVX-512: transgan32's generator at
/// 32 x 32 tokens (4 -> 12, 4 -> 16, 16 -> 4 over 32,768 rows). A row of x, y or g is then one vector at most, and the
/// GEMM's tiles (8 rows by 32 columns, packed first) mostly hold padding. Here each row is one masked vector:
/// <list type="bullet">
/// <item>forward: y[r] = b + Σ_i x[r][i] · W[:, i], four rows at a time;</item>
/// <item>backward in one pass over g and x instead of three (dx's product, dW's product, db's column sums):
/// dx[r] = Σ_o g[r][o] · W[o, :], and per chunk of rows the partial sums of dWᵀ[i] = Σ_r x[r][i] · g[r] and of
/// db = Σ_r g[r], which are then added in chunk order.</item>
/// </list>
/// The chunks are fixed by the row count alone, so the sums are the same on any number of threads. Over 32,768 rows,
/// 4 -> 12 alone on two threads, the GEMM's forward took 180-360 us and its backward (dx, dW and db's column sums,
/// 12 floats a row summed one row at a time) 510-620 us, for 2.1 MB of x and g.
/// </summary>
internal static class ThinLinear
{
    const int Lanes = 16, Block = 4;

    /// <summary>Rows a chunk of the backward sums (its partial dW and db): fixed, so that the sums do not depend on the threads.</summary>
    internal const int RowsPerChunk = 1024;

    /// <summary>The fewest rows the kernels take: below them the products are too small to matter.</summary>
    internal const int MinRows = 2048;

    /// <summary>Whether Linear layers this thin run here (the bench's switch thin-linear).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// The rule: layers of at most sixteen inputs and outputs over 2,048 rows or more, where products run on the AVX-512
    /// GEMM (no other backend forced) in fp32.
    /// </summary>
    public static bool Suits(int rows, int inF, int outF) =>
        Enabled && Fits(inF, outF) && rows >= MinRows && Gemm.RunsAvx512 && !Precision.Bf16Active;

    // What the kernels can compute: a row of x, y and g in one vector.
    static bool Fits(int inF, int outF) => inF >= 1 && inF <= Lanes && outF >= 1 && outF <= Lanes && Avx512F.IsSupported;

    static Vector512<float> Mask(int lanes) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();

    static void Check(string op, int rows, int inF, int outF, params (string Name, float[]? Buffer, long Need)[] buffers)
    {
        if (!Fits(inF, outF) || rows < 0)
            throw new ArgumentException($"{op}: {rows} rows of {inF} -> {outF} is not a thin layer on AVX-512 (1 to {Lanes} inputs and outputs)");
        foreach (var (name, buffer, need) in buffers)
            if (buffer != null && buffer.Length < need)
                throw new ArgumentException($"{op}: {name} holds {buffer.Length} floats, {rows} rows of {inF} -> {outF} need {need}");
    }

    /// <summary>y (rows, out) = x (rows, in) · Wᵀ + b, W (out, in), b (out) or none.</summary>
    public static unsafe void Forward(float[] x, float[] w, float[]? bias, float[] y, int rows, int inF, int outF)
    {
        Check("ThinLinear.Forward", rows, inF, outF, ("x", x, (long)rows * inF), ("W", w, outF * inF), ("b", bias, outF), ("y", y, (long)rows * outF));
        // W's columns as vectors over the outputs (lanes past out zero), then the bias.
        var columns = new float[(inF + 1) * Lanes];
        for (int o = 0; o < outF; o++)
        {
            for (int i = 0; i < inF; i++) columns[i * Lanes + o] = w[o * inF + i];
            columns[inF * Lanes + o] = bias?[o] ?? 0f;
        }
        Threading.ForRanges((rows + RowsPerChunk - 1) / RowsPerChunk, (_, c0, c1) =>
        {
            fixed (float* px = x, py = y, pc = columns)
            {
                var store = Mask(outF);
                var b = Vector512.Load(pc + inF * Lanes);
                int r = c0 * RowsPerChunk, end = Math.Min(rows, c1 * RowsPerChunk);
                for (; r + Block <= end; r += Block)
                {
                    float* x0 = px + (long)r * inF;
                    Vector512<float> y0 = b, y1 = b, y2 = b, y3 = b;
                    for (int i = 0; i < inF; i++)
                    {
                        var column = Vector512.Load(pc + i * Lanes);
                        y0 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i]), column, y0);
                        y1 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[inF + i]), column, y1);
                        y2 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[2 * inF + i]), column, y2);
                        y3 = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[3 * inF + i]), column, y3);
                    }
                    float* y0p = py + (long)r * outF;
                    Avx512F.MaskStore(y0p, store, y0); Avx512F.MaskStore(y0p + outF, store, y1);
                    Avx512F.MaskStore(y0p + 2 * outF, store, y2); Avx512F.MaskStore(y0p + 3 * outF, store, y3);
                }
                for (; r < end; r++)
                {
                    var acc = b;
                    for (int i = 0; i < inF; i++) acc = Avx512F.FusedMultiplyAdd(Vector512.Create(px[(long)r * inF + i]), Vector512.Load(pc + i * Lanes), acc);
                    Avx512F.MaskStore(py + (long)r * outF, store, acc);
                }
            }
        });
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
        int chunks = (rows + RowsPerChunk - 1) / RowsPerChunk;
        // Per chunk: dWᵀ's rows (one vector over the outputs for each input), then db's vector.
        int partialLength = (inF + 1) * Lanes;
        var partials = sums ? ArrayPool<float>.Shared.Rent(chunks * partialLength) : null;
        // W's rows as vectors over the inputs (lanes past in zero).
        var weightRows = new float[outF * Lanes];
        for (int o = 0; o < outF; o++) Array.Copy(w, o * inF, weightRows, o * Lanes, inF);
        try
        {
            Threading.For(chunks, c =>
            {
                fixed (float* pg = g, px = x, pdx = dx, pw = weightRows, pp = partials)
                {
                    int r0 = c * RowsPerChunk, r1 = Math.Min(rows, r0 + RowsPerChunk);
                    if (pdx != null) InputGradient(pg, pw, pdx, r0, r1, inF, outF);
                    if (pp != null) PartialSums(pg, px, pp + c * partialLength, r0, r1, inF, outF);
                }
            });
            if (!sums) return;
            // The chunks' partial sums, added in chunk order.
            var total = new float[partialLength];
            for (int c = 0; c < chunks; c++)
                for (int k = 0; k < partialLength; k++) total[k] += partials![c * partialLength + k];
            if (dw != null)
                for (int o = 0; o < outF; o++)
                    for (int i = 0; i < inF; i++) dw[o * inF + i] = total[i * Lanes + o];
            if (db != null) Array.Copy(total, inF * Lanes, db, 0, outF);
        }
        finally { if (partials != null) ArrayPool<float>.Shared.Return(partials); }
    }

    // dx[r] = Σ_o g[r][o] · W[o, :] for rows [r0, r1), four rows at a time (four independent sums).
    static unsafe void InputGradient(float* g, float* weightRows, float* dx, int r0, int r1, int inF, int outF)
    {
        var store = Mask(inF);
        int r = r0;
        for (; r + Block <= r1; r += Block)
        {
            float* g0 = g + (long)r * outF;
            Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
            for (int o = 0; o < outF; o++)
            {
                var row = Vector512.Load(weightRows + o * Lanes);
                d0 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[o]), row, d0);
                d1 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[outF + o]), row, d1);
                d2 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[2 * outF + o]), row, d2);
                d3 = Avx512F.FusedMultiplyAdd(Vector512.Create(g0[3 * outF + o]), row, d3);
            }
            float* dx0 = dx + (long)r * inF;
            Avx512F.MaskStore(dx0, store, d0); Avx512F.MaskStore(dx0 + inF, store, d1);
            Avx512F.MaskStore(dx0 + 2 * inF, store, d2); Avx512F.MaskStore(dx0 + 3 * inF, store, d3);
        }
        for (; r < r1; r++)
        {
            Vector512<float> d = default;
            for (int o = 0; o < outF; o++) d = Avx512F.FusedMultiplyAdd(Vector512.Create(g[(long)r * outF + o]), Vector512.Load(weightRows + o * Lanes), d);
            Avx512F.MaskStore(dx + (long)r * inF, store, d);
        }
    }

    // partial[i] = Σ_r x[r][i] · g[r] (a vector over the outputs) for each input i, and partial[in] = Σ_r g[r], over rows
    // [r0, r1): four rows' products summed in registers, then added to the chunk's sums in L1.
    static unsafe void PartialSums(float* g, float* x, float* partial, int r0, int r1, int inF, int outF)
    {
        var load = Mask(outF);
        for (int k = 0; k <= inF; k++) Vector512<float>.Zero.Store(partial + k * Lanes);
        var bias = Vector512<float>.Zero;
        int r = r0;
        for (; r + Block <= r1; r += Block)
        {
            float* g0 = g + (long)r * outF, x0 = x + (long)r * inF;
            var gr0 = Avx512F.MaskLoad(g0, load, Vector512<float>.Zero);
            var gr1 = Avx512F.MaskLoad(g0 + outF, load, Vector512<float>.Zero);
            var gr2 = Avx512F.MaskLoad(g0 + 2 * outF, load, Vector512<float>.Zero);
            var gr3 = Avx512F.MaskLoad(g0 + 3 * outF, load, Vector512<float>.Zero);
            bias += (gr0 + gr1) + (gr2 + gr3);
            for (int i = 0; i < inF; i++)
            {
                var s = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[i]), gr0, Vector512.Load(partial + i * Lanes));
                s = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[inF + i]), gr1, s);
                s = Avx512F.FusedMultiplyAdd(Vector512.Create(x0[2 * inF + i]), gr2, s);
                Avx512F.FusedMultiplyAdd(Vector512.Create(x0[3 * inF + i]), gr3, s).Store(partial + i * Lanes);
            }
        }
        for (; r < r1; r++)
        {
            var gr = Avx512F.MaskLoad(g + (long)r * outF, load, Vector512<float>.Zero);
            bias += gr;
            for (int i = 0; i < inF; i++)
                Avx512F.FusedMultiplyAdd(Vector512.Create(x[(long)r * inF + i]), gr, Vector512.Load(partial + i * Lanes)).Store(partial + i * Lanes);
        }
        bias.Store(partial + inF * Lanes);
    }
}
