using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Layer normalisation over rows: each row of <c>len</c> floats normalised by its own mean and biased variance, then
/// scaled and shifted per column (y = x̂·w + b, x̂ = (x − mean)·invstd, invstd = 1/sqrt(var + eps)), in one pass each
/// way. Rows are split over threads in runs; a row's statistics are two float passes (the mean, then the squared
/// deviations from it), as PyTorch's CPU layer norm accumulates in float.
/// </summary>
/// <remarks>
/// As a one-sample batch norm (each row a channel) followed by a broadcast multiply and add, a transformer's layer
/// norm cost three ops and their graph each way, and its rows are short (4 to 64 floats in TransGAN): plain loops over
/// a row, whose rows the processor overlaps, beat a vector call per row here. Rows of whole vectors (16 or 8 floats and
/// their multiples: TransGAN's 64) run on lanes inside the loop (<see cref="IFloatLanes{V}"/>) in all three passes (forward,
/// backward, second order), the row's sums in lanes and then across them, everything else the same operations in the
/// same order; the per-column sums of the backward and the second order are the scalar path's float products added in
/// double, four columns at a time, so the backward's dw and db are its to the bit for the same statistics. Rows of four
/// floats (TransGAN's last stage) run four to a sixteen-lane vector with AVX-512 in the forward and backward, 7-9x
/// the scalar loops' speed; their second order stays on the scalar loops.
/// </remarks>
public static class LayerNorm
{
    // Rows per run: about 16k floats, so small inputs stay on one thread.
    static int MinRows(int len) => Math.Max(1, 16384 / Math.Max(len, 1));

    static float[] Ones(int len) { var w = new float[len]; Array.Fill(w, 1f); return w; }

    // x: (rows, len) -> y: (rows, len); mean, invstd: (rows). weight, bias: (len) or null (1, 0).
    public static void Forward(float[] x, float[] y, int rows, int len, float[]? weight, float[]? bias, float eps, float[] mean, float[] invstd) =>
        Forward(x, y, rows, len, weight, bias, eps, mean, invstd, LanesFor(len));

    // The widest lanes whose count divides the row; rows of four floats four to a vector with AVX-512; else 1 (scalar).
    static int LanesFor(int len) =>
        FloatLanes.Widest == Lanes512.Count && len % Lanes512.Count == 0 ? Lanes512.Count : len % Lanes256.Count == 0 ? Lanes256.Count
        : len == 4 && FourFloatRowsSupported ? FourFloatRows : 1;

    /// <summary>The width that runs rows of four floats four to a sixteen-lane vector (TransGAN's last stage).</summary>
    internal const int FourFloatRows = 4;

    static bool FourFloatRowsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>
    /// The same with rows on <paramref name="width"/> lanes (16, 8, <see cref="FourFloatRows"/> for rows of four, or 1 for
    /// the scalar loops): tests run each.
    /// </summary>
    internal static void Forward(float[] x, float[] y, int rows, int len, float[]? weight, float[]? bias, float eps, float[] mean, float[] invstd, int width)
    {
        var (w, b) = (weight ?? Ones(len), bias ?? new float[len]);
        Threading.ForRanges(rows, (_, r0, r1) =>
        {
            if (width == Lanes512.Count) { ForwardRows<Lanes512>(x, y, r0, r1, len, w, b, eps, mean, invstd); return; }
            if (width == Lanes256.Count) { ForwardRows<Lanes256>(x, y, r0, r1, len, w, b, eps, mean, invstd); return; }
            int start = width == FourFloatRows && len == 4 && FourFloatRowsSupported ? ForwardFours(x, y, r0, r1, w, b, eps, mean, invstd) : r0;
            for (int r = start; r < r1; r++)
            {
                var xs = x.AsSpan(r * len, len);
                var ys = y.AsSpan(r * len, len);
                float sum = 0;
                for (int j = 0; j < xs.Length; j++) sum += xs[j];
                float m = sum / len, squares = 0;
                for (int j = 0; j < xs.Length; j++) { float dv = xs[j] - m; squares += dv * dv; }
                float istd = 1f / MathF.Sqrt(squares / len + eps);
                (mean[r], invstd[r]) = (m, istd);
                for (int j = 0; j < xs.Length; j++) ys[j] = (xs[j] - m) * istd * w[j] + b[j];
            }
        }, MinRows(len));
    }

