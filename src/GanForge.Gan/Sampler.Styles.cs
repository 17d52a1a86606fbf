using GanForge.Gan.Zoo;

namespace GanForge.Gan;

// What a style-based generator adds to sampling: the truncation trick, generating from ws (a projection's w.npy),
// and the style-mixing grid.
public sealed partial class Sampler
{
    /// <summary>The generator as a <see cref="StyleGenerator"/>; a clear error naming <paramref name="what"/> for other models.</summary>
    public StyleGenerator RequireStyles(string what) => Generator as StyleGenerator
        ?? throw new ArgumentException($"{what}: model '{Model.Name}' has no styles (no mapping network or w); it needs a style-based model (stylegan)");

    /// <summary>
    /// Sets ψ of the truncation trick for every later sample: w' = w_avg + ψ·(w - w_avg), ψ in [0, 1] (1 = none).
    /// A model without styles is refused.
    /// </summary>
    public void SetTruncation(float psi)
    {
        if (!(psi is >= 0f and <= 1f)) throw new ArgumentException($"--truncation: ψ must be in [0, 1], got {psi}");
        RequireStyles("--truncation").Truncation = psi;
    }

    /// <summary>Images (N,C,H,W) in [-1, 1] from per-layer styles <paramref name="ws"/> (N, NumWs, w_dim), as `project` writes them, in batches.</summary>
    public Tensor FromStyles(Tensor ws, int batchSize = 256)
    {
        var g = RequireStyles("--latents (n, layers, w)");
        if (ws.Rank != 3 || ws.Size(1) != g.NumWs || ws.Size(2) != g.WDim)
            throw new ArgumentException($"--latents: styles {Shapes.Format(ws.ShapeSpan)} do not fit model '{Model.Name}', which reads (n,{g.NumWs},{g.WDim})");
        int n = ws.Size(0);
        var output = new Tensor([n, .. Model.ImageShape]);
        int per = output.Numel / Math.Max(n, 1);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += batchSize)
        {
            int b = Math.Min(batchSize, n - start);
            g.Synthesis.Forward(ws.Narrow(0, start, b), null).Clamp(-1f, 1f).Data.CopyTo(output.Data.Slice(start * per, b * per));
        }
        return output;
    }

    /// <summary>
    /// The style-mixing grid (Karras et al. 2019, figure 3) of <paramref name="rows"/> + 1 by <paramref name="columns"/> + 1
    /// images: the first row holds the column sources, the first column the row sources (the corner is black), and the
    /// image at row r, column c takes the coarse styles (layers before <paramref name="crossover"/>) of row source r and
    /// the fine styles (the rest) of column source c. Sources are drawn with <paramref name="seed"/>, truncated by the
    /// sampler's ψ. Returns the images row by row and the number of columns.
    /// </summary>
    public (Tensor Images, int Columns) MixGrid(ulong seed, int rows = 4, int columns = 6, int? crossover = null)
    {
        var g = RequireStyles("mix");
        if (rows < 1 || columns < 1) throw new ArgumentException($"mix: --rows and --columns must be at least 1, got {rows} and {columns}");
        int k = crossover ?? g.NumWs / 2, L = g.NumWs, d = g.WDim;
        if (k < 1 || k >= L) throw new ArgumentException($"mix: --crossover must be in [1, {L - 1}] (the model reads {L} styles), got {k}");
        var rng = new Generator(seed);
        Tensor rowWs, colWs;
        using (GradMode.NoGrad())
        {
            rowWs = g.MapToWs(Tensor.Randn([rows, Model.LatentDim], rng), g.Truncation);
            colWs = g.MapToWs(Tensor.Randn([columns, Model.LatentDim], rng), g.Truncation);
        }
        int cols = columns + 1, n = (rows + 1) * cols, layer = d, sample = L * d;
        var ws = new Tensor(n, L, d);
        for (int r = 0; r <= rows; r++)
            for (int c = 0; c <= columns; c++)
            {
                var cell = ws.Data.Slice((r * cols + c) * sample, sample);
                if (r == 0 && c == 0) continue;
                if (r == 0) { colWs.Data.Slice((c - 1) * sample, sample).CopyTo(cell); continue; }
                if (c == 0) { rowWs.Data.Slice((r - 1) * sample, sample).CopyTo(cell); continue; }
                rowWs.Data.Slice((r - 1) * sample, k * layer).CopyTo(cell);                       // coarse: row source
                colWs.Data.Slice((c - 1) * sample + k * layer, (L - k) * layer).CopyTo(cell[(k * layer)..]); // fine: column source
            }
        var images = FromStyles(ws);
        int per = images.Numel / n;
        images.Data.Slice(0, per).Fill(-1f);                                                       // the empty corner
        return (images, cols);
    }

    /// <summary>
    /// The noise inputs at work (Karras et al. 2019, figure 4): one row per w (drawn with <paramref name="seed"/>,
    /// truncated by the sampler's ψ), <paramref name="columns"/> images of that w with fresh noise maps, then the
    /// per-pixel standard deviation over them, scaled so the grid's largest is white. Returns the images row by row
    /// and the number of columns (<paramref name="columns"/> + 1).
    /// </summary>
    public (Tensor Images, int Columns) NoiseGrid(ulong seed, int rows = 4, int columns = 6)
    {
        var g = RequireStyles("noise");
        if (rows < 1 || columns < 2) throw new ArgumentException($"noise: --rows must be at least 1 and --columns at least 2, got {rows} and {columns}");
        var rng = new Generator(seed);
        int c = Model.ImageShape[0], s = Model.ImageShape[1], per = c * s * s, cols = columns + 1;
        var output = new Tensor((rows * cols), c, s, s);
        var std = new float[rows * per];
        using var _ = GradMode.NoGrad();
        var ws = g.MapToWs(Tensor.Randn([rows, Model.LatentDim], rng), g.Truncation);
        for (int col = 0; col < columns; col++)
        {
            var noise = g.Synthesis.NoiseResolutions.Select(r => Tensor.Randn([rows, 1, r, r], rng)).ToList();
            var images = g.Synthesis.Forward(ws, noise).Clamp(-1f, 1f);
            for (int r = 0; r < rows; r++) images.Data.Slice(r * per, per).CopyTo(output.Data.Slice((r * cols + col) * per, per));
        }
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < per; i++)
            {
                double sum = 0, sq = 0;
                for (int col = 0; col < columns; col++) { double v = output.Data[(r * cols + col) * per + i]; sum += v; sq += v * v; }
                double mean = sum / columns;
                std[r * per + i] = (float)Math.Sqrt(Math.Max(sq / columns - mean * mean, 0));
            }
        float max = Math.Max(std.Max(), 1e-12f);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < per; i++) output.Data[(r * cols + columns) * per + i] = 2f * std[r * per + i] / max - 1f;
        return (output, cols);
    }
}
