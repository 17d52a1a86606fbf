using System.Numerics.Tensors;

namespace GanForge.Metrics;

/// <summary>
/// Exact squared Euclidean distances between the rows of two matrices, streamed in row blocks so
/// that 10k x 10k pairs never sit in memory at once. Used by precision/recall, density/coverage
/// and memorisation.
/// </summary>
/// <remarks>
/// ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, with the dot products in double (<see cref="DotProducts"/>).
/// The expansion can go slightly negative for near-identical rows, so results are clamped at 0; a row
/// compared with itself gives ~1e-16 relative, not exactly 0, which is far below any k-NN radius.
/// Tiling: each task owns <see cref="RowBlock"/> rows of A and walks B in tiles of
/// <see cref="ColBlock"/> rows, so a tile of B is reused from cache by every row of the block.
/// </remarks>
internal static class PairwiseDistances
{
    internal const int RowBlock = 32;
    internal const int ColBlock = 128;

    /// <summary>Squared norms of the rows.</summary>
    internal static double[] SquaredNorms(FeatureMatrix x)
    {
        var n = new double[x.Rows];
        for (int i = 0; i < x.Rows; i++) n[i] = TensorPrimitives.Dot(x.Row(i), x.Row(i));
        return n;
    }

    /// <summary>
    /// Calls <paramref name="visit"/>(i, d2, local) for every row i of <paramref name="a"/>, where d2[j] is
    /// the squared distance from a_i to b_j. Rows run in parallel; the last argument is per-task
    /// state from <paramref name="init"/>, handed to <paramref name="merge"/> at the end (under a lock).
    /// </summary>
    internal static void ForEachRow<TLocal>(FeatureMatrix a, FeatureMatrix b, Func<TLocal> init,
        RowVisitor<TLocal> visit, Action<TLocal> merge)
    {
        if (a.Cols != b.Cols)
            throw new ArgumentException($"PairwiseDistances: ({a.Rows},{a.Cols}) and ({b.Rows},{b.Cols}) differ in dimension");
        var na = SquaredNorms(a);
        var nb = ReferenceEquals(a, b) ? na : SquaredNorms(b);
        int blocks = (a.Rows + RowBlock - 1) / RowBlock;
        var gate = new object();
        Parallel.For(0, blocks,
            () => (Local: init(), Buffer: new double[RowBlock * b.Rows]),
            (blk, _, state) =>
            {
                int i0 = blk * RowBlock, i1 = Math.Min(a.Rows, i0 + RowBlock), nbRows = b.Rows;
                var buf = state.Buffer;
                for (int j0 = 0; j0 < nbRows; j0 += ColBlock)
                {
                    int j1 = Math.Min(nbRows, j0 + ColBlock);
                    DotProducts.Block(a, i0, i1, b, j0, j1, buf.AsSpan(j0), nbRows);
                    for (int i = i0; i < i1; i++)
                    {
                        var row = buf.AsSpan((i - i0) * nbRows, nbRows);
                        for (int j = j0; j < j1; j++)
                        {
                            double d2 = na[i] + nb[j] - 2 * row[j];
                            row[j] = d2 > 0 ? d2 : 0;
                        }
                    }
                }
                for (int i = i0; i < i1; i++)
                    visit(i, buf.AsSpan((i - i0) * nbRows, nbRows), state.Local);
                return state;
            },
            state => { lock (gate) merge(state.Local); });
    }

    internal delegate void RowVisitor<in TLocal>(int i, ReadOnlySpan<double> d2, TLocal local);