    /// <summary>
    /// dx = invstd·(gw − mean(gw) − x̂·mean(gw·x̂)) per row with gw = g·w; dw = Σ_rows g·x̂, db = Σ_rows g, summed in double
    /// per run of rows and then over the runs in order (the same runs for the same thread count, so the sums repeat).
    /// dx, dw, db may each be null when not wanted.
    /// </summary>
    public static void Backward(float[] x, float[] g, int rows, int len, float[]? weight, float[] mean, float[] invstd,
        float[]? dx, float[]? dw, float[]? db) => Backward(x, g, rows, len, weight, mean, invstd, dx, dw, db, LanesFor(len));

    /// <summary>The same with rows on <paramref name="width"/> lanes (as for <see cref="Forward(float[], float[], int, int, float[], float[], float, float[], float[], int)"/>): tests run each.</summary>
    internal static void Backward(float[] x, float[] g, int rows, int len, float[]? weight, float[] mean, float[] invstd,
        float[]? dx, float[]? dw, float[]? db, int width)
    {
        var w = weight ?? Ones(len);
        int runs = Threading.ChunkCount(rows, MinRows(len));
        var partW = new double[runs][];
        var partB = new double[runs][];
        Threading.ForRanges(rows, (run, r0, r1) =>
        {
            // each run sums into its own arrays (adjacent runs' sums in one array shared cache lines between the threads)
            var (sumW, sumB) = (new double[len], new double[len]);
            if (width == Lanes512.Count || width == Lanes256.Count)
            {
                if (width == Lanes512.Count) BackwardRows<Lanes512>(x, g, r0, r1, len, w, mean, invstd, dx, sumW, sumB);
                else BackwardRows<Lanes256>(x, g, r0, r1, len, w, mean, invstd, dx, sumW, sumB);
                (partW[run], partB[run]) = (sumW, sumB);
                return;
            }
            int start = width == FourFloatRows && len == 4 && FourFloatRowsSupported ? BackwardFours(x, g, r0, r1, w, mean, invstd, dx, sumW, sumB) : r0;
            Span<float> gw = len <= 1024 ? stackalloc float[len] : new float[len];
            for (int r = start; r < r1; r++)
            {
                var xs = x.AsSpan(r * len, len);
                var gs = g.AsSpan(r * len, len);
                float m = mean[r], istd = invstd[r], sumG = 0, sumGx = 0;
                for (int j = 0; j < xs.Length; j++)
                {
                    float xh = (xs[j] - m) * istd;
                    gw[j] = gs[j] * w[j];
                    sumG += gw[j];
                    sumGx += gw[j] * xh;
                    sumW[j] += gs[j] * xh;
                    sumB[j] += gs[j];
                }
                if (dx == null) continue;
                float meanG = sumG / len, meanGx = sumGx / len;
                var ds = dx.AsSpan(r * len, len);
                for (int j = 0; j < xs.Length; j++) ds[j] = istd * (gw[j] - meanG - (xs[j] - m) * istd * meanGx);
            }
            (partW[run], partB[run]) = (sumW, sumB);
        }, MinRows(len));
        if (dw != null) SumRuns(partW, dw);
        if (db != null) SumRuns(partB, db);
    }

    // Rows of four floats, four to a vector: a row's sums across its lanes by two in-lane swaps (pairs, then halves) and
    // adds, so each of its lanes holds them; a row's mean and invstd come out of its first lane. The same operations as
    // the scalar loop but for the order of the four terms of each sum ((x0 + x1) + (x2 + x3)). From r0 on, whole groups
    // of four rows; returns the first row left to the scalar loop. One thread, 32,768 rows: 286 -> 31 us (backward 333 -> 44).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int ForwardFours(float[] x, float[] y, int r0, int r1, float[] w, float[] b, float eps, float[] mean, float[] invstd)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        var (w4, b4) = (Tiled(w), Tiled(b));
        var (quarter, veps) = (Vector512.Create(0.25f), Vector512.Create(eps));
        int r = r0;
        for (; r + 4 <= r1; r += 4)
        {
            var v = Vector512.LoadUnsafe(ref xr, (nuint)(4 * r));
            var m = RowSums(v) * quarter;
            var d = v - m;
            var istd = Vector512<float>.One / Vector512.Sqrt(RowSums(d * d) * quarter + veps);
            (d * istd * w4 + b4).StoreUnsafe(ref yr, (nuint)(4 * r));
            FirstLanes(m).StoreUnsafe(ref mean[r]);
            FirstLanes(istd).StoreUnsafe(ref invstd[r]);
        }
        return r;
    }

    // Rows r0.. of Backward on rows of four floats, four to a vector, as ForwardFours; the column sums widened to double
    // and added row after row in a register, in the scalar loop's order (its bits). Returns the first row left to it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static int BackwardFours(float[] x, float[] g, int r0, int r1, float[] w, float[] mean, float[] invstd, float[]? dx,
        double[] sumW, double[] sumB)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float gr = ref MemoryMarshal.GetArrayDataReference(g);
        var (w4, quarter) = (Tiled(w), Vector512.Create(0.25f));
        var (accW, accB) = (Vector256.LoadUnsafe(ref sumW[0]), Vector256.LoadUnsafe(ref sumB[0]));
        int r = r0;
        for (; r + 4 <= r1; r += 4)
        {
            var (v, gv) = (Vector512.LoadUnsafe(ref xr, (nuint)(4 * r)), Vector512.LoadUnsafe(ref gr, (nuint)(4 * r)));
            var (m, a) = (PerRow(ref mean[r]), PerRow(ref invstd[r]));
            var xh = (v - m) * a;
            if (dx != null)
            {
                var gw = gv * w4;
                var (meanG, meanGx) = (RowSums(gw) * quarter, RowSums(gw * xh) * quarter);
                (a * (gw - meanG - xh * meanGx)).StoreUnsafe(ref dx[0], (nuint)(4 * r));
            }
            (accW, accB) = (AddRows(accW, gv * xh), AddRows(accB, gv));
        }
        accW.StoreUnsafe(ref sumW[0]);
        accB.StoreUnsafe(ref sumB[0]);
        return r;
    }

    // Each lane's row sum: the pairs swapped and added, then the halves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> RowSums(Vector512<float> v)
    {
        v += Avx512F.Permute4x32(v, 0b10_11_00_01);
        return v + Avx512F.Permute4x32(v, 0b01_00_11_10);
    }

    // Lanes 0, 4, 8 and 12 (each row's first) in the first four.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> FirstLanes(Vector512<float> v) =>
        Avx512F.PermuteVar16x32(v, Vector512.Create(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12)).GetLower().GetLower();

    // Four rows' values, each in its row's four lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> PerRow(ref float four) =>
        Avx512F.PermuteVar16x32(Vector128.LoadUnsafe(ref four).ToVector256Unsafe().ToVector512Unsafe(), Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));

    // A row of four floats in every group of four lanes.
    static Vector512<float> Tiled(float[] four) => Vector512.Create(Vector256.Create(Vector128.Create(four[0], four[1], four[2], four[3])));

    // sum + each of four rows' four floats widened to double, row after row.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<double> AddRows(Vector256<double> sum, Vector512<float> rows)
    {
        var (lo, hi) = (rows.GetLower(), rows.GetUpper());
        sum += Vector256.WidenLower(lo);
        sum += Vector256.WidenUpper(lo);
        sum += Vector256.WidenLower(hi);
        return sum + Vector256.WidenUpper(hi);
    }

    // Rows r0..r1 of Forward on lanes (len a multiple of V.Count). Never inlined: compiled on its own, it inlines every
    // lane operation (see GeluKernel.Lanes); the same holds for BackwardRows.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ForwardRows<V>(float[] x, float[] y, int r0, int r1, int len, float[] w, float[] b, float eps, float[] mean, float[] invstd)
        where V : struct, IFloatLanes<V>
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        ref float br = ref MemoryMarshal.GetArrayDataReference(b);
        for (int r = r0; r < r1; r++)
        {
            nuint row = (nuint)r * (nuint)len;
            var sum = V.Zero;
            for (int j = 0; j < len; j += V.Count) sum += V.Load(ref xr, row + (nuint)j);
            float m = V.Sum(sum) / len;
            var (vm, squares) = (V.Of(m), V.Zero);
            for (int j = 0; j < len; j += V.Count) { var dv = V.Load(ref xr, row + (nuint)j) - vm; squares += dv * dv; }
            float istd = 1f / MathF.Sqrt(V.Sum(squares) / len + eps);
            (mean[r], invstd[r]) = (m, istd);
            var vi = V.Of(istd);
            for (int j = 0; j < len; j += V.Count)
                ((V.Load(ref xr, row + (nuint)j) - vm) * vi * V.Load(ref wr, (nuint)j) + V.Load(ref br, (nuint)j)).Store(ref yr, row + (nuint)j);
        }
    }

    // Rows r0..r1 of Backward on lanes: the row's two sums and dx on lanes, the per-column sums into sumW, sumB in double.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void BackwardRows<V>(float[] x, float[] g, int r0, int r1, int len, float[] w, float[] mean, float[] invstd,
        float[]? dx, double[] sumW, double[] sumB) where V : struct, IFloatLanes<V>
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float gr = ref MemoryMarshal.GetArrayDataReference(g);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        ref double sw = ref MemoryMarshal.GetArrayDataReference(sumW);
        ref double sb = ref MemoryMarshal.GetArrayDataReference(sumB);
        for (int r = r0; r < r1; r++)
        {
            nuint row = (nuint)r * (nuint)len;
            float m = mean[r], istd = invstd[r];
            if (dx != null)
            {
                var (vm, vi, sumG, sumGx) = (V.Of(m), V.Of(istd), V.Zero, V.Zero);
                for (int j = 0; j < len; j += V.Count)
                {
                    var xh = (V.Load(ref xr, row + (nuint)j) - vm) * vi;
                    var gw = V.Load(ref gr, row + (nuint)j) * V.Load(ref wr, (nuint)j);
                    sumG += gw;
                    sumGx += gw * xh;
                }
                var (meanG, meanGx) = (V.Of(V.Sum(sumG) / len), V.Of(V.Sum(sumGx) / len));
                ref float dr = ref MemoryMarshal.GetArrayDataReference(dx);
                for (int j = 0; j < len; j += V.Count)
                {
                    var gw = V.Load(ref gr, row + (nuint)j) * V.Load(ref wr, (nuint)j);
                    (vi * (gw - meanG - (V.Load(ref xr, row + (nuint)j) - vm) * vi * meanGx)).Store(ref dr, row + (nuint)j);
                }
            }
            // Four columns at a time: the float product g·x̂ and g widened exactly to double and added, as the scalar loop does.
            var (vm4, vi4) = (Vector128.Create(m), Vector128.Create(istd));
            for (int j = 0; j < len; j += 4)
            {
                var g4 = Vector128.LoadUnsafe(ref gr, row + (nuint)j);
                var gx = g4 * ((Vector128.LoadUnsafe(ref xr, row + (nuint)j) - vm4) * vi4);
                AddWidened(ref sw, (nuint)j, gx);
                AddWidened(ref sb, (nuint)j, g4);
            }
        }
    }

    // Rows r0..r1 of SecondOrder on lanes: the row's five sums, t, dx and dg on lanes; the column sums of dh·g into sumW in
    // double, four columns at a time.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void SecondOrderRows<V>(float[] x, float[] g, float[] u, int r0, int r1, int len, float[] w, float[] mean, float[] invstd,
        float[] dx, float[] dg, double[] sumW) where V : struct, IFloatLanes<V>
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float gr = ref MemoryMarshal.GetArrayDataReference(g);
        ref float ur = ref MemoryMarshal.GetArrayDataReference(u);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        ref float dxr = ref MemoryMarshal.GetArrayDataReference(dx);
        ref float dgr = ref MemoryMarshal.GetArrayDataReference(dg);
        ref double sw = ref MemoryMarshal.GetArrayDataReference(sumW);
        for (int r = r0; r < r1; r++)
        {
            nuint row = (nuint)r * (nuint)len;
            float m = mean[r], a = invstd[r];
            var vm = V.Of(m);
            V sumU = V.Zero, sumH = V.Zero, sumUH = V.Zero, sumUY = V.Zero, sumHY = V.Zero;
            for (int j = 0; j < len; j += V.Count)
            {
                var (y, h, uj) = (V.Load(ref xr, row + (nuint)j) - vm, V.Load(ref gr, row + (nuint)j) * V.Load(ref wr, (nuint)j), V.Load(ref ur, row + (nuint)j));
                sumU += uj; sumH += h; sumUH += uj * h; sumUY += uj * y; sumHY += h * y;
            }
            float n = len, meanU = V.Sum(sumU) / n, a3n = a * a * a / n, q = V.Sum(sumUY), sy = V.Sum(sumHY);
            float p = V.Sum(sumUH) - V.Sum(sumH) * meanU;
            var (coefY, coefU, coefH) = (V.Of(-a3n * (p - 3f * a * a * q * sy / n)), V.Of(-a3n * sy), V.Of(-a3n * q));
            var (va, vMeanU, a3nq, sumT) = (V.Of(a), V.Of(meanU), V.Of(a3n * q), V.Zero);
            for (int j = 0; j < len; j += V.Count)
            {
                var (y, uj, wj) = (V.Load(ref xr, row + (nuint)j) - vm, V.Load(ref ur, row + (nuint)j), V.Load(ref wr, (nuint)j));
                var t = coefY * y + coefU * uj + coefH * (V.Load(ref gr, row + (nuint)j) * wj);
                t.Store(ref dxr, row + (nuint)j);
                sumT += t;
                ((va * (uj - vMeanU) - a3nq * y) * wj).Store(ref dgr, row + (nuint)j);
            }
            var meanT = V.Of(V.Sum(sumT) / n);
            for (int j = 0; j < len; j += V.Count) (V.Load(ref dxr, row + (nuint)j) - meanT).Store(ref dxr, row + (nuint)j);
            var (vm4, va4, vMeanU4, a3nq4) = (Vector128.Create(m), Vector128.Create(a), Vector128.Create(meanU), Vector128.Create(a3n * q));
            for (int j = 0; j < len; j += 4)
            {
                var dh = va4 * (Vector128.LoadUnsafe(ref ur, row + (nuint)j) - vMeanU4) - a3nq4 * (Vector128.LoadUnsafe(ref xr, row + (nuint)j) - vm4);
                AddWidened(ref sw, (nuint)j, dh * Vector128.LoadUnsafe(ref gr, row + (nuint)j));
            }
        }
    }

    // sum[j .. j+3] += v, each float widened exactly to double: the column sums of four columns at a time.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddWidened(ref double sum, nuint j, Vector128<float> v) =>
        (Vector256.LoadUnsafe(ref sum, j) + Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v))).StoreUnsafe(ref sum, j);

    // total[j] = Σ over the runs, in run order, of each run's sum for column j.
    static void SumRuns(double[][] parts, float[] total)
    {
        for (int j = 0; j < total.Length; j++)
        {
            double sum = 0;
            foreach (var part in parts) sum += part[j];
            total[j] = (float)sum;
        }
    }

    /// <summary>
    /// The derivatives of Backward's dx = a·(h − mean(h) − x̂·mean(h·x̂)) (h = g·w, a = invstd) against a cotangent u of
    /// it, for a gradient penalty's second backward. Per row, with y = x − mean, n = len, U = mean(u), H = mean(h),
    /// P = Σu·h − n·H·U, Q = Σu·y, S = Σh·y: d/dx = t − mean(t) with t = −(a³/n)·((P − 3a²QS/n)·y + S·u + Q·h);
    /// d/dh = a·(u − U) − (a³/n)·Q·y, so d/dg = d/dh·w and d/dw = Σ_rows d/dh·g. dw may be null.
    /// </summary>
    public static void SecondOrder(float[] x, float[] g, float[] u, int rows, int len, float[]? weight, float[] mean, float[] invstd,
        float[] dx, float[] dg, float[]? dw) => SecondOrder(x, g, u, rows, len, weight, mean, invstd, dx, dg, dw, LanesFor(len));

    /// <summary>The same with rows on <paramref name="width"/> lanes (16, 8, or 1 for the scalar loops): tests run each.</summary>
    internal static void SecondOrder(float[] x, float[] g, float[] u, int rows, int len, float[]? weight, float[] mean, float[] invstd,
        float[] dx, float[] dg, float[]? dw, int width)
    {
        if (width == FourFloatRows) width = 1;   // the second order of rows of four on the scalar loops
        var w = weight ?? Ones(len);
        int runs = Threading.ChunkCount(rows, MinRows(len));
        var partW = new double[runs][];
        Threading.ForRanges(rows, (run, r0, r1) =>
        {
            var sumW = new double[len];
            if (width != 1)
            {
                if (width == Lanes512.Count) SecondOrderRows<Lanes512>(x, g, u, r0, r1, len, w, mean, invstd, dx, dg, sumW);
                else SecondOrderRows<Lanes256>(x, g, u, r0, r1, len, w, mean, invstd, dx, dg, sumW);
                partW[run] = sumW;
                return;
            }
            for (int r = r0; r < r1; r++)
            {
                Span<float> xs = x.AsSpan(r * len, len), gs = g.AsSpan(r * len, len), us = u.AsSpan(r * len, len);
                Span<float> dxs = dx.AsSpan(r * len, len), dgs = dg.AsSpan(r * len, len);
                float m = mean[r], a = invstd[r];
                float sumU = 0, sumH = 0, sumUH = 0, q = 0, sy = 0;
                for (int j = 0; j < xs.Length; j++)
                {
                    float y = xs[j] - m, h = gs[j] * w[j];
                    sumU += us[j]; sumH += h; sumUH += us[j] * h; q += us[j] * y; sy += h * y;
                }
                float n = len, meanU = sumU / n, a3n = a * a * a / n;
                float p = sumUH - sumH * meanU;
                float coefY = -a3n * (p - 3f * a * a * q * sy / n), coefU = -a3n * sy, coefH = -a3n * q;
                float sumT = 0;
                for (int j = 0; j < xs.Length; j++)
                {
                    float y = xs[j] - m, h = gs[j] * w[j];
                    float t = coefY * y + coefU * us[j] + coefH * h;
                    dxs[j] = t;
                    sumT += t;
                    float dh = a * (us[j] - meanU) - a3n * q * y;
                    dgs[j] = dh * w[j];
                    sumW[j] += dh * gs[j];
                }
                float meanT = sumT / n;
                for (int j = 0; j < xs.Length; j++) dxs[j] -= meanT;
            }
            partW[run] = sumW;
        }, MinRows(len));
        if (dw != null) SumRuns(partW, dw);
    }
}