    /// <summary>
    /// Squared distance from each row of <paramref name="x"/> to its k-th nearest other row (self excluded),
    /// the radius of the k-NN ball in Kynkäänniemi et al. 2019 and Naeem et al. 2020.
    /// </summary>
    /// <remarks>
    /// Distances are symmetric, so each pair is computed once (block i0 only meets columns j &gt; i) and offered
    /// to the k-best lists of both rows. Each task keeps its own lists, merged at the end; min-k is exact and
    /// order-independent, so the result does not depend on scheduling.
    /// </remarks>
    internal static double[] KthNeighbourSquaredRadii(FeatureMatrix x, int k)
    {
        int n = x.Rows;
        if (k < 1 || k >= n)
            throw new ArgumentException($"k-NN radii: k = {k} needs 1 <= k < N, features are ({x.Rows},{x.Cols})");
        var norms = SquaredNorms(x);
        var best = new double[n * k]; // row r's k smallest, ascending, at [r*k, r*k+k)
        Array.Fill(best, double.PositiveInfinity);
        var gate = new object();
        Parallel.For(0, (n + RowBlock - 1) / RowBlock,
            () => (Best: Filled(n * k), Buffer: new double[RowBlock * n]),
            (blk, _, local) =>
            {
                int i0 = blk * RowBlock, i1 = Math.Min(n, i0 + RowBlock), ld = n - i0;
                for (int j0 = i0; j0 < n; j0 += ColBlock)
                {
                    int j1 = Math.Min(n, j0 + ColBlock);
                    DotProducts.Block(x, i0, i1, x, j0, j1, local.Buffer.AsSpan(j0 - i0), ld);
                }
                for (int i = i0; i < i1; i++)
                {
                    var dots = local.Buffer.AsSpan((i - i0) * ld, ld);
                    var bi = local.Best.AsSpan(i * k, k);
                    for (int j = i + 1; j < n; j++)
                    {
                        double d2 = norms[i] + norms[j] - 2 * dots[j - i0];
                        if (d2 < 0) d2 = 0;
                        Insert(bi, d2);
                        Insert(local.Best.AsSpan(j * k, k), d2);
                    }
                }
                return local;
            },
            local =>
            {
                lock (gate)
                    for (int r = 0; r < n; r++)
                        foreach (var v in local.Best.AsSpan(r * k, k)) Insert(best.AsSpan(r * k, k), v);
            });
        var radii = new double[n];
        for (int r = 0; r < n; r++) radii[r] = best[r * k + k - 1];
        return radii;
    }

    static double[] Filled(int length)
    {
        var a = new double[length];
        Array.Fill(a, double.PositiveInfinity);
        return a;
    }

    // Keeps the k smallest values seen, ascending.
    static void Insert(Span<double> best, double v)
    {
        int p = best.Length - 1;
        if (v >= best[p]) return;
        while (p > 0 && best[p - 1] > v) { best[p] = best[p - 1]; p--; }
        best[p] = v;
    }

    /// <summary>Reference for <see cref="KthNeighbourSquaredRadii"/>: sort each row of the naive distance matrix.</summary>
    internal static double[] KthNeighbourSquaredRadiiNaive(FeatureMatrix x, int k)
    {
        var d = Naive(x, x);
        return Enumerable.Range(0, x.Rows)
            .Select(i => Enumerable.Range(0, x.Rows).Where(j => j != i).Select(j => d[i, j]).Order().ElementAt(k - 1))
            .ToArray();
    }

    /// <summary>Squared distance from each row of <paramref name="a"/> to its nearest row of <paramref name="b"/>.</summary>
    internal static double[] NearestSquared(FeatureMatrix a, FeatureMatrix b)
    {
        var nearest = new double[a.Rows];
        ForEachRow<object?>(a, b, () => null, (i, d2, _) =>
        {
            double m = double.PositiveInfinity;
            foreach (var v in d2) if (v < m) m = v;
            nearest[i] = m;
        }, _ => { });
        return nearest;
    }

    /// <summary>Naive reference: all squared distances by the definition sum_k (a_ik - b_jk)^2, for tests.</summary>
    internal static double[,] Naive(FeatureMatrix a, FeatureMatrix b)
    {
        var d = new double[a.Rows, b.Rows];
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < b.Rows; j++)
            {
                double s = 0;
                for (int k = 0; k < a.Cols; k++) { double t = a[i, k] - b[j, k]; s += t * t; }
                d[i, j] = s;
            }
        return d;
    }
}
